/* The monitor's charts, drawn with uPlot (kiosk/static/vendor/uplot, served here: nothing from another origin)
   from GET /api/v1/sites/{site}/monitor/series. Every chart has a time axis on the site's clock, labelled axes
   and a caption that says the same in words; charts that are compared share one scale; the wait chart
   carries the 15-minute target as a labelled line. */
"use strict";

const MonitorCharts = (() => {
  const M = Motcua;
  M.addWords({
    vi: {
      axis_time: "Giờ", axis_people: "Số người", axis_minutes: "Phút",
      series_waiting: "Đang chờ", series_over: "Chờ quá {n} phút", series_wait: "Chờ khi được gọi (trung bình {bin} phút)",
      series_target: "Mục tiêu {n} phút", people_title: "{scope}: số người chờ",
      wait_title: "{scope}: thời gian chờ khi được gọi", whole_site: "Toàn trung tâm",
      caption_people: "Trục ngang: giờ, từ {from} đến {to}. Trục đứng: số người, từ 0 đến {max}. "
        + "Lúc {to}: {waiting} người chờ, {over} người quá {n} phút; nhiều nhất {peak} người lúc {peak_at}.",
      caption_wait: "Trục ngang: giờ, từ {from} đến {to}. Trục đứng: phút, từ 0 đến {max}; đường đứt nét là mục tiêu "
        + "{n} phút. {summary}",
      caption_wait_last: "Lần gọi gần nhất (khung {at}): chờ trung bình {minutes} phút.",
      caption_wait_none: "Chưa có ai được gọi hôm nay.",
      details: "Xem chi tiết", no_series: "Chưa có số liệu hôm nay.",
    },
    en: {
      axis_time: "Time", axis_people: "People", axis_minutes: "Minutes",
      series_waiting: "Waiting", series_over: "Waiting over {n} min", series_wait: "Wait when called (mean per {bin} min)",
      series_target: "Target {n} min", people_title: "{scope}: people waiting",
      wait_title: "{scope}: wait when called", whole_site: "Whole centre",
      caption_people: "Horizontal axis: time, from {from} to {to}. Vertical axis: people, 0 to {max}. "
        + "At {to}: {waiting} waiting, {over} over {n} min; most {peak} at {peak_at}.",
      caption_wait: "Horizontal axis: time, from {from} to {to}. Vertical axis: minutes, 0 to {max}; the dashed line is "
        + "the {n}-minute target. {summary}",
      caption_wait_last: "Latest calls (bin {at}): mean wait {minutes} min.",
      caption_wait_none: "Nobody has been called today.",
      details: "Details", no_series: "No figures yet today.",
    },
  });

  const COLOR = { waiting: "#2f6fb3", waitingFill: "rgba(47, 111, 179, 0.22)", over: "#a11b1b",
    overFill: "rgba(161, 27, 27, 0.35)", wait: "#111418", target: "#8a4b00", grid: "#d5dbe1", ink: "#111418" };
  const FONT = '13px "DejaVu Sans", "Noto Sans", Arial, sans-serif';
  const LABEL_FONT = 'bold 13px "DejaVu Sans", "Noto Sans", Arial, sans-serif';
  const live = [];  // [{plot, box, height}] drawn now, resized with their boxes

  /** The smallest round number at or above v (a scale's top that reads well). */
  function niceMax(v, least) {
    const want = Math.max(least, v);
    for (const step of [5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 90, 100, 120, 150, 200, 250, 300, 400, 500, 750, 1000]) {
      if (step >= want) return step;
    }
    return Math.ceil(want / 500) * 500;
  }

  function hhmm(epoch, timeZone) {
    const options = { hour: "2-digit", minute: "2-digit", hour12: false };
    try {
      return new Date(epoch * 1000).toLocaleTimeString("vi-VN", { ...options, timeZone });
    } catch (error) {
      return new Date(epoch * 1000).toLocaleTimeString("vi-VN", options);
    }
  }

  function number(v) {
    return new Intl.NumberFormat(M.language() === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: 1 }).format(v);
  }

  function destroyAll() {
    while (live.length) live.pop().plot.destroy();
  }

  /** A figure: heading, the plot's box, a caption in words; the axes' tick labels are kept on it (data-*). */
  function figure(title, kind, extra) {
    const box = M.el("div", { class: "chart-plot" });
    const caption = M.el("figcaption", { class: "chart-caption" });
    const fig = M.el("figure", { class: `chart ${kind}`, "data-chart": kind }, M.el("h3", { text: title }), extra || null,
      box, caption);
    return { fig, box, caption };
  }

  function axes(timeZone, yLabel, fig, yIncrs) {
    return [
      {
        label: M.t("axis_time"), labelFont: LABEL_FONT, font: FONT, stroke: COLOR.ink, labelSize: 22,
        grid: { stroke: COLOR.grid, width: 1 }, ticks: { stroke: COLOR.grid },
        incrs: [300, 600, 900, 1800, 3600, 7200, 10800],  // whole minutes: 5 min up to 3 h between ticks
        values: (u, splits) => {
          const labels = splits.map((s) => hhmm(s, timeZone));
          fig.dataset.xTicks = labels.join(" ");
          return labels;
        },
      },
      {
        label: yLabel, labelFont: LABEL_FONT, font: FONT, stroke: COLOR.ink, size: 48, labelSize: 22,
        grid: { stroke: COLOR.grid, width: 1 }, ticks: { stroke: COLOR.grid },
        ...(yIncrs ? { incrs: yIncrs } : {}),
        values: (u, splits) => {
          const labels = splits.map((s) => number(s));
          fig.dataset.yTicks = labels.join(" ");
          return labels;
        },
      },
    ];
  }

  /** Draw the target line's words on the canvas, above the line at the left of the plot. */
  function targetLabel(targetMin) {
    return (u) => {
      const y = u.valToPos(targetMin, "y", true);
      const ctx = u.ctx;
      ctx.save();
      ctx.font = `bold ${Math.round(13 * devicePixelRatio)}px "DejaVu Sans", Arial, sans-serif`;
      ctx.fillStyle = COLOR.target;
      ctx.textAlign = "left";  // uPlot leaves the last axis' alignment set
      ctx.textBaseline = "bottom";
      ctx.fillText(M.t("series_target", { n: targetMin }), u.bbox.left + 6 * devicePixelRatio, y - 3 * devicePixelRatio);
      ctx.restore();
    };
  }

  function plot(box, opts, data, height) {
    const width = Math.max(200, box.clientWidth || 300);
    const made = new uPlot({ ...opts, width, height }, data, box);
    live.push({ plot: made, box, height });
    return made;
  }

  const MIN_SPAN_S = 1800;  // early in the day the time axis still spans half an hour (empty before the first event)

  function xRange(series) {
    const t = series.t;
    const end = t[t.length - 1];
    return [Math.min(t[0], end - MIN_SPAN_S), end];
  }

  /** People in line and past the target over the day; yMax is given so compared charts share it. */
  function peopleChart(title, line, series, timeZone, yMax, { height = 220, legend = true, extra = null } = {}) {
    const targetMin = Math.round(series.target_s / 60);
    const { fig, box, caption } = figure(title, "people", extra);
    fig.dataset.yMax = String(yMax);
    const stepped = uPlot.paths.stepped({ align: 1 });
    const opts = {
      legend: { show: legend, live: false },
      cursor: { show: legend, drag: { x: false, y: false } },
      scales: { x: { time: true, range: xRange(series) }, y: { range: [0, yMax] } },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), timeZone),
      axes: axes(timeZone, M.t("axis_people"), fig, [1, 2, 5, 10, 20, 50, 100, 200, 500]),
      series: [
        {},
        { label: M.t("series_waiting"), stroke: COLOR.waiting, fill: COLOR.waitingFill, width: 2, paths: stepped,
          points: { show: false } },
        { label: M.t("series_over", { n: targetMin }), stroke: COLOR.over, fill: COLOR.overFill, width: 2,
          paths: stepped, points: { show: false } },
      ],
    };
    const t = series.t;
    const last = t.length - 1;
    const peak = line.waiting.reduce((best, v, i) => (v > line.waiting[best] ? i : best), 0);
    caption.textContent = M.t("caption_people", { from: hhmm(t[0], timeZone), to: hhmm(t[last], timeZone), max: yMax,
      waiting: line.waiting[last], over: line.waiting_over[last], n: targetMin, peak: line.waiting[peak],
      peak_at: hhmm(t[peak], timeZone) });
    return { fig, draw: () => plot(box, opts, [t, line.waiting, line.waiting_over], height) };
  }

  /** Mean wait of the calls per bin, in minutes, against the labelled target line; yMax shared. */
  function waitChart(title, line, series, timeZone, yMax, { height = 220 } = {}) {
    const targetMin = Math.round(series.target_s / 60);
    const { fig, box, caption } = figure(title, "wait");
    fig.dataset.yMax = String(yMax);
    const minutes = line.mean_wait_s.map((v) => (v === null ? null : Math.round(v / 6) / 10));
    const opts = {
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true, range: xRange(series) }, y: { range: [0, yMax] } },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), timeZone),
      axes: axes(timeZone, M.t("axis_minutes"), fig, [1, 2, 5, 10, 15, 30, 60, 120]),
      hooks: { draw: [targetLabel(targetMin)] },
      series: [
        {},
        { label: M.t("series_wait", { bin: Math.round(series.bin_s / 60) }), stroke: COLOR.wait, width: 2,
          spanGaps: false, points: { show: true, size: 6, fill: COLOR.wait } },
        { label: M.t("series_target", { n: targetMin }), stroke: COLOR.target, width: 2, dash: [8, 5],
          points: { show: false } },
      ],
    };
    const t = series.t;
    let lastAt = -1;
    minutes.forEach((v, i) => { if (v !== null) lastAt = i; });
    const summary = lastAt < 0 ? M.t("caption_wait_none")
      : M.t("caption_wait_last", { at: hhmm(t[lastAt], timeZone), minutes: number(minutes[lastAt]) });
    caption.textContent = M.t("caption_wait", { from: hhmm(t[0], timeZone), to: hhmm(t[t.length - 1], timeZone),
      max: yMax, n: targetMin, summary });
    return { fig, draw: () => plot(box, opts, [t, minutes, t.map(() => targetMin)], height) };
  }

  /**
   * Draw the scope's pair (people, wait) into `main` and one small chart per agency seen today into `multiples`.
   * agencies: the snapshot's agencies, worst first; scope: "" for the whole site or an agency id;
   * onScope(id) is called when a small chart's button asks for its agency.
   */
  function render({ main, multiples, series, agencies, scope, timeZone, onScope }) {
    destroyAll();
    if (!series || !series.t || !series.t.length) {
      main.replaceChildren(M.el("p", { class: "muted", text: M.t("no_series") }));
      multiples.replaceChildren();
      return;
    }
    const seen = agencies.filter((a) => {
      const line = series.agencies[a.id];
      return line && (line.waiting.some((n) => n > 0) || line.mean_wait_s.some((v) => v !== null));
    });
    // Compared charts share their scales: every agency's people on one, every wait (site's too) on one.
    const agencyPeak = Math.max(0, ...seen.map((a) => Math.max(...series.agencies[a.id].waiting)));
    const agencyMax = niceMax(agencyPeak, 5);
    const waits = [series.total, ...seen.map((a) => series.agencies[a.id])]
      .flatMap((line) => line.mean_wait_s.filter((v) => v !== null));
    const waitMax = niceMax(Math.max(0, ...waits) / 60, series.target_s / 60 + 5);
    const chosen = agencies.find((a) => a.id === scope);
    const line = chosen ? series.agencies[chosen.id] : series.total;
    const name = chosen ? M.named(chosen) : M.t("whole_site");
    const peopleMax = chosen ? agencyMax : niceMax(Math.max(...series.total.waiting), 5);
    const pair = [
      peopleChart(M.t("people_title", { scope: name }), line, series, timeZone, peopleMax),
      waitChart(M.t("wait_title", { scope: name }), line, series, timeZone, waitMax),
    ];
    main.replaceChildren(...pair.map((c) => c.fig));
    const small = seen.map((a) => {
      const button = M.el("button", { type: "button", class: "link", text: M.t("details"),
        "aria-label": `${M.t("details")}: ${M.named(a)}`, onclick: () => onScope(a.id) });
      const chart = peopleChart(M.named(a), series.agencies[a.id], series, timeZone, agencyMax,
        { height: 150, legend: false, extra: button });
      chart.fig.dataset.agency = a.id;
      return chart;
    });
    multiples.replaceChildren(...small.map((c) => c.fig));
    // Drawn once in the page, so each plot takes its box's width.
    for (const c of [...pair, ...small]) c.draw();
  }

  // Charts follow their boxes' widths (a window resized, a column reflowed).
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const { plot: p, box, height } of live) p.setSize({ width: Math.max(200, box.clientWidth), height });
    }, 150);
  });

  return { render, niceMax };
})();
