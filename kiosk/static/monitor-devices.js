/* The monitor's devices, for the technician: every device with its availability, since when, when it last
   reported and its health, grouped by counter and kiosk; what needs attention first. Health is shown as the
   device reports it (known fields in words, others as they come), so new fields need no change here. */
"use strict";

const MonitorDevices = (() => {
  const M = Motcua;
  M.addWords({
    vi: {
      kind_display: "Bảng LED", kind_keypad: "Bàn phím gọi số", kind_rating: "Bàn phím đánh giá", kind_printer: "Máy in",
      kind_speaker: "Loa", kind_bridge: "Bộ nối RS-485", kind_other: "Thiết bị",
      place_counter: "Quầy {n}", place_kiosk: "Ki-ốt {k}", place_hall: "Sảnh chờ", place_zone: "Khu {z}",
      place_bus: "Đường truyền {b}", place_other: "Khác",
      dev_online: "Hoạt động", dev_offline: "Mất kết nối", dev_unknown: "Chưa có tin",
      dev_since: "từ {time}", dev_seen: "{time} ({ago})", dev_never: "chưa lần nào", ago_s: "{n} giây trước",
      ago_m: "{n} phút trước", ago_h: "{n} giờ trước",
      dev_summary: "{total} thiết bị: {online} hoạt động, {offline} mất kết nối, {unknown} chưa có tin.",
      dev_attention: "Cần xem", dev_all: "Tất cả thiết bị theo quầy và ki-ốt ({n})", dev_none_attention: "Không thiết bị nào cần xem.",
      dev_none: "Máy chủ này không theo dõi thiết bị nào của điểm phục vụ.",
      dev_col_device: "Thiết bị", dev_col_place: "Vị trí", dev_col_status: "Tình trạng", dev_col_seen: "Liên lạc lần cuối",
      dev_col_health: "Chi tiết", dev_col_errors: "Lỗi",
      h_paper_ok: "còn giấy", h_paper_near_end: "sắp hết giấy", h_paper_out: "hết giấy", h_paper_unknown: "không rõ giấy",
      h_cover_open: "nắp mở", h_cannot_print: "không in được", h_error: "lỗi: {v}", h_reason: "lý do: {v}",
      h_unreachable: "không tới được máy", h_field: "{k}: {v}",
      h_bus: "đường truyền: {frames} khung, {retries} lần gửi lại, {timeouts} lần không trả lời, {bad_crc} khung lỗi CRC",
      h_refused: "phím bị từ chối hôm nay: {list}", r_duplicate: "bấm lặp lại", r_late: "đến muộn", r_burst: "bấm dồn",
      r_too_soon: "quá sớm sau khi gọi", r_lost: "thất lạc", r_other: "khác",
    },
    en: {
      kind_display: "LED display", kind_keypad: "Call keypad", kind_rating: "Rating keypad", kind_printer: "Printer",
      kind_speaker: "Speaker", kind_bridge: "RS-485 bridge", kind_other: "Device",
      place_counter: "Counter {n}", place_kiosk: "Kiosk {k}", place_hall: "Waiting hall", place_zone: "Zone {z}",
      place_bus: "Line {b}", place_other: "Other",
      dev_online: "Working", dev_offline: "Offline", dev_unknown: "No report yet",
      dev_since: "since {time}", dev_seen: "{time} ({ago})", dev_never: "never", ago_s: "{n} s ago", ago_m: "{n} min ago",
      ago_h: "{n} h ago",
      dev_summary: "{total} devices: {online} working, {offline} offline, {unknown} with no report yet.",
      dev_attention: "Needs attention", dev_all: "All devices by counter and kiosk ({n})", dev_none_attention: "No device needs attention.",
      dev_none: "No devices of this site are watched here.",
      dev_col_device: "Device", dev_col_place: "Place", dev_col_status: "Status", dev_col_seen: "Last report",
      dev_col_health: "Details", dev_col_errors: "Errors",
      h_paper_ok: "paper ok", h_paper_near_end: "paper low", h_paper_out: "paper out", h_paper_unknown: "paper unknown",
      h_cover_open: "cover open", h_cannot_print: "cannot print", h_error: "error: {v}", h_reason: "reason: {v}",
      h_unreachable: "unreachable", h_field: "{k}: {v}",
      h_bus: "line: {frames} frames, {retries} retries, {timeouts} unanswered, {bad_crc} bad CRC",
      h_refused: "presses refused today: {list}", r_duplicate: "repeated", r_late: "arrived late", r_burst: "burst",
      r_too_soon: "too soon after a call", r_lost: "lost", r_other: "other",
    },
  });

  const KINDS = ["display", "keypad", "rating", "printer", "speaker", "bridge"];
  const STATUS_ORDER = { offline: 0, unknown: 1, online: 2 };
  // counts in a health report that are faults when above zero (the serial bus's, a printer's, ...)
  const FAULT_KEY = /(error|fail|timeout|crc|drop|lost|fault|jam)/i;
  // what a health report carries for the record, not for a person
  const QUIET_KEYS = new Set(["reachable", "online", "can_print", "at", "ts"]);

  function kindName(kind) { return M.t(KINDS.includes(kind) ? `kind_${kind}` : "kind_other"); }

  /** "Máy in printer-k1": what the device is, and its id as written on it and in the site file. */
  function name(device) { return `${kindName(device.kind)} ${device.device}`; }

  function place(d) {
    if (d.counter !== null && d.counter !== undefined) return M.t("place_counter", { n: d.counter });
    if (d.kiosk) return M.t("place_kiosk", { k: d.kiosk });
    if (d.kind === "bridge") return M.t("place_bus", { b: String(d.device).replace(/^bridge-/, "") });
    if (d.kind === "display") return M.t("place_hall");
    if (d.zone) return M.t("place_zone", { z: d.zone });
    if (d.bus) return M.t("place_bus", { b: d.bus });
    return M.t("place_other");
  }

  /** Group order: counters by number, then kiosks, then the hall, zones and lines. */
  function groupKey(d) {
    if (d.counter !== null && d.counter !== undefined) return [0, d.counter, place(d)];
    if (d.kiosk) return [1, 0, place(d)];
    return [2, 0, place(d)];
  }

  function value(v) {
    if (v === true) return M.language() === "vi" ? "có" : "yes";
    if (v === false) return M.language() === "vi" ? "không" : "no";
    if (typeof v === "number") return new Intl.NumberFormat(M.language() === "vi" ? "vi-VN" : "en-GB").format(v);
    if (v && typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  /** The health report in words: [faults, other details]. */
  function health(d) {
    const h = d.health || {};
    const faults = [];
    const details = [];
    for (const [key, v] of Object.entries(h)) {
      if (v === null || v === undefined || v === "" || QUIET_KEYS.has(key)) continue;
      if (key === "paper") {
        const word = M.t(`h_paper_${["ok", "near_end", "out"].includes(v) ? v : "unknown"}`);
        (v === "out" || v === "near_end" ? faults : details).push(word);
      } else if (key === "cover_open") {
        if (v) faults.push(M.t("h_cover_open"));
      } else if (key === "error") {
        faults.push(M.t("h_error", { v: value(v) }));
      } else if (key === "reason") {
        faults.push(M.t("h_reason", { v: value(v) }));
      } else if (FAULT_KEY.test(key) && (typeof v !== "number" || v > 0)) {
        faults.push(M.t("h_field", { k: key, v: value(v) }));
      } else {
        details.push(M.t("h_field", { k: key, v: value(v) }));
      }
    }
    const bus = d.bus_stats;  // a serial device's counters, from its bridge (CONTRACT.md section 4)
    if (bus) {
      const text = M.t("h_bus", { frames: value(bus.frames || 0), retries: value(bus.retries || 0),
        timeouts: value(bus.timeouts || 0), bad_crc: value(bus.bad_crc || 0) });
      ((bus.timeouts || 0) + (bus.bad_crc || 0) > 0 ? faults : details).push(text);
    }
    const refused = Object.entries(d.refused || {}).filter(([, n]) => n > 0);
    if (refused.length) {
      const known = ["duplicate", "late", "burst", "too_soon", "lost"];
      const list = refused.map(([r, n]) => `${M.t(known.includes(r) ? `r_${r}` : "r_other")} ${value(n)}`).join(", ");
      (refused.some(([r]) => r === "lost") ? faults : details).push(M.t("h_refused", { list }));
    }
    if (h.can_print === false && !faults.length) faults.push(M.t("h_cannot_print"));
    if (h.reachable === false && !faults.length) faults.push(M.t("h_unreachable"));
    return [faults, details];
  }

  function needsAttention(d) { return d.status !== "online" || health(d)[0].length > 0; }

  function ago(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 90) return M.t("ago_s", { n: s });
    if (s < 5400) return M.t("ago_m", { n: Math.round(s / 60) });
    return M.t("ago_h", { n: Math.round(s / 3600) });
  }

  function row(d, timeZone, now, hhmmss) {
    const [faults, details] = health(d);
    const status = M.el("td", { class: `dev-status dev-${d.status}` },
      M.el("span", { class: "dot", "aria-hidden": "true", text: d.status === "online" ? "●" : d.status === "offline" ? "✕" : "?" }),
      ` ${M.t(`dev_${d.status}`)}`, d.since ? M.el("span", { class: "muted", text: ` ${M.t("dev_since", { time: hhmmss(d.since) })}` }) : null);
    return M.el("tr", { "data-device": d.device, "data-status": d.status },
      M.el("th", { scope: "row", text: name(d) }),
      M.el("td", { text: place(d) }),
      status,
      M.el("td", { text: d.last_seen ? M.t("dev_seen", { time: hhmmss(d.last_seen), ago: ago(now - d.last_seen) }) : M.t("dev_never") }),
      M.el("td", { class: faults.length ? "bad-text" : "", text: faults.join(", ") }),
      M.el("td", { class: "muted", text: details.join(", ") }));
  }

  function table(rows, grouped, timeZone, now, hhmmss) {
    const head = M.el("thead", {}, M.el("tr", {}, ...["dev_col_device", "dev_col_place", "dev_col_status", "dev_col_seen",
      "dev_col_errors", "dev_col_health"].map((k) => M.el("th", { scope: "col", text: M.t(k) }))));
    const body = M.el("tbody");
    let group = null;
    for (const d of rows) {
      const here = place(d);
      if (grouped && here !== group) {
        group = here;
        body.append(M.el("tr", { class: "group" }, M.el("th", { scope: "rowgroup", colspan: "6", text: here })));
      }
      body.append(row(d, timeZone, now, hhmmss));
    }
    return M.el("table", { class: "grid devices-table" }, head, body);
  }

  /** Counts of devices by status, for the first screen. */
  function summary(devices) {
    const out = { total: devices.length, online: 0, offline: 0, unknown: 0, attention: 0 };
    for (const d of devices) {
      out[d.status] = (out[d.status] || 0) + 1;
      if (needsAttention(d)) out.attention += 1;
    }
    return out;
  }

  /** The devices of one counter, as a short line for the counters table: "Bảng LED: Mất kết nối". */
  function counterLine(devices, counter) {
    const mine = devices.filter((d) => d.counter === counter);
    const bad = mine.filter(needsAttention);
    if (!mine.length) return { text: "—", bad: false };
    if (!bad.length) return { text: M.t("dev_online"), bad: false };
    return { text: bad.map((d) => `${kindName(d.kind)}: ${M.t(`dev_${d.status}`)}`).join(", "), bad: true };
  }

  function render(container, devices, timeZone, now, hhmmss) {
    if (!devices.length) {
      container.replaceChildren(M.el("p", { class: "muted", text: M.t("dev_none") }));
      return;
    }
    const counts = summary(devices);
    const sorted = [...devices].sort((a, b) => {
      const ka = groupKey(a), kb = groupKey(b);
      return ka[0] - kb[0] || ka[1] - kb[1] || ka[2].localeCompare(kb[2]) || a.device.localeCompare(b.device);
    });
    const attention = sorted.filter(needsAttention)
      .sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status]);
    // a re-render (every few seconds) keeps the list as the technician left it, open or closed
    const before = container.querySelector("details");
    const openAll = before ? before.open : devices.length <= 40;
    container.replaceChildren(
      M.el("p", { class: "summary", id: "devices-summary", text: M.t("dev_summary", counts) }),
      M.el("h3", { text: M.t("dev_attention") }),
      attention.length ? table(attention, false, timeZone, now, hhmmss)
        : M.el("p", { class: "calm", text: M.t("dev_none_attention") }),
      M.el("details", { open: openAll },
        M.el("summary", { text: M.t("dev_all", { n: devices.length }) }),
        table(sorted, true, timeZone, now, hhmmss)));
  }

  return { render, summary, counterLine, name, place };
})();
