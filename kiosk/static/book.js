/* Booking page (/book/SITE): procedure -> day -> half-hour slot -> a code to bring to the kiosk.
   Public, no login; the server limits bookings per device. One Idempotency-Key per choice, so a
   double tap or a retried request books once. Look-up and cancel by code below. */
"use strict";

(() => {
  const { t, el, api, matches, named, dayLabel } = Motcua;
  const site = decodeURIComponent(location.pathname.split("/")[2] || "");
  const base = `/api/v1/sites/${encodeURIComponent(site)}/appointments`;
  const $ = (id) => document.getElementById(id);

  Motcua.setDictionary({
    vi: {
      title: "Đặt lịch hẹn", choose_title: "Đặt lịch hẹn làm thủ tục",
      intro: "Chọn thủ tục, ngày và giờ. Bạn nhận một mã gồm 6 ký tự; đến trung tâm, nhập mã tại ki-ốt (mục “Có lịch hẹn”) từ {early} phút trước giờ hẹn. Bạn được mời vào quầy trong vòng {grace} phút sau giờ hẹn.",
      search_label: "1. Chọn thủ tục (gõ không dấu cũng được)", search_placeholder: "Ví dụ: ly lich tu phap",
      day_label: "2. Chọn ngày", slot_label: "3. Chọn giờ", no_slots: "Ngày này không còn khung giờ trống.",
      no_days: "Hiện không có ngày nào nhận đặt lịch.", book: "Đặt lịch", booking: "Đang đặt lịch…",
      free: "còn {n} chỗ", full: "Hết chỗ", booked_title: "Đã đặt lịch hẹn", your_code: "Mã lịch hẹn của bạn",
      how: "Hãy ghi lại hoặc chụp mã này. Đến trung tâm từ {from} đến {until} ngày {date}, nhập mã tại ki-ốt (mục “Có lịch hẹn”). Đến muộn hơn {until}, bạn sẽ được cấp số thứ tự thường.",
      papers_heading: "Giấy tờ cần mang theo", no_papers: "Mang theo Căn cước công dân; cán bộ sẽ hướng dẫn thêm tại quầy.",
      again: "Đặt lịch khác", manage_title: "Tra cứu hoặc hủy lịch hẹn", code_label: "Mã lịch hẹn (6 ký tự)",
      lookup: "Tra cứu", cancel: "Hủy lịch hẹn", procedure: "Thủ tục", agency: "Cơ quan", day: "Ngày", time: "Giờ hẹn",
      status: "Trạng thái", booked: "Đã đặt", cancelled: "Đã hủy", checked_in: "Đã xác nhận tại ki-ốt",
      expired: "Đã qua", network_error: "Mất kết nối. Vui lòng thử lại: bạn sẽ không bị đặt hai lần.",
      id_label: "Số căn cước (không bắt buộc)", bad_id: "Số căn cước gồm đúng 12 chữ số (hoặc để trống).",
      id_why: "Nếu nhập, đến ngày hẹn bạn chỉ cần quét thẻ căn cước ở ki-ốt thay cho mã lịch hẹn. Số chỉ được giữ dưới dạng "
        + "mã hóa một chiều, đến khi bạn xác nhận, hủy lịch, hoặc hết ngày hẹn.",
      confirm_cancel: "Hủy lịch hẹn {code} ({procedure}, {day} lúc {time})? Chỗ này sẽ được nhường cho người khác; "
        + "muốn đến lại, bạn phải đặt lịch mới.",
      cancel_yes: "Có, hủy lịch hẹn", cancel_no: "Không, giữ lịch hẹn",
    },
    en: {
      title: "Book an appointment", choose_title: "Book an appointment for a procedure",
      intro: "Choose a procedure, a day and a time. You get a 6-character code; at the centre, enter it at a kiosk (“I have an appointment”) from {early} minutes before your time. You are called to a counter within {grace} minutes of it.",
      search_label: "1. Choose a procedure", search_placeholder: "e.g. ly lich tu phap",
      day_label: "2. Choose a day", slot_label: "3. Choose a time", no_slots: "No free time left on this day.",
      no_days: "No day can be booked at the moment.", book: "Book", booking: "Booking…",
      free: "{n} left", full: "Full", booked_title: "Appointment booked", your_code: "Your appointment code",
      how: "Write this code down or take a photo. Come to the centre between {from} and {until} on {date} and enter it at a kiosk (“I have an appointment”). After {until} you get a normal number.",
      papers_heading: "Papers to bring", no_papers: "Bring your citizen ID card; staff will guide you at the counter.",
      again: "Book another", manage_title: "Look up or cancel an appointment", code_label: "Appointment code (6 characters)",
      lookup: "Look up", cancel: "Cancel the appointment", procedure: "Procedure", agency: "Agency", day: "Day",
      time: "Time", status: "Status", booked: "Booked", cancelled: "Cancelled", checked_in: "Checked in at the kiosk",
      expired: "Over", network_error: "Connection lost. Please try again: you will not be booked twice.",
      id_label: "ID card number (optional)", bad_id: "An ID card number is exactly 12 digits (or leave it empty).",
      id_why: "If you enter it, on the day you only need to scan your ID card at the kiosk instead of typing the code. It is "
        + "kept only in one-way coded form, until you check in, cancel, or the day is over.",
      confirm_cancel: "Cancel appointment {code} ({procedure}, {day} at {time})? The place goes to someone else; "
        + "to come, you would have to book again.",
      cancel_yes: "Yes, cancel it", cancel_no: "No, keep it",
    },
  });

  const state = { catalogue: null, info: null, procedure: null, date: null, time: null, key: null, busy: false,
                  booked: null, found: null, confirming: false };

  function showError(error) {
    const box = $("error");
    box.textContent = error ? (error instanceof Motcua.ApiError ? Motcua.errorText(error) : t("network_error")) : "";
    box.classList.toggle("hidden", !error);
  }

  function renderProcedures() {
    const query = $("search").value.trim();
    const list = state.catalogue.procedures.filter((p) => p.kiosk && (!query || matches(query,
      `${p.name} ${p.name_en} ${state.catalogue.agencies.find((a) => a.id === p.agency).name}`)));
    $("procedures").replaceChildren(...list.slice(0, 40).map((p) => {
      const agency = state.catalogue.agencies.find((a) => a.id === p.agency);
      return el("li", {}, el("button", { type: "button", class: "procedure", "data-procedure": p.id,
        "aria-pressed": String(state.procedure === p),
        onclick: () => chooseProcedure(p) }, named(p), el("small", { text: named(agency) })));
    }));
  }

  function chooseProcedure(p) {
    state.procedure = p; state.time = null; state.key = Motcua.newKey();
    $("chosen-procedure").textContent = named(p);
    $("when").classList.remove("hidden");
    renderProcedures();
    renderDays();
    if (state.date) loadSlots();
  }

  function renderDays() {
    const days = state.info.days;
    if (!days.length) { $("days").replaceChildren(el("p", { class: "muted", text: t("no_days") })); return; }
    if (!state.date || !days.includes(state.date)) state.date = days[0];
    $("days").replaceChildren(...days.map((date) => el("button", { type: "button", class: "day", "data-date": date,
      "aria-pressed": String(date === state.date), "aria-label": dayLabel(date), text: dayLabel(date),
      onclick: () => { state.date = date; state.time = null; state.key = Motcua.newKey(); renderDays(); loadSlots(); } })));
  }

  async function loadSlots() {
    const asked = `${state.procedure.id}/${state.date}`;
    $("book").disabled = true;
    try {
      const { data } = await api("GET", `${base}/slots?procedure=${encodeURIComponent(state.procedure.id)}&date=${state.date}`);
      if (asked !== `${state.procedure.id}/${state.date}`) return; // the citizen chose again meanwhile
      showError(null);
      renderSlots(data.slots);
    } catch (error) {
      showError(error);
    }
  }

  function renderSlots(slots) {
    state.slots = slots;
    $("slots-empty").classList.toggle("hidden", slots.some((s) => s.free > 0));
    $("slots").replaceChildren(...slots.map((s) => el("button", { type: "button", class: "slot", "data-time": s.time,
      disabled: s.free <= 0, "aria-pressed": String(s.time === state.time),
      onclick: () => { state.time = s.time; state.key = Motcua.newKey(); renderSlots(state.slots); } },
      s.time, " ", el("small", { text: s.free > 0 ? t("free", { n: s.free }) : t("full") }))));
    $("book").disabled = !state.time || state.busy;
  }

  async function book() {
    if (state.busy || !state.time) return;
    state.busy = true;
    $("book").disabled = true;
    $("book").textContent = t("booking");
    try {
      const idNumber = $("id-number").value.replace(/\s/g, "");
      if (idNumber && !/^\d{12}$/.test(idNumber)) {
        $("error").textContent = t("bad_id");
        $("error").classList.remove("hidden");
        return;
      }
      const { data } = await api("POST", base, { headers: { "Idempotency-Key": state.key },
        body: { procedure: state.procedure.id, date: state.date, time: state.time,
                ...(idNumber ? { id_number: idNumber } : {}) } });
      showError(null);
      $("id-number").value = ""; // nothing of the card stays on the page
      showBooked(data);
    } catch (error) {
      showError(error);
      if (error instanceof Motcua.ApiError && error.code === "slot_full") { state.time = null; loadSlots(); }
    } finally {
      state.busy = false;
      $("book").textContent = t("book");
      $("book").disabled = !state.time;
    }
  }

  function facts(list, booking) {
    const rows = [["procedure", lang(booking, "procedure_name")], ["agency", lang(booking, "agency_name")],
                  ["day", `${dayLabel(booking.date)}/${booking.date.slice(0, 4)}`], ["time", booking.time],
                  ["status", t(booking.status)]];
    list.replaceChildren(...rows.flatMap(([key, value]) => [el("dt", { text: t(key) }), el("dd", { "data-fact": key, text: value })]));
  }

  function lang(booking, field) {
    return Motcua.language() === "en" && booking[`${field}_en`] ? booking[`${field}_en`] : booking[field];
  }

  function showBooked(booking) {
    state.booked = booking;
    state.key = null;
    $("code").textContent = booking.code;
    document.body.dataset.code = booking.code;
    facts($("booked-facts"), booking);
    $("booked-how").textContent = t("how", { from: booking.check_in_from.slice(11, 16),
      until: booking.check_in_until.slice(11, 16), date: `${dayLabel(booking.date)}/${booking.date.slice(0, 4)}` });
    const papers = booking.papers.length ? Motcua.papers(booking) : [t("no_papers")];
    $("booked-papers").replaceChildren(...papers.map((text) => el("li", { text })));
    $("s-choose").classList.add("hidden");
    $("s-booked").classList.remove("hidden");
    window.scrollTo(0, 0);
  }

  function again() {
    state.booked = null; state.time = null;
    $("s-booked").classList.add("hidden");
    $("s-choose").classList.remove("hidden");
    if (state.procedure) chooseProcedure(state.procedure);
  }

  async function lookup(event) {
    event.preventDefault();
    state.confirming = false;
    try {
      const code = $("lookup-code").value.trim();
      const { data } = await api("GET", `${base}/${encodeURIComponent(code)}`);
      showError(null);
      showFound(data);
    } catch (error) {
      $("found").classList.add("hidden");
      showError(error);
    }
  }

  function showFound(booking) {
    state.found = booking;
    facts($("found-facts"), booking);
    $("cancel").classList.toggle("hidden", booking.status !== "booked" || state.confirming);
    $("confirm-cancel").classList.toggle("hidden", booking.status !== "booked" || !state.confirming);
    $("confirm-question").textContent = t("confirm_cancel", { code: booking.code, procedure: lang(booking, "procedure_name"),
      day: `${dayLabel(booking.date)}/${booking.date.slice(0, 4)}`, time: booking.time });
    $("found").classList.remove("hidden");
    document.body.dataset.found = booking.status;
  }

  /** A cancel frees the place for good: the citizen says so twice (the second button is a different one). */
  function askCancel(asking) {
    state.confirming = asking;
    if (state.found) showFound(state.found);
    (asking ? $("cancel-no") : $("cancel")).focus();
  }

  async function cancel() {
    if (!state.found) return;
    state.confirming = false;
    try {
      const { data } = await api("POST", `${base}/${encodeURIComponent(state.found.code)}/cancel`);
      showError(null);
      showFound(data);
      if (state.procedure && state.date) loadSlots();
    } catch (error) {
      showError(error);
    }
  }

  function setLanguage(next) {
    Motcua.applyLanguage(next);
    const other = next === "vi" ? ["en", "English"] : ["vi", "Tiếng Việt"];
    $("lang-button").textContent = other[1];
    $("lang-button").setAttribute("lang", other[0]);
    $("lang-button").setAttribute("aria-label", other[1]);
    if (!state.catalogue) return;
    $("site-name").textContent = `${t("title")} · ${named(state.catalogue.site)}`;
    $("intro").textContent = t("intro", { early: state.info.early_min, grace: state.info.grace_min });
    renderProcedures();
    if (state.procedure) { $("chosen-procedure").textContent = named(state.procedure); renderDays(); }
    if (state.slots) renderSlots(state.slots);
    if (state.booked) showBooked(state.booked);
    if (state.found) showFound(state.found);
  }

  async function start() {
    $("lang-button").addEventListener("click", () => setLanguage(Motcua.language() === "vi" ? "en" : "vi"));
    $("search").addEventListener("input", renderProcedures);
    $("book").addEventListener("click", book);
    $("again").addEventListener("click", again);
    $("manage").addEventListener("submit", lookup);
    $("cancel").addEventListener("click", () => askCancel(true));
    $("cancel-no").addEventListener("click", () => askCancel(false));
    $("cancel-yes").addEventListener("click", cancel);
    for (let attempt = 0; ; attempt++) {
      try {
        state.catalogue = (await api("GET", `/api/v1/sites/${encodeURIComponent(site)}/catalogue`)).data;
        state.info = (await api("GET", `${base}/days`)).data;
        $("id-box").classList.toggle("hidden", !state.info.card_link); // a booking tied to the card: SQLite store
        break;
      } catch (error) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 500 * (attempt + 1))));
      }
    }
    setLanguage("vi");
    document.body.dataset.ready = "true";
  }

  start();
})();
