/* Phone page (/q/SITE): take a number from a phone and wait away from the hall.
   Procedure (with its papers and the predicted wait) -> trip time -> phone -> texted code -> the number,
   kept in this browser with its check-in QR: scanned at the kiosk it puts the number in line at the place
   it kept. "I need more time" moves it back a few places, once; an expired number may rejoin once. */
"use strict";

(() => {
  const { t, el, api, matches, named } = Motcua;
  const site = decodeURIComponent(location.pathname.split("/")[2] || "");
  const base = `/api/v1/sites/${encodeURIComponent(site)}`;
  const stored = `motcua.remote.${site}`;
  const $ = (id) => document.getElementById(id);

  Motcua.setDictionary({
    vi: {
      title: "Lấy số từ điện thoại", take_title: "Lấy số thứ tự, chờ ở nhà",
      intro: "Chọn thủ tục và cho biết đường đi mất bao lâu. Bạn giữ chỗ trong hàng từ lúc lấy số; chúng tôi nhắn tin mời đến khi sắp đến lượt. Mỗi người tối đa {day} số mỗi ngày, {agency} số cho một cơ quan.",
      search_label: "1. Chọn thủ tục (gõ không dấu cũng được)", search_placeholder: "Ví dụ: khai sinh",
      papers_heading: "Giấy tờ cần mang theo", no_papers: "Mang theo Căn cước công dân; cán bộ sẽ hướng dẫn thêm tại quầy.",
      travel_label: "2. Đi đến trung tâm mất bao lâu?", minutes: "{n} phút",
      phone_label: "3. Số điện thoại của bạn", send_code: "Gửi mã", code_sent: "Đã gửi mã; mã dùng được {n} phút.",
      code_label: "4. Mã 6 số trong tin nhắn", take: "Lấy số", taking: "Đang lấy số…",
      wait: "Thời gian chờ dự kiến tại {agency}: khoảng {n} phút ({w} người trong hàng).",
      wait_unknown: "{agency} chưa mở quầy; thời gian chờ chưa dự báo được.",
      bad_phone: "Số điện thoại gồm 8 đến 15 chữ số.",
      id_label: "Số căn cước (không bắt buộc)", bad_id: "Số căn cước gồm đúng 12 chữ số (hoặc để trống).",
      id_why: "Nếu nhập, khi đến trung tâm bạn chỉ cần quét thẻ căn cước ở ki-ốt. Số chỉ được giữ dưới dạng mã hóa một chiều, đến hết ngày.",
      ticket_title: "Số thứ tự của bạn",
      how: "Khi đến trung tâm, đưa mã QR này vào máy quét của ki-ốt (hoặc gõ mã ở ki-ốt, mục “Lấy số qua điện thoại”). Chưa quét mã thì chưa được gọi.",
      more_time: "Tôi cần thêm thời gian", rejoin: "Xếp hàng lại (ở cuối hàng)", another: "Lấy số khác",
      st_away: "Đang giữ chỗ: thứ {p} trong hàng. Dự kiến đến lượt sau khoảng {n} phút.",
      st_away_unknown: "Đang giữ chỗ: thứ {p} trong hàng.", st_come: "Sắp đến lượt: mời đến ngay và quét mã ở ki-ốt.",
      st_held: "Đã đến lượt nhưng bạn chưa có mặt. Chỗ được giữ đến {time}; hãy đến và quét mã ngay.",
      st_waiting: "Đã xác nhận có mặt. Còn {p} người trước bạn.", st_called: "Mời đến quầy {c}.",
      st_serving: "Đang được phục vụ tại quầy {c}.", st_done: "Đã xong. Cảm ơn bạn.",
      st_expired: "Số đã hết hạn vì bạn không đến kịp.", st_expired_final: "Số đã hết hạn.",
      st_gone: "Số này không còn hiệu lực.",
      procedure: "Thủ tục", agency: "Cơ quan", trip: "Đường đi", more_time_used: "Đã dùng quyền thêm thời gian.",
      network_error: "Mất kết nối. Vui lòng thử lại.",
    },
    en: {
      title: "Take a number from your phone", take_title: "Take a number and wait at home",
      intro: "Choose a procedure and say how long your trip takes. Your place in line is kept from the moment you take the number; we text you to come when your turn is near. At most {day} numbers a day per person, {agency} for one agency.",
      search_label: "1. Choose a procedure", search_placeholder: "e.g. khai sinh",
      papers_heading: "Papers to bring", no_papers: "Bring your citizen ID card; staff will guide you at the counter.",
      travel_label: "2. How long does your trip to the centre take?", minutes: "{n} min",
      phone_label: "3. Your phone number", send_code: "Send code", code_sent: "Code sent; it works for {n} minutes.",
      code_label: "4. The 6-digit code in the text", take: "Take a number", taking: "Taking a number…",
      wait: "Predicted wait at {agency}: about {n} min ({w} in line).",
      wait_unknown: "{agency} has no counter open; no wait can be predicted yet.",
      bad_phone: "A phone number has 8 to 15 digits.",
      id_label: "ID card number (optional)", bad_id: "An ID card number is exactly 12 digits (or leave it empty).",
      id_why: "If you enter it, at the centre you only need to scan your ID card at the kiosk. It is kept only in one-way coded form, until the end of the day.",
      ticket_title: "Your number",
      how: "At the centre, hold this QR code to the kiosk's scanner (or type the code at the kiosk, “Number from a phone”). You are not called before you scan it.",
      more_time: "I need more time", rejoin: "Join again (at the back)", another: "Take another number",
      st_away: "Place kept: number {p} in line. Your turn in about {n} min.",
      st_away_unknown: "Place kept: number {p} in line.", st_come: "Your turn is near: come now and scan at the kiosk.",
      st_held: "Your turn came but you are not here yet. Your place is held until {time}: come and scan now.",
      st_waiting: "Checked in. {p} people ahead of you.", st_called: "Please go to counter {c}.",
      st_serving: "Being served at counter {c}.", st_done: "Done. Thank you.",
      st_expired: "The number expired: you did not arrive in time.", st_expired_final: "The number expired.",
      st_gone: "This number is no longer valid.",
      procedure: "Procedure", agency: "Agency", trip: "Trip", more_time_used: "More time was already given.",
      network_error: "Connection lost. Please try again.",
    },
  });

  const state = { catalogue: null, info: null, procedure: null, travel: null, codeSent: false, busy: false,
                  ticket: null, view: null, timer: null };

  function showError(error) {
    const box = $("error");
    box.textContent = error ? (error instanceof Motcua.ApiError ? error.message : t("network_error")) : "";
    box.classList.toggle("hidden", !error);
  }

  function agencyOf(p) { return state.catalogue.agencies.find((a) => a.id === p.agency); }

  function renderProcedures() {
    const query = $("search").value.trim();
    const list = state.catalogue.procedures.filter((p) => p.kiosk && (!query || matches(query,
      `${p.name} ${p.name_en} ${agencyOf(p).name}`)));
    $("procedures").replaceChildren(...list.slice(0, 40).map((p) => el("li", {}, el("button", {
      type: "button", class: "procedure", "data-procedure": p.id, "aria-pressed": String(state.procedure === p),
      onclick: () => choose(p) },
      named(p), el("small", { text: named(agencyOf(p)) })))));
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
    $("travel").replaceChildren(...state.info.travel_min.map((n) => el("button", { type: "button", class: "travel",
      "data-travel": String(n), "aria-pressed": String(state.travel === n), text: t("minutes", { n }),
      onclick: () => { state.travel = n; renderDetails(); } })));
    $("take").disabled = state.busy || !state.travel || !state.codeSent || !/^\d{6}$/.test($("code").value);
  }

  function choose(p) { state.procedure = p; renderProcedures(); renderDetails(); }

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

  async function take() {
    if (state.busy) return;
    state.busy = true; $("take").textContent = t("taking"); renderDetails();
    try {
      const phone = $("phone").value.replace(/[\s.-]/g, "");
      const idNumber = $("id-number").value.replace(/\s/g, "");
      if (idNumber && !/^\d{12}$/.test(idNumber)) throw new Motcua.ApiError(422, "bad_id", t("bad_id"));
      const { data } = await api("POST", `${base}/remote/tickets`, { body: {
        procedure: state.procedure.id, phone, code: $("code").value, travel_min: state.travel,
        ...(idNumber ? { id_number: idNumber } : {}) } });
      localStorage.setItem(stored, JSON.stringify({ id: data.id, number: data.number, check_code: data.check_code,
        check_in: data.check_in, qr_svg: data.qr_svg, day: data.issued_at.slice(0, 10) }));
      showError(null);
      $("closed").classList.add("hidden");
      $("phone").value = ""; $("code").value = ""; $("id-number").value = "";  // nothing of the phone or card stays
      state.codeSent = false;
      showTicket(data);
    } catch (error) { showError(error); }
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

  function showTicket(view) {
    state.view = view;
    const mine = state.ticket = JSON.parse(localStorage.getItem(stored) || "null");
    $("s-take").classList.add("hidden");
    $("s-ticket").classList.remove("hidden");
    $("number").textContent = view.number;
    $("status").textContent = statusText(view);
    $("facts").replaceChildren(
      el("dt", { text: t("procedure") }), el("dd", { text: view.procedure_name }),
      el("dt", { text: t("agency") }), el("dd", { text: view.agency_name }),
      el("dt", { text: t("trip") }), el("dd", { text: t("minutes", { n: Math.round((view.travel_s || 0) / 60) }) }));
    if (mine && !$("qr").firstChild) {
      const svg = new DOMParser().parseFromString(mine.qr_svg, "image/svg+xml").documentElement;
      $("qr").replaceChildren(document.importNode(svg, true));
    }
    $("check-code").textContent = mine ? mine.check_in : "";
    const away = view.state === "away";
    $("qr").classList.toggle("hidden", !away);
    $("more-time").classList.toggle("hidden", !away || view.more_time || Boolean(view.turn_passed_at));
    $("rejoin").classList.toggle("hidden", !(view.state === "no_show" && !view.checked_in_at && !view.rejoined));
  }

  async function refresh() {
    if (!state.ticket) return;
    try {
      const { data } = await api("GET", `${base}/tickets/${encodeURIComponent(state.ticket.id)}`);
      showError(null);
      showTicket(data);
    } catch (error) {
      if (error instanceof Motcua.ApiError && error.status === 404) { forget(); return; }  // yesterday's number
      showError(error);
    }
  }

  async function own(action) {
    try {
      const { data } = await api("POST", `${base}/tickets/${encodeURIComponent(state.ticket.id)}/${action}`,
                                 { body: { code: state.ticket.check_code } });
      showError(null);
      showTicket(data);
    } catch (error) { showError(error); }
  }

  function forget() {
    localStorage.removeItem(stored);
    state.ticket = null; state.view = null;
    $("qr").replaceChildren();
    $("s-ticket").classList.add("hidden");
    $("s-take").classList.remove("hidden");
  }

  function setLanguage(next) {
    Motcua.applyLanguage(next);
    const other = next === "vi" ? ["en", "English"] : ["vi", "Tiếng Việt"];
    $("lang-button").textContent = other[1];
    $("lang-button").setAttribute("lang", other[0]);
    $("lang-button").setAttribute("aria-label", other[1]);
    if (!state.catalogue) return;
    $("site-name").textContent = `${t("title")} · ${named(state.catalogue.site)}`;
    $("intro").textContent = t("intro", { day: state.info.limits.per_person_day,
                                          agency: state.info.limits.per_person_agency });
    renderProcedures();
    renderDetails();
    if (state.view) showTicket(state.view);
  }

  async function start() {
    $("lang-button").addEventListener("click", () => setLanguage(Motcua.language() === "vi" ? "en" : "vi"));
    $("search").addEventListener("input", renderProcedures);
    $("send-code").addEventListener("click", sendCode);
    $("code").addEventListener("input", renderDetails);
    $("take").addEventListener("click", take);
    $("more-time").addEventListener("click", () => own("more-time"));
    $("rejoin").addEventListener("click", () => own("rejoin"));
    $("another").addEventListener("click", forget);
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
    state.ticket = JSON.parse(localStorage.getItem(stored) || "null");
    if (state.ticket) await refresh();
    setInterval(refresh, 15000);
    setInterval(async () => {  // the predicted waits move: read them again while choosing
      if (state.view) return;
      try { state.info = (await api("GET", `${base}/remote`)).data; renderDetails(); } catch (error) { /* next time */ }
    }, 30000);
    document.body.dataset.ready = "true";
  }

  start();
})();
