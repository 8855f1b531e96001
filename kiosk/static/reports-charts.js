/* The reports page's charts of the period, day by day (uPlot, served from /ui/vendor/uplot/): transactions
   served each day, and each day's 90th percentile wait against the target line. Each chart has labelled
   axes with dates and a caption that says the same in words; a period of one day has a sentence instead. */
"use strict";

const ReportCharts = (() => {
  const M = Motcua;
  M.addWords({
    vi: {
      axis_day: "Ngày", axis_count: "Giao dịch", axis_minutes: "Phút",
      series_transactions: "Giao dịch mỗi ngày", series_p90: "Chờ p90", series_target: "Mục tiêu {n} phút",
      chart_transactions: "Giao dịch đã phục vụ mỗi ngày", chart_p90: "Thời gian chờ p90 mỗi ngày",
      caption_transactions: "Trục ngang: ngày, từ {from} đến {to}. Trục đứng: số giao dịch. "
        + "Nhiều nhất {max} ngày {max_day}, ít nhất {min} ngày {min_day}.",
      caption_p90: "Trục ngang: ngày. Trục đứng: phút; đường đứt nét là mục tiêu {n} phút. "
        + "{over} trong {days} ngày có p90 quá mục tiêu.",
      one_day: "Chọn một khoảng nhiều ngày để xem diễn biến theo ngày.",
    },
    en: {
      axis_day: "Day", axis_count: "Transactions", axis_minutes: "Minutes",
      series_transactions: "Transactions a day", series_p90: "90th percentile wait", series_target: "Target {n} min",
      chart_transactions: "Transactions served each day", chart_p90: "90th percentile wait each day",
      caption_transactions: "Horizontal axis: day, from {from} to {to}. Vertical axis: transactions. "
        + "Most {max} on {max_day}, fewest {min} on {min_day}.",
      caption_p90: "Horizontal axis: day. Vertical axis: minutes; the dashed line is the {n}-minute target. "
        + "{over} of {days} days had a 90th percentile past the target.",
      one_day: "Choose a period of several days to see it day by day.",
    },
  });

  const COLOR = { bar: "#2f6fb3", barFill: "rgba(47, 111, 179, 0.55)", line: "#111418", target: "#8a4b00",
    grid: "#d5dbe1", ink: "#111418" };
  const FONT = '13px "DejaVu Sans", "Noto Sans", Arial, sans-serif';
  const LABEL_FONT = 'bold 13px "DejaVu Sans", "Noto Sans", Arial, sans-serif';
  const DAY_S = 86400;
  const live = [];

  // Days are plain dates: drawn at UTC midnight and read back in UTC, so no clock zone shifts them.
  const epoch = (day) => Date.parse(`${day}T00:00:00Z`) / 1000;
  const label = (s) => {
    const d = new Date(s * 1000);
    return `${String(d.getUTCDate()).padStart(2, "0")}/${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
  };

  function axes(yLabel, fig) {
    return [
      { label: M.t("axis_day"), labelFont: LABEL_FONT, font: FONT, stroke: COLOR.ink, labelSize: 22,
        grid: { stroke: COLOR.grid, width: 1 }, ticks: { stroke: COLOR.grid }, incrs: [DAY_S, 2 * DAY_S, 7 * DAY_S, 14 * DAY_S, 28 * DAY_S],
        values: (u, splits) => { const out = splits.map(label); fig.dataset.xTicks = out.join(" "); return out; } },
      { label: yLabel, labelFont: LABEL_FONT, font: FONT, stroke: COLOR.ink, size: 48, labelSize: 22,
        grid: { stroke: COLOR.grid, width: 1 }, ticks: { stroke: COLOR.grid },
        values: (u, splits) => { const out = splits.map((v) => String(v)); fig.dataset.yTicks = out.join(" "); return out; } },
    ];
  }

  function figure(title, kind) {
    const box = M.el("div", { class: "chart-plot" });
    const caption = M.el("figcaption", { class: "chart-caption" });
    const fig = M.el("figure", { class: "chart", "data-chart": kind }, M.el("h3", { text: title }), box, caption);
    return { fig, box, caption };
  }

  function draw(box, opts, data, height = 220) {
    const plot = new uPlot({ ...opts, width: Math.max(240, box.clientWidth || 320), height }, data, box);
    live.push({ plot, box, height });
  }

  function destroyAll() {
    while (live.length) live.pop().plot.destroy();
  }

  /** Draw the days of `byDay` (the report's by_day) into `box`. */
  function daily(box, byDay, targetS) {
    destroyAll();
    if (byDay.length < 2) {
      box.replaceChildren(M.el("p", { class: "muted", text: M.t("one_day") }));
      return;
    }
    const targetMin = Math.round(targetS / 60);
    const t = byDay.map((d) => epoch(d.day));
    const range = [t[0] - DAY_S / 2, t[t.length - 1] + DAY_S / 2];
    const counts = byDay.map((d) => d.transactions);
    const p90 = byDay.map((d) => (d.wait_p90_s === null ? null : Math.round(d.wait_p90_s / 6) / 10));

    const tx = figure(M.t("chart_transactions"), "transactions");
    const most = counts.indexOf(Math.max(...counts));
    const fewest = counts.indexOf(Math.min(...counts));
    tx.caption.textContent = M.t("caption_transactions", { from: label(t[0]), to: label(t[t.length - 1]),
      max: counts[most], max_day: label(t[most]), min: counts[fewest], min_day: label(t[fewest]) });
    const bars = uPlot.paths.bars({ size: [0.6, 60] });
    const txOpts = {
      legend: { show: true, live: false }, cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false, range }, y: { range: (u, lo, hi) => [0, Math.max(5, Math.ceil(hi * 1.1))] } },
      axes: axes(M.t("axis_count"), tx.fig),
      series: [{}, { label: M.t("series_transactions"), stroke: COLOR.bar, fill: COLOR.barFill, paths: bars,
        points: { show: false } }],
    };

    const wait = figure(M.t("chart_p90"), "p90");
    const over = p90.filter((v) => v !== null && v > targetMin).length;
    wait.caption.textContent = M.t("caption_p90", { n: targetMin, over, days: byDay.length });
    const top = Math.max(targetMin + 5, ...p90.filter((v) => v !== null)) * 1.1;
    const waitOpts = {
      legend: { show: true, live: false }, cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false, range }, y: { range: [0, Math.ceil(top)] } },
      axes: axes(M.t("axis_minutes"), wait.fig),
      series: [{},
        { label: M.t("series_p90"), stroke: COLOR.line, width: 2, points: { show: true, size: 7, fill: COLOR.line } },
        { label: M.t("series_target", { n: targetMin }), stroke: COLOR.target, width: 2, dash: [8, 5], points: { show: false } }],
    };
    box.replaceChildren(tx.fig, wait.fig);
    draw(tx.box, txOpts, [t, counts]);
    draw(wait.box, waitOpts, [t, p90, t.map(() => targetMin)]);
  }

  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const { plot, box, height } of live) plot.setSize({ width: Math.max(240, box.clientWidth), height });
    }, 150);
  });

  return { daily };
})();
