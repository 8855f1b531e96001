/* Reports for floor managers: /reports/{site}. Logs in like the monitor (the token stays in this tab's
   sessionStorage, sent as a Bearer header, never in an address), reads GET .../reports for a period and
   shows it: the figures against the targets, the days, a breakdown per agency, procedure, counter or staff
   member, breaches by cause, and the forecast of the coming week with what it rests on and its error.
   Downloads (Excel, CSV, printable HTML) are fetched with the token and saved from memory. */
"use strict";

(() => {
  const M = Motcua;
  const parts = location.pathname.split("/").filter(Boolean);
  const site = decodeURIComponent(parts[1] || "");
  // The managers' pages of a site, in the header: [words key, address]. Further pages (the monthly
  // evaluation, /evaluation/{site}) are added to this list.
  const PAGES = [
    ["page_monitor", `/monitor/${encodeURIComponent(site)}`],
    ["page_reports", `/reports/${encodeURIComponent(site)}`],
    ["page_feedback", `/feedback/${encodeURIComponent(site)}`],
    ["page_evaluation", `/evaluation/${encodeURIComponent(site)}`],
  ];

  M.addWords({
    vi: {
      title: "Báo cáo", pages: "Trang quản lý", page_monitor: "Giám sát", page_reports: "Báo cáo",
      page_feedback: "Phản ánh, kiến nghị", page_evaluation: "Đánh giá tháng",
      login_title: "Đăng nhập quản lý", user: "Tài khoản", secret: "Mật khẩu", login: "Đăng nhập", logout: "Đăng xuất",
      not_manager: "Tài khoản này không được xem báo cáo",
      period_title: "Khoảng thời gian", from: "Từ ngày", to: "Đến ngày", show: "Xem báo cáo", presets: "Chọn nhanh",
      today: "Hôm nay", week: "7 ngày qua", month: "Tháng này", last_month: "Tháng trước", downloads: "Tải về",
      download_xlsx: "Tải Excel (.xlsx)", download_csv: "Tải CSV", download_html: "Tải bản in (HTML)", print: "In",
      downloaded: "Đã tải {name}", loading: "Đang tải báo cáo…", loaded: "Đã có báo cáo {from} – {to}",
      summary_title: "{site}: {from} – {to}", summary_title_one: "{site}: ngày {from}",
      days_with_data: "{n} ngày có dữ liệu trong khoảng này.", no_days: "Không có dữ liệu nào trong khoảng này.",
      fig_visits: "Lượt đến", fig_visits_note: "{abandoned} người bỏ về",
      fig_transactions: "Giao dịch đã phục vụ", fig_transactions_note: "{no_shows} vắng mặt · {transfers} chuyển đi",
      fig_within: "Được gọi trong {m} phút", fig_within_visit: "Lượt đến xong trong {m} phút",
      fig_wait: "Thời gian chờ", fig_wait_value: "{p50} / {p90}", fig_wait_note: "trung vị / p90, phút; lâu nhất {max}",
      fig_satisfaction: "Hài lòng", fig_satisfaction_note: "{met} mục tiêu {target} · {ratings} lượt đánh giá",
      met: "đạt", not_met: "chưa đạt", no_ratings: "chưa có lượt đánh giá nào", fig_breaches: "Vi phạm", fig_breaches_note: "quá mục tiêu chờ",
      days_title: "Theo ngày", groups_title: "Chi tiết", group_by: "Xem theo", by_agency: "Theo lĩnh vực",
      by_procedure: "Theo thủ tục", by_counter: "Theo quầy", by_staff: "Theo cán bộ", agency_filter: "Lĩnh vực",
      all_agencies: "Tất cả lĩnh vực", caption_agencies: "Theo lĩnh vực", caption_procedures: "Theo thủ tục",
      caption_counters: "Theo quầy", caption_staff: "Theo cán bộ (so với lĩnh vực chính, để đánh giá hằng tháng)",
      col_agencies: "Lĩnh vực", col_procedures: "Thủ tục", col_counters: "Quầy", col_staff: "Cán bộ",
      col_transactions: "Giao dịch", col_wait: "Chờ trung vị / p90 / lâu nhất (phút)", col_within: "Trong {m} phút",
      col_service: "Phục vụ trung vị (phút)", col_no_shows: "Vắng mặt", col_transfers: "Chuyển đi",
      col_satisfaction: "Hài lòng", col_main_agency: "Lĩnh vực chính", col_peers: "Lĩnh vực: phục vụ / hài lòng",
      bars_title: "Chờ p90 (phút), {scope}; vạch đứt: mục tiêu {m} phút", bar_value: "{v} phút",
      no_rows: "Không có giao dịch nào.", counter_n: "Quầy {n}",
      breaches_title: "Vi phạm theo nguyên nhân", no_breaches: "Không có vi phạm nào.",
      breach_line: "{cause} ({kind}): {n}", kind_transaction: "giao dịch {m} phút", kind_visit: "cả lượt {m} phút",
      cause_recall_limit: "đã gọi nhưng công dân vắng mặt", cause_no_open_counter: "không có quầy nào mở",
      cause_counters_closed: "một số quầy của lĩnh vực đang đóng", cause_surge: "lượng người tăng đột biến",
      cause_long_service: "phục vụ lâu hơn dự kiến", cause_capacity: "không đủ quầy cho lượng người",
      forecast_title: "Dự báo 7 ngày tới", forecast_days: "Ngày dự báo",
      none: "—", minutes: "{n} phút", no_estimate: "chưa có",
    },
    en: {
      title: "Reports", pages: "Managers' pages", page_monitor: "Monitor", page_reports: "Reports",
      page_feedback: "Feedback", page_evaluation: "Monthly evaluation",
      login_title: "Manager login", user: "User", secret: "Password", login: "Log in", logout: "Log out",
      not_manager: "This account may not read reports",
      period_title: "Period", from: "From", to: "To", show: "Show report", presets: "Quick choice",
      today: "Today", week: "Last 7 days", month: "This month", last_month: "Last month", downloads: "Downloads",
      download_xlsx: "Download Excel (.xlsx)", download_csv: "Download CSV", download_html: "Download printable (HTML)",
      print: "Print", downloaded: "Downloaded {name}", loading: "Loading the report…", loaded: "Report {from} – {to} ready",
      summary_title: "{site}: {from} – {to}", summary_title_one: "{site}: {from}",
      days_with_data: "Days with data in this period: {n}.", no_days: "No data in this period.",
      fig_visits: "Visits", fig_visits_note: "{abandoned} left without being served",
      fig_transactions: "Transactions served", fig_transactions_note: "no-shows: {no_shows} · transfers: {transfers}",
      fig_within: "Called within {m} min", fig_within_visit: "Visits done within {m} min",
      fig_wait: "Waits", fig_wait_value: "{p50} / {p90}", fig_wait_note: "median / 90th percentile, min; longest {max}",
      fig_satisfaction: "Satisfied", fig_satisfaction_note: "{met} the {target} target · ratings: {ratings}",
      met: "meets", not_met: "misses", no_ratings: "no ratings yet", fig_breaches: "Breaches", fig_breaches_note: "waits past the target",
      days_title: "By day", groups_title: "Details", group_by: "Show by", by_agency: "By agency",
      by_procedure: "By procedure", by_counter: "By counter", by_staff: "By staff member", agency_filter: "Agency",
      all_agencies: "All agencies", caption_agencies: "By agency", caption_procedures: "By procedure",
      caption_counters: "By counter", caption_staff: "By staff member (beside their main agency, for the monthly evaluation)",
      col_agencies: "Agency", col_procedures: "Procedure", col_counters: "Counter", col_staff: "Staff member",
      col_transactions: "Transactions", col_wait: "Wait median / p90 / longest (min)", col_within: "Within {m} min",
      col_service: "Median service (min)", col_no_shows: "No-shows", col_transfers: "Transfers",
      col_satisfaction: "Satisfied", col_main_agency: "Main agency", col_peers: "Agency: service / satisfied",
      bars_title: "90th percentile wait (min), {scope}; dashed line: the {m}-min target", bar_value: "{v} min",
      no_rows: "No transactions.", counter_n: "Counter {n}",
      breaches_title: "Breaches by cause", no_breaches: "No breaches.",
      breach_line: "{cause} ({kind}): {n}", kind_transaction: "{m}-min transaction", kind_visit: "{m}-min visit",
      cause_recall_limit: "called but the citizen was absent", cause_no_open_counter: "no counter open",
      cause_counters_closed: "some of the agency's counters closed", cause_surge: "a surge of arrivals",
      cause_long_service: "services longer than expected", cause_capacity: "too few counters for the demand",
      forecast_title: "Forecast of the coming 7 days", forecast_days: "Day forecast",
      none: "—", minutes: "{n} min", no_estimate: "none yet",
    },
  });

  const $ = (id) => document.getElementById(id);
  let report = null;
  let siteToday = null;  // the site's current day, as the server says (the first report's default period)
  let group = "agencies";
  let agencyFilter = "";
  const session = M.managerSession({
    roles: ["manager", "admin", "ops"], deniedText: () => M.t("not_manager"), onStart: start, onEnd: stop });
  const auth = session.auth;
  const logout = (message) => session.end(message);
  const base = `/api/v1/sites/${encodeURIComponent(site)}`;
  const locale = () => (M.language() === "vi" ? "vi-VN" : "en-GB");
  const decimal = (v) => new Intl.NumberFormat(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(v);
  const pct = (v) => (v === null || v === undefined ? M.t("none") : `${decimal(100 * v)} %`);
  const mins = (s) => (s === null || s === undefined ? M.t("none") : decimal(s / 60));
  const targetMin = () => Math.round(report.targets.transaction_wait_s / 60);
  const visitMin = () => Math.round(report.targets.visit_wait_s / 60);
  const named = (row) => (M.language() === "en" && row.name_en ? row.name_en : row.name || row.key);
  const shown = (day) => `${day.slice(8, 10)}/${day.slice(5, 7)}/${day.slice(0, 4)}`;  // dd/mm/yyyy, as people write it

  /** A date "YYYY-MM-DD" moved by days, or to the first day of its month (shift in months), in plain dates. */
  function shifted(day, { days = 0, monthStart = false, months = 0 } = {}) {
    const [y, m, d] = day.split("-").map(Number);
    const date = new Date(Date.UTC(y, m - 1 + months, monthStart ? 1 : d + days));
    return date.toISOString().slice(0, 10);
  }

  function presetRange(name) {
    const today = siteToday;
    if (name === "week") return [shifted(today, { days: -6 }), today];
    if (name === "month") return [shifted(today, { monthStart: true }), today];
    if (name === "last-month") {
      const first = shifted(today, { monthStart: true, months: -1 });
      return [first, shifted(shifted(today, { monthStart: true }), { days: -1 })];
    }
    return [today, today];
  }

  function renderPages() {
    $("pages").replaceChildren(...PAGES.map(([key, href]) => M.el("a", {
      href, text: M.t(key), "data-i18n": key, "aria-current": href === location.pathname ? "page" : null })));
  }

  function figure(label, value, note, level = "") {
    return M.el("div", { class: "figure", "data-level": level || null },
      M.el("p", { class: "figure-label", text: label }), M.el("p", { class: "figure-value", text: value }),
      M.el("p", { class: "figure-note", text: note }));
  }

  function renderSummary() {
    const r = report;
    const t = r.total;
    const siteName = M.language() === "en" && r.site_name_en ? r.site_name_en : r.site_name;
    $("summary-title").textContent = r.from === r.to ? M.t("summary_title_one", { site: siteName, from: shown(r.from) })
      : M.t("summary_title", { site: siteName, from: shown(r.from), to: shown(r.to) });
    document.title = `${M.t("title")} · ${siteName}`;
    $("summary-days").textContent = r.days.length ? M.t("days_with_data", { n: r.days.length }) : M.t("no_days");
    const breaches = r.breaches_by_cause.reduce((n, c) => n + c.count, 0);
    const sat = r.satisfaction_meets_target;
    $("figures").replaceChildren(
      figure(M.t("fig_visits"), String(r.visits), M.t("fig_visits_note", { abandoned: r.abandoned })),
      figure(M.t("fig_transactions"), String(t.transactions),
        M.t("fig_transactions_note", { no_shows: t.no_shows, transfers: t.transfers })),
      figure(M.t("fig_within", { m: targetMin() }), pct(t.within_transaction_target), "",
        t.within_transaction_target !== null && t.within_transaction_target < 1 ? "warn" : ""),
      figure(M.t("fig_within_visit", { m: visitMin() }), pct(r.visits_within_visit_target), ""),
      figure(M.t("fig_wait"), M.t("fig_wait_value", { p50: mins(t.wait_p50_s), p90: mins(t.wait_p90_s) }),
        M.t("fig_wait_note", { max: mins(t.wait_max_s) }),
        t.wait_p90_s !== null && t.wait_p90_s > r.targets.transaction_wait_s ? "bad" : ""),
      figure(M.t("fig_satisfaction"), pct(t.satisfaction), sat === null ? M.t("no_ratings")
        : M.t("fig_satisfaction_note", { met: M.t(sat ? "met" : "not_met"), target: pct(r.targets.satisfaction),
          ratings: t.ratings }), sat === false ? "bad" : ""),
      figure(M.t("fig_breaches"), String(breaches), M.t("fig_breaches_note"), breaches ? "bad" : ""),
    );
  }

  function rowsOfGroup() {
    const rows = report[group];
    if (!agencyFilter || !["procedures", "staff"].includes(group)) return rows;
    return rows.filter((r) => r.agency === agencyFilter);
  }

  function cell(text, cls = "") {
    return M.el("td", { class: cls || null, text: String(text) });
  }

  function renderGroupTable(rows) {
    const m = targetMin();
    const staff = group === "staff";
    const heads = [M.t(`col_${group}`), M.t("col_transactions"), M.t("col_wait"), M.t("col_within", { m }),
      M.t("col_service"), M.t("col_no_shows"), M.t("col_transfers"), M.t("col_satisfaction"),
      ...(staff ? [M.t("col_main_agency"), M.t("col_peers")] : [])];
    $("group-head").replaceChildren(M.el("tr", {}, ...heads.map((h) => M.el("th", { scope: "col", text: h }))));
    $("group-caption").textContent = M.t(`caption_${group}`);
    if (!rows.length) {
      $("group-rows").replaceChildren(M.el("tr", {}, M.el("td", { colspan: String(heads.length), text: M.t("no_rows") })));
      return;
    }
    const agencyName = (id) => {
      const a = report.agencies.find((x) => x.key === id);
      return a ? named(a) : id || M.t("none");
    };
    $("group-rows").replaceChildren(...rows.map((r) => M.el("tr", { "data-key": r.key },
      M.el("th", { scope: "row", text: named(r) }),
      cell(r.transactions, "num"),
      cell(`${mins(r.wait_p50_s)} / ${mins(r.wait_p90_s)} / ${mins(r.wait_max_s)}`,
        `num ${r.wait_p90_s !== null && r.wait_p90_s > report.targets.transaction_wait_s ? "bad-cell" : ""}`.trim()),
      cell(pct(r.within_transaction_target), "num"),
      cell(mins(r.service_p50_s), "num"),
      cell(r.no_shows, "num"), cell(r.transfers, "num"),
      cell(r.ratings ? `${pct(r.satisfaction)} (${r.ratings})` : M.t("none"), "num"),
      ...(staff ? [cell(agencyName(r.agency)),
        cell(`${mins(r.agency_service_p50_s)} / ${pct(r.agency_satisfaction)}`, "num")] : []))));
  }

  /** Horizontal bars of the p90 wait, one per row, on one scale with the target marked: readable in print too. */
  function renderBars(rows) {
    const m = targetMin();
    const withWait = rows.filter((r) => r.wait_p90_s !== null);
    const scope = M.t(`caption_${group}`).split(" (")[0].toLowerCase();
    $("bars-title").textContent = M.t("bars_title", { scope, m });
    $("bars").classList.toggle("hidden", !withWait.length);
    const top = Math.max(m, ...withWait.map((r) => r.wait_p90_s / 60)) * 1.05;
    const list = $("bars-list");
    list.replaceChildren(...withWait.map((r) => {
      const minutes = r.wait_p90_s / 60;
      const bar = M.el("span", { class: `bar ${minutes > m ? "over" : ""}`.trim() });
      bar.style.width = `${(100 * minutes) / top}%`;
      const track = M.el("span", { class: "bar-track" }, bar);
      const line = M.el("span", { class: "bar-target" });
      line.style.left = `${(100 * m) / top}%`;
      track.append(line);
      return M.el("li", { "data-key": r.key }, M.el("span", { class: "bar-label", text: named(r) }), track,
        M.el("span", { class: "bar-value", text: M.t("bar_value", { v: decimal(minutes) }) }));
    }));
  }

  function renderAgencyFilter() {
    const select = $("agency-filter");
    const options = [["", M.t("all_agencies")], ...report.agencies.map((a) => [a.key, named(a)])];
    select.replaceChildren(...options.map(([value, label]) => M.el("option", { value, text: label })));
    if (!options.some(([value]) => value === agencyFilter)) agencyFilter = "";
    select.value = agencyFilter;
    $("agency-filter-label").classList.toggle("hidden", !["procedures", "staff"].includes(group));
  }

  function renderGroups() {
    document.querySelectorAll("[data-group]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.group === group)));
    renderAgencyFilter();
    const rows = rowsOfGroup();
    renderBars(rows);
    renderGroupTable(rows);
  }

  function renderBreaches() {
    const causes = report.breaches_by_cause;
    $("breaches").replaceChildren(...(causes.length ? causes.map((c) => M.el("li", {
      text: M.t("breach_line", { cause: M.t(`cause_${c.cause}`),
        kind: M.t(`kind_${c.kind}`, { m: c.kind === "visit" ? visitMin() : targetMin() }), n: c.count }) }))
      : [M.el("li", { class: "calm", text: M.t("no_breaches") })]));
  }

  function render() {
    if (!report) return;
    renderSummary();
    ReportCharts.daily($("day-charts"), report.by_day, report.targets.transaction_wait_s);
    renderGroups();
    renderBreaches();
    AwayWaits.render($("away"), report.away || [], report.away_note, report.targets.transaction_wait_s);
  }

  function say(text) { $("status").textContent = text; }

  function showError(message) {
    $("error").textContent = message || "";
    $("error").classList.toggle("hidden", !message);
  }

  async function loadReport(from, to) {
    const query = from ? `?from=${from}&to=${to}` : "";
    say(M.t("loading"));
    try {
      report = (await M.api("GET", `${base}/reports${query}`, { headers: auth(), timeoutMs: 60000 })).data;
    } catch (err) {
      if (err.status === 401 || err.status === 403) { logout(err.status === 403 ? M.t("not_manager") : ""); return; }
      showError(err.message);
      return;
    }
    showError("");
    if (!siteToday) siteToday = report.to;
    $("from").value = report.from;
    $("to").value = report.to;
    render();
    say(M.t("loaded", { from: shown(report.from), to: shown(report.to) }));
    document.body.dataset.ready = "true";
  }

  async function loadForecast() {
    try {
      const forecast = (await M.api("GET", `${base}/forecast`, { headers: auth(), timeoutMs: 60000 })).data;
      ReportForecast.render(forecast, report ? report.targets.transaction_wait_s : 900);
    } catch (err) {
      if (err.status === 401 || err.status === 403) return;  // the report's load says so
      ReportForecast.failed(err.message);
    }
  }

  /** Fetch a file of the period with the token and save it under the name the server gives it. */
  async function download(format, button) {
    const path = `${base}/reports?from=${$("from").value}&to=${$("to").value}&format=${format}`;
    button.disabled = true;
    try {
      const response = await fetch(path, { headers: auth(), cache: "no-store" });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        throw new Error((body.error && body.error.message) || response.statusText);
      }
      const name = (/filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "") || [])[1]
        || `motcua-${site}.${format}`;
      const url = URL.createObjectURL(await response.blob());
      const link = M.el("a", { href: url, download: name, class: "hidden" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      say(M.t("downloaded", { name }));
    } catch (err) {
      showError(err.message);
    } finally {
      button.disabled = false;
    }
  }

  function start() {
    $("app").classList.remove("hidden");
    loadReport().then(loadForecast);
  }

  function stop() {
    report = null;
    $("app").classList.add("hidden");
    document.body.dataset.ready = "login";
  }

  $("period").addEventListener("submit", (e) => {
    e.preventDefault();
    if ($("to").value < $("from").value) [$("from").value, $("to").value] = [$("to").value, $("from").value];
    loadReport($("from").value, $("to").value);
  });
  document.querySelectorAll("[data-preset]").forEach((b) => b.addEventListener("click", () => {
    if (!siteToday) return;
    const [from, to] = presetRange(b.dataset.preset);
    loadReport(from, to);
  }));
  document.querySelectorAll("[data-download]").forEach((b) => b.addEventListener("click", () => download(b.dataset.download, b)));
  $("print").addEventListener("click", () => window.print());
  document.querySelectorAll("[data-group]").forEach((b) => b.addEventListener("click", () => {
    group = b.dataset.group;
    renderGroups();
  }));
  $("agency-filter").addEventListener("change", () => { agencyFilter = $("agency-filter").value; renderGroups(); });
  $("lang-button").addEventListener("click", () => {
    const next = M.language() === "vi" ? "en" : "vi";
    M.applyLanguage(next);
    $("lang-button").textContent = next === "vi" ? "English" : "Tiếng Việt";
    $("lang-button").setAttribute("lang", next === "vi" ? "en" : "vi");
    $("lang-button").setAttribute("aria-label", next === "vi" ? "English" : "Tiếng Việt");
    render();
    ReportForecast.rerender();
  });

  renderPages();
  M.applyLanguage("vi");
  session.resume();
})();
