/* Kiosk: "Có lịch hẹn / I have an appointment". The citizen types the code from the booking page
   (/book/SITE) on an on-screen keyboard; the controller turns the booking into a ticket: kept on
   time (called within the grace window of the slot), a normal number when late or on another day,
   with the reason on the ticket screen. A repeated check-in returns the same ticket.
   Too early for the slot, the citizen may take a normal number for the booked procedure at once.
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
      appointment_code: "Mã lịch hẹn", code_keys: "Bàn phím mã lịch hẹn", check_in: "Xác nhận lịch hẹn",
      checking_in: "Đang xác nhận…",
      kept: "Đã xác nhận lịch hẹn lúc {time}. Bạn sẽ được mời trong vòng {grace} phút sau giờ hẹn.",
      late: "Bạn đến muộn quá {grace} phút so với giờ hẹn {time}, nên được cấp số thứ tự thường.",
      other_day: "Lịch hẹn của bạn là ngày {date} lúc {time}, không phải hôm nay. Bạn được cấp số thứ tự thường.",
      unknown_appointment: "Không tìm thấy lịch hẹn với mã này. Vui lòng kiểm tra lại mã.",
      appointment_cancelled: "Lịch hẹn này đã bị hủy. Mời lấy số thứ tự thường.",
      invalid_code: "Mã lịch hẹn gồm 6 ký tự.",
      too_early: "Bạn đến sớm: lịch hẹn lúc {time} có thể xác nhận từ {from}. Bạn có thể chờ đến lúc đó, "
        + "hoặc lấy số thứ tự thường ngay bây giờ (không theo giờ hẹn).",
      too_early_unknown: "Bạn đến sớm: chưa đến giờ xác nhận lịch hẹn. Bạn có thể chờ, hoặc lấy số thứ tự thường ngay.",
      normal_number: "Lấy số thường ngay", normal_number_choose: "Chọn thủ tục để lấy số thường",
    },
    en: {
      have_appointment: "I have an appointment: enter the code", appointment_title: "Enter your appointment code",
      appointment_hint: "The 6 characters you got when booking (no I, L, O, 0 or 1).",
      appointment_code: "Appointment code", code_keys: "Appointment code keyboard", check_in: "Check in",
      checking_in: "Checking in…",
      kept: "Appointment at {time} confirmed. You will be called within {grace} minutes of it.",
      late: "You are more than {grace} minutes late for your {time} appointment, so this is a normal number.",
      other_day: "Your appointment is on {date} at {time}, not today. This is a normal number.",
      unknown_appointment: "No appointment has this code. Please check it.",
      appointment_cancelled: "This appointment was cancelled. Please take a normal number.",
      invalid_code: "An appointment code has 6 characters.",
      too_early: "You are early: your {time} appointment can be checked in from {from}. You may wait until then, "
        + "or take a normal number now (not at your appointment time).",
      too_early_unknown: "You are early: check-in has not opened yet. You may wait, or take a normal number now.",
      normal_number: "Take a normal number now", normal_number_choose: "Choose a procedure for a normal number",
    },
  });

  let busy = false;
  let shown = null; // the last check-in, to re-word its notice when the language changes
  let failure = null; // {key, values}, {error} or {text} of the error shown, re-worded when the language changes
  let early = null; // the booking a "too early" refusal was about: its procedure gets a normal number

  const entry = el("button", { id: "appointment-entry", type: "button", class: "primary", "data-i18n": "have_appointment",
    "data-i18n-aria": "have_appointment", onclick: open }, t("have_appointment"));
  $("start-title").after(entry);

  const input = el("input", { id: "appointment-code", autocomplete: "off", maxlength: "6",
    "aria-describedby": "appointment-hint", "aria-label": t("appointment_code"), "data-i18n-aria": "appointment_code" });
  input.addEventListener("input", () => { input.value = clean(input.value); });
  input.addEventListener("keydown", (event) => { if (event.key === "Enter") checkIn(); });
  const rows = [0, 8, 16, 24].map((from) => Array.from(ALPHABET.slice(from, from + 8)));
  rows[rows.length - 1].push("erase");
  const keys = KioskKeyboard.create(input, { rows, accept: clean, label: "code_keys", className: "code-keys" });
  const error = el("p", { id: "appointment-error", class: "error hidden", role: "alert" });
  const normal = el("button", { id: "normal-number", type: "button", class: "hidden", "data-i18n": "normal_number",
    "data-i18n-aria": "normal_number", onclick: normalNumber }, t("normal_number"));
  const submit = el("button", { id: "check-in", type: "button", class: "primary big", "data-i18n": "check_in",
    "data-i18n-aria": "check_in", onclick: checkIn }, t("check_in"));
  const screen = el("section", { id: "s-appointment", class: "screen hidden", "aria-labelledby": "appointment-title" },
    el("h2", { id: "appointment-title", "data-i18n": "appointment_title" }, t("appointment_title")),
    el("p", { id: "appointment-hint", class: "muted", "data-i18n": "appointment_hint" }, t("appointment_hint")),
    input, keys, error, normal,
    el("div", { class: "actions" },
      el("button", { type: "button", class: "back-start", "data-i18n": "back", "data-i18n-aria": "back",
        onclick: () => kiosk.home() }, t("back")),
      submit));
  $("s-start").after(screen);

  const notice = el("p", { id: "appointment-notice", class: "notice hidden", role: "status" });
  $("done").before(notice);
  // The notice belongs to one check-in: it goes when the ticket screen does.
  new MutationObserver(() => {
    if ($("s-ticket").classList.contains("hidden")) { shown = null; renderNotice(); }
  }).observe($("s-ticket"), { attributes: true, attributeFilter: ["class"] });
  new MutationObserver(() => { renderNotice(); renderError(); })
    .observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });

  function clean(text) {
    return Array.from(text.toUpperCase()).filter((ch) => ALPHABET.includes(ch)).join("").slice(0, 6);
  }

  function open() {
    input.value = "";
    showError(null);
    submit.disabled = !kiosk.usable();
    kiosk.show("s-appointment");
    input.focus();
  }

  async function checkIn() {
    const code = clean(input.value);
    if (busy) return;
    if (code.length !== 6) { showError({ key: "invalid_code" }); return; }
    busy = true;
    submit.disabled = true;
    submit.textContent = t("checking_in");
    try {
      const { data } = await api("POST", `${base()}/appointments/${code}/check-in`, {
        headers: { "X-Kiosk-Key": kiosk.config.key }, body: { kiosk: kiosk.config.kiosk || null } });
      kiosk.showTicket(data);
      shown = data;
      renderNotice();
    } catch (failed) {
      await explain(failed, code);
    } finally {
      busy = false;
      submit.disabled = !kiosk.usable();
      submit.textContent = t("check_in");
    }
  }

  /** Word a refused check-in; a "too early" one offers a normal number for the booked procedure. */
  async function explain(failed, code) {
    if (failed instanceof Motcua.ApiError && ["unknown_appointment", "appointment_cancelled", "invalid_code"].includes(failed.code)) {
      showError({ key: failed.code });
    } else if (failed instanceof Motcua.ApiError && failed.code === "check_in_too_early") {
      try {
        early = (await api("GET", `${base()}/appointments/${code}`)).data;
        showError({ key: "too_early", values: { time: early.time, from: early.check_in_from.slice(11, 16) } });
      } catch (lookup) {
        early = null;
        showError({ key: "too_early_unknown" });
      }
    } else {
      const found = kiosk.problem(failed); // the kiosk's words: a refused key, a rate limit, the network...
      showError(found.key ? { key: found.key, values: { s: found.waitS || 10, ...found.values } } : found);
    }
  }

  /** "Too early" and no wish to wait: the papers of the booked procedure, then a normal number. */
  function normalNumber() {
    const procedure = early && kiosk.catalogue().procedures.find((p) => p.id === early.procedure && p.kiosk);
    if (procedure) kiosk.choose(procedure);
    else kiosk.home();
  }

  function showError(found) {
    failure = found;
    if (!found || !["too_early", "too_early_unknown"].includes(found.key)) early = null;
    renderError();
  }

  function renderError() {
    error.textContent = !failure ? "" : failure.text || (failure.error ? Motcua.errorText(failure.error)
      : t(failure.key, failure.values));
    error.classList.toggle("hidden", !failure);
    normal.classList.toggle("hidden", !(failure && ["too_early", "too_early_unknown"].includes(failure.key)));
    normal.textContent = early ? t("normal_number") : t("normal_number_choose");
  }

  function base() { return `/api/v1/sites/${encodeURIComponent(kiosk.site)}`; }

  function renderNotice() {
    document.body.dataset.checkIn = shown ? shown.check_in : "";
    notice.classList.toggle("hidden", !shown);
    if (!shown) { notice.textContent = ""; return; }
    const a = shown.appointment;
    const [y, m, d] = a.date.split("-");
    notice.textContent = t(shown.check_in, { time: a.time, grace: a.grace_min, date: `${d}/${m}/${y}` });
  }
})();
