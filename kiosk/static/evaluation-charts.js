/* The monthly evaluation's charts, for a director at a glance (evaluation.js draws them from its JSON):
   the share satisfied per agency against the target line, the month day by day, and the reasons given at
   low ratings. Drawn as SVG by hand, with nothing loaded from elsewhere: vector shapes that print sharp at
   any paper width, labels as real text in the page's language (never markup), styles from evaluation.css
   (the pages' policy refuses inline ones). Each chart is a <figure> whose caption says what it shows in
   words, the picture being named by it (role="img"), and its figures stay in a table beside it. */
"use strict";

const EvaluationCharts = (() => {
  const M = Motcua;
  const NS = "http://www.w3.org/2000/svg";
  const WIDTH = 800;

  M.addWords({
    vi: {
      charts_title: "Biểu đồ của tháng",
      chart_agencies: "Tỷ lệ hài lòng theo lĩnh vực, so với mục tiêu",
      chart_trend: "Tỷ lệ hài lòng từng ngày trong tháng",
      chart_reasons: "Lý do khi đánh giá thấp",
      target_label: "Mục tiêu {target}", no_ratings_yet: "chưa có đánh giá",
      bar_text: "{share} ({sat}/{n})",
      caption_agencies: "Xếp từ thấp đến cao; đường đứt nét là mục tiêu {target}. {met}/{n} lĩnh vực có đánh giá "
        + "đạt mục tiêu. Thấp nhất: {lowest} {share} ({sat}/{ratings} đánh giá). Toàn trung tâm: {total}.",
      caption_agencies_none: "Chưa có đánh giá nào trong tháng.",
      legend_day: "Từng ngày", legend_month: "Lũy kế từ đầu tháng",
      axis_days: "Ngày trong tháng {month}",
      caption_trend: "Trục ngang: ngày 1 đến {last}. Trục đứng: tỷ lệ hài lòng từ {low} đến 100 %; đường đứt nét là "
        + "mục tiêu {target}. {days} ngày có đánh giá, {below} ngày dưới mục tiêu; thấp nhất ngày {worst_day}: "
        + "{worst}. Lũy kế đến ngày {last_day}: {cumulative}.",
      caption_trend_none: "Chưa có đánh giá nào trong tháng.",
      caption_reasons: "{total} lần chọn lý do khi đánh giá thấp (một đánh giá có thể có nhiều lý do). "
        + "Nhiều nhất: {top} ({count}, {share}).",
      caption_reasons_none: "Chưa có lý do nào được chọn trong tháng.",
      chart_data: "Số liệu của biểu đồ", col_day: "Ngày", col_ratings_n: "Đánh giá", col_satisfied_n: "Hài lòng",
      col_day_share: "Tỷ lệ trong ngày", col_month_share: "Lũy kế", col_reason: "Lý do", col_times: "Số lần",
      col_of_all: "Tỷ lệ",
    },
    en: {
      charts_title: "The month in charts",
      chart_agencies: "Share satisfied per agency, against the target",
      chart_trend: "Share satisfied day by day",
      chart_reasons: "Reasons given at low ratings",
      target_label: "Target {target}", no_ratings_yet: "no ratings yet",
      bar_text: "{share} ({sat}/{n})",
      caption_agencies: "Lowest first; the dashed line is the {target} target. {met} of {n} agencies with ratings "
        + "meet it. Lowest: {lowest} {share} ({sat}/{ratings} ratings). Whole centre: {total}.",
      caption_agencies_none: "No ratings this month yet.",
      legend_day: "Each day", legend_month: "Month to date",
      axis_days: "Day of {month}",
      caption_trend: "Horizontal axis: day 1 to {last}. Vertical axis: share satisfied from {low} to 100 %; the dashed "
        + "line is the {target} target. {days} days with ratings, {below} below the target; lowest on day "
        + "{worst_day}: {worst}. Month to date on day {last_day}: {cumulative}.",
      caption_trend_none: "No ratings this month yet.",
      caption_reasons: "Reasons chosen {total} times at low ratings (a rating may give several). "
        + "Most often: {top} ({count}, {share}).",
      caption_reasons_none: "No reasons were given this month.",
      chart_data: "The chart's figures", col_day: "Day", col_ratings_n: "Ratings", col_satisfied_n: "Satisfied",
      col_day_share: "That day", col_month_share: "Month to date", col_reason: "Reason", col_times: "Times",
      col_of_all: "Share",
    },
  });

  /** An SVG element; text only through textContent. */
  function svg(tag, attrs = {}, text = null) {
    const node = document.createElementNS(NS, tag);
    for (const [name, value] of Object.entries(attrs)) if (value !== null && value !== undefined) node.setAttribute(name, value);
    if (text !== null) node.textContent = text;
    return node;
  }

  let figures = 0;
  /** A figure: heading, the picture named by its caption, the caption in words, the figures as a table. */
  function figure(kind, title, caption, picture, table) {
    const id = `chart-${kind}-${++figures}`;
    const heading = M.el("h3", { id: `${id}-title`, text: title });
    if (picture) {
      picture.setAttribute("role", "img");
      picture.setAttribute("aria-labelledby", `${id}-title`);
      picture.setAttribute("aria-describedby", `${id}-caption`);
    }
    return M.el("figure", { class: "chart", "data-chart": kind }, heading, picture,
      M.el("figcaption", { id: `${id}-caption`, class: "chart-caption", text: caption }),
      table ? M.el("details", { class: "chart-data" }, M.el("summary", { text: M.t("chart_data") }), table) : null);
  }

  function table(head, rows) {
    return M.el("table", {}, M.el("thead", {}, M.el("tr", {}, ...head.map((h) => M.el("th", { scope: "col", text: h })))),
      M.el("tbody", {}, ...rows.map((row) => M.el("tr", {}, ...row.map((v, i) => M.el("td", { class: i ? "num" : null,
        text: String(v) }))))));
  }

  /** Horizontal bars, each under its label (long agency names need the width); `scale` from 0 to 1.
      rows: [{label, value (0..1 or null), text, cls, strong}]; ticks: [{at, label}]; target: {at, label} or null. */
  function bars(rows, ticks, target) {
    const left = 24; const right = WIDTH - 150; const top = target ? 28 : 8; const row = 46; const bottom = 26;
    const height = top + rows.length * row + bottom;
    const x = (v) => left + v * (right - left);
    const out = svg("svg", { viewBox: `0 0 ${WIDTH} ${height}`, class: "chart-svg bars" });
    for (const tick of ticks) {
      out.append(svg("line", { x1: x(tick.at), x2: x(tick.at), y1: top - 4, y2: height - bottom, class: "grid" }),
        svg("text", { x: x(tick.at), y: height - 8, "text-anchor": "middle", class: "tick" }, tick.label));
    }
    rows.forEach((r, i) => {
      const y = top + i * row;
      out.append(svg("text", { x: left - 16, y: y + 15, class: r.strong ? "label strong" : "label" }, r.label));
      if (r.strong) out.append(svg("line", { x1: left - 16, x2: WIDTH - 8, y1: y + row - 3, y2: y + row - 3, class: "rule" }));
      if (r.value === null) {
        out.append(svg("text", { x: left - 16, y: y + 34, class: "value muted" }, r.text));
        return;
      }
      const end = x(r.value);
      out.append(svg("rect", { x: left, y: y + 21, width: Math.max(1, end - left), height: 16, class: `bar ${r.cls}` }));
      out.append(svg("text", { x: end + 6, y: y + 34, class: "value" }, r.text));
    });
    if (target) {
      out.append(svg("line", { x1: x(target.at), x2: x(target.at), y1: top - 6, y2: height - bottom, class: "target" }),
        svg("text", { x: x(target.at), y: 16, "text-anchor": "end", class: "target-label" }, target.label));
    }
    return out;
  }

  const round = (pct) => (v) => pct(v).replace(/[.,]0 %$/, " %");  // a scale's "80 %", not "80,0 %"
  const percentTicks = (pct) => [0, 0.25, 0.5, 0.75, 1].map((at) => ({ at, label: round(pct)(at) }));

  function agencies(body, { pct, agencyName }) {
    const target = body.definitions.satisfaction_target;
    const rated = body.agencies.filter((a) => a.ratings > 0).sort((a, b) => a.share_satisfied - b.share_satisfied
      || b.ratings - a.ratings);
    const unrated = body.agencies.filter((a) => a.ratings === 0);
    const total = body.total;
    if (!total.ratings) return figure("agencies", M.t("chart_agencies"), M.t("caption_agencies_none"), null, null);
    const row = (name, share, sat, n, strong) => ({
      label: name, value: share, strong, cls: share >= target ? "met" : "missed",
      text: M.t("bar_text", { share: pct(share), sat, n }) });
    const rows = [row(M.t("centre"), total.share_satisfied, total.satisfied, total.ratings, true),
      ...rated.map((a) => row(agencyName(a.agency), a.share_satisfied, a.satisfied, a.ratings, false)),
      ...unrated.map((a) => ({ label: agencyName(a.agency), value: null, text: M.t("no_ratings_yet") }))];
    const lowest = rated[0];
    const caption = M.t("caption_agencies", { target: pct(target), n: rated.length,
      met: rated.filter((a) => a.share_satisfied >= target).length, lowest: agencyName(lowest.agency),
      share: pct(lowest.share_satisfied), sat: lowest.satisfied, ratings: lowest.ratings, total: pct(total.share_satisfied) });
    const picture = bars(rows, percentTicks(pct), { at: target, label: M.t("target_label", { target: pct(target) }) });
    return figure("agencies", M.t("chart_agencies"), caption, picture, null);  // the agencies' table is below
  }

  /** The month to date after each day with ratings. */
  function cumulative(byDay) {
    let sat = 0; let n = 0;
    return byDay.map((d) => { sat += d.satisfied; n += d.ratings; return n ? sat / n : null; });
  }

  function trend(body, { pct }) {
    const target = body.definitions.satisfaction_target;
    const days = body.by_day.filter((d) => d.ratings > 0);
    if (!days.length) return figure("trend", M.t("chart_trend"), M.t("caption_trend_none"), null, null);
    const [year, month] = body.month.split("-").map(Number);
    const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
    const dayOf = (d) => Number(d.day.slice(8, 10));
    const month2 = cumulative(days);
    const least = Math.min(target, ...days.map((d) => d.share_satisfied), ...month2);
    const low = Math.max(0, Math.floor((least - 0.05) * 10) / 10);  // a round floor under everything drawn
    const step = 1 - low <= 0.2 ? 0.05 : 0.1;
    const left = 64; const right = WIDTH - 16; const top = 34; const bottom = 48; const height = 330;
    const x = (day) => left + (last > 1 ? (day - 1) / (last - 1) : 0.5) * (right - left);
    const y = (v) => top + (1 - (v - low) / (1 - low)) * (height - top - bottom);
    const out = svg("svg", { viewBox: `0 0 ${WIDTH} ${height}`, class: "chart-svg trend" });
    for (let v = low; v <= 1.0001; v += step) {
      out.append(svg("line", { x1: left, x2: right, y1: y(v), y2: y(v), class: "grid" }),
        svg("text", { x: left - 8, y: y(v) + 5, "text-anchor": "end", class: "tick" }, round(pct)(v)));
    }
    for (const day of [1, 5, 10, 15, 20, 25, last].filter((d, i, all) => d <= last && all.indexOf(d) === i
        && !(d !== last && last - d < 3))) {
      out.append(svg("line", { x1: x(day), x2: x(day), y1: height - bottom, y2: height - bottom + 5, class: "axis" }),
        svg("text", { x: x(day), y: height - bottom + 20, "text-anchor": "middle", class: "tick" }, String(day)));
    }
    out.append(svg("line", { x1: left, x2: right, y1: height - bottom, y2: height - bottom, class: "axis" }),
      svg("text", { x: (left + right) / 2, y: height - 6, "text-anchor": "middle", class: "axis-title" },
        M.t("axis_days", { month: `${String(month).padStart(2, "0")}/${year}` })));
    out.append(svg("line", { x1: left, x2: right, y1: y(target), y2: y(target), class: "target" }),
      svg("text", { x: right, y: y(target) - 6, "text-anchor": "end", class: "target-label" },
        M.t("target_label", { target: pct(target) })));
    const points = (values) => days.map((d, i) => `${x(dayOf(d)).toFixed(1)},${y(values[i]).toFixed(1)}`).join(" ");
    out.append(svg("polyline", { points: points(days.map((d) => d.share_satisfied)), class: "day-line" }),
      svg("polyline", { points: points(month2), class: "month-line" }));
    days.forEach((d) => out.append(svg("circle", { cx: x(dayOf(d)), cy: y(d.share_satisfied), r: 5,
      class: `day-point ${d.share_satisfied >= target ? "met" : "missed"}` })));
    // the legend, in the free band over the plot
    out.append(svg("circle", { cx: left + 8, cy: 14, r: 5, class: "day-point met" }),
      svg("text", { x: left + 20, y: 19, class: "legend" }, M.t("legend_day")),
      svg("line", { x1: left + 180, x2: left + 210, y1: 14, y2: 14, class: "month-line" }),
      svg("text", { x: left + 218, y: 19, class: "legend" }, M.t("legend_month")));
    const worst = days.reduce((a, b) => (b.share_satisfied < a.share_satisfied ? b : a));
    const caption = M.t("caption_trend", { last, low: round(pct)(low), target: pct(target), days: days.length,
      below: days.filter((d) => d.share_satisfied < target).length, worst_day: dayOf(worst),
      worst: pct(worst.share_satisfied), last_day: dayOf(days[days.length - 1]), cumulative: pct(month2[month2.length - 1]) });
    const data = table([M.t("col_day"), M.t("col_ratings_n"), M.t("col_satisfied_n"), M.t("col_day_share"),
      M.t("col_month_share")], days.map((d, i) => [d.day, d.ratings, d.satisfied, pct(d.share_satisfied), pct(month2[i])]));
    return figure("trend", M.t("chart_trend"), caption, out, data);
  }

  function reasons(body, { pct }) {
    const entries = Object.entries(body.reasons);
    if (!entries.length) return figure("reasons", M.t("chart_reasons"), M.t("caption_reasons_none"), null, null);
    const name = (code) => {
      const known = body.reason_names[code];
      return known ? (M.language() === "vi" ? known.name : known.name_en) : code;
    };
    const total = entries.reduce((sum, [, n]) => sum + n, 0);
    const most = entries[0][1];
    const rows = entries.map(([code, n]) => ({ label: name(code), value: n / most, cls: "reason",
      text: `${n} (${pct(n / total)})` }));
    const ticks = [0, 0.5, 1].map((at) => ({ at, label: String(Math.round(at * most)) }))
      .filter((tick, i, all) => all.findIndex((o) => o.label === tick.label) === i);
    const caption = M.t("caption_reasons", { total, top: name(entries[0][0]), count: most, share: pct(most / total) });
    const data = table([M.t("col_reason"), M.t("col_times"), M.t("col_of_all")],
      entries.map(([code, n]) => [name(code), n, pct(n / total)]));
    return figure("reasons", M.t("chart_reasons"), caption, bars(rows, ticks, null), data);
  }

  /** Draw the month's charts into `box`; `helpers`: {pct, agencyName} of the page (its number words). */
  function draw(box, body, helpers) {
    box.replaceChildren(agencies(body, helpers), trend(body, helpers), reasons(body, helpers));
  }

  return { draw };
})();
