/* Floor manager's live monitor: /monitor/{site} for one site, /monitor for every site served here.
   Logs in as a manager, reads the snapshot, follows the live stream (refresh on events, debounced),
   and acts: open a standby counter, acknowledge an alert. */
"use strict";

(() => {
  const M = Motcua;
  const parts = location.pathname.split("/").filter(Boolean);
  const site = parts[1] ? decodeURIComponent(parts[1]) : null;
  const TOKEN_KEY = "motcua.monitor.token";

  M.setDictionary({
    vi: {
      title: "Giám sát trực tiếp", login_title: "Đăng nhập quản lý", user: "Tài khoản", secret: "Mật khẩu",
      login: "Đăng nhập", logout: "Đăng xuất", alerts: "Cảnh báo", agencies: "Lĩnh vực", agency: "Lĩnh vực",
      waiting: "Đang chờ", longest: "Chờ lâu nhất", predicted: "Dự kiến số mới", at_risk: "Nguy cơ trễ",
      served: "Đã phục vụ", median: "Chờ trung vị", last_hour: "Đạt 15 phút (1 giờ qua)",
      risky: "Số có nguy cơ trễ hạn", number: "Số", waited: "Đã chờ", deadline_in: "Còn đến hạn",
      predicted_wait: "Dự kiến chờ thêm", plots: "Hàng chờ trong ngày", counters: "Quầy", breaches: "Vi phạm gần đây",
      sites: "Các điểm phục vụ (nguy cơ cao trước)", site: "Điểm phục vụ", within: "Đạt 15 phút hôm nay",
      satisfaction: "Hài lòng", open_counters: "Quầy mở", acknowledge: "Đã biết", open_counter: "Mở quầy {n}",
      no_alerts: "Không có cảnh báo", counter: "Quầy {n}", status_open: "Đang mở", status_closed: "Đóng",
      status_paused: "Tạm dừng", standby: "dự phòng", current: "Đang phục vụ số {number} ({time})",
      served_today: "Đã phục vụ: {n}", sat_today: "Hài lòng: {v}", none: "—", bad_login: "Sai tài khoản hoặc mật khẩu",
      not_manager: "Tài khoản này không có quyền giám sát", summary: "{site}: {waiting} người chờ, {risk} số có nguy cơ trễ, "
        + "{breaches} vi phạm hôm nay, đã cấp {issued} số",
      no_risk: "Không có số nào có nguy cơ trễ", queue_plot: "{agency}: số người chờ (cột) và thời gian chờ (đường)",
      minutes: "{n} phút", no_estimate: "chưa có",
    },
    en: {
      title: "Live monitor", login_title: "Manager login", user: "User", secret: "Password", login: "Log in",
      logout: "Log out", alerts: "Alerts", agencies: "Agencies", agency: "Agency", waiting: "Waiting",
      longest: "Longest wait", predicted: "New ticket wait", at_risk: "At risk", served: "Served",
      median: "Median wait", last_hour: "Within 15 min (last hour)", risky: "Tickets at risk of the target",
      number: "Number", waited: "Waited", deadline_in: "Deadline in", predicted_wait: "Predicted further wait",
      plots: "Queues over the day", counters: "Counters", breaches: "Recent breaches",
      sites: "Sites (riskiest first)", site: "Site", within: "Within 15 min today", satisfaction: "Satisfaction",
      open_counters: "Counters open", acknowledge: "Acknowledge", open_counter: "Open counter {n}",
      no_alerts: "No alerts", counter: "Counter {n}", status_open: "Open", status_closed: "Closed",
      status_paused: "Paused", standby: "standby", current: "Serving {number} ({time})", served_today: "Served: {n}",
      sat_today: "Satisfaction: {v}", none: "—", bad_login: "Wrong user or password",
      not_manager: "This account may not use the monitor",
      summary: "{site}: {waiting} waiting, {risk} at risk, {breaches} breaches today, {issued} tickets issued",
      no_risk: "No ticket is at risk", queue_plot: "{agency}: people waiting (bars) and wait (line)",
      minutes: "{n} min", no_estimate: "none yet",
    },
  });

  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem(TOKEN_KEY);
  let snapshot = null;
  let series = null;
  let live = null;

  const auth = () => ({ Authorization: `Bearer ${token}` });
  const pct = (v) => (v === null || v === undefined ? M.t("none") : `${(100 * v).toFixed(1)} %`);
  const mins = (s) => (s === null || s === undefined ? M.t("none") : M.minutes(s));

  /** Colour by distance to the target: green under half, amber under the target, red at or past it. */
  function level(seconds, target) {
    if (seconds === null || seconds === undefined) return "";
    if (seconds >= target) return "bad-cell";
    return seconds >= target / 2 ? "warn-cell" : "ok-cell";
  }

  function cell(text, cls = "", num = false) {
    return M.el("td", { class: `${cls} ${num ? "num" : ""}`.trim(), text: String(text) });
  }

  async function act(path, button) {
    button.disabled = true;
    try {
      await M.api("POST", path, { headers: auth(), body: {} });
    } catch (err) {
      alert(err.message);
    } finally {
      button.disabled = false;
      refresh();
    }
  }

  function renderAlerts(alerts) {
    const list = $("alerts");
    list.replaceChildren();
    if (!alerts.length) { list.append(M.el("li", { class: "muted", text: M.t("no_alerts") })); return; }
    for (const a of alerts) {
      const item = M.el("li", { "data-alert": a.alert }, M.el("span", { text: a.message || a.code }));
      if (site && a.code === "standby_recommended" && a.counter) {
        const open = M.el("button", { type: "button", class: "ok", text: M.t("open_counter", { n: a.counter }),
          "aria-label": M.t("open_counter", { n: a.counter }) });
        open.addEventListener("click", () => act(`/api/v1/sites/${site}/counters/${a.counter}/open`, open));
        item.append(open);
      }
      const ack = M.el("button", { type: "button", text: M.t("acknowledge"), "aria-label": M.t("acknowledge") });
      ack.addEventListener("click", () => act(`/api/v1/sites/${a.site || site}/alerts/${encodeURIComponent(a.alert)}/acknowledge`, ack));
      if (site) item.append(ack);
      list.append(item);
    }
  }

  function renderSite() {
    const s = snapshot;
    const target = s.targets.transaction_wait_s;
    const waiting = s.agencies.reduce((n, a) => n + a.waiting, 0);
    const risk = s.agencies.reduce((n, a) => n + a.at_risk, 0);
    $("title").textContent = s.name;
    $("summary").textContent = M.t("summary", { site: s.name, waiting, risk, breaches: s.breaches_today, issued: s.issued_today });
    renderAlerts(s.alerts);
    const lastHour = series ? series.agencies : {};
    $("agencies").replaceChildren(...s.agencies.filter((a) => a.waiting || a.served_today || a.open_counters).map((a) =>
      M.el("tr", { "data-agency": a.id },
        cell(a.name),
        cell(a.waiting, "", true),
        cell(mins(a.longest_wait_s), level(a.longest_wait_s, target), true),
        cell(mins(a.predicted_wait_s), level(a.predicted_wait_s, target), true),
        cell(a.at_risk, a.at_risk ? "bad-cell" : "", true),
        cell(a.served_today, "", true),
        cell(mins(a.median_wait_s), level(a.median_wait_s, target), true),
        cell(pct(lastHour[a.id] ? lastHour[a.id].within_target_last_hour : null), "", true))));
    const risky = s.at_risk_tickets || [];
    $("risky").replaceChildren(...(risky.length ? risky.map((r) => M.el("tr", { "data-ticket": r.ticket },
      cell(r.number), cell(r.agency), cell(mins(r.waited_s), level(r.waited_s, target), true),
      cell(mins(Math.max(0, r.deadline_in_s)), r.deadline_in_s <= 0 ? "bad-cell" : "warn-cell", true),
      cell(mins(r.predicted_wait_s), "", true)))
      : [M.el("tr", {}, M.el("td", { colspan: "5", class: "muted", text: M.t("no_risk") }))]));
    $("counters").replaceChildren(...s.counters.map((c) => {
      const box = M.el("div", { class: "counter", "data-counter": c.id, "data-status": c.status },
        M.el("h3", { text: `${M.t("counter", { n: c.id })}${c.standby ? ` (${M.t("standby")})` : ""}` }),
        M.el("p", { text: `${M.t("status_" + c.status)}${c.staff ? ` · ${c.staff}` : ""}${c.pause_reason ? ` · ${c.pause_reason}` : ""}` }),
        c.current ? M.el("p", { text: M.t("current", { number: c.current.number, time: M.clock(c.current.since_s) }) }) : null,
        M.el("p", { class: "muted", text: `${M.t("served_today", { n: c.served_today })} · ${M.t("sat_today", { v: pct(c.satisfaction_today) })}` }));
      if (c.status === "closed" && c.standby) {
        const open = M.el("button", { type: "button", class: "ok", text: M.t("open_counter", { n: c.id }),
          "aria-label": M.t("open_counter", { n: c.id }) });
        open.addEventListener("click", () => act(`/api/v1/sites/${site}/counters/${c.id}/open`, open));
        box.append(open);
      }
      return box;
    }));
    $("breaches").replaceChildren(...(s.recent_breaches || []).map((b) =>
      M.el("li", { text: `${b.number} · ${b.agency} · ${b.kind} · ${b.cause} · ${mins(b.waited_s)}` })));
    renderPlots(target);
  }

  /** One small SVG per busy agency: bars = people waiting, line = mean wait of calls, dashed = target. */
  function renderPlots(target) {
    if (!series || !snapshot) return;
    const busy = snapshot.agencies.filter((a) => (series.agencies[a.id] || { waiting: [] }).waiting.some((n) => n > 0))
      .slice(0, 8);
    $("plots").replaceChildren(...busy.map((a) => {
      const data = series.agencies[a.id];
      const w = 320, h = 110, n = Math.max(1, data.waiting.length);
      const maxQ = Math.max(1, ...data.waiting);
      const maxW = Math.max(target, ...data.mean_wait_s.filter((v) => v !== null));
      const bars = data.waiting.map((q, i) => {
        const bh = (h - 10) * q / maxQ;
        return `<rect x="${(i * w / n).toFixed(1)}" y="${(h - bh).toFixed(1)}" width="${Math.max(1, w / n - 1).toFixed(1)}" height="${bh.toFixed(1)}" fill="#9db8dc"/>`;
      }).join("");
      const points = data.mean_wait_s.map((v, i) => (v === null ? null : `${(i * w / n + w / n / 2).toFixed(1)},${(h - (h - 10) * v / maxW).toFixed(1)}`))
        .filter(Boolean).join(" ");
      const ty = (h - (h - 10) * target / maxW).toFixed(1);
      const label = M.t("queue_plot", { agency: a.name });
      const box = M.el("figure", { class: "plot", "data-plot": a.id });
      box.innerHTML = `<h3></h3><svg role="img" viewBox="0 0 ${w} ${h}" width="100%" height="${h}">${bars}`
        + `<polyline points="${points}" fill="none" stroke="#a11b1b" stroke-width="2"/>`
        + `<line x1="0" x2="${w}" y1="${ty}" y2="${ty}" stroke="#111" stroke-dasharray="4 3"/></svg>`;
      box.querySelector("h3").textContent = label;
      box.querySelector("svg").setAttribute("aria-label", label);
      return box;
    }));
  }

  function renderProvince(feed) {
    $("site-view").classList.add("hidden");
    $("province-view").classList.remove("hidden");
    const alerts = feed.sites.reduce((n, s) => n + s.alerts, 0);
    $("summary").textContent = `${feed.sites.length} · ${M.t("alerts")}: ${alerts}`;
    $("alerts").replaceChildren();
    $("sites").replaceChildren(...feed.sites.map((s) => M.el("tr", { "data-site": s.site },
      M.el("td", {}, M.el("a", { href: `/monitor/${encodeURIComponent(s.site)}`, text: s.name })),
      cell(s.waiting, "", true), cell(mins(s.longest_wait_s), level(s.longest_wait_s, 900), true),
      cell(s.at_risk, s.at_risk ? "bad-cell" : "", true), cell(pct(s.within_transaction_target), "", true),
      cell(pct(s.satisfaction), "", true), cell(`${s.counters_open}/${s.counters}`, "", true),
      cell(s.alerts, s.alerts ? "bad-cell" : "", true))));
  }

  async function refresh() {
    try {
      if (site) {
        snapshot = (await M.api("GET", `/api/v1/sites/${encodeURIComponent(site)}/monitor`, { headers: auth() })).data;
        renderSite();
      } else {
        renderProvince((await M.api("GET", "/api/v1/feed", { headers: auth() })).data);
      }
    } catch (err) {
      if (err.status === 401 || err.status === 403) logout(err.status === 403 ? M.t("not_manager") : "");
    }
  }

  async function refreshSeries() {
    if (!site || !token) return;
    try {
      series = (await M.api("GET", `/api/v1/sites/${encodeURIComponent(site)}/monitor/series`, { headers: auth() })).data;
      if (snapshot) renderSite();
    } catch (err) { /* the snapshot refresh reports auth problems */ }
  }

  const refreshSoon = M.debounce(refresh, 300);
  const refreshSeriesSoon = M.debounce(refreshSeries, 5000);

  function start() {
    $("login").classList.add("hidden");
    $("app").classList.remove("hidden");
    $("logout").classList.remove("hidden");
    refresh();
    refreshSeries();
    if (site) {
      live = new M.Live(site, (event) => {
        if (event.type !== "monitor.snapshot") { refreshSoon(); refreshSeriesSoon(); }
      }, { token, onSignedOut: () => logout(""), onState: (on) => { $("live-state").dataset.state = on ? "on" : "off"; } });
    }
    setInterval(refresh, 5000);
    setInterval(refreshSeries, 60000);
  }

  function logout(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    if (live) live.close();
    $("app").classList.add("hidden");
    $("login").classList.remove("hidden");
    $("logout").classList.add("hidden");
    const error = $("login-error");
    error.textContent = message || "";
    error.classList.toggle("hidden", !message);
  }

  $("login").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const res = await M.api("POST", "/api/v1/auth/login", { body: { user: $("user").value, secret: $("secret").value } });
      if (!["manager", "admin", "ops"].includes(res.data.role)) { logout(M.t("not_manager")); return; }
      token = res.data.token;
      sessionStorage.setItem(TOKEN_KEY, token);
      start();
    } catch (err) {
      logout(M.t("bad_login"));
    }
  });
  $("logout").addEventListener("click", () => logout(""));
  $("lang-button").addEventListener("click", () => {
    const next = M.language() === "vi" ? "en" : "vi";
    M.applyLanguage(next);
    $("lang-button").textContent = next === "vi" ? "English" : "Tiếng Việt";
    if (snapshot) renderSite();
  });
  // the site's clock when one site is watched (the province view keeps the manager's own)
  setInterval(() => { $("clock").textContent = M.timeOfDay(snapshot ? snapshot.timezone : undefined, true); }, 1000);
  M.applyLanguage("vi");
  if (token) start();
})();
