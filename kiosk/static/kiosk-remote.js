/* Kiosk: check in a number held away: taken from a phone (/q/SITE), or taken here to come back later.
   The citizen holds its QR to the kiosk's 2D scanner (kiosk-scan.js reads it and hands the answer
   here), or types its code on the screen "Lấy số qua điện thoại". The controller puts the number in
   line at the place it kept while the citizen was away (POST .../tickets/NUMBER/check-in with the code).
   A module of its own: it adds its entry button, screen and words. */
"use strict";

(() => {
  const { t, el, api } = Motcua;
  const kiosk = Motcua.kiosk;
  const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTUVWXYZ-";
  const PATTERN = /^(\d{1,6})-([2-9A-HJKMNP-Z]{6})$/;
  const $ = (id) => document.getElementById(id);

  Motcua.addWords({
    vi: {
      remote_entry: "Lấy số qua điện thoại? Quét hoặc nhập mã", remote_title: "Xác nhận số lấy qua điện thoại",
      remote_hint: "Đưa mã QR trên điện thoại vào máy quét, hoặc gõ mã dưới mã QR (ví dụ 1005-K7QX9M).",
      remote_code: "Mã số thứ tự", remote_check_in: "Xác nhận có mặt", remote_checking: "Đang xác nhận…",
      remote_bad: "Mã gồm số thứ tự, dấu gạch và 6 ký tự (ví dụ 1005-K7QX9M).",
      remote_done: "Đã xác nhận có mặt. Số của bạn giữ nguyên chỗ trong hàng; mời ngồi chờ gọi.",
      erase: "⌫ Xóa", back: "← Quay lại",
    },
    en: {
      remote_entry: "Number from a phone? Scan or type its code", remote_title: "Check in a number from a phone",
      remote_hint: "Hold the QR code on your phone to the scanner, or type the code under it (e.g. 1005-K7QX9M).",
      remote_code: "Number code", remote_check_in: "Check in", remote_checking: "Checking in…",
      remote_bad: "The code is the number, a dash and 6 characters (e.g. 1005-K7QX9M).",
      remote_done: "Checked in. Your number keeps its place in line; please wait to be called.",
      erase: "⌫ Delete", back: "← Back",
    },
  });

  let busy = false;
  let shown = false;

  const entry = el("button", { id: "remote-entry", type: "button", class: "primary", "data-i18n": "remote_entry",
    "data-i18n-aria": "remote_entry", onclick: open }, t("remote_entry"));
  $("start-title").after(entry);

  const input = el("input", { id: "remote-code", autocomplete: "off", maxlength: "13", inputmode: "text",
    "aria-describedby": "remote-hint", "aria-label": t("remote_code"), "data-i18n-aria": "remote_code" });
  input.addEventListener("input", () => { input.value = clean(input.value); });
  input.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); checkIn(input.value); } });
  const keys = el("div", { class: "code-keys", role: "group", "aria-label": t("remote_code") },
    // data-remote-key, not data-key: the appointment screen's keys are found by data-key
    ...Array.from(ALPHABET, (ch) => el("button", { type: "button", "data-remote-key": ch, "aria-label": ch, text: ch,
      onclick: () => { input.value = clean(input.value + ch); } })),
    el("button", { type: "button", class: "wide", "data-remote-key": "erase", "data-i18n": "erase",
      "data-i18n-aria": "erase", onclick: () => { input.value = input.value.slice(0, -1); } }, t("erase")));
  const error = el("p", { id: "remote-error", class: "error hidden", role: "alert" });
  const submit = el("button", { id: "remote-check-in", type: "button", class: "primary big", "data-i18n": "remote_check_in",
    "data-i18n-aria": "remote_check_in", onclick: () => checkIn(input.value) }, t("remote_check_in"));
  const screen = el("section", { id: "s-remote", class: "screen hidden", "aria-labelledby": "remote-title" },
    el("h2", { id: "remote-title", "data-i18n": "remote_title" }, t("remote_title")),
    el("p", { id: "remote-hint", class: "muted", "data-i18n": "remote_hint" }, t("remote_hint")),
    input, keys, error,
    el("div", { class: "actions" },
      el("button", { type: "button", class: "back-start", "data-i18n": "back", "data-i18n-aria": "back",
        onclick: () => kiosk.home() }, t("back")),
      submit));
  $("s-start").after(screen);

  const notice = el("p", { id: "remote-notice", class: "notice hidden", role: "status", "data-i18n": "remote_done" },
    t("remote_done"));
  $("done").before(notice);
  new MutationObserver(() => {
    if ($("s-ticket").classList.contains("hidden")) { shown = false; notice.classList.add("hidden"); }
  }).observe($("s-ticket"), { attributes: true, attributeFilter: ["class"] });

  function clean(text) {
    return Array.from(text.toUpperCase()).filter((ch) => ALPHABET.includes(ch)).join("").slice(0, 13);
  }

  function open() {
    input.value = "";
    error.classList.add("hidden");
    submit.disabled = !kiosk.config.key;
    kiosk.show("s-remote");
    input.focus();
  }

  async function checkIn(typed) {
    const match = PATTERN.exec(clean(typed));
    if (busy) return;
    if (!match) { kiosk.show("s-remote"); showError(t("remote_bad")); return; }
    busy = true;
    submit.disabled = true;
    submit.textContent = t("remote_checking");
    try {
      const { data } = await api("POST",
        `/api/v1/sites/${encodeURIComponent(kiosk.site)}/tickets/${match[1]}/check-in`, {
          headers: { "X-Kiosk-Key": kiosk.config.key }, body: { code: `${match[1]}-${match[2]}` } });
      checkedIn(data);
    } catch (failure) {
      failed(failure);
    } finally {
      busy = false;
      submit.disabled = !kiosk.config.key;
      submit.textContent = t("remote_check_in");
    }
  }

  function showError(text) {
    error.textContent = text;
    error.classList.remove("hidden");
  }

  /** The number is in line again: its ticket, and the notice that it kept its place. */
  function checkedIn(ticket) {
    kiosk.showTicket(ticket);
    shown = true;
    notice.classList.remove("hidden");
  }

  /** A check-in was refused (or the controller could not be reached): said on this screen. */
  function failed(failure) {
    kiosk.show("s-remote");
    showError(failure instanceof Motcua.ApiError ? failure.message : t("network_error"));
  }

  // the scanner's reader (kiosk-scan.js) hands a scanned number's check-in here
  Motcua.kioskRemote = { checkedIn, failed };
})();
