/* Kiosk: the 2D scanner. It types what it reads like a keyboard, then Enter; this is its one listener, and the
   controller says what was read (POST .../scan, controller/core/scan.py):

     a number held away (its QR on a phone or on the ticket)  checked in: its ticket (kiosk-remote.js words it)
     the chip ID card                                           a greeting, the elderly priority chosen for the
                                                                number, and what the card holder holds today
                                                                (numbers held away, bookings) checked in
     an intake receipt                                          the result ticket's papers screen, with the file

   Anything else is said plainly and changes nothing. The card's text stays in this page only until the citizen
   is done (kiosk.js forgets it), and is sent only to the controller. A module of its own. */
"use strict";

(() => {
  const { t, el, api } = Motcua;
  const kiosk = Motcua.kiosk;
  const $ = (id) => document.getElementById(id);
  // A scanner types a whole code in a burst; what was typed before a pause this long is dropped.
  // (Not a tighter gap: a busy kiosk PC may deliver a burst's keys unevenly.)
  const SCANNER_IDLE_MS = 1500;
  const MIN_SCAN = 6; // a stray Enter, or a key or two, is no code
  const MAX_SCAN = 2048;
  const TICKET_REFUSALS = ["wrong_ticket_code", "unknown_ticket", "already_checked_in", "remote_expired", "not_remote"];

  Motcua.addWords({
    vi: {
      scan_reading: "Đang đọc mã…",
      card_title: "Xin chào, {name}",
      card_none: "Hôm nay bạn chưa có số giữ chỗ hay lịch hẹn nào tại trung tâm. Mời chọn thủ tục để lấy số.",
      card_number: "Số {number}",
      card_away: "{agency}: đã xác nhận có mặt, số giữ nguyên chỗ trong hàng. Mời ngồi chờ gọi.",
      card_appointment: "{agency}: đã xác nhận lịch hẹn lúc {time}.",
      card_appointment_normal: "{agency}: số thứ tự thường (không đúng giờ hẹn).",
      card_take: "Lấy số cho thủ tục khác", card_done: "Xong",
    },
    en: {
      scan_reading: "Reading the code…",
      card_title: "Hello, {name}",
      card_none: "You hold no number or appointment here today. Please choose a procedure to take a number.",
      card_number: "Number {number}",
      card_away: "{agency}: checked in, it keeps its place in the line. Please wait to be called.",
      card_appointment: "{agency}: your {time} appointment is confirmed.",
      card_appointment_normal: "{agency}: a normal number (not at your appointment time).",
      card_take: "Take a number for another procedure", card_done: "Done",
    },
  });

  const banner = el("p", { id: "scan-error", class: "error hidden", role: "alert" });
  $("greeting").after(banner);
  const list = el("ul", { id: "card-list", class: "card-list" });
  const screen = el("section", { id: "s-card", class: "screen hidden", "aria-labelledby": "card-title" },
    el("h2", { id: "card-title" }), list,
    el("div", { class: "actions" },
      el("button", { id: "card-take", type: "button", class: "big", onclick: () => kiosk.home() }),
      el("button", { id: "card-done", type: "button", class: "primary big", onclick: () => kiosk.reset() })));
  $("s-start").after(screen);

  let busy = false;
  let failure = null; // the scan refused, re-worded when the language changes
  let card = null; // what the controller said of the card scanned last, while its screen shows

  new MutationObserver(() => { renderError(); renderCard(); })
    .observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  // the next screen (the citizen moved on) takes the refusal away
  new MutationObserver(() => { if (failure) { failure = null; renderError(); } })
    .observe(document.body, { attributes: true, attributeFilter: ["data-screen"] });

  // Keystrokes that arrive in a burst and end with Enter. A kiosk has no keyboard: they are the scanner's,
  // wherever they land (the search box is typed by the on-screen keys only), except in the code fields whose
  // own Enter checks a code in. A space or an Enter inside a burst must not press the button that has focus.
  let burst = "";
  let last = 0;
  const isField = (target) => (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement)
    && target.id !== "search";
  document.addEventListener("keydown", (event) => {
    if (isField(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    const now = performance.now();
    if (now - last > SCANNER_IDLE_MS) burst = "";
    last = now;
    if (event.key === "Enter") {
      const text = burst;
      burst = "";
      if (text.trim().length >= MIN_SCAN) { event.preventDefault(); read(text); }
      return;
    }
    if (event.key.length === 1) {
      if (burst || event.target.id === "search") event.preventDefault();
      burst = (burst + event.key).slice(0, MAX_SCAN);
    }
  }, true);

  async function read(text) {
    if (busy) return;
    busy = true;
    document.body.dataset.scan = "reading";
    try {
      const { data } = await api("POST", `/api/v1/sites/${encodeURIComponent(kiosk.site)}/scan`, {
        headers: { "X-Kiosk-Key": kiosk.config.key }, body: { text } });
      showError(null);
      if (data.kind === "ticket") Motcua.kioskRemote.checkedIn(data.ticket);
      else if (data.kind === "card") carded(text, data);
      else received(text, data);
      document.body.dataset.scan = data.kind;
    } catch (error) {
      document.body.dataset.scan = "refused";
      if (error instanceof Motcua.ApiError && TICKET_REFUSALS.includes(error.code)) Motcua.kioskRemote.failed(error);
      else showError(error);
    } finally {
      busy = false;
    }
  }

  /** The ID card: greet, choose the elderly priority for the next number, and say what was checked in. */
  function carded(text, data) {
    kiosk.setPerson({ card: text, name: data.name, elderly: data.elderly });
    if (!data.checked_in.length && !data.refused.length) {
      if (document.body.dataset.screen === "s-ticket" || document.body.dataset.screen === "s-card") kiosk.home();
      return; // the greeting says hello; the citizen goes on choosing
    }
    card = data;
    renderCard();
    kiosk.show("s-card");
  }

  /** An intake receipt: the result procedure's papers, with the file and its date, then the number. */
  function received(text, data) {
    const procedure = kiosk.catalogue().procedures.find((p) => p.id === data.procedure);
    if (!procedure) { showError(new Motcua.ApiError(409, "no_result_return", "")); return; } // the site file changed
    kiosk.choose(procedure, { ...data, text });
  }

  function renderCard() {
    if (!card) return;
    $("card-title").textContent = t("card_title", { name: card.name });
    const items = card.checked_in.map((ticket) => {
      const agency = Motcua.language() === "en" && ticket.agency_name_en ? ticket.agency_name_en : ticket.agency_name;
      const key = ticket.via === "away" ? "card_away" : ticket.check_in === "kept" ? "card_appointment"
        : "card_appointment_normal";
      return el("li", { class: "ok" }, el("strong", { class: "card-number", text: t("card_number", { number: ticket.number }) }),
        el("span", { text: t(key, { agency, time: ticket.appointment ? ticket.appointment.time : "" }) }));
    });
    for (const refused of card.refused) {
      const error = new Motcua.ApiError(409, refused.code, refused.message);
      items.push(el("li", { class: "error", text: (refused.number ? `${refused.number}: ` : "") + Motcua.errorText(error) }));
    }
    list.replaceChildren(...(items.length ? items : [el("li", { text: t("card_none") })]));
    $("card-take").textContent = t("card_take");
    $("card-done").textContent = t("card_done");
  }

  function showError(error) {
    failure = error;
    renderError();
  }

  function renderError() {
    banner.textContent = failure ? Motcua.errorText(failure) : "";
    banner.classList.toggle("hidden", !failure);
  }
})();
