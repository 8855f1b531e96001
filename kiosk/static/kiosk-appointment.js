/* Kiosk: "Có lịch hẹn / I have an appointment". The citizen types the code from the booking page
   (/book/SITE) on an on-screen keyboard; the controller turns the booking into a ticket: kept on
   time (called within the grace window of the slot), a normal number when late or on another day,
   with the reason on the ticket screen. A repeated check-in returns the same ticket.
   A module of its own: it adds its entry button, screen and words to the kiosk page (kiosk.js). */
"use strict";

(() => {
  const { t, el, api } = Motcua;
  const kiosk = Motcua.kiosk;
  const ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
  const $ = (id) => document.getElementById(id);

  Motcua.addWords({
    vi: {
      have_appointment: "Có lịch hẹn? Nhập mã lịch hẹn", appointment_title: "Nhập mã lịch hẹn",
      appointment_hint: "Mã gồm 6 ký tự bạn nhận khi đặt lịch (không có chữ I, L, O và số 0, 1).",
      appointment_code: "Mã lịch hẹn", check_in: "Xác nhận lịch hẹn", checking_in: "Đang xác nhận…", erase: "⌫ Xóa",
      back: "← Quay lại",
      kept: "Đã xác nhận lịch hẹn lúc {time}. Bạn sẽ được mời trong vòng {grace} phút sau giờ hẹn.",
      late: "Bạn đến muộn quá {grace} phút so với giờ hẹn {time}, nên được cấp số thứ tự thường.",
      other_day: "Lịch hẹn của bạn là ngày {date} lúc {time}, không phải hôm nay. Bạn được cấp số thứ tự thường.",
      unknown_appointment: "Không tìm thấy lịch hẹn với mã này. Vui lòng kiểm tra lại mã.",
      appointment_cancelled: "Lịch hẹn này đã bị hủy. Mời lấy số thứ tự thường.",
      invalid_code: "Mã lịch hẹn gồm 6 ký tự.",
    },
    en: {
      have_appointment: "I have an appointment: enter the code", appointment_title: "Enter your appointment code",
      appointment_hint: "The 6 characters you got when booking (no I, L, O, 0 or 1).",
      appointment_code: "Appointment code", check_in: "Check in", checking_in: "Checking in…", erase: "⌫ Delete",
      back: "← Back",
      kept: "Appointment at {time} confirmed. You will be called within {grace} minutes of it.",
      late: "You are more than {grace} minutes late for your {time} appointment, so this is a normal number.",
      other_day: "Your appointment is on {date} at {time}, not today. This is a normal number.",
      unknown_appointment: "No appointment has this code. Please check it.",
      appointment_cancelled: "This appointment was cancelled. Please take a normal number.",
      invalid_code: "An appointment code has 6 characters.",
    },
  });

  let busy = false;
  let shown = null; // the last check-in, to re-word its notice when the language changes

  const entry = el("button", { id: "appointment-entry", type: "button", class: "primary", "data-i18n": "have_appointment",
    "data-i18n-aria": "have_appointment", onclick: open }, t("have_appointment"));
  $("start-title").after(entry);

  const input = el("input", { id: "appointment-code", autocomplete: "off", maxlength: "6", inputmode: "text",
    "aria-describedby": "appointment-hint", "aria-label": t("appointment_code"), "data-i18n-aria": "appointment_code" });
  input.addEventListener("input", () => { input.value = clean(input.value); });
  input.addEventListener("keydown", (event) => { if (event.key === "Enter") checkIn(); });
  const keys = el("div", { class: "code-keys", role: "group", "aria-label": t("appointment_code") },
    ...Array.from(ALPHABET, (ch) => el("button", { type: "button", "data-key": ch, "aria-label": ch, text: ch,
      onclick: () => { input.value = clean(input.value + ch); } })),
    el("button", { type: "button", class: "wide", "data-key": "erase", "data-i18n": "erase", "data-i18n-aria": "erase",
      onclick: () => { input.value = input.value.slice(0, -1); } }, t("erase")));
  const error = el("p", { id: "appointment-error", class: "error hidden", role: "alert" });
  const submit = el("button", { id: "check-in", type: "button", class: "primary big", "data-i18n": "check_in",
    "data-i18n-aria": "check_in", onclick: checkIn }, t("check_in"));
  const screen = el("section", { id: "s-appointment", class: "screen hidden", "aria-labelledby": "appointment-title" },
    el("h2", { id: "appointment-title", "data-i18n": "appointment_title" }, t("appointment_title")),
    el("p", { id: "appointment-hint", class: "muted", "data-i18n": "appointment_hint" }, t("appointment_hint")),
    input, keys, error,
    el("div", { class: "actions" },
      el("button", { type: "button", class: "back-start", "data-i18n": "back", "data-i18n-aria": "back",
        onclick: () => kiosk.reset() }, t("back")),
      submit));
  $("s-start").after(screen);

  const notice = el("p", { id: "appointment-notice", class: "notice hidden", role: "status" });
  $("done").before(notice);
  // The notice belongs to one check-in: it goes when the ticket screen does.
  new MutationObserver(() => {
    if ($("s-ticket").classList.contains("hidden")) { shown = null; renderNotice(); }
  }).observe($("s-ticket"), { attributes: true, attributeFilter: ["class"] });
  $("lang-button").addEventListener("click", renderNotice);

  function clean(text) {
    return Array.from(text.toUpperCase()).filter((ch) => ALPHABET.includes(ch)).join("").slice(0, 6);
  }

  function open() {
    input.value = "";
    error.classList.add("hidden");
    submit.disabled = !kiosk.config.key;
    kiosk.show("s-appointment");
    input.focus();
  }

  async function checkIn() {
    const code = clean(input.value);
    if (busy) return;
    if (code.length !== 6) { showError(t("invalid_code")); return; }
    busy = true;
    submit.disabled = true;
    submit.textContent = t("checking_in");
    try {
      const { data } = await api("POST", `/api/v1/sites/${encodeURIComponent(kiosk.site)}/appointments/${code}/check-in`, {
        headers: { "X-Kiosk-Key": kiosk.config.key }, body: { kiosk: kiosk.config.kiosk || null } });
      kiosk.showTicket(data);
      shown = data;
      renderNotice();
    } catch (failure) {
      if (failure instanceof Motcua.ApiError) {
        const worded = ["unknown_appointment", "appointment_cancelled", "invalid_code"].includes(failure.code);
        showError(worded ? t(failure.code) : Motcua.errorText(failure));
      } else {
        showError(t("network_error"));
      }
    } finally {
      busy = false;
      submit.disabled = !kiosk.config.key;
      submit.textContent = t("check_in");
    }
  }

  function showError(text) {
    error.textContent = text;
    error.classList.remove("hidden");
  }

  function renderNotice() {
    document.body.dataset.checkIn = shown ? shown.check_in : "";
    notice.classList.toggle("hidden", !shown);
    if (!shown) { notice.textContent = ""; return; }
    const a = shown.appointment;
    const [y, m, d] = a.date.split("-");
    notice.textContent = t(shown.check_in, { time: a.time, grace: a.grace_min, date: `${d}/${m}/${y}` });
  }
})();
