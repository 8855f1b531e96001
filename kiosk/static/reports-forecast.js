/* The reports page's forecast of the coming week (GET /api/v1/sites/{site}/forecast): what it rests on (the
   days of history, and which), its error on held-out days, and for a chosen day the counters each agency
   needs per half hour beside the arrivals expected and the appointments already booked. With no history
   it says so and shows only the bookings, never a made-up zero. */
"use strict";

const ReportForecast = (() => {
  const M = Motcua;
  M.addWords({
    vi: {
      weekday_0: "Thứ Hai", weekday_1: "Thứ Ba", weekday_2: "Thứ Tư", weekday_3: "Thứ Năm", weekday_4: "Thứ Sáu",
      weekday_5: "Thứ Bảy", weekday_6: "Chủ Nhật",
      fc_based_on: "Dựa trên", fc_history: "{n} ngày có người đến trong nhật ký, từ {from} đến {to} (không kể hôm nay)",
      fc_no_history: "chưa có ngày nào có người đến trong nhật ký (không kể hôm nay)",
      fc_method: "Cách tính", fc_method_text: "trung bình cùng thứ trong tuần và cùng nửa giờ của các tuần gần đây; "
        + "lịch hẹn tính theo số đã đặt (hoặc mức thường có, nếu nhiều hơn); số quầy theo Erlang C để gọi {level} số người trong {m} phút",
      fc_error: "Sai số", fc_error_text: "thử trên {n} ngày gần nhất ({from} – {to}): lệch {day} theo cả ngày mỗi lĩnh vực, "
        + "{slot} theo từng nửa giờ (trung bình {mae} người mỗi nửa giờ)",
      fc_day_basis_same_weekday: "dựa trên {n} {weekday} gần nhất ({days})",
      fc_day_basis_all_weekdays: "chưa có {weekday} nào: dựa trên {n} ngày gần nhất",
      fc_day_basis_none: "chưa có dữ liệu để dự báo: chỉ có lịch hẹn đã đặt",
      fc_day_basis_closed: "trung tâm nghỉ",
      fc_day_button: "{weekday} {date}", fc_day_people: "khoảng {n} người", fc_day_booked: "{n} lịch hẹn",
      fc_day_closed: "nghỉ", fc_day_unknown: "chưa dự báo được",
      fc_caption: "{weekday} {date}: {basis}", fc_agency: "Lĩnh vực", fc_counters: "Quầy phục vụ", fc_total: "Cả ngày",
      fc_cell: "{arrivals} · {booked}",
      fc_key: "Mỗi ô: số quầy cần mở để gọi {level} số người trong {m} phút; bên dưới: số người dự kiến · số lịch hẹn đã đặt. "
        + "Ô tô đậm: cần nhiều quầy hơn số quầy phục vụ lĩnh vực.",
      fc_nobody: "Không lĩnh vực nào có người dự kiến hay lịch hẹn ngày này.", fc_failed: "Không tải được dự báo: {m}",
    },
    en: {
      weekday_0: "Monday", weekday_1: "Tuesday", weekday_2: "Wednesday", weekday_3: "Thursday", weekday_4: "Friday",
      weekday_5: "Saturday", weekday_6: "Sunday",
      fc_based_on: "Based on", fc_history: "days with arrivals in the log: {n}, {from} to {to} (today not counted)",
      fc_no_history: "no day with arrivals in the log yet (today not counted)",
      fc_method: "Method", fc_method_text: "mean of the same weekday and half hour over the last weeks; appointments "
        + "as booked (or as usual, if more); counters by Erlang C to call {level} of people within {m} min",
      fc_error: "Error", fc_error_text: "tried on the last {n} days ({from} – {to}): off by {day} per agency and day, "
        + "{slot} per half hour (mean absolute error {mae} a half hour)",
      fc_day_basis_same_weekday: "based on the same weekday: {days}",
      fc_day_basis_all_weekdays: "no {weekday} yet: based on the latest days ({n})",
      fc_day_basis_none: "nothing to forecast from yet: appointments booked only",
      fc_day_basis_closed: "the centre is closed",
      fc_day_button: "{weekday} {date}", fc_day_people: "about {n} expected", fc_day_booked: "booked: {n}",
      fc_day_closed: "closed", fc_day_unknown: "no forecast yet",
      fc_caption: "{weekday} {date}: {basis}", fc_agency: "Agency", fc_counters: "Counters serving", fc_total: "Whole day",
      fc_cell: "{arrivals} · {booked}",
      fc_key: "Each cell: counters to open to call {level} of people within {m} min; below: people expected · appointments "
        + "booked. Shaded cells need more counters than serve the agency.",
      fc_nobody: "No agency expects anyone or has a booking that day.", fc_failed: "The forecast could not be loaded: {m}",
    },
  });

  const $ = (id) => document.getElementById(id);
  let forecast = null;
  let targetS = 900;
  let chosen = 0;
  const locale = () => (M.language() === "vi" ? "vi-VN" : "en-GB");
  const number = (v) => new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(v);
  const percent = (v) => (v === null ? M.t("none")
    : `${new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(100 * v)} %`);
  const dayMonth = (day) => `${day.slice(8, 10)}/${day.slice(5, 7)}`;
  const shown = (day) => `${dayMonth(day)}/${day.slice(0, 4)}`;
  const named = (a) => (M.language() === "en" && a.name_en ? a.name_en : a.name);

  function fact(term, text) {
    return [M.el("dt", { text: term }), M.el("dd", { text })];
  }

  function renderBasis(f) {
    const m = Math.round(targetS / 60);
    const level = percent(f.service_level);
    const message = $("forecast-message");
    message.textContent = f.message ? f.message.split(" / ")[M.language() === "vi" ? 0 : 1] || f.message : "";
    message.classList.toggle("hidden", !f.message);
    const history = f.history ? M.t("fc_history", { n: f.history_days, from: shown(f.history.from), to: shown(f.history.to) })
      : M.t("fc_no_history");
    const held = f.error ? f.error.holdout_days : [];
    const error = f.error ? M.t("fc_error_text", { n: held.length, from: shown(held[0]), to: shown(held[held.length - 1]),
      day: percent(f.error.agency_day_wape),
      slot: percent(f.error.slot_wape), mae: number(f.error.slot_mae) })
      : (f.error_reason || "").split(" / ")[M.language() === "vi" ? 0 : 1] || f.error_reason;
    $("forecast-basis").replaceChildren(...fact(M.t("fc_based_on"), history),
      ...fact(M.t("fc_method"), M.t("fc_method_text", { level, m })), ...fact(M.t("fc_error"), error));
    $("forecast-key").textContent = M.t("fc_key", { level, m });
  }

  function dayBasis(day) {
    const weekday = M.t(`weekday_${day.weekday}`).toLowerCase();
    const b = day.basis;
    return M.t(`fc_day_basis_${b.kind}`, { n: b.days.length, weekday: M.language() === "vi" ? weekday : M.t(`weekday_${day.weekday}`),
      days: b.days.map(dayMonth).join(", ") });
  }

  function renderDays(f) {
    $("forecast-days").replaceChildren(...f.days.map((day, i) => {
      const note = !day.open ? M.t("fc_day_closed")
        : [day.arrivals === null ? M.t("fc_day_unknown") : M.t("fc_day_people", { n: number(day.arrivals) }),
          day.booked ? M.t("fc_day_booked", { n: day.booked }) : ""].filter(Boolean).join(" · ");
      const button = M.el("button", { type: "button", "data-day": day.date, "aria-pressed": String(i === chosen) },
        M.t("fc_day_button", { weekday: M.t(`weekday_${day.weekday}`), date: dayMonth(day.date) }),
        M.el("small", { text: note }));
      button.addEventListener("click", () => { chosen = i; renderDays(f); renderTable(f); });
      return button;
    }));
  }

  function renderTable(f) {
    const day = f.days[chosen];
    $("forecast-caption").textContent = M.t("fc_caption", { weekday: M.t(`weekday_${day.weekday}`), date: dayMonth(day.date),
      basis: dayBasis(day) });
    const starts = day.agencies.length ? day.agencies[0].slots.map((s) => s.start) : [];
    $("forecast-head").replaceChildren(M.el("tr", {}, M.el("th", { scope: "col", text: M.t("fc_agency") }),
      M.el("th", { scope: "col", text: M.t("fc_counters") }),
      ...starts.map((s) => M.el("th", { scope: "col", text: s })), M.el("th", { scope: "col", text: M.t("fc_total") })));
    const rows = day.agencies.filter((a) => a.slots.some((s) => (s.arrivals || 0) > 0 || s.booked > 0));
    if (!rows.length) {
      $("forecast-rows").replaceChildren(M.el("tr", {}, M.el("td", { colspan: String(starts.length + 3), text: M.t("fc_nobody") })));
      return;
    }
    $("forecast-rows").replaceChildren(...rows.map((a) => {
      const known = a.slots.every((s) => s.arrivals !== null);
      const total = a.slots.reduce((n, s) => n + (s.arrivals || 0), 0);
      const booked = a.slots.reduce((n, s) => n + s.booked, 0);
      return M.el("tr", { "data-agency": a.agency },
        M.el("th", { scope: "row", text: named(a) }),
        M.el("td", { class: "num", text: String(a.counters) }),
        ...a.slots.map((s) => {
          const needed = s.counters_needed === null ? M.t("none") : String(s.counters_needed);
          const arrivals = s.arrivals === null ? M.t("none") : number(s.arrivals);
          const short = s.counters_needed !== null && s.counters_needed > a.counters;
          if (s.arrivals === 0 && !s.booked) return M.el("td", { class: "slot quiet", "data-start": s.start, text: needed });
          return M.el("td", { class: `slot ${short ? "short" : ""}`.trim(), "data-start": s.start },
            M.el("strong", { text: needed }), M.el("small", { text: M.t("fc_cell", { arrivals, booked: s.booked }) }));
        }),
        M.el("td", { class: "num", text: `${known ? number(total) : M.t("none")} · ${booked}` }));
    }));
  }

  function rerender() {
    if (!forecast) return;
    renderBasis(forecast);
    renderDays(forecast);
    renderTable(forecast);
  }

  /** Show a forecast body; targetSeconds is the site's transaction target (the counters are sized for it). */
  function render(body, targetSeconds) {
    forecast = body;
    targetS = targetSeconds;
    chosen = Math.max(0, body.days.findIndex((d) => d.open));
    rerender();
    document.body.dataset.forecast = "true";
  }

  function failed(message) {
    $("forecast-message").textContent = M.t("fc_failed", { m: message });
    $("forecast-message").classList.remove("hidden");
  }

  return { render, rerender, failed };
})();
