/* Ticket status (the page the ticket's QR opens): position, estimate, state and
   the counter it is called to, kept current from the live stream. Without a
   ticket in the address it is a lookup form by the printed number. */
"use strict";

(() => {
  const { t, api } = Motcua;
  const [, , siteRaw, ticketRaw] = location.pathname.split("/");
  const site = decodeURIComponent(siteRaw || "");
  const ticketId = ticketRaw ? decodeURIComponent(ticketRaw) : null;
  const base = `/api/v1/sites/${encodeURIComponent(site)}`;
  const $ = (id) => document.getElementById(id);
  let ticket = null;
  let readAt = 0; // performance.now() when the ticket was read: the wait goes on between reads
  const IN_LINE = ["waiting", "held"]; // the states whose wait clock runs (Ticket.is_waiting)

  Motcua.setDictionary({
    vi: {
      title: "Theo dõi số thứ tự", lookup_title: "Tra cứu theo số trên vé", number_label: "Số thứ tự", lookup: "Tra cứu",
      your_number: "Số thứ tự của bạn", procedure: "Thủ tục", people_ahead: "Số người chờ trước bạn",
      estimated_wait: "Thời gian chờ dự kiến", counters: "Quầy phục vụ", waited: "Đã chờ",
      live_note: "Trang tự cập nhật; hãy để trang mở.", minutes: "khoảng {n} phút", no_estimate: "chưa ước tính được",
      people: "{n} người", go_to: "Mời bạn đến quầy {n}", waited_min: "{n} phút", waited_under: "chưa đến 1 phút",
      waiting: "Đang chờ đến lượt", held: "Đã gọi nhưng vắng mặt: bạn vẫn trong hàng chờ", called: "Đã đến lượt",
      early: "Đã xác nhận lịch hẹn: bạn vào hàng chờ đúng giờ hẹn",
      away: "Đang giữ chỗ khi bạn vắng mặt",
      advice_away: "Số của bạn giữ chỗ trong hàng nhưng chưa được gọi khi chưa quét mã. Khi quay lại, quét mã QR trên vé ở ki-ốt.",
      advice_away_at: "Mời quay lại lúc {time} và quét mã QR trên vé ở ki-ốt. Số của bạn giữ chỗ trong hàng nhưng chưa được gọi khi chưa quét mã.",
      advice_waiting: "Hãy ở trong sảnh và để ý bảng gọi số; trang này cũng báo khi đến lượt bạn.",
      advice_held: "Bạn được gọi nhưng không có mặt tại quầy. Hãy quay lại sảnh ngay: bạn vẫn giữ chỗ và sẽ được gọi lại sau ít phút.",
      advice_no_show: "Số này đã hết lượt vì bạn không có mặt khi được gọi. Nếu vẫn cần làm thủ tục, mời lấy số mới tại ki-ốt "
        + "hoặc hỏi quầy hướng dẫn.",
      advice_abandoned: "Số này không còn trong hàng chờ. Nếu vẫn cần làm thủ tục, mời lấy số mới tại ki-ốt hoặc hỏi quầy hướng dẫn.",
      advice_early: "Bạn đến trước giờ hẹn: hãy chờ trong sảnh, bạn sẽ được mời sau giờ hẹn.",
      serving: "Đang được phục vụ", back_office: "Hồ sơ đang được xử lý, mời chờ nhận kết quả",
      done: "Đã hoàn thành", no_show: "Đã quá lượt (vắng mặt)", abandoned: "Đã rời hàng chờ",
      not_found: "Không tìm thấy số này hôm nay.",
      phone_note: "Số điện thoại của bạn đang được lưu để gửi tin nhắn khi sắp đến lượt. Số sẽ tự xóa khi bạn xong việc hoặc hết ngày.",
      forget_phone: "Xóa số điện thoại của tôi", phone_forgotten: "Đã xóa số điện thoại. Bạn sẽ không nhận tin nhắn nữa.",
    },
    en: {
      title: "Follow your number", lookup_title: "Look up by the number on your ticket", number_label: "Ticket number",
      lookup: "Look up", your_number: "Your number", procedure: "Procedure", people_ahead: "People ahead of you",
      estimated_wait: "Estimated wait", counters: "Counters", waited: "Waited",
      live_note: "This page updates itself; keep it open.", minutes: "about {n} min", no_estimate: "not yet known",
      people: { one: "{n} person", other: "{n} people" }, go_to: "Please go to counter {n}",
      waited_min: { one: "{n} minute", other: "{n} minutes" }, waited_under: "less than a minute",
      waiting: "Waiting for your turn", held: "Called while away: you are still in the line", called: "It is your turn",
      early: "Appointment confirmed: you join the line at your appointment time",
      away: "Your place is held while you are away",
      advice_away: "Your number keeps its place but is not called until you scan it. When you are back, scan the ticket's QR at the kiosk.",
      advice_away_at: "Please come back at {time} and scan the ticket's QR at the kiosk. Your number keeps its place but is not called until you scan it.",
      advice_waiting: "Stay in the hall and watch the board; this page also tells you when it is your turn.",
      advice_held: "You were called but were not at the counter. Come back to the hall now: you keep your place and will be "
        + "called again in a few minutes.",
      advice_no_show: "This number has lapsed because you were not there when called. If you still need the procedure, "
        + "please take a new number at a kiosk or ask at the help desk.",
      advice_abandoned: "This number is no longer in the line. If you still need the procedure, please take a new number "
        + "at a kiosk or ask at the help desk.",
      advice_early: "You are early for your appointment: wait in the hall, you will be called after your appointment time.",
      serving: "Being served", back_office: "Your file is being processed; wait for the result",
      done: "Finished", no_show: "Missed (no-show)", abandoned: "Left the line", not_found: "No such number today.",
      phone_note: "Your phone number is kept to text you when your turn is near. It is deleted when you are done or at the end of the day.",
      forget_phone: "Delete my phone number", phone_forgotten: "Your phone number is deleted. You will get no more texts.",
    },
  });

  function render() {
    if (!ticket) return;
    $("ticket").classList.remove("hidden");
    $("number").textContent = ticket.number;
    const called = ticket.state === "called" || ticket.state === "serving";
    $("call").classList.toggle("hidden", !called);
    $("call").textContent = called ? t("go_to", { n: ticket.counter }) : "";
    $("state").textContent = t(ticket.state);
    const advice = ticket.state === "away" && ticket.return_at ? "advice_away_at" : `advice_${ticket.state}`;
    $("advice").textContent = advice === t(advice) ? "" : t(advice, { time: (ticket.return_at || "").slice(11, 16) });
    $("advice").classList.toggle("hidden", advice === t(advice));
    $("procedure").textContent = Motcua.language() === "en" && ticket.procedure_name_en ? ticket.procedure_name_en
      : ticket.procedure_name;
    $("ahead").textContent = ticket.position ? t("people", { n: ticket.position - 1 }) : "—";
    $("wait").textContent = ticket.position ? Motcua.minutes(ticket.estimated_wait_s) : "—";
    $("counters").textContent = ticket.counters.join(", ");
    renderWaited();
    $("phone-on-file").classList.toggle("hidden", !ticket.phone_on_file);
    document.title = `${ticket.number} · ${t("title")}`;
    document.body.dataset.state = ticket.state;
  }

  /** How long the citizen has waited in line, in minutes, still counting while they wait (not a time of day). */
  function renderWaited() {
    if (!ticket) return;
    const running = IN_LINE.includes(ticket.state) ? (performance.now() - readAt) / 1000 : 0;
    const seconds = ticket.visit_waited_s + running;
    $("waited").textContent = seconds < 60 ? t("waited_under") : t("waited_min", { n: Math.floor(seconds / 60) });
  }

  async function load() {
    try {
      const fresh = (await api("GET", `${base}/tickets/${encodeURIComponent(ticketId)}`)).data;
      if (ticket && fresh.state === "called" && ticket.state !== "called" && navigator.vibrate) navigator.vibrate([300, 100, 300]);
      ticket = fresh;
      readAt = performance.now();
      $("error").classList.add("hidden");
      render();
    } catch (error) {
      $("error").textContent = error.status === 404 ? t("not_found") : Motcua.errorText(error);
      $("error").classList.remove("hidden");
    }
  }
  const loadSoon = Motcua.debounce(load, 400);

  function onEvent(event) {
    if (event.ticket === (ticket && ticket.id)) { load(); return; } // this ticket: at once
    if (event.type.startsWith("ticket.") || event.type === "counter.changed") loadSoon(); // the line moved
  }

  function setLanguage(lang) {
    Motcua.applyLanguage(lang);
    const other = lang === "vi" ? "English" : "Tiếng Việt";
    $("lang-button").textContent = other;
    $("lang-button").setAttribute("aria-label", other);
    render();
  }

  async function forgetPhone() {
    $("forget-phone").disabled = true;
    try {
      await api("DELETE", `${base}/tickets/${encodeURIComponent(ticket.id)}/contact`);
      $("phone-forgotten").classList.remove("hidden");
      await load();
    } catch (error) {
      $("error").textContent = Motcua.errorText(error);
      $("error").classList.remove("hidden");
    } finally {
      $("forget-phone").disabled = false;
    }
  }

  setInterval(renderWaited, 10000);
  $("forget-phone").addEventListener("click", forgetPhone);
  $("lang-button").addEventListener("click", () => setLanguage(Motcua.language() === "vi" ? "en" : "vi"));
  setLanguage(new URLSearchParams(location.search).get("lang") === "en" ? "en" : "vi");
  if (!ticketId) {
    $("lookup").classList.remove("hidden");
    $("lookup").addEventListener("submit", (event) => {
      event.preventDefault();
      location.href = `/t/${encodeURIComponent(site)}/${encodeURIComponent($("lookup-number").value.trim())}`;
    });
    document.body.dataset.ready = "true";
  } else {
    // Subscribe first, then read, so a call between the two is not missed; every reconnect re-reads.
    new Motcua.Live(site, onEvent, {
      onState: (up) => { $("live-state").dataset.state = up ? "on" : "off"; if (up) load().then(() => { document.body.dataset.ready = "true"; }); },
    });
  }
})();
