/* Phone page (/q/SITE): take a number from a phone and wait away from the hall.
   Procedure (with its papers and the predicted wait) -> day (today or one of the next days the centre
   opens) -> trip time -> phone -> texted code -> the number, kept in this browser. A number for today
   has its check-in QR: scanned at the kiosk it puts the number in line at the place it kept; "I need
   more time" moves it back a few places, once; an expired number may rejoin once. A number for a
   later day is held: it joins the line at that day's opening, and this page shows its number and QR
   from then, and until then its holder may cancel it (asked twice: the place goes for good, and the phone
   with it). One Idempotency-Key per taking, so a retried request never takes a second number. */
"use strict";

(() => {
  const { t, el, api, matches, named, dayLabel } = Motcua;
  const site = decodeURIComponent(location.pathname.split("/")[2] || "");
  const base = `/api/v1/sites/${encodeURIComponent(site)}`;
  const stored = `motcua.remote.${site}`;
  const $ = (id) => document.getElementById(id);

  Motcua.setDictionary({
    vi: {
      title: "Lấy số từ điện thoại", take_title: "Lấy số thứ tự, chờ ở nhà",
      intro: "Chọn thủ tục, ngày (hôm nay hoặc tối đa {ahead} ngày tới) và cho biết đường đi mất bao lâu. Bạn giữ chỗ trong hàng từ lúc lấy số (số cho ngày sau: từ lúc mở cửa ngày đó); chúng tôi nhắn tin mời đến khi sắp đến lượt. Mỗi người tối đa {day} số mỗi ngày, {agency} số cho một cơ quan.",
      search_label: "1. Chọn thủ tục (gõ không dấu cũng được)", search_placeholder: "Ví dụ: khai sinh",
      papers_heading: "Giấy tờ cần mang theo", no_papers: "Mang theo Căn cước công dân; cán bộ sẽ hướng dẫn thêm tại quầy.",
      day_label: "2. Ngày nào?", today: "Hôm nay", no_days: "Hiện không có ngày nào nhận lấy số.",
      day_note: "Số cho ngày {day} vào hàng lúc mở cửa ({time}), trước những người đến trong ngày.",
      travel_label: "3. Đi đến trung tâm mất bao lâu?", minutes: "{n} phút",
      phone_label: "4. Số điện thoại của bạn", send_code: "Gửi mã", code_sent: "Đã gửi mã; mã dùng được {n} phút.",
      code_label: "5. Mã 6 số trong tin nhắn", take: "Lấy số", taking: "Đang lấy số…",
      wait: "Thời gian chờ dự kiến tại {agency}: khoảng {n} phút ({w} người trong hàng).",
      wait_unknown: "{agency} chưa mở quầy; thời gian chờ chưa dự báo được.",
      bad_phone: "Số điện thoại gồm 8 đến 15 chữ số.",
      id_label: "Số căn cước (không bắt buộc)", bad_id: "Số căn cước gồm đúng 12 chữ số (hoặc để trống).",
      id_why: "Nếu nhập, khi đến trung tâm bạn chỉ cần quét thẻ căn cước ở ki-ốt. Số chỉ được giữ dưới dạng mã hóa một chiều, đến hết ngày của số.",
      mine_heading: "Số bạn đã lấy", mine_day: "Ngày {day}",
      ticket_title: "Số thứ tự của bạn", held_title: "Số lấy trước của bạn",
      how: "Khi đến trung tâm, đưa mã QR này vào máy quét của ki-ốt (hoặc gõ mã ở ki-ốt, mục “Lấy số qua điện thoại”). Chưa quét mã thì chưa được gọi.",
      how_held: "Sáng ngày đó, từ lúc mở cửa, trang này hiện số thứ tự và mã QR để quét ở ki-ốt; chúng tôi nhắn tin mời đến khi sắp đến lượt. Hãy giữ trang này (hoặc lưu địa chỉ của nó).",
      more_time: "Tôi cần thêm thời gian", rejoin: "Xếp hàng lại (ở cuối hàng)", another: "Lấy số khác",
      st_away: "Đang giữ chỗ: thứ {p} trong hàng. Dự kiến đến lượt sau khoảng {n} phút.",
      st_away_unknown: "Đang giữ chỗ: thứ {p} trong hàng.", st_come: "Sắp đến lượt: mời đến ngay và quét mã ở ki-ốt.",
      st_held: "Đã đến lượt nhưng bạn chưa có mặt. Chỗ được giữ đến {time}; hãy đến và quét mã ngay.",
      st_waiting: "Đã xác nhận có mặt. Còn {p} người trước bạn.", st_called: "Mời đến quầy {c}.",
      st_serving: "Đang được phục vụ tại quầy {c}.", st_done: "Đã xong. Cảm ơn bạn.",
      st_expired: "Số đã hết hạn vì bạn không đến kịp.", st_expired_final: "Số đã hết hạn.",
      st_gone: "Số này không còn hiệu lực.",
      st_held_day: "Đã giữ số cho ngày {day}: vào hàng lúc mở cửa {time}, thứ {p} trong các số lấy trước cho cơ quan này.",
      st_held_refused: "Không cấp được số này vào ngày {day}; xin lỗi vì sự bất tiện, mời lấy số tại ki-ốt.",
      procedure: "Thủ tục", agency: "Cơ quan", trip: "Đường đi", day: "Ngày", more_time_used: "Đã dùng quyền thêm thời gian.",
      network_error: "Mất kết nối. Vui lòng thử lại: bạn sẽ không bị lấy hai số.",
      cancel_held: "Hủy số này", cancel_yes: "Có, hủy số này", cancel_no: "Không, giữ số",
      confirm_cancel: "Hủy số lấy trước cho ngày {day} ({procedure})? Số điện thoại của bạn được xóa ngay; muốn đến thì phải lấy số mới.",
      cancelled: "Đã hủy số cho ngày {day}. Số điện thoại của bạn đã được xóa.",
    },
    en: {
      title: "Take a number from your phone", take_title: "Take a number and wait at home",
      intro: "Choose a procedure, a day (today or up to {ahead} days ahead) and say how long your trip takes. Your place in line is kept from the moment you take the number (a number for a later day: from that day's opening); we text you to come when your turn is near. At most {day} numbers a day per person, {agency} for one agency.",
      search_label: "1. Choose a procedure", search_placeholder: "e.g. khai sinh",
      papers_heading: "Papers to bring", no_papers: "Bring your citizen ID card; staff will guide you at the counter.",
      day_label: "2. Which day?", today: "Today", no_days: "No day takes numbers at the moment.",
      day_note: "A number for {day} joins the line at the opening ({time}), ahead of those who come that day.",
      travel_label: "3. How long does your trip to the centre take?", minutes: "{n} min",
      phone_label: "4. Your phone number", send_code: "Send code", code_sent: "Code sent; it works for {n} minutes.",
      code_label: "5. The 6-digit code in the text", take: "Take a number", taking: "Taking a number…",
      wait: "Predicted wait at {agency}: about {n} min ({w} in line).",
      wait_unknown: "{agency} has no counter open; no wait can be predicted yet.",
      bad_phone: "A phone number has 8 to 15 digits.",
      id_label: "ID card number (optional)", bad_id: "An ID card number is exactly 12 digits (or leave it empty).",
      id_why: "If you enter it, at the centre you only need to scan your ID card at the kiosk. It is kept only in one-way coded form, until the end of the number's day.",
      mine_heading: "Your numbers", mine_day: "For {day}",
      ticket_title: "Your number", held_title: "Your number taken ahead",
      how: "At the centre, hold this QR code to the kiosk's scanner (or type the code at the kiosk, “Number from a phone”). You are not called before you scan it.",
      how_held: "On that day, from the opening, this page shows your number and the QR code to scan at the kiosk; we text you to come when your turn is near. Keep this page (or save its address).",
      more_time: "I need more time", rejoin: "Join again (at the back)", another: "Take another number",
      st_away: "Place kept: number {p} in line. Your turn in about {n} min.",
      st_away_unknown: "Place kept: number {p} in line.", st_come: "Your turn is near: come now and scan at the kiosk.",
      st_held: "Your turn came but you are not here yet. Your place is held until {time}: come and scan now.",
      st_waiting: "Checked in. {p} people ahead of you.", st_called: "Please go to counter {c}.",
      st_serving: "Being served at counter {c}.", st_done: "Done. Thank you.",
      st_expired: "The number expired: you did not arrive in time.", st_expired_final: "The number expired.",
      st_gone: "This number is no longer valid.",
      st_held_day: "Number kept for {day}: it joins the line at the opening, {time}, number {p} of those taken ahead for this agency.",
      st_held_refused: "This number could not be issued on {day}; we are sorry: please take one at the kiosk.",
      procedure: "Procedure", agency: "Agency", trip: "Trip", day: "Day", more_time_used: "More time was already given.",
      network_error: "Connection lost. Please try again: you will not get two numbers.",
      cancel_held: "Cancel this number", cancel_yes: "Yes, cancel it", cancel_no: "No, keep it",
      confirm_cancel: "Cancel the number taken ahead for {day} ({procedure})? Your phone number is deleted at once; to come, you will need a new number.",
      cancelled: "The number for {day} is cancelled. Your phone number has been deleted.",
    },
  });

  const state = { catalogue: null, info: null, procedure: null, day: null, travel: null, codeSent: false,
                  busy: false, key: null, mine: [], current: null, view: null, confirming: false };

  function showError(error) {
    const box = $("error");
    box.textContent = error ? (error instanceof Motcua.ApiError ? error.message : t("network_error")) : "";
    box.classList.toggle("hidden", !error);
  }

  // The numbers this browser holds: today's tickets {id, number, check_code, check_in, qr_svg, day} and numbers
  // held for a later day {held, day}. A page from before later days kept one ticket, not a list.
  function load() {
    const kept = JSON.parse(localStorage.getItem(stored) || "[]");
    return Array.isArray(kept) ? kept : [kept];
  }
  function save() { localStorage.setItem(stored, JSON.stringify(state.mine)); }
  const keyOf = (entry) => entry.id || entry.held;

  function agencyOf(p) { return state.catalogue.agencies.find((a) => a.id === p.agency); }
  function shortDay(date) { return `${dayLabel(date)}/${date.slice(0, 4)}`; }
  function newTaking() { state.key = Motcua.newKey(); }

  function renderProcedures() {
    const query = $("search").value.trim();
    const list = state.catalogue.procedures.filter((p) => p.kiosk && (!query || matches(query,
      `${p.name} ${p.name_en} ${agencyOf(p).name}`)));
    $("procedures").replaceChildren(...list.slice(0, 40).map((p) => el("li", {}, el("button", {
      type: "button", class: "procedure", "data-procedure": p.id, "aria-pressed": String(state.procedure === p),
      onclick: () => choose(p) },
      named(p), el("small", { text: named(agencyOf(p)) })))));
  }

  function renderDays() {
    const days = state.info.days;
    if (!days.length) { $("days").replaceChildren(el("p", { class: "muted", text: t("no_days") })); return; }
    if (!state.day || !days.some((d) => d.date === state.day)) state.day = days[0].date;
    $("days").replaceChildren(...days.map((d) => el("button", { type: "button", class: "day", "data-date": d.date,
      "aria-pressed": String(d.date === state.day), text: d.date === state.info.today ? t("today") : dayLabel(d.date),
      onclick: () => { state.day = d.date; newTaking(); renderDetails(); } })));
    const chosen = days.find((d) => d.date === state.day);
    $("day-note").textContent = chosen.held ? t("day_note", { day: shortDay(chosen.date),
                                                              time: chosen.opens_at.slice(11, 16) }) : "";
  }

  function renderDetails() {
    const p = state.procedure;
    if (!p) return;
    $("details").classList.remove("hidden");
    $("chosen-procedure").textContent = named(p);
    const agency = state.info.agencies.find((a) => a.id === p.agency);
    $("wait").textContent = agency.predicted_wait_s === null
      ? t("wait_unknown", { agency: named(agency) })
      : t("wait", { agency: named(agency), n: Math.round(agency.predicted_wait_s / 60), w: agency.waiting });
    const papers = p.papers || [];
    $("papers").replaceChildren(...(papers.length ? papers.map((x) => el("li", { text: x }))
                                                  : [el("li", { text: t("no_papers") })]));
    renderDays();
    $("wait").classList.toggle("hidden", state.day !== state.info.today);  // today's wait says nothing of a later day
    $("travel").replaceChildren(...state.info.travel_min.map((n) => el("button", { type: "button", class: "travel",
      "data-travel": String(n), "aria-pressed": String(state.travel === n), text: t("minutes", { n }),
      onclick: () => { state.travel = n; newTaking(); renderDetails(); } })));
    $("take").disabled = state.busy || !state.day || !state.travel || !state.codeSent
      || !/^\d{6}$/.test($("code").value);
  }

  function renderMine() {
    $("mine").classList.toggle("hidden", !state.mine.length);
    $("mine-list").replaceChildren(...state.mine.map((entry) => el("button", { type: "button", class: "mine",
      text: entry.number || t("mine_day", { day: shortDay(entry.day) }), onclick: () => open(entry) })));
  }

  function choose(p) { state.procedure = p; newTaking(); renderProcedures(); renderDetails(); }

  async function sendCode() {
    const phone = $("phone").value.replace(/[\s.-]/g, "");
    if (!/^\+?\d{8,15}$/.test(phone)) { showError(new Motcua.ApiError(422, "bad_phone", t("bad_phone"))); return; }
    try {
      const { data } = await api("POST", `${base}/remote/code`, { body: { phone } });
      state.codeSent = true;
      showError(null);
      $("code-field").classList.remove("hidden");
      $("closed").textContent = t("code_sent", { n: Math.round(data.expires_in_s / 60) });
      $("closed").classList.remove("hidden");
      $("code").focus();
    } catch (error) { showError(error); }
    renderDetails();
  }

  function ticketEntry(data) {
    return { id: data.id, number: data.number, check_code: data.check_code, check_in: data.check_in,
             qr_svg: data.qr_svg, day: data.issued_at.slice(0, 10) };
  }

  function remember(entry) {
    state.mine = [...state.mine.filter((e) => keyOf(e) !== keyOf(entry)), entry];
    save();
  }

  async function take() {
    if (state.busy) return;
    state.busy = true; $("take").textContent = t("taking"); renderDetails();
    try {
      const phone = $("phone").value.replace(/[\s.-]/g, "");
      const idNumber = $("id-number").value.replace(/\s/g, "");
      if (idNumber && !/^\d{12}$/.test(idNumber)) throw new Motcua.ApiError(422, "bad_id", t("bad_id"));
      const { data } = await api("POST", `${base}/remote/tickets`, { headers: { "Idempotency-Key": state.key },
        body: { procedure: state.procedure.id, phone, code: $("code").value, travel_min: state.travel,
                date: state.day, ...(idNumber ? { id_number: idNumber } : {}) } });
      const entry = data.joins_at ? { held: data.id, day: data.date } : ticketEntry(data);
      remember(entry);
      showError(null);
      $("closed").classList.add("hidden");
      $("phone").value = ""; $("code").value = ""; $("id-number").value = "";  // nothing of the phone or card stays
      state.codeSent = false;
      newTaking();
      state.current = entry;
      show(data);
    } catch (error) { showError(error); }  // the same key again on a retry: never a second number
    state.busy = false; $("take").textContent = t("take"); renderDetails();
  }

  function statusText(v) {
    const mins = v.estimated_wait_s === null ? null : Math.round(v.estimated_wait_s / 60);
    switch (v.state) {
      case "away":
        if (v.turn_passed_at) return t("st_held", { time: new Date(v.expires_at * 1000).toLocaleTimeString("vi-VN",
          { hour: "2-digit", minute: "2-digit" }) });
        if (v.estimated_wait_s !== null && v.estimated_wait_s <= v.travel_s) return t("st_come");
        return mins === null ? t("st_away_unknown", { p: v.position }) : t("st_away", { p: v.position, n: mins });
      case "waiting": return t("st_waiting", { p: Math.max(0, (v.position || 1) - 1) });
      case "called": return t("st_called", { c: v.counter });
      case "serving": return t("st_serving", { c: v.counter });
      case "done": return t("st_done");
      case "no_show": return v.checked_in_at ? t("st_gone") : (v.rejoined ? t("st_expired_final") : t("st_expired"));
      default: return t("st_gone");
    }
  }

  function facts(view, extra) {
    $("facts").replaceChildren(...extra,
      el("dt", { text: t("procedure") }), el("dd", { text: Motcua.language() === "en" ? view.procedure_name_en || view.procedure_name : view.procedure_name }),
      el("dt", { text: t("agency") }), el("dd", { text: Motcua.language() === "en" ? view.agency_name_en || view.agency_name : view.agency_name }),
      el("dt", { text: t("trip") }), el("dd", { text: t("minutes", { n: Math.round((view.travel_s || 0) / 60) }) }));
  }

  function show(view) {
    if (view.joins_at && view.ticket) {  // the day has opened: the held number is a ticket now
      const entry = ticketEntry(view.ticket);
      state.mine = state.mine.map((e) => (e.held === view.id ? entry : e));
      save();
      state.current = entry;
      view = view.ticket;
    }
    state.view = view;
    $("s-take").classList.add("hidden");
    $("s-ticket").classList.remove("hidden");
    const held = Boolean(view.joins_at);
    $("number").classList.toggle("day", held);
    $("ticket-title").textContent = t(held ? "held_title" : "ticket_title");
    $("how").textContent = t(held ? "how_held" : "how");
    if (held) {
      $("number").textContent = shortDay(view.date);
      $("status").textContent = view.state === "refused" ? t("st_held_refused", { day: shortDay(view.date) })
        : t("st_held_day", { day: shortDay(view.date), time: view.joins_at.slice(11, 16), p: view.position });
      facts(view, []);
      $("qr").replaceChildren();
      $("check-code").textContent = "";
      for (const id of ["qr", "more-time", "rejoin"]) $(id).classList.add("hidden");
      const cancellable = view.state === "held";
      $("cancel-held").classList.toggle("hidden", !cancellable || state.confirming);
      $("confirm-cancel").classList.toggle("hidden", !cancellable || !state.confirming);
      $("confirm-question").textContent = t("confirm_cancel", { day: shortDay(view.date),
        procedure: Motcua.language() === "en" ? view.procedure_name_en || view.procedure_name : view.procedure_name });
      return;
    }
    state.confirming = false;
    for (const id of ["cancel-held", "confirm-cancel"]) $(id).classList.add("hidden");
    const mine = state.current;
    $("number").textContent = view.number;
    $("status").textContent = statusText(view);
    facts(view, []);
    if (mine && mine.qr_svg && $("qr").dataset.ticket !== mine.id) {
      const svg = new DOMParser().parseFromString(mine.qr_svg, "image/svg+xml").documentElement;
      $("qr").replaceChildren(document.importNode(svg, true));
      $("qr").dataset.ticket = mine.id;
    }
    $("check-code").textContent = mine ? mine.check_in : "";
    const away = view.state === "away";
    $("qr").classList.toggle("hidden", !away);
    $("more-time").classList.toggle("hidden", !away || view.more_time || Boolean(view.turn_passed_at));
    $("rejoin").classList.toggle("hidden", !(view.state === "no_show" && !view.checked_in_at && !view.rejoined));
  }

  async function refresh() {
    const entry = state.current;
    if (!entry) return;
    try {
      const path = entry.held ? `${base}/remote/held/${encodeURIComponent(entry.held)}`
                              : `${base}/tickets/${encodeURIComponent(entry.id)}`;
      const { data } = await api("GET", path);
      showError(null);
      if (data.state === "cancelled") { forget(entry); return; }  // cancelled from another tab
      if (state.current === entry) show(data);
    } catch (error) {
      if (error instanceof Motcua.ApiError && error.status === 404) { forget(entry); return; }  // a past day's
      showError(error);
    }
  }

  async function own(action) {
    try {
      const { data } = await api("POST", `${base}/tickets/${encodeURIComponent(state.current.id)}/${action}`,
                                 { body: { code: state.current.check_code } });
      showError(null);
      show(data);
    } catch (error) { showError(error); }
  }

  /** A cancel gives the place up for good: the holder says so twice (the second button is a different one). */
  function askCancel(asking) {
    state.confirming = asking;
    if (state.view) show(state.view);
    (asking ? $("cancel-no") : $("cancel-held")).focus();
  }

  async function cancelHeld() {
    const entry = state.current;
    if (!entry || !entry.held) return;
    state.confirming = false;
    try {
      const { data } = await api("POST", `${base}/remote/held/${encodeURIComponent(entry.held)}/cancel`);
      showError(null);
      forget(entry);
      $("closed").textContent = t("cancelled", { day: shortDay(data.date) });
      $("closed").classList.remove("hidden");
    } catch (error) {
      showError(error);
      refresh();  // what became of it (e.g. its day has opened): the page says so
    }
  }

  function open(entry) { state.current = entry; state.confirming = false; refresh(); }

  function forget(entry) {
    state.mine = state.mine.filter((e) => keyOf(e) !== keyOf(entry));
    save();
    if (state.current === entry) back();
  }

  function back() {
    state.current = null; state.view = null; state.confirming = false;
    $("qr").replaceChildren();
    delete $("qr").dataset.ticket;
    $("s-ticket").classList.add("hidden");
    $("s-take").classList.remove("hidden");
    renderMine();
  }

  function setLanguage(next) {
    Motcua.applyLanguage(next);
    const other = next === "vi" ? ["en", "English"] : ["vi", "Tiếng Việt"];
    $("lang-button").textContent = other[1];
    $("lang-button").setAttribute("lang", other[0]);
    $("lang-button").setAttribute("aria-label", other[1]);
    if (!state.catalogue) return;
    $("site-name").textContent = `${t("title")} · ${named(state.catalogue.site)}`;
    $("intro").textContent = t("intro", { day: state.info.limits.per_person_day, ahead: state.info.limits.days_ahead,
                                          agency: state.info.limits.per_person_agency });
    renderProcedures();
    renderDetails();
    renderMine();
    if (state.view) show(state.view);
  }

  async function start() {
    $("lang-button").addEventListener("click", () => setLanguage(Motcua.language() === "vi" ? "en" : "vi"));
    $("search").addEventListener("input", renderProcedures);
    $("send-code").addEventListener("click", sendCode);
    $("code").addEventListener("input", renderDetails);
    $("take").addEventListener("click", take);
    $("more-time").addEventListener("click", () => own("more-time"));
    $("rejoin").addEventListener("click", () => own("rejoin"));
    $("another").addEventListener("click", back);
    $("cancel-held").addEventListener("click", () => askCancel(true));
    $("cancel-no").addEventListener("click", () => askCancel(false));
    $("cancel-yes").addEventListener("click", cancelHeld);
    newTaking();
    for (let attempt = 0; ; attempt++) {
      try {
        state.catalogue = (await api("GET", `${base}/catalogue`)).data;
        state.info = (await api("GET", `${base}/remote`)).data;
        break;
      } catch (error) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 500 * (attempt + 1))));
      }
    }
    setLanguage("vi");
    if (!state.info.enabled) {
      $("closed").textContent = state.info.reason === "remote_disabled"
        ? "Trung tâm không cấp số qua điện thoại. / This centre gives no numbers by phone."
        : "Trung tâm chưa nhận lấy số qua điện thoại. / Numbers by phone are not available here.";
      $("closed").classList.remove("hidden");
      $("s-take").classList.add("hidden");
    }
    state.mine = load().filter((e) => e.day >= state.info.today);  // past days' numbers are over
    save();
    renderMine();
    // The number to show first: today's ticket, else the next held one.
    const first = state.mine.find((e) => e.id && e.day === state.info.today) || state.mine.find((e) => e.held);
    if (first) { state.current = first; await refresh(); }
    setInterval(refresh, 15000);
    setInterval(async () => {  // the predicted waits move: read them again while choosing
      if (state.view) return;
      try { state.info = (await api("GET", `${base}/remote`)).data; renderDetails(); } catch (error) { /* next time */ }
    }, 30000);
    document.body.dataset.ready = "true";
  }

  start();
})();
