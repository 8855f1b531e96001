/* Staff counter app: log in with staff id and PIN, then drive the counter.

   Every action button is disabled while any request is in flight, and a failed
   request is never retried by the page: the view is re-read instead, so a lost
   response can never turn one press into two calls. The live stream resumes
   with ?after=SEQ after a reconnect and the view is re-read then as well.

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
      called: "Đã gọi số {number}", done_msg: "Đã xong số {number}", ok: "Đã thực hiện", ratings: "{share} ({n} lượt)",
      no_procedure: "— chọn thủ tục —", busy: "Đang xử lý…",
      r_break: "Nghỉ giải lao", r_meeting: "Họp", r_help: "Hỗ trợ quầy khác", r_system: "Sự cố hệ thống", r_other: "Lý do khác",
      lost: "Mất kết nối, đang kết nối lại…",
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
      called: "Called {number}", done_msg: "Finished {number}", ok: "Done", ratings: "{share} ({n} ratings)",
      no_procedure: "— choose a procedure —", busy: "Working…",
      r_break: "Break", r_meeting: "Meeting", r_help: "Helping another counter", r_system: "System problem", r_other: "Other",
      lost: "Connection lost, reconnecting…",
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

  function renderProcedures() {
    if (!catalogue) return;
    const options = [el("option", { value: "", text: t("no_procedure") })];
    for (const p of catalogue.procedures) options.push(el("option", { value: p.id, text: `${named(p)} (${p.agency})` }));
    $("transfer-procedure").replaceChildren(...options);
  }

  function procedureName(id) {
    const p = catalogue && catalogue.procedures.find((x) => x.id === id);
    return p ? named(p) : id;
  }

  function render() {
    if (!view) return;
    const current = view.current;
    const status = view.status;
    $("status").dataset.status = status;
    $("status").textContent = status === "paused" ? t("s_paused", { reason: view.pause_reason || "" })
      : t(status === "open" ? "s_open" : "s_closed");
    $("current-number").textContent = current ? current.number : "—";
    $("current-procedure").textContent = current ? procedureName(current.procedure) : "";
    $("current-state").textContent = current ? t(current.state === "serving" ? "t_serving" : "t_called") : "—";
    tick();
    $("served").textContent = String(view.served_today);
    $("satisfaction").textContent = view.satisfaction_today === null ? "—"
      : t("ratings", { share: `${Math.round(view.satisfaction_today * 100)}%`, n: view.ratings_today });
    $("waiting-count").textContent = String(view.waiting_count);
    const rows = view.waiting.map((w) => el("tr", { class: w.priority ? "priority" : "" },
      el("td", { text: w.number }), el("td", { text: w.procedure_name }), el("td", { text: Motcua.clock(w.waited_s) })));
    if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: "3", class: "muted", text: t("none_waiting") })));
    $("waiting").replaceChildren(...rows);
    enable();
  }

  /** Which buttons make sense now; every one is off while a request is in flight. */
  function enable() {
    const status = view ? view.status : "closed";
    const current = view && view.current;
    const on = {
      "b-open": status === "closed",
      "b-call": status === "open" && !current,
      "b-recall": Boolean(current && current.state === "called"),
      "b-noshow": Boolean(current && current.state === "called"),
      "b-start": Boolean(current && current.state === "called"),
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

  function tick() {
    const current = view && view.current;
    const since = (Date.now() - viewAt) / 1000;
    $("current-waited").textContent = current ? Motcua.clock(current.waited_s) : "—";
    $("current-since").textContent = current ? Motcua.clock(current.since_s + since) : "—";
  }

  async function refresh() {
    try {
      view = (await api("GET", `${base}/counters/${counter}`, { headers: auth() })).data;
      viewAt = Date.now();
      render();
    } catch (error) {
      say(error.message, "error");
    }
  }
  const refreshSoon = Motcua.debounce(refresh, 120);

  /** One press, one request: the caller's button stays disabled until the answer is in. */
  async function act(action, body) {
    if (busy) return;
    busy = true;
    enable();
    say(t("busy"));
    try {
      const { status, data } = await api("POST", `${base}/counters/${counter}/${action}`, { headers: auth(), body });
      if (action === "call-next") say(status === 204 ? t("none_waiting") : t("called", { number: data.number }));
      else if (action === "finish") say(t("done_msg", { number: data.number }));
      else say(t("ok"));
    } catch (error) {
      if (error.status === 401) { logout(); return; }
      say(error.message || String(error), "error");
    } finally {
      busy = false;
      $("transfer-panel").classList.add("hidden");
      $("pause-panel").classList.add("hidden");
    }
    await refresh();
  }

  function press(id) {
    const button = $(id);
    if (!button || button.disabled) return;
    const action = button.dataset.action;
    if (action === "transfer-panel") { $("transfer-panel").classList.remove("hidden"); $("transfer-procedure").focus(); return; }
    if (action === "pause-panel") { $("pause-panel").classList.remove("hidden"); $("pause-reason").focus(); return; }
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
      $("login-error").textContent = error.message;
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
  $("transfer-panel").addEventListener("submit", (event) => {
    event.preventDefault();
    const procedure = $("transfer-procedure").value;
    const to = Number($("transfer-counter").value);
    act("transfer", procedure ? { procedure } : { counter: to });
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
