/* Vietnamese tone marks, placed as a person writes them: the rules the on-screen keyboard needs to type
   Vietnamese with a tap per mark (kiosk-keyboard.js). Pure functions on strings, no page.

   A syllable carries at most one tone mark (sắc ´, huyền `, hỏi ̉, ngã ˜, nặng ̣), on one vowel of its
   nucleus: the vowel with a shape mark (ê, ơ, ô, â, ă, ư; the ơ of ươ); else the middle one of three;
   of two, the second when a consonant ends the syllable (toán, hoàng, huỳnh) and the first when not
   (mái, múa, hòa, thủy: the style most government and school texts use); "qu" and "gi" before a vowel
   are consonants (quá, giữ, but gì). Shape marks and đ are letters of their own on the keyboard. */
"use strict";

const Vietnamese = (() => {
  const TONES = { acute: "\u0301", grave: "\u0300", hook: "\u0309", tilde: "\u0303", dot: "\u0323" };
  const TONE_MARKS = new Set(Object.values(TONES));
  const VOWELS = new Set(Array.from("aăâeêioôơuưy"));
  const SHAPED = new Set(Array.from("ăâêôơư"));
  const WORD = /[\p{L}\p{M}]+$/u;

  /** Letters of a word without their tone: [{letter (NFC, shape marks kept), tone}]. */
  function letters(word) {
    const out = [];
    for (const ch of word.normalize("NFD")) {
      if (TONE_MARKS.has(ch) && out.length) out[out.length - 1].tone = ch;
      else if (/\p{M}/u.test(ch) && out.length) out[out.length - 1].letter = (out[out.length - 1].letter + ch).normalize("NFC");
      else out.push({ letter: ch, tone: null });
    }
    return out;
  }

  /** Index of the letter that takes the tone, or -1 when the word has no vowel. */
  function toneSeat(parts) {
    const lower = parts.map((p) => p.letter.toLowerCase());
    const isVowel = (i) => VOWELS.has(lower[i]);
    let start = lower.findIndex((_, i) => isVowel(i));
    if (start < 0) return -1;
    const vowelAfter = (i) => i + 1 < lower.length && isVowel(i + 1);
    // "qu" and "gi" followed by a vowel: the u or i belongs to the consonant
    if (start === 1 && ((lower[0] === "q" && lower[1] === "u") || (lower[0] === "g" && lower[1] === "i")) && vowelAfter(1)) {
      start = 2;
    }
    let end = start;
    while (end + 1 < lower.length && isVowel(end + 1)) end++;
    const nucleus = [];
    for (let i = start; i <= end; i++) nucleus.push(i);
    const shaped = nucleus.filter((i) => SHAPED.has(lower[i]));
    if (shaped.length) return shaped[shaped.length - 1];
    if (nucleus.length >= 3) return nucleus[1];
    if (nucleus.length === 2) return end + 1 < lower.length ? nucleus[1] : nucleus[0];
    return nucleus[0];
  }

  function compose(parts, tone, seat) {
    return parts.map((p, i) => (i === seat && tone ? p.letter + tone : p.letter)).join("").normalize("NFC");
  }

  /** The word's tone mark (one of TONES' values), or null. */
  function toneOf(word) {
    const marked = letters(word).find((p) => p.tone);
    return marked ? marked.tone : null;
  }

  /** The word with `tone` on its right vowel (null: no tone); unchanged when it has no vowel. */
  function setTone(word, tone) {
    const parts = letters(word);
    const seat = toneSeat(parts);
    return seat < 0 ? word : compose(parts, tone, seat);
  }

  /** The text with a tone key pressed on its last word: the mark set, or taken off when it is already there. */
  function pressTone(text, tone) {
    const word = (WORD.exec(text) || [""])[0];
    if (!word) return text;
    return text.slice(0, text.length - word.length) + setTone(word, toneOf(word) === tone ? null : tone);
  }

  /** The text with its last word's tone moved to where it belongs now (after a letter was typed or erased). */
  function retone(text) {
    const word = (WORD.exec(text) || [""])[0];
    const tone = word ? toneOf(word) : null;
    return tone ? text.slice(0, text.length - word.length) + setTone(word, tone) : text;
  }

  return { TONES, toneOf, setTone, pressTone, retone };
})();
