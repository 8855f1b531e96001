/* Numbers held away (taken from a phone, or returning later), for the monitor and the reports pages: how
   many, checked in, expired, and both their waits at the first call: in the hall, from check-in (what the
   target counts), and since the place was kept (what the citizen lived). The server words which the target
   counts (away_note), shown under the table; the section stays hidden without such numbers. */
"use strict";

const AwayWaits = (() => {
  const M = Motcua;
  M.addWords({
    vi: {
      away_title: "Số giữ chỗ khi vắng mặt: hai cách tính thời gian chờ", away_kind: "Loại",
      away_numbers: "Số", away_checked_in: "Đã đến", away_expired: "Hết hạn",
      away_hall: "Chờ trong sảnh, phút (TB / p90)", away_lived: "Từ lúc lấy số, phút (TB / p90)",
      away_within: "Trong sảnh ≤ {t} phút",
    },
    en: {
      away_title: "Numbers held away: two waits", away_kind: "Kind",
      away_numbers: "Numbers", away_checked_in: "Checked in", away_expired: "Expired",
      away_hall: "In the hall, min (mean / p90)", away_lived: "Since taking the number, min (mean / p90)",
      away_within: "Hall ≤ {t} min",
    },
  });

  const mins = (s) => (s === null || s === undefined ? "—" : String(Math.round(s / 60)));
  const pct = (x) => (x === null || x === undefined ? "—" : `${Math.round(100 * x)} %`);
  const cell = (text, cls = "num") => M.el("td", { class: cls, text: String(text) });

  /** Fill `section` from rows of the server's shape (report body or monitor snapshot: away, away_note). */
  function render(section, rows, note, targetS) {
    section.classList.toggle("hidden", !rows.length);
    if (!rows.length) return;
    const head = M.el("tr", {}, ...["away_kind", "away_numbers", "away_checked_in", "away_expired", "away_hall",
      "away_within", "away_lived"].map((key) => M.el("th", { scope: "col",
      text: M.t(key, { t: Math.round(targetS / 60) }) })));
    const body = rows.map((r) => M.el("tr", { "data-away": r.key },
      M.el("th", { scope: "row", text: M.language() === "en" ? r.name_en : r.name }),
      cell(r.numbers), cell(r.checked_in), cell(r.expired),
      cell(`${mins(r.hall_wait_mean_s)} / ${mins(r.hall_wait_p90_s)}`,
        r.hall_wait_p90_s !== null && r.hall_wait_p90_s > targetS ? "num bad-cell" : "num"),
      cell(pct(r.hall_within_target)),
      cell(`${mins(r.lived_wait_mean_s)} / ${mins(r.lived_wait_p90_s)}`)));
    section.replaceChildren(
      M.el("h2", { id: `${section.id}-title`, text: M.t("away_title") }),
      M.el("table", { class: "grid compact" }, M.el("thead", {}, head), M.el("tbody", {}, ...body)),
      M.el("p", { class: "figure-note", id: `${section.id}-note`, text: note[M.language()] || note.vi }));
  }

  return { render };
})();
