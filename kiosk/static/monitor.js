/* Floor manager's live monitor: /monitor/{site} for one site, /monitor for every site served here.
   Logs in as a manager, reads the snapshot, follows the live stream (refresh on events, debounced), and
   acts: open a standby counter, acknowledge an alert. The first screen answers how the floor does against
   15/30 minutes now, where it is going wrong, and what to do; charts, counters and devices follow. */
"use strict";

(() => {
  const M = Motcua;
  const parts = location.pathname.split("/").filter(Boolean);
  const site = parts[1] ? decodeURIComponent(parts[1]) : null;
  const LIST_MAX = 5;  // rows of a ticket list on the first screen; the rest are counted

  M.addWords({
    vi: {
      title: "Giám sát trực tiếp", reports_link: "Báo cáo", login_title: "Đăng nhập quản lý", user: "Tài khoản", secret: "Mật khẩu",
      login: "Đăng nhập", logout: "Đăng xuất", live_on: "Trực tiếp", live_off: "Mất kết nối trực tiếp",
      now_title: "Tình hình lúc này",
      fig_transaction: "Giao dịch được gọi trong 15 phút (hôm nay)", fig_visit: "Lượt đến xong trong 30 phút (hôm nay)",
      fig_waiting: "Đang chờ", fig_risk: "Có nguy cơ trễ (dự báo)", fig_devices: "Thiết bị",
      fig_share_note: "{within} trong {counted} giao dịch tính đến lúc này", fig_visit_note: "{within} trong {counted} lượt đến",
      fig_nothing_yet: "Chưa có giao dịch nào để tính", fig_over: "{n} người đang chờ quá {m} phút",
      fig_waiting_note: "lâu nhất {longest} · {open} quầy đang mở", fig_risk_note: "dự báo được gọi sau hạn {m} phút",
      fig_risk_none: "không số nào bị dự báo trễ", fig_devices_ok: "Tất cả hoạt động", fig_devices_bad: "{n} cần xem",
      fig_devices_note: "{offline} mất kết nối trong {total} thiết bị", fig_devices_none: "không theo dõi thiết bị nào",
      plan_title: "Kế hoạch hôm nay", plan_caption: "Ca trực quầy dự phòng và giờ nghỉ theo tệp cấu hình",
      plan_time: "Giờ", plan_counter: "Quầy", plan_what: "Việc", plan_now: "Lúc này",
      plan_none: "Tệp cấu hình chưa có kế hoạch (ca dự phòng, giờ nghỉ). Lệnh motcua plan đề xuất một kế hoạch.",
      plan_shift: "Mở cho {agencies}", plan_break: "Nghỉ giải lao", plan_done: "đã qua", plan_later: "sắp tới",
      plan_open_for: "đang mở cho {agencies}", plan_closed: "đang đóng", plan_paused: "đang tạm dừng",
      plan_open: "đang mở", plan_defer: "nên lùi giờ nghỉ",
      alert_plan: "Theo kế hoạch: mở quầy {counter} ({window}) cho {agencies}",
      alert_break: "Nên lùi giờ nghỉ {window} của quầy {counter}", alert_break_why: "{agencies} có số sắp trễ hạn",
      todo: "Việc cần làm", no_alerts: "Không có việc cần làm ngay: không có cảnh báo.",
      alert_standby: "Mở quầy dự phòng {counter} cho {agencies}", alert_standby_why: "{risk} số có nguy cơ trễ, {over} người đã quá {m} phút",
      alert_printer: "{device} ({place}): {problems}", alert_since: "từ {time}",
      p_offline: "mất kết nối", p_paper_out: "hết giấy", p_paper_low: "sắp hết giấy", p_cover_open: "nắp mở",
      p_error: "báo lỗi", p_cannot_print: "không in được",
      acknowledge: "Đã biết", open_counter: "Mở quầy {n}",
      tickets_title: "Số quá hạn và có nguy cơ trễ", overdue_caption: "Đang chờ quá 15 phút",
      risky_caption: "Có nguy cơ trễ: dự báo gọi sau hạn", number: "Số", agency: "Lĩnh vực", waited: "Đã chờ",
      over_by: "Quá hạn", deadline_in: "Còn đến hạn", predicted_wait: "Dự kiến gọi sau", over_clock: "quá {t}",
      left_clock: "còn {t}", no_overdue: "Không có ai chờ quá {m} phút.", no_risk: "Không có số nào bị dự báo trễ.",
      and_more: "và {n} số khác", priority_mark: "ưu tiên",
      breaches: "Vi phạm gần đây", no_breaches: "Chưa có vi phạm hôm nay.", breaches_today: "Hôm nay: {n} vi phạm.",
      breach_line: "{time} · số {number} ({agency}): chờ {waited}, quá mục tiêu {target} — {cause}",
      kind_transaction: "giao dịch 15 phút", kind_visit: "cả lượt 30 phút",
      cause_recall_limit: "đã gọi nhưng công dân vắng mặt", cause_no_open_counter: "không có quầy nào mở",
      cause_counters_closed: "một số quầy của lĩnh vực đang đóng", cause_surge: "lượng người tăng đột biến",
      cause_long_service: "phục vụ lâu hơn dự kiến", cause_capacity: "không đủ quầy cho lượng người",
      agencies: "Lĩnh vực (trễ nhất trước)", waiting: "Đang chờ", over_target: "Quá 15 phút", at_risk: "Nguy cơ trễ",
      longest: "Chờ lâu nhất", predicted: "Số mới chờ khoảng", open_counters: "Quầy mở", within: "Đạt 15 phút",
      no_counter_open: "không quầy nào mở", no_agencies: "Chưa có ai đến hôm nay.", share_of: "{share} ({within}/{counted})",
      charts: "Diễn biến trong ngày", chart_scope: "Xem", multiples: "So sánh các lĩnh vực (cùng một thang)",
      multiples_key: "Mỗi ô: số người đang chờ (xanh) và số người chờ quá 15 phút (đỏ), cùng thang để so sánh. Chọn một lĩnh vực để xem chi tiết.",
      counters: "Quầy", counter_col: "Quầy", status: "Trạng thái", serves: "Phục vụ lĩnh vực", now_serving: "Đang phục vụ",
      served: "Đã phục vụ", satisfaction: "Hài lòng", devices_col: "Thiết bị", actions: "Thao tác",
      counter: "Quầy {n}", standby: "dự phòng", status_open: "Đang mở", status_closed: "Đóng", status_paused: "Tạm dừng",
      serving: "số {number} · {time}", devices: "Thiết bị",
      sites: "Các điểm phục vụ (nguy cơ cao trước)", site: "Điểm phục vụ", within_today: "Đạt 15 phút hôm nay",
      alerts: "Cảnh báo", province_summary: "{n} điểm phục vụ · {alerts} cảnh báo chưa xử lý",
      none: "—", not_manager: "Tài khoản này không có quyền giám sát",
      minutes: "{n} phút", no_estimate: "chưa có",
    },
    en: {
      plan_title: "Today's plan", plan_caption: "Standby shifts and breaks from the site file",
      plan_time: "Time", plan_counter: "Counter", plan_what: "What", plan_now: "Now",
      plan_none: "The site file has no plan (standby shifts, breaks). motcua plan proposes one.",
      plan_shift: "Open for {agencies}", plan_break: "Break", plan_done: "past", plan_later: "later",
      plan_open_for: "open for {agencies}", plan_closed: "closed", plan_paused: "paused",
      plan_open: "open", plan_defer: "defer advised",
      alert_plan: "As planned: open counter {counter} ({window}) for {agencies}",
      alert_break: "Defer counter {counter}'s {window} break", alert_break_why: "{agencies} at risk",
      title: "Live monitor", reports_link: "Reports", login_title: "Manager login", user: "User", secret: "Password", login: "Log in",
      logout: "Log out", live_on: "Live", live_off: "Live stream lost", now_title: "The floor now",
      fig_transaction: "Transactions called within 15 min (today)", fig_visit: "Visits done within 30 min (today)",
      fig_waiting: "Waiting", fig_risk: "At risk (forecast)", fig_devices: "Devices",
      fig_share_note: "{within} of {counted} transactions counted so far", fig_visit_note: "{within} of {counted} visits",
      fig_nothing_yet: "Nothing to count yet", fig_over: "{n} waiting over {m} min",
      fig_waiting_note: "longest {longest} · {open} counters open", fig_risk_note: "forecast to be called after the {m}-min target",
      fig_risk_none: "no ticket is forecast late", fig_devices_ok: "All working", fig_devices_bad: "{n} need attention",
      fig_devices_note: "{offline} offline of {total} devices", fig_devices_none: "no devices watched",
      todo: "What to do", no_alerts: "Nothing to do right now: no alerts.",
      alert_standby: "Open standby counter {counter} for {agencies}", alert_standby_why: "{risk} at risk, {over} already over {m} min",
      alert_printer: "{device} ({place}): {problems}", alert_since: "since {time}",
      p_offline: "offline", p_paper_out: "paper out", p_paper_low: "paper low", p_cover_open: "cover open",
      p_error: "reports an error", p_cannot_print: "cannot print",
      acknowledge: "Acknowledge", open_counter: "Open counter {n}",
      tickets_title: "Tickets overdue and at risk", overdue_caption: "Waiting over 15 min",
      risky_caption: "At risk: forecast to be called after the deadline", number: "Number", agency: "Agency",
      waited: "Waited", over_by: "Overdue", deadline_in: "Deadline in", predicted_wait: "Called in about",
      over_clock: "over by {t}", left_clock: "{t} left", no_overdue: "Nobody is waiting over {m} min.",
      no_risk: "No ticket is forecast late.", and_more: "and {n} more", priority_mark: "priority",
      breaches: "Recent breaches", no_breaches: "No breaches today.", breaches_today: "Today: {n} breaches.",
      breach_line: "{time} · number {number} ({agency}): waited {waited}, over the {target} target — {cause}",
      kind_transaction: "15-min transaction", kind_visit: "30-min visit",
      cause_recall_limit: "called but the citizen was absent", cause_no_open_counter: "no counter open",
      cause_counters_closed: "some of the agency's counters closed", cause_surge: "a surge of arrivals",
      cause_long_service: "services longer than expected", cause_capacity: "too few counters for the demand",
      agencies: "Agencies (worst first)", waiting: "Waiting", over_target: "Over 15 min", at_risk: "At risk",
      longest: "Longest wait", predicted: "New ticket waits about", open_counters: "Counters open", within: "Within 15 min",
      no_counter_open: "no counter open", no_agencies: "Nobody has come today.", share_of: "{share} ({within}/{counted})",
      charts: "The day so far", chart_scope: "Show", multiples: "Agencies compared (one scale)",
      multiples_key: "Each box: people waiting (blue) and people waiting over 15 min (red), on one scale to compare. Choose an agency for details.",
      counters: "Counters", counter_col: "Counter", status: "Status", serves: "Serves", now_serving: "Serving",
      served: "Served", satisfaction: "Satisfaction", devices_col: "Devices", actions: "Actions",
      counter: "Counter {n}", standby: "standby", status_open: "Open", status_closed: "Closed", status_paused: "Paused",
      serving: "number {number} · {time}", devices: "Devices",
      sites: "Sites (riskiest first)", site: "Site", within_today: "Within 15 min today",
      alerts: "Alerts", province_summary: "{n} sites · {alerts} open alerts",
      none: "—", not_manager: "This account may not use the monitor",
      minutes: "{n} min", no_estimate: "none yet",
    },
  });

  const $ = (id) => document.getElementById(id);
  let snapshot = null;
  let series = null;
  let live = null;
  let scope = "";  // the charts' agency ("" = the whole site)

  const session = M.managerSession({
    roles: ["manager", "admin", "ops"], deniedText: () => M.t("not_manager"), onStart: start, onEnd: stop });
  const auth = session.auth;
  const logout = (message) => session.end(message);
  const locale = () => (M.language() === "vi" ? "vi-VN" : "en-GB");
  const pct = (v) => (v === null || v === undefined ? M.t("none")
    : `${new Intl.NumberFormat(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(100 * v)} %`);
  const mins = (s) => (s === null || s === undefined ? M.t("none") : M.minutes(s));
  const targetMin = () => Math.round(snapshot.targets.transaction_wait_s / 60);
  const agencyName = (id) => {
    const a = snapshot.agencies.find((x) => x.id === id);
    return a ? M.named(a) : id;
  };

  /** HH:MM:SS of an epoch on the site's clock. */
  function hhmmss(epoch) {
    const options = { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
    try {
      return new Date(epoch * 1000).toLocaleTimeString("vi-VN", { ...options, timeZone: snapshot.timezone });
    } catch (error) {
      return new Date(epoch * 1000).toLocaleTimeString("vi-VN", options);
    }
  }
  const hhmm = (epoch) => hhmmss(epoch).slice(0, 5);

  /** Colour by distance to the target: green under half, amber under the target, red at or past it. */
  function level(seconds, target) {
    if (seconds === null || seconds === undefined) return "";
    if (seconds >= target) return "bad-cell";
    return seconds >= target / 2 ? "warn-cell" : "ok-cell";
  }

  function cell(text, cls = "", num = false) {
    return M.el("td", { class: `${cls} ${num ? "num" : ""}`.trim(), text: String(text) });
  }

  async function act(path, button, body = {}) {
    button.disabled = true;
    try {
      await M.api("POST", path, { headers: auth(), body });
    } catch (err) {
      alert(M.errorText(err));
    } finally {
      button.disabled = false;
      refresh();
    }
  }

  function setFigure(id, value, note, state) {
    $(`fig-${id}-value`).textContent = value;
    $(`fig-${id}-note`).textContent = note;
    $(`fig-${id}`).dataset.level = state;
  }

  function renderFigures(s) {
    const m = targetMin();
    const tx = s.performance.transaction;
    const over = tx.waiting_over ? ` · ${M.t("fig_over", { n: tx.waiting_over, m })}` : "";
    setFigure("transaction", pct(tx.share),
      (tx.within + tx.missed ? M.t("fig_share_note", { within: tx.within, counted: tx.within + tx.missed })
        : M.t("fig_nothing_yet")) + over,
      tx.waiting_over ? "bad" : "plain");
    const visit = s.performance.visit;
    const visitMin = Math.round(visit.target_s / 60);
    const counted = visit.within + visit.missed;
    setFigure("visit", pct(visit.share),
      (counted ? M.t("fig_visit_note", { within: visit.within, counted }) : M.t("fig_nothing_yet"))
      + (visit.waiting_over ? ` · ${M.t("fig_over", { n: visit.waiting_over, m: visitMin })}` : ""),
      visit.waiting_over ? "bad" : "plain");
    const waiting = s.agencies.reduce((n, a) => n + a.waiting, 0);
    const longest = Math.max(0, ...s.agencies.map((a) => a.longest_wait_s));
    const open = s.counters.filter((c) => c.status === "open").length;
    setFigure("waiting", String(waiting), M.t("fig_waiting_note", { longest: waiting ? mins(longest) : M.t("none"), open }),
      "plain");
    const risk = s.agencies.reduce((n, a) => n + a.at_risk, 0);
    setFigure("risk", String(risk), risk ? M.t("fig_risk_note", { m }) : M.t("fig_risk_none"), risk ? "warn" : "plain");
    const devices = MonitorDevices.summary(s.devices || []);
    if (!devices.total) setFigure("devices", M.t("none"), M.t("fig_devices_none"), "plain");
    else {
      setFigure("devices", devices.attention ? M.t("fig_devices_bad", { n: devices.attention }) : M.t("fig_devices_ok"),
        M.t("fig_devices_note", devices), devices.offline ? "bad" : devices.attention ? "warn" : "plain");
    }
  }

  function alertText(a, s) {
    if (a.code === "standby_recommended" && a.counter) {
      const needing = a.agencies || (a.agency ? [a.agency] : []);
      const rows = s.agencies.filter((x) => needing.includes(x.id));
      return [M.t("alert_standby", { counter: a.counter, agencies: needing.map(agencyName).join(", ") }),
        M.t("alert_standby_why", { risk: rows.reduce((n, x) => n + x.at_risk, 0),
          over: rows.reduce((n, x) => n + x.waiting_over_target, 0), m: targetMin() })];
    }
    if (a.code === "printer_problem" && a.device) {
      const row = (s.devices || []).find((d) => d.device === a.device) || { device: a.device, kind: "printer" };
      const problems = (a.problems || []).map((p) => M.t(`p_${p}`)).join(", ") || a.reason || "";
      return [M.t("alert_printer", { device: MonitorDevices.name(row), place: MonitorDevices.place(row), problems }),
        a.reason && a.problems && a.problems.includes("error") ? a.reason : ""];
    }
    if (a.code === "standby_planned" && a.counter) {
      return [M.t("alert_plan", { counter: a.counter, window: a.window, agencies: (a.agencies || []).map(agencyName).join(", ") }), ""];
    }
    if (a.code === "break_defer_recommended" && a.counter) {
      return [M.t("alert_break", { counter: a.counter, window: a.window }),
        M.t("alert_break_why", { agencies: (a.agencies || []).map(agencyName).join(", ") })];
    }
    return [a.message || a.code, ""];
  }

  function renderPlan(s) {
    const plan = s.plan || [];
    $("plan").replaceChildren(...(plan.length ? plan.map((p) => {
      const agencies = (p.agencies || []).map(agencyName).join(", ");
      const what = p.kind === "break" ? M.t("plan_break") : M.t("plan_shift", { agencies });
      let now = p.when === "done" ? M.t("plan_done") : p.when === "later" ? M.t("plan_later") : "";
      if (p.defer_advised) {
        now = M.t("plan_defer");
      } else if (p.when === "now") {
        const open = p.status === "open";
        now = p.kind === "break"
          ? M.t(p.status === "paused" ? "plan_paused" : "plan_open")
          : (open ? M.t("plan_open_for", { agencies: (p.open_for || []).map(agencyName).join(", ") }) : M.t(`plan_${p.status}`));
      }
      const late = p.defer_advised || (p.when === "now" && p.kind === "standby_shift" && p.status !== "open");
      return M.el("tr", { "data-plan": `${p.kind}-${p.counter}-${p.from}`, "data-when": p.when },
        M.el("th", { scope: "row", text: `${p.from}–${p.to}` }), cell(String(p.counter)), cell(what),
        cell(now, late ? "warn-cell" : p.when === "done" ? "muted" : ""));
    }) : [M.el("tr", {}, M.el("td", { colspan: "4", class: "calm", text: M.t("plan_none") }))]));
  }

  function renderAlerts(s) {
    const list = $("alerts");
    const alerts = [...s.alerts].sort((a, b) => (a.code === "standby_recommended" ? 0 : 1)
      - (b.code === "standby_recommended" ? 0 : 1) || a.at - b.at);
    if (!alerts.length) {
      list.replaceChildren(M.el("li", { class: "calm", text: M.t("no_alerts") }));
      return;
    }
    list.replaceChildren(...alerts.map((a) => {
      const [text, why] = alertText(a, s);
      const words = M.el("div", { class: "alert-words" }, M.el("strong", { text }),
        M.el("span", { class: "alert-why", text: [why, M.t("alert_since", { time: hhmm(a.at) })].filter(Boolean).join(" · ") }));
      const item = M.el("li", { "data-alert": a.alert, "data-code": a.code }, words);
      if (site && (a.code === "standby_recommended" || a.code === "standby_planned") && a.counter) {
        const open = M.el("button", { type: "button", class: "ok", text: M.t("open_counter", { n: a.counter }),
          "aria-label": M.t("open_counter", { n: a.counter }) });
        const body = a.code === "standby_planned" ? { serves: a.agencies || [] } : {};
        open.addEventListener("click", () => act(`/api/v1/sites/${encodeURIComponent(site)}/counters/${a.counter}/open`, open, body));
        item.append(open);
      }
      if (site) {
        const ack = M.el("button", { type: "button", text: M.t("acknowledge"), "aria-label": `${M.t("acknowledge")}: ${text}` });
        ack.addEventListener("click", () => act(
          `/api/v1/sites/${encodeURIComponent(site)}/alerts/${encodeURIComponent(a.alert)}/acknowledge`, ack));
        item.append(ack);
      }
      return item;
    }));
  }

  function numberCell(t) {
    return M.el("th", { scope: "row", text: t.number },
      t.priority ? M.el("span", { class: "tag", text: M.t("priority_mark") }) : null);
  }

  function moreRow(total, columns) {
    return total > LIST_MAX
      ? [M.el("tr", {}, M.el("td", { colspan: String(columns), class: "muted", text: M.t("and_more", { n: total - LIST_MAX }) }))]
      : [];
  }

  function renderTickets(s) {
    const target = s.targets.transaction_wait_s;
    const overdue = s.overdue_tickets || [];
    $("overdue").replaceChildren(...(overdue.length ? [
      ...overdue.slice(0, LIST_MAX).map((t) => M.el("tr", { "data-ticket": t.ticket }, numberCell(t), cell(agencyName(t.agency)),
        cell(mins(t.waited_s), "bad-cell", true), cell(M.t("over_clock", { t: M.clock(t.over_s) }), "bad-cell", true))),
      ...moreRow(overdue.length, 4)]
      : [M.el("tr", {}, M.el("td", { colspan: "4", class: "calm", text: M.t("no_overdue", { m: targetMin() }) }))]));
    const risky = s.at_risk_tickets || [];
    $("risky").replaceChildren(...(risky.length ? [
      ...risky.slice(0, LIST_MAX).map((r) => M.el("tr", { "data-ticket": r.ticket }, numberCell(r), cell(agencyName(r.agency)),
        cell(mins(r.waited_s), level(r.waited_s, target), true),
        cell(M.t("left_clock", { t: M.clock(r.deadline_in_s) }), "warn-cell", true),
        cell(mins(r.predicted_wait_s), "", true))),
      ...moreRow(risky.length, 5)]
      : [M.el("tr", {}, M.el("td", { colspan: "5", class: "calm", text: M.t("no_risk") }))]));
  }

  function renderBreaches(s) {
    const breaches = (s.recent_breaches || []).slice(0, 6);
    const items = breaches.map((b) => M.el("li", { "data-ticket": b.ticket },
      M.t("breach_line", { time: hhmm(b.at), number: b.number, agency: agencyName(b.agency), waited: mins(b.waited_s),
        target: M.t(`kind_${b.kind}`), cause: M.t(`cause_${b.cause}`) })));
    $("breaches").replaceChildren(...(items.length
      ? [...items, M.el("li", { class: "muted", text: M.t("breaches_today", { n: s.breaches_today }) })]
      : [M.el("li", { class: "calm", text: M.t("no_breaches") })]));
  }

  /** Worst first: people past the target, then at risk, then the longest wait. */
  function worstFirst(agencies) {
    return [...agencies].sort((a, b) => b.waiting_over_target - a.waiting_over_target || b.at_risk - a.at_risk
      || b.longest_wait_s - a.longest_wait_s || b.waiting - a.waiting || a.name.localeCompare(b.name));
  }

  function active(agencies) {
    return agencies.filter((a) => a.waiting || a.served_today || a.open_counters
      || a.transaction_target.within + a.transaction_target.missed);
  }

  function showAgency(id) {
    scope = id;
    $("chart-scope").value = id;
    renderCharts();
    $("charts-title").scrollIntoView({ behavior: "smooth", block: "start" });
  }

  function renderAgencies(s) {
    const target = s.targets.transaction_wait_s;
    const rows = worstFirst(active(s.agencies));
    if (!rows.length) {
      $("agencies").replaceChildren(M.el("tr", {}, M.el("td", { colspan: "8", class: "muted", text: M.t("no_agencies") })));
      return;
    }
    $("agencies").replaceChildren(...rows.map((a) => {
      const name = M.el("button", { type: "button", class: "link", text: M.named(a), onclick: () => showAgency(a.id) });
      const tally = a.transaction_target;
      const counted = tally.within + tally.missed;
      return M.el("tr", { "data-agency": a.id, "data-level": a.waiting_over_target ? "bad" : a.at_risk ? "warn" : "" },
        M.el("th", { scope: "row" }, name),
        cell(a.waiting, "", true),
        cell(a.waiting_over_target, a.waiting_over_target ? "bad-cell" : "", true),
        cell(a.at_risk, a.at_risk ? "warn-cell" : "", true),
        cell(a.waiting ? mins(a.longest_wait_s) : M.t("none"), a.waiting ? level(a.longest_wait_s, target) : "", true),
        cell(a.predicted_wait_s === null ? (a.open_counters ? M.t("none") : M.t("no_counter_open")) : mins(a.predicted_wait_s),
          a.predicted_wait_s === null && a.waiting ? "bad-cell" : level(a.predicted_wait_s, target), true),
        cell(`${a.open_counters}/${a.counters.length}`, a.open_counters ? "" : "warn-cell", true),
        cell(counted ? M.t("share_of", { share: pct(a.within_target_share), within: tally.within, counted }) : M.t("none"),
          tally.missed ? "bad-cell" : "", true));
    }));
  }

  function renderCounters(s) {
    const devices = s.devices || [];
    $("counters").replaceChildren(...s.counters.map((c) => {
      const status = [M.t(`status_${c.status}`), c.staff, c.pause_reason].filter(Boolean).join(" · ");
      const dev = MonitorDevices.counterLine(devices, c.id);
      const actions = M.el("td", {});
      if (site && c.status === "closed" && c.standby) {
        const open = M.el("button", { type: "button", class: "ok small", text: M.t("open_counter", { n: c.id }),
          "aria-label": M.t("open_counter", { n: c.id }) });
        open.addEventListener("click", () => act(`/api/v1/sites/${encodeURIComponent(site)}/counters/${c.id}/open`, open));
        actions.append(open);
      }
      return M.el("tr", { "data-counter": c.id, "data-status": c.status },
        M.el("th", { scope: "row", text: M.t("counter", { n: c.id }) },
          c.standby ? M.el("span", { class: "tag", text: M.t("standby") }) : null),
        cell(status, `status-${c.status}`),
        cell(c.serves.map(agencyName).join(", ")),
        cell(c.current ? M.t("serving", { number: c.current.number, time: M.clock(c.current.since_s) }) : M.t("none")),
        cell(c.served_today, "", true),
        cell(pct(c.satisfaction_today), "", true),
        cell(dev.text, dev.bad ? "bad-text" : ""),
        actions);
    }));
  }

  function renderScopeChoice(s) {
    const select = $("chart-scope");
    const options = [["", M.t("whole_site")], ...worstFirst(active(s.agencies)).map((a) => [a.id, M.named(a)])];
    if (!options.some(([id]) => id === scope)) scope = "";
    const same = select.options.length === options.length
      && options.every(([id, label], i) => select.options[i].value === id && select.options[i].text === label);
    if (!same) {
      select.replaceChildren(...options.map(([id, label]) => M.el("option", { value: id, text: label })));
    }
    select.value = scope;
  }

  function renderCharts() {
    if (!snapshot) return;
    renderScopeChoice(snapshot);
    MonitorCharts.render({ main: $("chart-main"), multiples: $("multiples"), series,
      agencies: worstFirst(active(snapshot.agencies)), scope, timeZone: snapshot.timezone, onScope: showAgency });
  }

  function renderSite() {
    const s = snapshot;
    $("title").textContent = M.language() === "en" && s.name_en ? s.name_en : s.name;
    document.title = `${$("title").textContent} · ${M.t("title")}`;
    renderFigures(s);
    renderAlerts(s);
    renderPlan(s);
    renderTickets(s);
    renderBreaches(s);
    AwayWaits.render($("away"), s.away || [], s.away_note, s.targets.transaction_wait_s);
    renderAgencies(s);
    renderCounters(s);
    MonitorDevices.render($("devices"), s.devices || [], s.timezone, s.at, hhmmss);
    renderScopeChoice(s);
  }

  function renderProvince(feed) {
    $("site-view").classList.add("hidden");
    $("province-view").classList.remove("hidden");
    const alerts = feed.sites.reduce((n, s) => n + s.alerts, 0);
    $("province-summary").textContent = M.t("province_summary", { n: feed.sites.length, alerts });
    $("sites").replaceChildren(...feed.sites.map((s) => M.el("tr", { "data-site": s.site },
      M.el("th", { scope: "row" }, M.el("a", { href: `/monitor/${encodeURIComponent(s.site)}`, text: s.name })),
      cell(s.waiting, "", true), cell(s.waiting_over_target ?? M.t("none"), s.waiting_over_target ? "bad-cell" : "", true),
      cell(s.waiting ? mins(s.longest_wait_s) : M.t("none"), s.waiting ? level(s.longest_wait_s, 900) : "", true),
      cell(s.at_risk, s.at_risk ? "warn-cell" : "", true), cell(pct(s.within_transaction_target), "", true),
      cell(pct(s.satisfaction), "", true), cell(`${s.counters_open}/${s.counters}`, "", true),
      cell(s.alerts, s.alerts ? "bad-cell" : "", true))));
  }

  async function refresh() {
    try {
      if (site) {
        const first = snapshot === null;
        snapshot = (await M.api("GET", `/api/v1/sites/${encodeURIComponent(site)}/monitor`, { headers: auth() })).data;
        renderSite();
        if (first && series) renderCharts();
      } else {
        renderProvince((await M.api("GET", "/api/v1/feed", { headers: auth() })).data);
      }
    } catch (err) {
      if (err.status === 401 || err.status === 403) logout(err.status === 403 ? M.t("not_manager") : "");
    }
  }

  async function refreshSeries() {
    if (!site || !session.token) return;
    try {
      series = (await M.api("GET", `/api/v1/sites/${encodeURIComponent(site)}/monitor/series`, { headers: auth() })).data;
      renderCharts();
    } catch (err) { /* the snapshot refresh reports auth problems */ }
  }

  const refreshSoon = M.debounce(refresh, 300);
  const refreshSeriesSoon = M.debounce(refreshSeries, 5000);

  function setLive(on) {
    $("live-state").dataset.state = on ? "on" : "off";
    $("live-text").dataset.i18n = on ? "live_on" : "live_off";
    $("live-text").textContent = M.t(on ? "live_on" : "live_off");
  }

  let timers = [];

  function start() {
    $("app").classList.remove("hidden");
    refresh();
    refreshSeries();
    if (site) {
      live = new M.Live(site, (event) => {
        if (event.type !== "monitor.snapshot") { refreshSoon(); refreshSeriesSoon(); }
      }, { token: session.token, onSignedOut: () => logout(""), onState: setLive });
    } else {
      $("live-state").classList.add("hidden");
    }
    timers = [setInterval(refresh, 5000), setInterval(refreshSeries, 60000)];
  }

  function stop() {
    if (live) live.close();
    live = null;
    timers.forEach(clearInterval);
    timers = [];
    $("app").classList.add("hidden");
  }

  if (site) {  // the site's reports (same manager session: the token is kept for this tab)
    $("reports-link").href = `/reports/${encodeURIComponent(site)}`;
    $("reports-link").classList.remove("hidden");
  }
  $("chart-scope").addEventListener("change", () => { scope = $("chart-scope").value; renderCharts(); });
  $("lang-button").addEventListener("click", () => {
    const next = M.language() === "vi" ? "en" : "vi";
    M.applyLanguage(next);
    $("lang-button").textContent = next === "vi" ? "English" : "Tiếng Việt";
    $("lang-button").setAttribute("lang", next === "vi" ? "en" : "vi");
    $("lang-button").setAttribute("aria-label", next === "vi" ? "English" : "Tiếng Việt");
    if (snapshot) { renderSite(); renderCharts(); }
  });
  // the site's clock when one site is watched (the province view keeps the manager's own)
  setInterval(() => { $("clock").textContent = M.timeOfDay(snapshot ? snapshot.timezone : undefined, true); }, 1000);
  M.applyLanguage("vi");
  session.resume();
})();
