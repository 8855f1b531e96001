/* The managers' monthly evaluation (/evaluation/SITE): staff ranked by the share satisfied adjusted toward
   their agency's mean, each rank explained; agencies; the province's satisfaction table; the month's charts
   (evaluation-charts.js); Excel and CSV; a printed copy. Log-in is the monitor's (the same token in this tab). Everything is drawn as text (textContent). */
"use strict";

(() => {
  const M = Motcua;
  const { t, el, api } = M;
  const $ = (id) => document.getElementById(id);
  const site = decodeURIComponent(location.pathname.split("/")[2] || "");
  const base = `/api/v1/sites/${encodeURIComponent(site)}`;
  let body = null;

  M.addWords({  // evaluation-charts.js brought its own
    vi: {
      not_manager: "Tài khoản này không được xem đánh giá",
      title: "Đánh giá chất lượng phục vụ", monitor: "Giám sát", reports: "Báo cáo", feedback: "Phản ánh", logout: "Đăng xuất",
      login_title: "Đăng nhập quản lý", user: "Tài khoản", secret: "Mật khẩu", login: "Đăng nhập",
      month: "Tháng", download_xlsx: "Tải Excel (.xlsx)", print: "In",
      download_csv: "Tải CSV", downloaded: "Đã tải {name}", loading: "Đang tính…",
      loaded: "Tháng {month}: {days} ngày có dữ liệu", total_title: "Toàn trung tâm", staff_title: "Cán bộ, xếp hạng",
      agencies_title: "Lĩnh vực", province_title: "Báo cáo tỉnh: tỷ lệ hài lòng theo lĩnh vực và tháng",
      empty: "Chưa có dữ liệu trong tháng này.",
      total: "Hài lòng {share} ({sat}/{n} đánh giá), mục tiêu {target}: {verdict}. Phục vụ {served} lượt. {complaints}",
      met: "đạt", not_met: "chưa đạt", no_verdict: "chưa có đánh giá",
      complaints: "Phản ánh có cơ sở: {upheld}/{n}.",
      definition: "Hài lòng = {satisfied}. Tỷ lệ hài lòng = số đánh giá hài lòng / tổng số đánh giá.",
      rank_rule: "Xếp hạng theo tỷ lệ điều chỉnh: (số hài lòng + {w} × tỷ lệ của lĩnh vực) / (số đánh giá + {w}); "
        + "người có ít đánh giá được kéo về mức trung bình của lĩnh vực, nên luôn xem số đánh giá bên cạnh. "
        + "Bằng nhau thì ít phản ánh có cơ sở hơn, rồi phục vụ nhiều hơn đứng trước. Các cột khác để so sánh "
        + "với lĩnh vực, không làm thay đổi thứ hạng.",
      col_rank: "Hạng", col_staff: "Cán bộ", col_agency: "Lĩnh vực", col_served: "Phục vụ", col_ratings: "Đánh giá",
      col_share: "Hài lòng", col_adjusted: "Điều chỉnh", col_complaints: "Phản ánh có cơ sở",
      col_service: "Phục vụ trung vị (lĩnh vực)", col_no_shows: "Vắng mặt (lĩnh vực)",
      col_breaches: "Trễ hạn do quầy", col_service_only: "Phục vụ trung vị",
      col_no_shows_only: "Vắng mặt", col_breaches_all: "Trễ hạn", col_reasons: "Lý do khi đánh giá thấp",
      col_month: "Tháng", col_satisfied: "Hài lòng (lượt)", why: "Vì sao hạng {rank}?", centre: "Toàn trung tâm",
      in_agency: "{rank} trong lĩnh vực", minutes: "{m} phút",
    },
    en: {
      not_manager: "This account may not read the evaluation",
      title: "Service quality evaluation", monitor: "Monitor", reports: "Reports", feedback: "Feedback", logout: "Log out",
      login_title: "Manager login", user: "User", secret: "Password", login: "Log in",
      month: "Month", download_xlsx: "Download Excel (.xlsx)", print: "Print",
      download_csv: "Download CSV", downloaded: "Downloaded {name}", loading: "Computing…",
      loaded: "{month}: {days} days with data", total_title: "The whole centre", staff_title: "Staff, ranked",
      agencies_title: "Agencies", province_title: "For the province: share satisfied per agency and month",
      empty: "No data this month yet.",
      total: "Satisfied {share} ({sat}/{n} ratings), target {target}: {verdict}. Served {served}. {complaints}",
      met: "met", not_met: "not met", no_verdict: "no ratings yet",
      complaints: "Complaints upheld: {upheld}/{n}.",
      definition: "Satisfied = {satisfied}. Share satisfied = satisfied ratings / all ratings.",
      rank_rule: "Ranked by the adjusted share: (satisfied + {w} × the agency's share) / (ratings + {w}); "
        + "someone with few ratings is pulled toward the agency's mean, so always read the number of ratings "
        + "beside it. Ties: fewer complaints upheld, then more served, first. The other columns compare with "
        + "the agency and do not move the rank.",
      col_rank: "Rank", col_staff: "Staff member", col_agency: "Agency", col_served: "Served", col_ratings: "Ratings",
      col_share: "Satisfied", col_adjusted: "Adjusted", col_complaints: "Complaints upheld",
      col_service: "Median service (agency)", col_no_shows: "No-shows (agency)",
      col_breaches: "Breaches by counter", col_service_only: "Median service",
      col_no_shows_only: "No-shows", col_breaches_all: "Breaches", col_reasons: "Reasons at low ratings",
      col_month: "Month", col_satisfied: "Satisfied (ratings)", why: "Why rank {rank}?", centre: "Whole centre",
      in_agency: "{rank} in agency", minutes: "{m} min",
    },
  });

  const session = M.managerSession({
    roles: ["manager", "admin"], deniedText: () => t("not_manager"), onStart: start, onEnd: stop });
  const auth = session.auth;
  const logout = () => session.end("");
  const vi = () => M.language() === "vi";
  const pct = (v) => (v === null || v === undefined ? "—"
    : `${(100 * v).toFixed(1).replace(".", vi() ? "," : ".")} %`);
  const mins = (s) => (s === null || s === undefined ? "—"
    : t("minutes", { m: (s / 60).toFixed(1).replace(".", vi() ? "," : ".") }));
  const cell = (text, cls) => el("td", { class: cls || null, text: String(text) });
  const agencyName = (id) => {
    const row = body.agencies.find((a) => a.agency === id);
    return row ? (vi() ? row.name : row.name_en) : (id || "—");
  };
  const reasonText = (reasons) => Object.entries(reasons).map(([code, n]) => {
    const name = body.reason_names[code];
    return `${name ? (vi() ? name.name : name.name_en) : code} (${n})`;
  }).join(", ") || "—";

  function fail(error) {
    if (error.status === 401) { logout(); return; }
    $("error").textContent = M.errorText(error);
    $("error").classList.remove("hidden");
  }

  /** A staff member's figures, and under them a full-width row with why they are at their rank. */
  function staffRows(row, open) {
    const target = body.definitions.satisfaction_target;
    const why = el("details", { open: open.has(row.staff) }, el("summary", { text: t("why", { rank: row.rank }) }),
      el("ul", {}, ...row.why.map((w) => el("li", { text: vi() ? w.vi : w.en }))));
    return [el("tr", { "data-staff": row.staff },
      cell(row.rank, "num"), cell(row.staff), el("td", { class: "agency" }, agencyName(row.agency),
        el("small", { class: "muted", text: ` (${t("in_agency", { rank: row.rank_in_agency })})` })),
      cell(row.served, "num"), cell(row.ratings, "num"),
      cell(pct(row.share_satisfied), "num" + (row.share_satisfied !== null && row.share_satisfied < target ? " low" : "")),
      cell(pct(row.adjusted), "num"),
      cell(`${row.complaints_upheld}/${row.complaints}`, "num"),
      cell(`${mins(row.service_p50_s)} (${mins(row.agency_service_p50_s)})`, "num"),
      cell(`${pct(row.no_show_share)} (${pct(row.agency_no_show_share)})`, "num"),
      cell(row.breaches, "num")),
    el("tr", { class: "why", "data-why-for": row.staff }, el("td", { colspan: "11" }, why))];
  }

  function draw() {
    if (!body) return;
    const total = body.total;
    const verdict = total.meets_target === null ? t("no_verdict") : t(total.meets_target ? "met" : "not_met");
    $("total").textContent = t("total", {
      share: pct(total.share_satisfied), sat: total.satisfied, n: total.ratings,
      target: pct(body.definitions.satisfaction_target), verdict, served: total.served,
      complaints: t("complaints", { upheld: total.complaints_upheld, n: total.complaints }),
    });
    $("total").className = "figure " + (total.meets_target === false ? "missed" : total.meets_target ? "met" : "");
    const [satVi, satEn] = body.definitions.satisfied.split(" / ");
    $("definition").textContent = t("definition", { satisfied: vi() ? satVi : satEn });
    $("rank-rule").textContent = t("rank_rule", { w: body.definitions.prior_ratings });
    $("status").textContent = t("loaded", { month: body.month, days: body.days.length });
    const open = new Set([...$("staff").querySelectorAll("tr[data-why-for] details[open]")]  // kept open on a redraw
      .map((node) => node.closest("tr").dataset.whyFor));
    $("staff").tBodies[0].replaceChildren(...body.staff.flatMap((row) => staffRows(row, open)));
    $("staff-empty").classList.toggle("hidden", body.staff.length > 0);
    $("agencies").tBodies[0].replaceChildren(...body.agencies.map((a) => el("tr", { "data-agency": a.agency },
      cell(vi() ? a.name : a.name_en), cell(a.served, "num"), cell(a.ratings, "num"),
      cell(pct(a.share_satisfied), "num" + (a.meets_target === false ? " low" : "")),
      cell(`${a.complaints_upheld}/${a.complaints}`, "num"),
      cell(mins(a.service_p50_s), "num"), cell(pct(a.no_show_share), "num"), cell(a.breaches, "num"),
      cell(reasonText(a.reasons)))));
    EvaluationCharts.draw($("charts"), body, { pct, agencyName });
    $("province").tBodies[0].replaceChildren(...body.province.map((p) => el("tr", {},
      cell(p.month), cell(p.agency ? agencyName(p.agency) : t("centre")), cell(p.ratings, "num"),
      cell(p.satisfied, "num"), cell(pct(p.share_satisfied), "num"))));
  }

  async function load() {
    $("status").textContent = t("loading");
    try {
      const month = $("month").value;  // none at first: the site's own month (its clock, not this browser's)
      const { data } = await api("GET", `${base}/evaluation${month ? `?month=${encodeURIComponent(month)}` : ""}`,
        { headers: auth(), timeoutMs: 30000 });
      body = data;
      $("month").value = data.month;
      $("error").classList.add("hidden");
      draw();
    } catch (error) { fail(error); }
    document.body.dataset.ready = "true";
  }

  /** Fetch the month's file with the token and save it under the name the server gives it. */
  async function download(format, button) {
    button.disabled = true;
    try {
      const response = await fetch(`${base}/evaluation?month=${encodeURIComponent($("month").value)}&format=${format}`,
        { headers: auth(), cache: "no-store" });
      if (!response.ok) {
        const answer = await response.json().catch(() => ({}));
        const err = answer.error || {};
        throw new M.ApiError(response.status, err.code || `http_${response.status}`, err.message || response.statusText);
      }
      const name = (/filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "") || [])[1]
        || `motcua-${site}.${format}`;
      const url = URL.createObjectURL(await response.blob());
      const link = el("a", { href: url, download: name, class: "hidden" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      $("status").textContent = t("downloaded", { name });
    } catch (error) { fail(error); } finally { button.disabled = false; }
  }

  function stop() {
    $("content").classList.add("hidden");
    document.body.dataset.ready = "true";
  }

  function start() {
    $("content").classList.remove("hidden");
    load();
  }

  $("month").addEventListener("change", () => { if ($("month").value) load(); });
  $("xlsx").addEventListener("click", (event) => download("xlsx", event.currentTarget));
  $("csv").addEventListener("click", (event) => download("csv", event.currentTarget));
  $("print").addEventListener("click", () => window.print());
  $("lang-button").addEventListener("click", () => {
    M.applyLanguage(vi() ? "en" : "vi");
    $("lang-button").textContent = vi() ? "English" : "Tiếng Việt";
    $("lang-button").setAttribute("lang", vi() ? "en" : "vi");
    draw();
  });
  $("monitor-link").href = `/monitor/${encodeURIComponent(site)}`;
  $("feedback-link").href = `/feedback/${encodeURIComponent(site)}`;
  $("reports-link").href = `/reports/${encodeURIComponent(site)}`;
  const chosen = new URLSearchParams(location.search).get("month");
  if (chosen && /^\d{4}-\d{2}$/.test(chosen)) $("month").value = chosen;
  M.applyLanguage("vi");
  session.resume();
})();
