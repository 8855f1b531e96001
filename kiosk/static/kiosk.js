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

  Motcua.addWords({
    vi: {
      help: "Hướng dẫn", help_aria: "Mở hướng dẫn sử dụng", back: "← Quay lại", close: "Đóng",
      choose_agency: "Chọn cơ quan hoặc tìm thủ tục", search_label: "Tìm thủ tục: chạm vào ô rồi gõ, không cần dấu",
      search_placeholder: "Ví dụ: ly lich tu phap", no_results: "Không tìm thấy thủ tục phù hợp.",
      search_keys: "Bàn phím tìm thủ tục",
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
      kiosk_refused: "Ki-ốt này tạm thời không cấp số được. Mời bạn đến quầy hướng dẫn để lấy số.",
      kiosk_busy: "Vừa có quá nhiều lượt lấy số. Vui lòng chờ {s} giây rồi thử lại: bạn sẽ không bị cấp hai số.",
      kiosk_busy_wait: "Chờ {s} giây…",
      daily_cap: "{agency} đã hết số thứ tự hôm nay. Mời quay lại vào ngày làm việc sau, hoặc hỏi quầy hướng dẫn.",
      centre_closed: "Trung tâm đang ngoài giờ cấp số. Giờ làm việc: {hours}; ngừng cấp số {cutoff} phút trước giờ đóng cửa.",
      unavailable: "Hệ thống đang bận trong giây lát. Chạm “Lấy số lại”: bạn sẽ không bị cấp hai số.",
      procedures_count: "{n} thủ tục", people: "{n} người",
      print_failed: "Máy in lỗi — vé giấy không in ra được. Vui lòng chụp màn hình này để giữ số thứ tự của bạn.",
      print_unknown: "Chưa chắc vé giấy in ra được. Vui lòng ghi nhớ số hoặc chụp màn hình này (mã QR) để giữ số thứ tự của bạn.",
      help_1: "Chạm vào cơ quan, hoặc chạm vào ô tìm kiếm và gõ tên thủ tục trên bàn phím màn hình (không cần dấu).",
      help_2: "Chọn thủ tục; màn hình liệt kê tất cả giấy tờ cần mang theo.",
      help_3: "Nếu bạn thuộc đối tượng ưu tiên, hãy chọn; rồi chạm “Lấy số thứ tự”.",
      help_4: "Khi số của bạn hiện trên bảng, hãy đến đúng quầy. Quét mã QR để theo dõi trên điện thoại.",
      help_5: "Cần hỗ trợ? Hãy đến quầy hướng dẫn.",
      greeting: "Xin chào, {name}.", greeting_elderly: "Xin chào, {name}. Ưu tiên người cao tuổi được chọn sẵn khi bạn lấy số.",
      dossier: "Hồ sơ: {code}", dossier_date: "Ngày hẹn trả kết quả: {date}",
      dossier_early: "Hôm nay chưa đến ngày hẹn trả: kết quả có thể chưa có. Bạn vẫn được lấy số; cán bộ sẽ kiểm tra giúp bạn.",
      qr_caption_later: "Khi quay lại, quét mã này ở ki-ốt để vào hàng. Mã cũng mở trang theo dõi trên điện thoại.",
    },
    en: {
      help: "Help", help_aria: "Open help", back: "← Back", close: "Close",
      choose_agency: "Choose an agency or search a procedure", search_label: "Search a procedure: tap the box, then type",
      search_placeholder: "e.g. criminal record", no_results: "No matching procedure.",
      search_keys: "Keyboard to search a procedure",
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
      kiosk_refused: "This kiosk cannot issue numbers for now. Please get a number at the help desk.",
      kiosk_busy: "Too many numbers were just taken. Please wait {s} seconds, then try again: you will not get two numbers.",
      kiosk_busy_wait: "Wait {s} s…",
      daily_cap: "{agency} has given out all of today's numbers. Please come back on the next working day, or ask at the help desk.",
      centre_closed: "The centre is not issuing numbers now. Opening hours: {hours}; numbers stop {cutoff} minutes before closing.",
      unavailable: "The system is busy for a moment. Tap “Try again”: you will not get two numbers.",
      procedures_count: { one: "{n} procedure", other: "{n} procedures" },
      people: { one: "{n} person", other: "{n} people" },
      print_failed: "The printer failed — no paper ticket. Please take a photo of this screen to keep your number.",
      print_unknown: "A paper ticket may not come out. Please note the number or take a photo of this screen (the QR code) to keep your turn.",
      help_1: "Tap an agency, or tap the search box and type a procedure name on the screen keyboard (marks not needed).",
      help_2: "Choose the procedure; the screen lists every paper to bring.",
      help_3: "If you have legal priority, choose it; then tap “Take a number”.",
      help_4: "When your number shows on the board, go to that counter. Scan the QR to follow on your phone.",
      help_5: "Need help? Go to the help desk.",
      greeting: "Hello, {name}.", greeting_elderly: "Hello, {name}. The elderly priority is chosen for you when you take a number.",
      dossier: "File: {code}", dossier_date: "Result due on: {date}",
      dossier_early: "The result is not due yet today: it may not be ready. You still get a number; staff will check for you.",
      qr_caption_later: "When you come back, scan this code at the kiosk to join the line. It also opens the tracking page on a phone.",
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
    // refused: the controller turned the key down; no citizen can get a number here until it is set up again
    return { key: localStorage.getItem("motcua.kiosk.key"), kiosk: localStorage.getItem("motcua.kiosk.id"), refused: false };
  })();

  const flow = { procedure: null, priority: null, key: null, busy: false, problem: null, waitUntil: 0, receipt: null };
  // The chip ID card scanned for this citizen (kiosk-scan.js): {card: its QR text, name, elderly}. Sent with each
  // ticket, never stored here beyond the citizen's visit: forgotten when they are done or walk away.
  let person = null;
  let catalogue = null;
  let agency = null;
  let shown = null; // { ticket, print } of the ticket screen, redrawn when the language changes
  let idleTimer = null;
  let waitTimer = null;

  /** Show one screen (a <section class="screen">, the kiosk's own or an optional module's). */
  function show(screen) {
    document.querySelectorAll(".screen").forEach((s) => s.classList.toggle("hidden", s.id !== screen));
    document.body.dataset.screen = screen;
    window.scrollTo(0, 0);
    armIdle();
  }

  // A citizen who walks away is forgotten: after a minute anywhere but an untouched start screen in Vietnamese.
  function armIdle() {
    clearTimeout(idleTimer);
    const current = document.querySelector(".screen:not(.hidden)");
    const untouched = current && current.id === "s-start" && !$("search").value && !typing() && Motcua.language() === "vi";
    if (!current || untouched) return;
    idleTimer = setTimeout(reset, current.id === "s-ticket" ? TICKET_IDLE_MS : IDLE_MS);
  }

  /** Back to the start screen, forgetting the citizen's choices but keeping the language they chose. */
  function home() {
    flow.procedure = null; flow.priority = null; flow.key = null; flow.busy = false; flow.problem = null;
    flow.receipt = null;
    agency = null;
    $("search").value = "";
    setTyping(false);
    renderResults();
    renderSetup();
    show("s-start");
  }

  /** The citizen is done (or gone): the start screen in Vietnamese for the next one. */
  function reset() {
    if ($("help").open) $("help").close();
    setPerson(null);
    if (Motcua.language() !== "vi") setLanguage("vi");
    home();
  }

  function agencyOf(p) {
    return catalogue.agencies.find((a) => a.id === p.agency);
  }

  function kioskProcedures(agencyId) {
    return catalogue.procedures.filter((p) => p.kiosk && (!agencyId || p.agency === agencyId));
  }

  function procedureButton(p) {
    const agencyItem = agencyOf(p);
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
    $("s-start").classList.toggle("searching", Boolean(query));
    if (!query || !catalogue) return;
    const found = kioskProcedures(null).filter((p) => {
      const agencyItem = agencyOf(p);
      return matches(query, `${p.name} ${p.name_en} ${agencyItem.name} ${agencyItem.name_en}`);
    });
    if (!found.length) list.append(el("li", { class: "muted", text: t("no_results") }));
    for (const p of found.slice(0, 30)) list.append(procedureButton(p));
  }

  // The search keyboard: always on a portrait kiosk's start screen; on a landscape one, once the box is tapped.
  function typing() { return $("s-start").classList.contains("typing"); }
  function setTyping(on) { $("s-start").classList.toggle("typing", on); }

  function openAgency(a) {
    agency = a;
    renderProcedures();
    show("s-procedures");
  }

  function renderProcedures() {
    $("agency-title").textContent = named(agency);
    $("procedures").replaceChildren(...kioskProcedures(agency.id).map(procedureButton));
  }

  /** The papers of a procedure, then its number; `receipt`: an intake receipt read by the scanner (a result to collect). */
  function choose(p, receipt = null) {
    flow.procedure = p;
    flow.priority = person && person.elderly ? "elderly" : null; // offered from the card; the citizen may change it
    flow.problem = null;
    flow.receipt = receipt;
    flow.key = Motcua.newKey(); // one key for this flow: every tap and retry reuses it
    renderPapers();
    show("s-papers");
  }

  /** The citizen's ID card was read (or, with null, they are gone): greet them, offer the elderly priority. */
  function setPerson(found) {
    person = found;
    if (person && person.elderly && flow.procedure && !flow.priority && !$("s-papers").classList.contains("hidden")) {
      flow.priority = "elderly";
      renderPapers();
    }
    renderGreeting();
  }

  function renderGreeting() {
    $("greeting").textContent = person ? t(person.elderly ? "greeting_elderly" : "greeting", { name: person.name }) : "";
    $("greeting").classList.toggle("hidden", !person);
  }

  function renderPapers() {
    const p = flow.procedure;
    $("papers-title").textContent = named(p);
    const papers = p.papers.length ? Motcua.papers(p) : [t("no_papers")];
    $("papers").replaceChildren(...papers.map((text) => el("li", { text })));
    const notes = [];
    if (p.fee) notes.push(t("fee_note"));
    if (p.on_the_spot) notes.push(t("spot_note"));
    $("papers-notes").textContent = notes.join(" ");
    renderDossier();
    $("priorities").replaceChildren(...PRIORITIES.map((kind) => el("button", {
      type: "button", role: "radio", class: "priority-choice", "data-priority": kind,
      "aria-checked": String((flow.priority || "none") === kind),
      "aria-label": t(kind), text: t(kind),
      onclick: () => { flow.priority = kind === "none" ? null : kind; renderPapers(); },
    })));
    renderIssueButton();
    document.dispatchEvent(new CustomEvent("kiosk:papers", { detail: { procedure: p, priority: flow.priority } }));
  }

  /** The result to collect, read off the intake receipt: the file, its return date, and whether it is early. */
  function renderDossier() {
    const receipt = flow.receipt;
    $("papers-dossier").classList.toggle("hidden", !receipt);
    if (!receipt) return;
    const [y, m, d] = (receipt.return_date || "").split("-");
    $("papers-dossier").replaceChildren(
      el("p", { class: "dossier-code", text: t("dossier", { code: receipt.dossier }) }),
      ...(receipt.return_date ? [el("p", { text: t("dossier_date", { date: `${d}/${m}/${y}` }) })] : []),
      ...(receipt.early ? [el("p", { class: "notice", text: t("dossier_early") })] : []));
  }

  /** "Take a number", "Try again", or a countdown; disabled while it cannot work. */
  function renderIssueButton() {
    const button = $("issue");
    const waitS = Math.ceil((flow.waitUntil - Date.now()) / 1000);
    const problem = flow.problem;
    button.textContent = flow.busy ? t("issuing") : waitS > 0 ? t("kiosk_busy_wait", { s: waitS })
      : problem && problem.retry ? t("retry") : t("take_number");
    button.disabled = flow.busy || waitS > 0 || !usable() || Boolean(problem && !problem.retry);
    $("issue-error").textContent = !problem ? "" : problem.text || (problem.error ? Motcua.errorText(problem.error)
      : t(problem.key, { ...problem.values, s: Math.max(waitS, 1) }));
    $("issue-error").classList.toggle("hidden", !problem);
    renderSetup();
  }

  function usable() { return Boolean(config.key) && !config.refused; }

  /** What to tell the citizen when the controller refused or could not be reached, and whether a retry can work:
      {key, values} of the kiosk's own words where a kiosk has more to say (who to ask, how long to wait, the
      hours), else {error} for the shared table of error words (Motcua.errorText). */
  function problem(error) {
    if (error.kiosk === true) return { text: error.message, retry: true }; // the phone fieldset's words, already in the language
    if (!(error instanceof Motcua.ApiError)) return { key: "network_error", retry: true };
    if (error.status === 401 || error.status === 403) {
      // the shared table says what is wrong (for whoever sets the kiosk up); the banner tells the citizen where to go
      config.refused = true;
      renderSetup();
      return { error, retry: false };
    }
    if (error.code === "rate_limited") return { key: "kiosk_busy", retry: true, waitS: error.retryAfter || 10 };
    if (error.code === "daily_cap_reached" || error.code === "numbers_exhausted") {
      return { key: "daily_cap", retry: false, values: { agency: flow.procedure ? named(agencyOf(flow.procedure)) : "" } };
    }
    if (error.code === "centre_closed") {
      return { key: "centre_closed", retry: false, values: { hours: catalogue.site.hours.map((h) => h.join("–")).join(", "),
        cutoff: catalogue.site.issue_cutoff_min } };
    }
    if (error.status === 503) return { key: "unavailable", retry: true, waitS: error.retryAfter || 0 };
    return { error, retry: false }; // the shared table's words for every other refusal, in the language shown
  }

  function setProblem(found) {
    clearInterval(waitTimer);
    flow.problem = found;
    flow.waitUntil = found && found.waitS ? Date.now() + found.waitS * 1000 : 0;
    if (flow.waitUntil) {
      waitTimer = setInterval(() => {
        if (Date.now() >= flow.waitUntil) clearInterval(waitTimer);
        renderIssueButton();
      }, 1000);
    }
    renderIssueButton();
  }

  /** Issue the number of the papers screen; `extra`: more of the request (kiosk-later.js: {return_later: true}). */
  async function issue(extra = {}) {
    if (flow.busy || !flow.procedure || Date.now() < flow.waitUntil) return; // the second tap of a double tap lands here
    flow.busy = true;
    performance.mark("motcua-issue-tap"); // for benchmarks/bench_pages.py
    setProblem(null);
    try {
      const phone = KioskPhone.fields(); // {} or {phone, phone_consent}; throws when a number lacks consent
      const { data } = await api("POST", `/api/v1/sites/${encodeURIComponent(site)}/tickets`, {
        headers: { "X-Kiosk-Key": config.key, "Idempotency-Key": flow.key },
        body: { procedure: flow.procedure.id, priority: flow.priority, channel: "kiosk", kiosk: config.kiosk || null,
                ...phone, ...(person ? { card: person.card } : {}), ...(flow.receipt ? { receipt: flow.receipt.text } : {}),
                ...extra },
      });
      flow.busy = false;
      showTicket(data);
    } catch (error) {
      flow.busy = false;
      setProblem(problem(error));
      armIdle();
    }
  }

  function showTicket(ticket) {
    flow.key = null; // the flow is over: the next citizen gets a new key
    flow.problem = null;
    shown = { ticket, print: null };
    $("ticket-number").textContent = ticket.number;
    $("ticket-counters").textContent = ticket.counters.join(", ");
    // a number that returns later brings its own QR (its page's address with its check-in code after "#")
    $("ticket-qr").src = ticket.qr_svg ? `data:image/svg+xml;charset=utf-8,${encodeURIComponent(ticket.qr_svg)}`
      : `/api/v1/sites/${encodeURIComponent(site)}/tickets/${encodeURIComponent(ticket.id)}/qr.svg`;
    document.body.dataset.ticket = ticket.id;
    renderTicketWords();
    show("s-ticket");
    document.dispatchEvent(new CustomEvent("kiosk:ticket", { detail: ticket }));
    performance.mark("motcua-ticket-shown");
    followPrint(ticket.id, ticket.print);
  }

  /** The ticket screen's words in the current language (again when the citizen switches language). */
  function renderTicketWords() {
    const { ticket, print } = shown;
    const procedure = catalogue.procedures.find((p) => p.id === ticket.procedure);
    $("ticket-procedure").textContent = procedure ? named(procedure) : ticket.procedure_name;
    $("ticket-agency").textContent = procedure ? named(agencyOf(procedure)) : ticket.agency_name;
    const ahead = Math.max(0, (ticket.position || 1) - 1);
    $("ticket-ahead").textContent = t("people", { n: ahead });
    $("ticket-wait").textContent = minutes(ticket.estimated_wait_s);
    $("ticket-dossier").textContent = ticket.dossier ? t("dossier", { code: ticket.dossier.code }) : "";
    $("ticket-dossier").classList.toggle("hidden", !ticket.dossier);
    const badge = $("ticket-priority");
    badge.classList.toggle("hidden", !ticket.priority);
    badge.textContent = ticket.priority ? t("priority_badge", { what: t(ticket.priority) }) : "";
    $("ticket-qr").alt = t("qr_alt", { number: ticket.number });
    $("qr-caption").textContent = t(ticket.state === "away" ? "qr_caption_later" : "qr_caption");
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

  /** The banner over every screen when this kiosk cannot issue: no key, or a key the controller refused. */
  function renderSetup() {
    $("setup-error").textContent = config.refused ? t("kiosk_refused") : t("no_key", { site });
    $("setup-error").classList.toggle("hidden", usable());
    document.body.dataset.kiosk = !config.key ? "no-key" : config.refused ? "refused" : "ok";
  }

  function setLanguage(lang) {
    Motcua.applyLanguage(lang);
    const other = lang === "vi" ? ["en", "English"] : ["vi", "Tiếng Việt"];
    $("lang-button").textContent = other[1];
    $("lang-button").setAttribute("lang", other[0]);
    $("lang-button").setAttribute("aria-label", other[1]);
    renderSetup();
    if (!catalogue) return;
    $("site-name").textContent = named(catalogue.site);
    renderAgencies();
    renderResults();
    if (agency) renderProcedures();
    if (flow.procedure) renderPapers();
    if (shown) renderTicketWords();
    renderGreeting();
    armIdle();
  }

  function tickClock() {
    $("clock").textContent = Motcua.timeOfDay(catalogue ? catalogue.site.timezone : undefined);
  }

  function back() {
    const fromPapers = !$("s-papers").classList.contains("hidden");
    flow.problem = null;
    renderSetup();
    show(fromPapers && agency && !$("search").value ? "s-procedures" : "s-start");
  }

  async function start() {
    $("lang-button").addEventListener("click", () => setLanguage(Motcua.language() === "vi" ? "en" : "vi"));
    $("help-button").addEventListener("click", () => $("help").showModal());
    $("search").addEventListener("input", () => { setTyping(true); renderResults(); armIdle(); });
    $("search").addEventListener("pointerdown", () => { setTyping(true); armIdle(); });
    $("search").addEventListener("focus", () => setTyping(true));
    // at the foot of the start screen, as on a phone: the box on top, what it finds between
    $("s-start").append(KioskKeyboard.create($("search"), { label: "search_keys", className: "search-keys",
      accept: (text) => text.slice(0, 60), onHide: () => { setTyping(false); armIdle(); } }));
    $("issue").addEventListener("click", () => issue());
    $("done").addEventListener("click", reset);
    document.querySelectorAll(".back").forEach((b) => b.addEventListener("click", back));
    for (const kind of ["pointerdown", "keydown"]) document.addEventListener(kind, armIdle, { passive: true });
    tickClock();
    setInterval(tickClock, 10000);
    renderSetup();
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

  // What optional screens (kiosk-appointment.js, and later ones) get from the kiosk: its set-up, the screens,
  // the catalogue, the ticket screen, the way home (language kept) and the reset (the citizen is done),
  // and the words for a refusal (problem(error) -> {key, values, retry}).
  Motcua.kiosk = { site, config, show, showTicket, home, reset, problem, choose, usable, renderSetup, issue, setPerson,
                   catalogue: () => catalogue, flow: () => flow };

  start();
})();
