/* Touch kiosk: agency -> procedure -> papers + priority -> ticket with QR.

   Configuration, as a kiosk is set up once by a technician:
     /kiosk/SITE?kiosk=k1&key=KIOSK-KEY
   stores the kiosk id and key in this browser's localStorage and removes the key
   from the address bar; every later start of /kiosk/SITE uses the stored values.
   The key is sent as X-Kiosk-Key when issuing (CONTRACT.md section 2).

   One Idempotency-Key is made when the citizen reaches the papers screen and is
   reused for every tap and retry of that flow, so a double tap or a network retry
   returns the same ticket instead of a second one.

   The ticket is always shown on screen with its QR: a citizen can photograph it
   if no paper comes out. The controller prints it on the kiosk's printer after
   the ticket is committed; the page follows the ticket's "print" status and,
   when printing failed, says so plainly and asks for a photo of the screen. The
   controller settles every print within its job deadline (15 s); a print still
   "pending" when the page stops asking (the controller unreachable, say) gets the
   same notice: no paper may come, the number on the screen is the ticket. */
"use strict";

(() => {
  const { t, el, api, matches, named, minutes } = Motcua;
  const site = decodeURIComponent(location.pathname.split("/")[2] || "");
  const IDLE_MS = 60000;
  const TICKET_IDLE_MS = 45000;

  Motcua.setDictionary({
    vi: {
      help: "Hướng dẫn", help_aria: "Mở hướng dẫn sử dụng", back: "← Quay lại", close: "Đóng",
      choose_agency: "Chọn cơ quan hoặc tìm thủ tục", search_label: "Tìm thủ tục (gõ không dấu cũng được)",
      search_placeholder: "Ví dụ: ly lich tu phap", no_results: "Không tìm thấy thủ tục phù hợp.",
      one_time_guide: "Hướng dẫn một lần", papers_heading: "Giấy tờ cần mang theo",
      no_papers: "Mang theo Căn cước công dân; cán bộ sẽ hướng dẫn thêm tại quầy.",
      fee_note: "Thủ tục có thu phí, lệ phí: sau khi nộp hồ sơ, mời nộp phí tại quầy thu phí.",
      spot_note: "Thủ tục giải quyết ngay: có thể chờ nhận kết quả trong ngày.",
      priority_legend: "Đối tượng ưu tiên (theo quy định)", take_number: "Lấy số thứ tự",
      none: "Không thuộc diện ưu tiên", elderly: "Người cao tuổi", pregnant: "Phụ nữ mang thai",
      disabled: "Người khuyết tật", child: "Người đi cùng trẻ em dưới 6 tuổi", merit: "Người có công với cách mạng",
      your_number: "Số thứ tự của bạn", people_ahead: "Số người chờ trước bạn", estimated_wait: "Thời gian chờ dự kiến",
      counters: "Quầy phục vụ", done: "Xong", priority_badge: "Ưu tiên: {what}",
      qr_caption: "Quét mã để theo dõi lượt của bạn trên điện thoại. Nếu vé không in ra, hãy chụp màn hình này.",
      qr_alt: "Mã QR theo dõi số {number}", minutes: "khoảng {n} phút", no_estimate: "chưa ước tính được",
      issuing: "Đang lấy số…", retry: "Lấy số lại", network_error: "Mất kết nối. Chạm “Lấy số lại”: bạn sẽ không bị cấp hai số.",
      no_key: "Ki-ốt chưa được cấu hình khóa (mở /kiosk/{site}?kiosk=MÃ&key=KHÓA một lần). Mời đến quầy hướng dẫn.",
      procedures_count: "{n} thủ tục", people: "{n} người",
      print_failed: "Máy in lỗi — vé giấy không in ra được. Vui lòng chụp màn hình này để giữ số thứ tự của bạn.",
      print_unknown: "Chưa chắc vé giấy in ra được. Vui lòng ghi nhớ số hoặc chụp màn hình này (mã QR) để giữ số thứ tự của bạn.",
      help_1: "Chạm vào cơ quan, hoặc gõ tên thủ tục vào ô tìm kiếm (không cần dấu).",
      help_2: "Chọn thủ tục; màn hình liệt kê tất cả giấy tờ cần mang theo.",
      help_3: "Nếu bạn thuộc đối tượng ưu tiên, hãy chọn; rồi chạm “Lấy số thứ tự”.",
      help_4: "Khi số của bạn hiện trên bảng, hãy đến đúng quầy. Quét mã QR để theo dõi trên điện thoại.",
      help_5: "Cần hỗ trợ? Hãy đến quầy hướng dẫn.",
    },
    en: {
      help: "Help", help_aria: "Open help", back: "← Back", close: "Close",
      choose_agency: "Choose an agency or search a procedure", search_label: "Search a procedure",
      search_placeholder: "e.g. ly lich tu phap", no_results: "No matching procedure.",
      one_time_guide: "Everything you need, at once", papers_heading: "Papers to bring",
      no_papers: "Bring your citizen ID card; staff will guide you at the counter.",
      fee_note: "This procedure has a fee: pay it at the fee counter after the intake.",
      spot_note: "Handled on the spot: you may wait for the result today.",
      priority_legend: "Legal priority", take_number: "Take a number",
      none: "No priority", elderly: "Elderly person", pregnant: "Pregnant woman",
      disabled: "Person with a disability", child: "With a child under 6", merit: "Person of merit (revolution)",
      your_number: "Your number", people_ahead: "People ahead of you", estimated_wait: "Estimated wait",
      counters: "Counters", done: "Done", priority_badge: "Priority: {what}",
      qr_caption: "Scan to follow your turn on your phone. If no ticket prints, take a photo of this screen.",
      qr_alt: "QR code to follow number {number}", minutes: "about {n} min", no_estimate: "not yet known",
      issuing: "Issuing…", retry: "Try again", network_error: "Connection lost. Tap “Try again”: you will not get two numbers.",
      no_key: "This kiosk has no key (open /kiosk/{site}?kiosk=ID&key=KEY once). Please ask at the help desk.",
      procedures_count: "{n} procedures", people: "{n} people",
      print_failed: "The printer failed — no paper ticket. Please take a photo of this screen to keep your number.",
      print_unknown: "A paper ticket may not come out. Please note the number or take a photo of this screen (the QR code) to keep your turn.",
      help_1: "Tap an agency, or type a procedure name in the search box (marks not needed).",
      help_2: "Choose the procedure; the screen lists every paper to bring.",
      help_3: "If you have legal priority, choose it; then tap “Take a number”.",
      help_4: "When your number shows on the board, go to that counter. Scan the QR to follow on your phone.",
      help_5: "Need help? Go to the help desk.",
    },
  });

  const PRINT_POLL_MS = 1000;
  const PRINT_POLLS = 18; // the controller settles a print within 15 s; still pending after this is a notice too
  const PRIORITIES = ["none", "elderly", "pregnant", "disabled", "child", "merit"];
  const $ = (id) => document.getElementById(id);

  const config = (() => {
    const params = new URLSearchParams(location.search);
    if (params.get("key")) {
      localStorage.setItem("motcua.kiosk.key", params.get("key"));
      params.delete("key");
      history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : ""));
    }
    if (params.get("kiosk")) localStorage.setItem("motcua.kiosk.id", params.get("kiosk"));
    return { key: localStorage.getItem("motcua.kiosk.key"), kiosk: localStorage.getItem("motcua.kiosk.id") };
  })();

  const flow = { procedure: null, priority: null, key: null, busy: false };
  let catalogue = null;
  let agency = null;
  let shown = null; // { ticket, print } of the ticket screen, redrawn when the language changes
  let idleTimer = null;

  function show(screen) {
    document.querySelectorAll(".screen").forEach((s) => s.classList.toggle("hidden", s.id !== screen));
    window.scrollTo(0, 0);
    armIdle();
  }

  function armIdle() {
    clearTimeout(idleTimer);
    const current = document.querySelector(".screen:not(.hidden)");
    if (!current || (current.id === "s-start" && !$("search").value)) return;
    idleTimer = setTimeout(reset, current.id === "s-ticket" ? TICKET_IDLE_MS : IDLE_MS);
  }

  /** Back to the start screen in Vietnamese, forgetting the citizen's choices. */
  function reset() {
    flow.procedure = null; flow.priority = null; flow.key = null; flow.busy = false;
    $("search").value = "";
    renderResults();
    if ($("help").open) $("help").close();
    if (Motcua.language() !== "vi") setLanguage("vi");
    show("s-start");
  }

  function kioskProcedures(agencyId) {
    return catalogue.procedures.filter((p) => p.kiosk && (!agencyId || p.agency === agencyId));
  }

  function procedureButton(p) {
    const agencyItem = catalogue.agencies.find((a) => a.id === p.agency);
    return el("li", {}, el("button", { type: "button", class: "procedure", "data-procedure": p.id,
      onclick: () => choose(p) },
      named(p), el("small", { text: named(agencyItem) })));
  }

  function renderAgencies() {
    const list = $("agencies");
    list.replaceChildren();
    for (const a of catalogue.agencies) {
      const count = kioskProcedures(a.id).length;
      if (!count) continue;
      list.append(el("li", {}, el("button", { type: "button", class: "agency", "data-agency": a.id,
        onclick: () => openAgency(a) },
        named(a), el("small", { text: t("procedures_count", { n: count }) }))));
    }
  }

  function renderResults() {
    const query = $("search").value.trim();
    const list = $("results");
    list.replaceChildren();
    $("agencies").classList.toggle("hidden", Boolean(query));
    if (!query) return;
    const found = kioskProcedures(null).filter((p) => {
      const agencyItem = catalogue.agencies.find((a) => a.id === p.agency);
      return matches(query, `${p.name} ${p.name_en} ${agencyItem.name}`);
    });
    if (!found.length) list.append(el("li", { class: "muted", text: t("no_results") }));
    for (const p of found.slice(0, 30)) list.append(procedureButton(p));
  }

  function openAgency(a) {
    agency = a;
    $("agency-title").textContent = named(a);
    $("procedures").replaceChildren(...kioskProcedures(a.id).map(procedureButton));
    show("s-procedures");
  }

  function choose(p) {
    flow.procedure = p;
    flow.priority = null;
    flow.key = Motcua.newKey(); // one key for this flow: every tap and retry reuses it
    $("issue-error").classList.add("hidden");
    renderPapers();
    show("s-papers");
  }

  function renderPapers() {
    const p = flow.procedure;
    $("papers-title").textContent = named(p);
    const papers = p.papers.length ? p.papers : [t("no_papers")];
    $("papers").replaceChildren(...papers.map((text) => el("li", { text })));
    const notes = [];
    if (p.fee) notes.push(t("fee_note"));
    if (p.on_the_spot) notes.push(t("spot_note"));
    $("papers-notes").textContent = notes.join(" ");
    $("priorities").replaceChildren(...PRIORITIES.map((kind) => el("button", {
      type: "button", role: "radio", class: "priority-choice", "data-priority": kind,
      "aria-checked": String((flow.priority || "none") === kind),
      "aria-label": t(kind), text: t(kind),
      onclick: () => { flow.priority = kind === "none" ? null : kind; renderPapers(); },
    })));
    $("issue").textContent = t("take_number");
    $("issue").disabled = flow.busy || !config.key;
  }

  async function issue() {
    if (flow.busy || !flow.procedure) return; // the second tap of a double tap lands here
    flow.busy = true;
    performance.mark("motcua-issue-tap"); // for benchmarks/bench_pages.py
    $("issue").disabled = true;
    $("issue").textContent = t("issuing");
    $("issue-error").classList.add("hidden");
    try {
      const phone = KioskPhone.fields(); // {} or {phone, phone_consent}; throws when a number lacks consent
      const { data } = await api("POST", `/api/v1/sites/${encodeURIComponent(site)}/tickets`, {
        headers: { "X-Kiosk-Key": config.key, "Idempotency-Key": flow.key },
        body: { procedure: flow.procedure.id, priority: flow.priority, channel: "kiosk", kiosk: config.kiosk || null,
                ...phone },
      });
      flow.busy = false;
      showTicket(data);
    } catch (error) {
      flow.busy = false;
      $("issue").disabled = false;
      $("issue").textContent = t("retry");
      // the server's refusals read from their code; the page's own (error.kiosk) carry their words; else the network failed
      $("issue-error").textContent = error instanceof Motcua.ApiError ? Motcua.errorText(error)
        : error.kiosk === true ? error.message : t("network_error");
      $("issue-error").classList.remove("hidden");
      armIdle();
    }
  }

  function showTicket(ticket) {
    flow.key = null; // the flow is over: the next citizen gets a new key
    shown = { ticket, print: null };
    $("ticket-number").textContent = ticket.number;
    $("ticket-procedure").textContent = ticket.procedure_name;
    $("ticket-agency").textContent = ticket.agency_name;
    $("ticket-counters").textContent = ticket.counters.join(", ");
    $("ticket-qr").src = `/api/v1/sites/${encodeURIComponent(site)}/tickets/${encodeURIComponent(ticket.id)}/qr.svg`;
    document.body.dataset.ticket = ticket.id;
    renderTicketWords();
    show("s-ticket");
    performance.mark("motcua-ticket-shown");
    followPrint(ticket.id, ticket.print);
  }

  /** The ticket screen's words in the current language (again when the citizen switches language). */
  function renderTicketWords() {
    const { ticket, print } = shown;
    $("ticket-ahead").textContent = t("people", { n: Math.max(0, (ticket.position || 1) - 1) });
    $("ticket-wait").textContent = minutes(ticket.estimated_wait_s);
    const badge = $("ticket-priority");
    badge.classList.toggle("hidden", !ticket.priority);
    badge.textContent = ticket.priority ? t("priority_badge", { what: t(ticket.priority) }) : "";
    $("ticket-qr").alt = t("qr_alt", { number: ticket.number });
    printNotice(print);
  }

  function printNotice(print) {
    if (shown) shown.print = print;
    // created here rather than in kiosk.html: it belongs to the print status, which only this code reads
    let notice = $("print-error");
    if (!notice) {
      notice = el("p", { id: "print-error", class: "error hidden", role: "alert" });
      $("done").before(notice);
    }
    const failed = Boolean(print && print.status === "failed");
    // "unknown": the page stopped asking while the print was still pending
    const unknown = Boolean(print && print.status === "unknown");
    notice.textContent = failed ? t("print_failed") : unknown ? t("print_unknown") : "";
    notice.classList.toggle("hidden", !failed && !unknown);
    document.body.dataset.print = print ? print.status : "none";
  }

  async function followPrint(ticketId, print) {
    for (let poll = 0; print && print.status === "pending" && poll < PRINT_POLLS; poll++) {
      await new Promise((resolve) => setTimeout(resolve, PRINT_POLL_MS));
      if (document.body.dataset.ticket !== ticketId) return; // the next citizen is already here
      try {
        const { data } = await api("GET", `/api/v1/sites/${encodeURIComponent(site)}/tickets/${encodeURIComponent(ticketId)}`);
        print = data.print;
      } catch (error) {
        // a lost connection is not a printer failure: keep the screen as it is and ask again
      }
    }
    if (print && print.status === "pending") print = { ...print, status: "unknown" };
    if (document.body.dataset.ticket === ticketId) printNotice(print);
  }

  function setLanguage(lang) {
    Motcua.applyLanguage(lang);
    const other = lang === "vi" ? ["en", "English"] : ["vi", "Tiếng Việt"];
    $("lang-button").textContent = other[1];
    $("lang-button").setAttribute("lang", other[0]);
    $("lang-button").setAttribute("aria-label", other[1]);
    $("setup-error").textContent = t("no_key", { site });
    if (!catalogue) return;
    $("site-name").textContent = named(catalogue.site);
    renderAgencies();
    renderResults();
    if (agency) openAgencyTitle();
    if (flow.procedure && !$("s-papers").classList.contains("hidden")) renderPapers();
    if (shown && !$("s-ticket").classList.contains("hidden")) renderTicketWords();
  }

  function openAgencyTitle() {
    $("agency-title").textContent = named(agency);
    $("procedures").replaceChildren(...kioskProcedures(agency.id).map(procedureButton));
  }

  function tickClock() {
    $("clock").textContent = Motcua.timeOfDay(catalogue ? catalogue.site.timezone : undefined);
  }

  async function start() {
    $("lang-button").addEventListener("click", () => setLanguage(Motcua.language() === "vi" ? "en" : "vi"));
    $("help-button").addEventListener("click", () => $("help").showModal());
    $("search").addEventListener("input", () => { renderResults(); armIdle(); });
    $("issue").addEventListener("click", issue);
    $("done").addEventListener("click", reset);
    document.querySelectorAll(".back").forEach((b) => b.addEventListener("click", () => {
      show(!$("s-papers").classList.contains("hidden") && agency && !$("search").value ? "s-procedures" : "s-start");
    }));
    for (const kind of ["pointerdown", "keydown"]) document.addEventListener(kind, armIdle, { passive: true });
    tickClock();
    setInterval(tickClock, 10000);
    if (!config.key) $("setup-error").classList.remove("hidden");
    for (let attempt = 0; ; attempt++) {
      try {
        catalogue = (await api("GET", `/api/v1/sites/${encodeURIComponent(site)}/catalogue`)).data;
        break;
      } catch (error) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 500 * (attempt + 1))));
      }
    }
    tickClock();  // now on the site's own time zone
    setLanguage("vi");
    document.body.dataset.ready = "true";
    performance.mark("motcua-ready");
  }

  // What optional screens (kiosk-appointment.js) need from the kiosk: its set-up and its ticket screen.
  Motcua.kiosk = { site, config, show, showTicket, reset };

  start();
})();
