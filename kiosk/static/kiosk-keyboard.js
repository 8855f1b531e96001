/* On-screen keyboards for the touch kiosk, which has no keyboard of its own.

   KioskKeyboard.create(input, {rows, accept}) returns a keyboard element that types into
   `input`: each row is a list of keys, a key being one character or the name of an action
   (erase, clear, space, hide). A key press changes the input's value (through `accept`,
   which may refuse or reshape what was typed) and fires the input's "input" event, so the
   page reacts exactly as to a real keyboard. The input gets inputmode="none": a tablet or
   kiosk OS must not open its own keyboard over ours.

   LETTERS is the search keyboard: the 26 Latin letters on the QWERTY rows Vietnamese phones
   type Telex on, without diacritics. The search ignores marks (Motcua.fold: "ly lich" finds
   "Lý lịch", "d" finds "đ"), so plain letters find every procedure, and English names too. */
"use strict";

const KioskKeyboard = (() => {
  const { el, t } = Motcua;

  Motcua.addWords({
    vi: { kb_erase: "Xóa một chữ", kb_clear: "Xóa hết", kb_space: "Dấu cách", kb_hide: "Ẩn bàn phím",
          kb_space_label: "dấu cách", kb_clear_label: "Xóa hết" },
    en: { kb_erase: "Delete one letter", kb_clear: "Clear all", kb_space: "Space", kb_hide: "Hide the keyboard",
          kb_space_label: "space", kb_clear_label: "Clear" },
  });

  const LETTERS = [
    Array.from("qwertyuiop"),
    Array.from("asdfghjkl"),
    [...Array.from("zxcvbnm"), "erase"],
    ["hide", "space", "clear"],
  ];
  const ACTIONS = {
    erase: { text: "⌫", aria: "kb_erase", apply: (value) => value.slice(0, -1) },
    clear: { label: "kb_clear_label", aria: "kb_clear", apply: () => "" },
    space: { label: "kb_space_label", aria: "kb_space", apply: (value) => (value && !value.endsWith(" ") ? value + " " : value) },
    hide: { text: "⌨ ✕", aria: "kb_hide", apply: null },
  };

  /** A keyboard typing into `input`; onHide is called by its "hide" key; label: a dictionary key naming it. */
  function create(input, { rows = LETTERS, accept = (text) => text, onHide = () => {}, label, className = "" } = {}) {
    input.setAttribute("inputmode", "none");
    const type = (next) => {
      input.value = accept(next);
      input.dispatchEvent(new Event("input", { bubbles: true }));
    };
    const keyButton = (key) => {
      const action = ACTIONS[key];
      if (!action) {
        return el("button", { type: "button", class: "kb-key", "data-key": key, "aria-label": key.toUpperCase(),
          text: key.toUpperCase(), onclick: () => type(input.value + key) });
      }
      return el("button", { type: "button", class: `kb-key kb-${key}`, "data-key": key, "data-i18n-aria": action.aria,
        "aria-label": t(action.aria), "data-i18n": action.label || null, text: action.label ? t(action.label) : action.text,
        onclick: () => (action.apply ? type(action.apply(input.value)) : onHide()) });
    };
    const keyboard = el("div", { class: `kb ${className}`.trim(), role: "group", "data-i18n-aria": label,
      "aria-label": t(label) }, ...rows.map((row) => el("div", { class: "kb-row" }, ...row.map(keyButton))));
    // every key as wide as one of the longest row's, so the rows line up as on a real keyboard
    keyboard.style.setProperty("--kb-columns", String(Math.max(...rows.map((row) => row.length))));
    return keyboard;
  }

  return { create, LETTERS };
})();
