/* Staff counter app: log in with staff id and PIN, then drive the counter.

   Every action button is disabled while any request is in flight, and a failed
   request is never retried by the page: the view is re-read instead, so a lost
   response can never turn one press into two calls. The live stream resumes
   with ?after=SEQ after a reconnect and the view is re-read then as well.

   What the page sends is what it shows: the transfer form holds one destination at a time (choosing a
   procedure clears the counter, typing a counter clears the procedure) and starts empty each time, and
   every answer is said in words that name the ticket and where it went. Errors are read from their
   code (Motcua.errorText), never shown as the server's English.

   Shortcuts (ignored while typing in a field): N or + call next, R or * recall,
   V or - no-show, S or / start, F or Enter finish, I incomplete, X rejected,
   T transfer, P pause or resume. A USB keypad that types these keys works too. */
"use strict";

(() => {
  const { t, el, api, named } = Motcua;
  const [, , siteRaw, counterRaw] = location.pathname.split("/");
  const site = decodeURIComponent(siteRaw);
  const counter = Number(counterRaw);
  const base = `/api/v1/sites/${encodeURIComponent(site)}`;
  const storeKey = `motcua.counter.${site}.${counter}`;
  const $ = (id) => document.getElementById(id);

  Motcua.setDictionary({
    vi: {
      title: "Quầy {n}", logout: "Đăng xuất", login_title: "Đăng nhập quầy {n}", staff_id: "Mã cán bộ", pin: "Mã PIN",
      login: "Đăng nhập", wrong_counter: "Tài khoản này dành cho quầy {n}.",
      wrong_site: "Tài khoản này dành cho điểm phục vụ {s}.", current: "Đang phục vụ",
      state: "Trạng thái", waited: "Đã chờ", at_counter: "Tại quầy", open: "Mở quầy", call_next: "Gọi số tiếp",
      recall: "Gọi lại", no_show: "Vắng mặt", start: "Bắt đầu phục vụ", finish_done: "Hoàn thành",
      finish_incomplete: "Hồ sơ chưa đủ", finish_rejected: "Từ chối", transfer: "Chuyển", pause: "Tạm dừng",
      resume: "Tiếp tục", close_counter: "Đóng quầy", transfer_title: "Chuyển hồ sơ", to_procedure: "Sang thủ tục",
      or_counter: "hoặc sang quầy số", transfer_go: "Chuyển", cancel: "Hủy", pause_title: "Tạm dừng quầy",
      reason: "Lý do", reason_other: "Ghi chú", pause_go: "Tạm dừng", today: "Hôm nay", served: "Đã phục vụ",
      satisfaction: "Hài lòng", waiting: "Đang chờ quầy này", number: "Số", procedure: "Thủ tục",
      shortcuts: "Phím tắt", pause_resume: "Tạm dừng / tiếp tục",
      keypad_note: "Bàn phím số USB: + gọi số, * gọi lại, - vắng mặt, / bắt đầu, Enter hoàn thành.",
      s_open: "Quầy đang mở", s_paused: "Quầy tạm dừng: {reason}", s_closed: "Quầy đang đóng",
      t_called: "Đã gọi, chờ công dân đến", t_serving: "Đang phục vụ", none_waiting: "Không có ai đang chờ.",
      called: "Đã gọi số {number}.", ratings: "{share} ({n} lượt)",
      no_procedure: "— chọn thủ tục —", busy: "Đang xử lý…",
      r_break: "Nghỉ giải lao", r_meeting: "Họp", r_help: "Hỗ trợ quầy khác", r_system: "Sự cố hệ thống", r_other: "Lý do khác",
      lost: "Mất kết nối, đang kết nối lại…",
      to_target: "Hạn chờ", left: "còn {t}", over: "quá {t}",
      transfer_hint: "Chọn một thủ tục, hoặc nhập một số quầy: chỉ điều đang hiện được gửi đi.",
      will_counter: "Sẽ chuyển số {number} đến quầy {counter}.",
      will_procedure: "Sẽ chuyển số {number} sang thủ tục {procedure} ({agency}).",
      dossier: "Hồ sơ {code}", dossier_due: "hẹn trả {date}", dossier_early: "SỚM: chưa đến ngày hẹn trả {date}",
      choose_destination: "Chọn một thủ tục hoặc nhập số quầy cần chuyển đến.",
      bad_counter: "Số quầy phải là một số nguyên từ 1 đến 999.",
      no_such_counter: "Điểm phục vụ này không có quầy {counter}.",
      this_counter: "Số đang ở quầy {counter}: chọn một quầy khác.",
      moved_counter: "Đã chuyển số {number} đến quầy {counter}.",
      moved_procedure: "Đã chuyển số {number} sang thủ tục {procedure} ({agency}).",
      opened: "Quầy {n} đã mở.", closed_msg: "Quầy {n} đã đóng.", paused_msg: "Quầy {n} đã tạm dừng: {reason}.",
      paused_plain: "Quầy {n} đã tạm dừng.", resumed: "Quầy {n} đã mở lại.",
      recalled: "Đã gọi lại số {number} (lần gọi thứ {calls}, còn {left} lần gọi lại).",
      recalled_last: "Đã gọi lại số {number} (lần gọi thứ {calls}, hết lượt gọi lại: nếu công dân không đến, bấm “Vắng mặt”).",
      no_show_back: "Số {number} vắng mặt: đã xếp lại vào hàng chờ, sẽ được gọi lại sau.",
      no_show_gone: "Số {number} vắng mặt: đã hủy lượt chờ (đã lỡ lượt quá số lần cho phép).",
      started: "Bắt đầu phục vụ số {number}.",
      done_msg: "Đã xong số {number}: {outcome}.", next_step: "Đã xong số {number}: {outcome}; công dân sang bước tiếp: {procedure}.",
      banner_paused: "QUẦY ĐANG TẠM DỪNG", banner_paused_text: "{reason} Bấm “Tiếp tục” (phím P) để nhận công dân.",
      banner_closed: "QUẦY ĐANG ĐÓNG", banner_closed_text: "Bấm “Mở quầy” để bắt đầu nhận công dân.",
      reason_label: "Lý do: {reason}.",
      recalls_left: "{n} lần gọi lại", no_recalls_left: "hết lượt gọi lại",
      f_open: "Không mở được quầy", "f_call-next": "Không gọi được số tiếp", f_recall: "Không gọi lại được số {number}",
      "f_no-show": "Không đánh vắng mặt được số {number}", f_start: "Không bắt đầu được số {number}",
      f_finish: "Không kết thúc được số {number}", f_transfer: "Không chuyển được số {number}",
      f_pause: "Không tạm dừng được quầy", f_resume: "Không mở lại được quầy", f_close: "Không đóng được quầy",
      f_load: "Không đọc được trạng thái quầy",
    },
    en: {
      title: "Counter {n}", logout: "Log out", login_title: "Log in at counter {n}", staff_id: "Staff id", pin: "PIN",
      login: "Log in", wrong_counter: "This account is for counter {n}.", wrong_site: "This account is for site {s}.",
      current: "Current ticket",
      state: "State", waited: "Waited", at_counter: "At the counter", open: "Open counter", call_next: "Call next",
      recall: "Recall", no_show: "No-show", start: "Start service", finish_done: "Done",
      finish_incomplete: "Incomplete papers", finish_rejected: "Rejected", transfer: "Transfer", pause: "Pause",
      resume: "Resume", close_counter: "Close counter", transfer_title: "Transfer", to_procedure: "To procedure",
      or_counter: "or to counter", transfer_go: "Transfer", cancel: "Cancel", pause_title: "Pause the counter",
      reason: "Reason", reason_other: "Note", pause_go: "Pause", today: "Today", served: "Served",
      satisfaction: "Satisfied", waiting: "Waiting for this counter", number: "No.", procedure: "Procedure",
      shortcuts: "Shortcuts", pause_resume: "Pause / resume",
      keypad_note: "USB keypad: + call next, * recall, - no-show, / start, Enter done.",
      s_open: "Counter open", s_paused: "Counter paused: {reason}", s_closed: "Counter closed",
      t_called: "Called, waiting for the citizen", t_serving: "Serving", none_waiting: "Nobody is waiting.",
      called: "Called {number}.", ratings: "{share} ({n} ratings)",
      no_procedure: "— choose a procedure —", busy: "Working…",
      r_break: "Break", r_meeting: "Meeting", r_help: "Helping another counter", r_system: "System problem", r_other: "Other",
      lost: "Connection lost, reconnecting…",
      to_target: "Target", left: "{t} left", over: "{t} over",
      transfer_hint: "Choose a procedure, or type a counter number: only what is shown is sent.",
      dossier: "File {code}", dossier_due: "due {date}", dossier_early: "EARLY: not due until {date}",
      will_counter: "Number {number} will go to counter {counter}.",
      will_procedure: "Number {number} will go to the procedure {procedure} ({agency}).",
      choose_destination: "Choose a procedure or type the counter to send it to.",
      bad_counter: "A counter number is a whole number from 1 to 999.",
      no_such_counter: "This site has no counter {counter}.",
      this_counter: "The ticket is at counter {counter}: choose another counter.",
      moved_counter: "Number {number} sent to counter {counter}.",
      moved_procedure: "Number {number} sent to the procedure {procedure} ({agency}).",
      opened: "Counter {n} is open.", closed_msg: "Counter {n} is closed.", paused_msg: "Counter {n} is paused: {reason}.",
      paused_plain: "Counter {n} is paused.", resumed: "Counter {n} is open again.",
      recalled: "Recalled {number} (call {calls}, {left} recalls left).",
      recalled_last: "Recalled {number} (call {calls}, no recalls left: if the citizen does not come, press “No-show”).",
      no_show_back: "Number {number} did not come: back in line, to be called again later.",
      no_show_gone: "Number {number} did not come: taken out of the line (missed too many times).",
      started: "Serving {number}.",
      done_msg: "Finished {number}: {outcome}.", next_step: "Finished {number}: {outcome}; next step for the citizen: {procedure}.",
      banner_paused: "COUNTER PAUSED", banner_paused_text: "{reason} Press “Resume” (key P) to take citizens again.",
      banner_closed: "COUNTER CLOSED", banner_closed_text: "Press “Open counter” to start taking citizens.",
      reason_label: "Reason: {reason}.",
      recalls_left: "{n} recalls left", no_recalls_left: "no recalls left",
      f_open: "Could not open the counter", "f_call-next": "Could not call the next number",
      f_recall: "Could not recall {number}", "f_no-show": "Could not mark {number} no-show",
      f_start: "Could not start {number}", f_finish: "Could not finish {number}", f_transfer: "Could not transfer {number}",
      f_pause: "Could not pause the counter", f_resume: "Could not resume the counter", f_close: "Could not close the counter",
      f_load: "Could not read the counter's state",
    },
  });

  const BUTTONS = {
    "b-open": ["open", []], "b-call": ["call_next", ["N", "+"]], "b-recall": ["recall", ["R", "*"]],
    "b-noshow": ["no_show", ["V", "-"]], "b-start": ["start", ["S", "/"]], "b-done": ["finish_done", ["F", "↵"]],
    "b-incomplete": ["finish_incomplete", ["I"]], "b-rejected": ["finish_rejected", ["X"]],
    "b-transfer": ["transfer", ["T"]], "b-pause": ["pause", ["P"]], "b-resume": ["resume", ["P"]],
    "b-close": ["close_counter", []],
  };
  const KEYS = {
    n: "b-call", "+": "b-call", r: "b-recall", "*": "b-recall", v: "b-noshow", "-": "b-noshow",
    s: "b-start", "/": "b-start", f: "b-done", Enter: "b-done", i: "b-incomplete", x: "b-rejected",
    t: "b-transfer", p: "pause-or-resume",
  };
  const REASONS = ["r_break", "r_meeting", "r_help", "r_system", "r_other"];

  let session = JSON.parse(sessionStorage.getItem(storeKey) || "null");
  let view = null;
  let viewAt = 0;
  let catalogue = null;
  let busy = false;
  let live = null;

  const auth = () => ({ Authorization: `Bearer ${session.token}` });

  function say(text, kind = "info") {
    $("message").textContent = text;
    $("message").dataset.kind = kind;
  }

  function label() {
    for (const [id, [key, keys]] of Object.entries(BUTTONS)) {
      const button = $(id);
      // named by its text and keys as shown (a label that differs hides the words from speech input)
      button.replaceChildren(t(key), ...keys.flatMap((k) => [" ", el("kbd", { text: k })]));
      if (keys.length) button.setAttribute("aria-keyshortcuts", keys.map((k) => (k === "↵" ? "Enter" : k)).join(" "));
    }
    document.title = t("title", { n: counter });
    $("title").textContent = t("title", { n: counter }) + (catalogue ? " · " + servesNames() : "");
    $("login-title").textContent = t("login_title", { n: counter });
    $("pause-reason").replaceChildren(...REASONS.map((r) => el("option", { value: t(r), text: t(r) })));
    renderProcedures();
  }

  function servesNames() {
    const spec = catalogue.counters.find((c) => c.id === counter);
    return spec.serves.map((id) => catalogue.agencies.find((a) => a.id === id)).map(named).join(", ");
  }

  function agencyName(id) {
    const a = catalogue && catalogue.agencies.find((x) => x.id === id);
    return a ? named(a) : id;
  }

  /** The procedures a ticket may be sent to, by agency; never the one it is already for. */
  function renderProcedures() {
    if (!catalogue) return;
    const current = view && view.current ? view.current.procedure : null;
    const groups = catalogue.agencies.map((a) => {
      const options = catalogue.procedures.filter((p) => p.agency === a.id && p.id !== current)
        .map((p) => el("option", { value: p.id, text: named(p) }));
      return options.length ? el("optgroup", { label: named(a) }, ...options) : null;
    }).filter(Boolean);
    const chosen = $("transfer-procedure").value;
    $("transfer-procedure").replaceChildren(el("option", { value: "", text: t("no_procedure") }), ...groups);
    $("transfer-procedure").value = chosen && chosen !== current ? chosen : "";
  }

  function procedureName(id) {
    const p = catalogue && catalogue.procedures.find((x) => x.id === id);
    return p ? named(p) : id;
  }

  function render() {
    if (!view) return;
    const current = view.current;
    const status = view.status;
    document.body.dataset.status = status;
    $("status").dataset.status = status;
    $("status").textContent = status === "paused" ? t("s_paused", { reason: view.pause_reason || "" })
      : t(status === "open" ? "s_open" : "s_closed");
    renderBanner(status);
    $("current-number").textContent = current ? current.number : "—";
    $("current-procedure").textContent = current ? procedureName(current.procedure) : "";
    // a result to collect (an intake receipt's QR at the kiosk): the file to fetch, and whether it is due yet
    $("current-dossier").textContent = current && current.dossier ? dossierText(current.dossier) : "";
    $("current-dossier").classList.toggle("hidden", !(current && current.dossier));
    $("current-dossier").classList.toggle("early", Boolean(current && current.dossier && current.dossier.early));
    $("current-state").textContent = current
      ? t(current.state === "serving" ? "t_serving" : "t_called")
        + (current.state === "called" ? ` · ${current.recalls_left ? t("recalls_left", { n: current.recalls_left }) : t("no_recalls_left")}` : "")
      : "—";
    $("served").textContent = String(view.served_today);
    $("satisfaction").textContent = view.satisfaction_today === null ? "—"
      : t("ratings", { share: `${Math.round(view.satisfaction_today * 100)}%`, n: view.ratings_today });
    $("waiting-count").textContent = String(view.waiting_count);
    const rows = view.waiting.map((w) => el("tr", { class: w.priority ? "priority" : "", "data-ticket": w.id },
      el("td", { text: w.number }),
      el("td", {}, w.procedure_name, ...(w.dossier ? [el("small", { class: w.dossier.early ? "dossier early" : "dossier",
        text: dossierText(w.dossier) })] : [])),
      el("td", { class: "waited" }),
      el("td", { class: "target" })));
    if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: "4", class: "muted", text: t("none_waiting") })));
    $("waiting").replaceChildren(...rows);
    tick();
    enable();
    if (!$("transfer-panel").classList.contains("hidden")) preview();
  }

  function dossierText(dossier) {
    const [y, m, d] = (dossier.return_date || "").split("-");
    const date = `${d}/${m}/${y}`;
    const due = !dossier.return_date ? "" : ` · ${t(dossier.early ? "dossier_early" : "dossier_due", { date })}`;
    return t("dossier", { code: dossier.code }) + due;
  }

  /** Paused or closed is said across the top of the desk, with what to press. */
  function renderBanner(status) {
    const banner = $("state-banner");
    banner.classList.toggle("hidden", status === "open");
    banner.dataset.status = status;
    if (status === "paused") {
      const reason = view.pause_reason ? t("reason_label", { reason: view.pause_reason }) : "";
      $("state-banner-title").textContent = t("banner_paused");
      $("state-banner-text").textContent = t("banner_paused_text", { reason }).trim();
    } else if (status === "closed") {
      $("state-banner-title").textContent = t("banner_closed");
      $("state-banner-text").textContent = t("banner_closed_text");
    }
  }

  /** Which buttons make sense now; every one is off while a request is in flight. */
  function enable() {
    const status = view ? view.status : "closed";
    const current = view && view.current;
    const called = Boolean(current && current.state === "called");
    const on = {
      "b-open": status === "closed",
      "b-call": status === "open" && !current,
      "b-recall": called && current.recalls_left > 0,
      "b-noshow": called,
      "b-start": called,
      "b-done": Boolean(current), "b-incomplete": Boolean(current), "b-rejected": Boolean(current),
      "b-transfer": Boolean(current),
      "b-pause": status === "open" && !current,
      "b-resume": status === "paused",
      "b-close": status !== "closed" && !current,
    };
    for (const [id, allowed] of Object.entries(on)) $(id).disabled = busy || !allowed;
    $("b-pause").classList.toggle("hidden", status === "paused");
    $("b-resume").classList.toggle("hidden", status !== "paused");
    document.body.dataset.busy = String(busy);
  }

  /** The clocks run between reads: the server's figures plus the time since the view was read. */
  function tick() {
    const current = view && view.current;
    const since = (Date.now() - viewAt) / 1000;
    $("current-waited").textContent = current ? Motcua.clock(current.waited_s) : "—";
    $("current-since").textContent = current ? Motcua.clock(current.since_s + since) : "—";
    if (!view) return;
    for (const w of view.waiting) {
      const row = $("waiting").querySelector(`tr[data-ticket="${CSS.escape(w.id)}"]`);
      if (!row) continue;
      row.querySelector(".waited").textContent = Motcua.clock(w.waited_s + since);
      const cell = row.querySelector(".target");
      if (w.deadline_in_s === null || w.deadline_in_s === undefined) { cell.textContent = "—"; continue; }
      const left = w.deadline_in_s - since;
      const late = left < 0;
      row.dataset.late = String(late);
      cell.dataset.level = late ? "late" : left < 180 ? "soon" : "ok";
      cell.textContent = t(late ? "over" : "left", { t: Motcua.clock(Math.abs(left)) });
    }
  }

  async function refresh() {
    try {
      view = (await api("GET", `${base}/counters/${counter}`, { headers: auth() })).data;
      viewAt = Date.now();
      render();
    } catch (error) {
      say(`${t("f_load")}: ${Motcua.errorText(error, { counter })}`, "error");
    }
  }
  const refreshSoon = Motcua.debounce(refresh, 120);

  const OUTCOMES = { done: "finish_done", incomplete: "finish_incomplete", rejected: "finish_rejected" };

  /** What happened, in words that name the ticket and where it went. */
  function told(action, status, data, body, before) {
    const number = data && data.number;
    switch (action) {
      case "open": return t("opened", { n: counter });
      case "close": return t("closed_msg", { n: counter });
      case "pause": return body.reason ? t("paused_msg", { n: counter, reason: body.reason }) : t("paused_plain", { n: counter });
      case "resume": return t("resumed", { n: counter });
      case "call-next": return status === 204 ? t("none_waiting") : t("called", { number });
      case "start": return t("started", { number });
      case "recall": {
        const calls = (before ? before.calls : 1) + 1;
        const left = Math.max(0, (before ? before.recalls_left : 1) - 1);
        return t(left ? "recalled" : "recalled_last", { number, calls, left });
      }
      case "no-show":
        return t(["waiting", "held"].includes(data.state) ? "no_show_back" : "no_show_gone", { number });
      case "finish": {
        const outcome = t(OUTCOMES[body.outcome] || "finish_done");
        const moved = data.state !== "done" && before && data.procedure !== before.procedure;
        return moved ? t("next_step", { number, outcome, procedure: procedureName(data.procedure) })
          : t("done_msg", { number, outcome });
      }
      case "transfer":
        return body.counter ? t("moved_counter", { number, counter: body.counter })
          : t("moved_procedure", { number, procedure: procedureName(body.procedure), agency: agencyName(data.agency) });
      default: return "";
    }
  }

  /** One press, one request: the caller's button stays disabled until the answer is in. */
  async function act(action, body) {
    if (busy) return;
    busy = true;
    enable();
    say(t("busy"));
    const before = view && view.current ? { ...view.current } : null;
    try {
      const { status, data } = await api("POST", `${base}/counters/${counter}/${action}`, { headers: auth(), body });
      say(told(action, status, data, body || {}, before));
    } catch (error) {
      if (error.status === 401) { logout(); return; }
      const where = action === "transfer" && body.counter ? body.counter : counter;
      const failed = t(`f_${action}`, { number: before ? before.number : "" });
      say(`${failed}: ${Motcua.errorText(error, { counter: where })}`, "error");
    } finally {
      busy = false;
      $("transfer-panel").classList.add("hidden");
      $("pause-panel").classList.add("hidden");
    }
    await refresh();
  }

  /** The one destination the transfer form holds now: {procedure} or {counter}, or an error to show. */
  function destination() {
    const procedure = $("transfer-procedure").value;
    const typed = $("transfer-counter").value.trim();
    if (procedure) return { body: { procedure } };
    if (!typed) return { error: t("choose_destination") };
    const to = Number(typed);
    if (!Number.isInteger(to) || to < 1 || to > 999) return { error: t("bad_counter") };
    if (to === counter) return { error: t("this_counter", { counter }) };
    if (catalogue && !catalogue.counters.some((c) => c.id === to)) return { error: t("no_such_counter", { counter: to }) };
    return { body: { counter: to } };
  }

  function preview() {
    const number = view && view.current ? view.current.number : "";
    const { body } = destination();
    const typed = $("transfer-counter").value.trim();
    $("transfer-preview").textContent = !body ? (typed ? "" : t("choose_destination"))
      : body.counter ? t("will_counter", { number, counter: body.counter })
        : t("will_procedure", { number, procedure: procedureName(body.procedure),
          agency: agencyName(catalogue.procedures.find((p) => p.id === body.procedure).agency) });
  }

  function openTransfer() {
    $("transfer-procedure").value = "";
    $("transfer-counter").value = "";
    $("transfer-error").classList.add("hidden");
    renderProcedures();
    preview();
    $("pause-panel").classList.add("hidden");
    $("transfer-panel").classList.remove("hidden");
    $("transfer-procedure").focus();
  }

  function press(id) {
    const button = $(id);
    if (!button || button.disabled) return;
    const action = button.dataset.action;
    if (action === "transfer-panel") { openTransfer(); return; }
    if (action === "pause-panel") {
      $("transfer-panel").classList.add("hidden");
      $("pause-panel").classList.remove("hidden");
      $("pause-reason").focus();
      return;
    }
    if (action === "finish") { act("finish", { outcome: button.dataset.outcome }); return; }
    act(action);
  }

  function onKey(event) {
    if (!session || event.ctrlKey || event.altKey || event.metaKey) return;
    const target = event.target;
    if (target.closest && target.closest("input, select, textarea, form.panel")) return;
    let id = KEYS[event.key] || KEYS[event.key.toLowerCase()];
    if (!id) return;
    if (id === "pause-or-resume") id = view && view.status === "paused" ? "b-resume" : "b-pause";
    if (event.key === "Enter" && target.tagName === "BUTTON") return; // Enter on a focused button clicks it
    event.preventDefault();
    press(id);
  }

  function onEvent(event) {
    if (event.type === "monitor.snapshot") return;
    if (event.type.startsWith("ticket.") || event.type === "counter.changed" || event.type === "rating.recorded") {
      refreshSoon();
    }
  }

  async function enter() {
    $("login").classList.add("hidden");
    $("app").classList.remove("hidden");
    $("logout").classList.remove("hidden");
    $("who").textContent = session.user;
    if (!catalogue) catalogue = (await api("GET", `${base}/catalogue`)).data;
    label();
    await refresh();
    if (!live) {
      live = new Motcua.Live(site, onEvent, {
        token: session.token,
        onSignedOut: () => logout(),
        onState: (up) => {
          $("live-state").dataset.state = up ? "on" : "off";
          $("live-state").setAttribute("aria-label", up ? "online" : t("lost"));
          if (up) refresh(); // after a reconnect, re-read: the view is the truth
        },
      });
    }
    document.body.dataset.ready = "true";
  }

  async function login(event) {
    event.preventDefault();
    $("login-button").disabled = true;
    $("login-error").classList.add("hidden");
    try {
      const { data } = await api("POST", "/api/v1/auth/login", { body: { user: $("user").value.trim(), secret: $("pin").value } });
      if (data.site !== "*" && data.site !== site) throw new Error(t("wrong_site", { s: data.site }));
      if (data.role === "staff" && data.counter !== counter) throw new Error(t("wrong_counter", { n: data.counter }));
      session = { token: data.token, user: $("user").value.trim(), role: data.role };
      sessionStorage.setItem(storeKey, JSON.stringify(session));
      $("pin").value = "";
      await enter();
    } catch (error) {
      // the page's own refusals (another site's or counter's account) are Errors with words; the server's by code
      $("login-error").textContent = error instanceof Motcua.ApiError || error instanceof TypeError
        || error.name === "AbortError" ? Motcua.errorText(error, { counter }) : error.message;
      $("login-error").classList.remove("hidden");
    } finally {
      $("login-button").disabled = false;
    }
  }

  async function logout() {
    if (session) {
      try { await api("POST", "/api/v1/auth/logout", { headers: auth() }); } catch (error) { /* already invalid */ }
    }
    session = null;
    sessionStorage.removeItem(storeKey);
    location.reload();
  }

  function setLanguage(lang) {
    Motcua.applyLanguage(lang);
    const other = lang === "vi" ? ["en", "English"] : ["vi", "Tiếng Việt"];
    $("lang-button").textContent = other[1];
    $("lang-button").setAttribute("aria-label", other[1]);
    label();
    render();
  }

  $("login").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("lang-button").addEventListener("click", () => setLanguage(Motcua.language() === "vi" ? "en" : "vi"));
  document.querySelectorAll(".buttons button").forEach((b) => b.addEventListener("click", () => press(b.id)));
  document.querySelectorAll(".panel .cancel").forEach((b) => b.addEventListener("click", () => b.closest("form").classList.add("hidden")));
  // one destination at a time: choosing one clears the other, so the form never holds two
  $("transfer-procedure").addEventListener("change", () => {
    if ($("transfer-procedure").value) $("transfer-counter").value = "";
    $("transfer-error").classList.add("hidden");
    preview();
  });
  $("transfer-counter").addEventListener("input", () => {
    if ($("transfer-counter").value.trim()) $("transfer-procedure").value = "";
    $("transfer-error").classList.add("hidden");
    preview();
  });
  $("transfer-panel").addEventListener("submit", (event) => {
    event.preventDefault();
    const { body, error } = destination();
    if (error) {
      $("transfer-error").textContent = error;
      $("transfer-error").classList.remove("hidden");
      return;
    }
    act("transfer", body);
  });
  $("pause-panel").addEventListener("submit", (event) => {
    event.preventDefault();
    const note = $("pause-note").value.trim();
    act("pause", { reason: $("pause-reason").value + (note ? `: ${note}` : "") });
  });
  document.addEventListener("keydown", onKey);
  setInterval(tick, 1000);
  setLanguage("vi");
  if (session) enter().catch(() => logout()); else document.body.dataset.ready = "login";
})();
