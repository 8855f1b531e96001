/* On-screen keyboards for the touch kiosk, which has no keyboard of its own.

   KioskKeyboard.create(input, {rows, accept}) returns a keyboard element that types into
   `input`: each row is a list of keys, a key being one character or the name of an action
   (erase, clear, space, hide). A key press changes the input's value (through `accept`,
   which may refuse or reshape what was typed) and fires the input's "input" event, so the
   page reacts exactly as to a real keyboard. The input gets inputmode="none": a tablet or
   kiosk OS must not open its own keyboard over ours.

   LETTERS is the search keyboard: the 26 Latin letters on the QWERTY rows Vietnamese phones
   type Telex on, without diacritics. The search ignores marks (Motcua.fold: "ly lich" finds
   "Lý lịch", "d" finds "đ"), so plain letters find every procedure, and English names too.

   VIETNAMESE writes a citizen's text in full Vietnamese: the same rows in lower case with a
   shift key (one capital; on by itself at the start of a sentence), digits and punctuation,
   the shaped letters ă â đ ê ô ơ ư as keys of their own, and the five tone marks as keys
   that put the mark on the right vowel of the word just typed (vietnamese.js: "toan", then
   sắc, gives "toán"; the mark moves as the word goes on, and a second tap takes it off).
   No Telex to learn: what a key shows is what it writes. */
"use strict";

const KioskKeyboard = (() => {
  const { el, t } = Motcua;

  Motcua.addWords({
    vi: { kb_erase: "Xóa một chữ", kb_clear: "Xóa hết", kb_space: "Dấu cách", kb_hide: "Ẩn bàn phím",
          kb_space_label: "dấu cách", kb_clear_label: "Xóa hết", kb_shift: "Chữ hoa",
          kb_acute: "á sắc: dấu sắc", kb_grave: "à huyền: dấu huyền", kb_hook: "ả hỏi: dấu hỏi",
          kb_tilde: "ã ngã: dấu ngã", kb_dot: "ạ nặng: dấu nặng",
          kb_acute_label: "sắc", kb_grave_label: "huyền", kb_hook_label: "hỏi", kb_tilde_label: "ngã", kb_dot_label: "nặng" },
    en: { kb_erase: "Delete one letter", kb_clear: "Clear all", kb_space: "Space", kb_hide: "Hide the keyboard",
          kb_space_label: "space", kb_clear_label: "Clear", kb_shift: "Capital letter",
          kb_acute: "á sắc: acute tone mark", kb_grave: "à huyền: grave tone mark", kb_hook: "ả hỏi: hook tone mark",
          kb_tilde: "ã ngã: tilde tone mark", kb_dot: "ạ nặng: dot below tone mark",
          kb_acute_label: "sắc", kb_grave_label: "huyền", kb_hook_label: "hỏi", kb_tilde_label: "ngã", kb_dot_label: "nặng" },
  });

  const LETTERS = [
    Array.from("qwertyuiop"),
    Array.from("asdfghjkl"),
    [...Array.from("zxcvbnm"), "erase"],
    ["hide", "space", "clear"],
  ];
  const TONE_KEYS = ["acute", "grave", "hook", "tilde", "dot"];
  const VIETNAMESE = [
    [...Array.from("1234567890"), "erase"],
    Array.from("qwertyuiop"),
    Array.from("asdfghjkl"),
    ["shift", ...Array.from("zxcvbnm"), ",", "."],
    [...Array.from("ăâđêôơư"), ...TONE_KEYS],
    ["?", "space", "clear"],
  ];
  // a tone key shows the mark on an a, then its name: "á sắc"
  const SAMPLE = { acute: "á", grave: "à", hook: "ả", tilde: "ã", dot: "ạ" };
  const ACTIONS = {
    erase: { text: "⌫", aria: "kb_erase", apply: (value) => value.slice(0, -1) },
    clear: { label: "kb_clear_label", aria: "kb_clear", apply: () => "" },
    space: { label: "kb_space_label", aria: "kb_space", apply: (value) => (value && !value.endsWith(" ") ? value + " " : value) },
    hide: { text: "⌨ ✕", aria: "kb_hide", apply: null },
    shift: { text: "⇧", aria: "kb_shift", apply: null },
    ...Object.fromEntries(TONE_KEYS.map((tone) => [tone, { sample: SAMPLE[tone], label: `kb_${tone}_label`,
      aria: `kb_${tone}`, apply: (value) => Vietnamese.pressTone(value, Vietnamese.TONES[tone]) }])),
  };
  // a sentence starts with a capital, as on a phone: at the start of the text and after . ? ! and a space
  const SENTENCE_START = /(^|[.?!]\s+|\n\s*)$/;

  /** A keyboard typing into `input`; onHide is called by its "hide" key; label: a dictionary key naming it.
      cased: letters shown and typed in lower case, a "shift" key for one capital (on by itself where a
      sentence starts); otherwise letters are shown in capitals and typed in lower case (a search). */
  function create(input, { rows = LETTERS, accept = (text) => text, onHide = () => {}, label, className = "",
                           cased = false } = {}) {
    input.setAttribute("inputmode", "none");
    let shifted = false;
    const keyboard = el("div", { class: `kb ${cased ? "kb-cased" : ""} ${className}`.trim().replace(/\s+/g, " "),
      role: "group", "data-i18n-aria": label, "aria-label": t(label) });
    const showShift = () => {
      keyboard.classList.toggle("kb-shifted", shifted);
      const key = keyboard.querySelector("[data-key=shift]");
      if (key) key.setAttribute("aria-pressed", String(shifted));
    };
    const type = (next) => {
      input.value = accept(next);
      input.dispatchEvent(new Event("input", { bubbles: true }));
      shifted = cased && SENTENCE_START.test(input.value);
      showShift();
    };
    const keyButton = (key) => {
      const action = ACTIONS[key];
      if (!action) {
        const shown = cased ? key : key.toUpperCase();
        return el("button", { type: "button", class: /\p{L}/u.test(key) ? "kb-key kb-letter" : "kb-key", "data-key": key,
          "aria-label": shown, text: shown,
          onclick: () => type(input.value + (shifted ? key.toUpperCase() : key)) });
      }
      const button = el("button", { type: "button", class: `kb-key kb-${key}${action.sample ? " kb-tone" : ""}`,
        "data-key": key, "data-i18n-aria": action.aria, "aria-label": t(action.aria),
        onclick: () => {
          if (key === "shift") { shifted = !shifted; showShift(); } else if (action.apply) type(action.apply(input.value));
          else onHide();
        } });
      if (action.sample) {  // the mark on a letter, big, and its name under it (the key's name starts with both)
        button.append(el("span", { class: "kb-sample", text: action.sample }), " ",
          el("span", { class: "kb-name", "data-i18n": action.label, text: t(action.label) }));
      } else {
        if (action.label) button.dataset.i18n = action.label;
        button.textContent = action.label ? t(action.label) : action.text;
      }
      return button;
    };
    keyboard.append(...rows.map((row) => el("div", { class: "kb-row" }, ...row.map(keyButton))));
    // every key as wide as one of the longest row's, so the rows line up as on a real keyboard
    keyboard.style.setProperty("--kb-columns", String(Math.max(...rows.map((row) => row.length))));
    /** Set the shift key as the text in the box asks (call after changing the box's text from outside). */
    keyboard.refresh = () => { shifted = cased && SENTENCE_START.test(input.value); showShift(); };
    keyboard.refresh();
    return keyboard;
  }

  return { create, LETTERS, VIETNAMESE };
})();
