/* Kiosk: "come back later". On the papers screen, when the wait a number taken now would have is over the
   site's target, the controller offers a time to come back (GET .../return-later?procedure=P): the citizen
   may wait in the hall as always ("Lấy số thứ tự"), or take a number that keeps its place while they are
   away and come back at that time ("Lấy số, quay lại lúc HH:MM": POST .../tickets with return_later). The
   ticket and the paper say when, and its QR checks the number in at this kiosk's scanner when they are back.
   Legal priority is called first: no offer then. A module of its own: it adds its box, words and button. */
"use strict";

(() => {
  const { t, el, api } = Motcua;
  const kiosk = Motcua.kiosk;
  const $ = (id) => document.getElementById(id);

  Motcua.addWords({
    vi: {
      later_title: "Hôm nay phải chờ khoảng {n} phút",
      later_text: "Bạn có thể chờ tại sảnh (chạm “Lấy số thứ tự”), hoặc đi việc khác và quay lại lúc {time}: "
        + "số của bạn vẫn giữ chỗ trong hàng. Khi quay lại, quét mã QR trên vé ở ki-ốt.",
      later_take: "Lấy số, quay lại lúc {time}", later_time: "Mời quay lại lúc {time}",
      later_notice: "Mời quay lại lúc {time}. Khi quay lại, quét mã QR trên vé ở ki-ốt để vào hàng: số của bạn "
        + "giữ nguyên chỗ. Nếu đến lượt mà bạn chưa quét mã, số được giữ thêm {grace} phút.",
      later_text_sms: "Nếu để lại số điện thoại, chúng tôi nhắn tin khi đến lúc quay lại.",
    },
    en: {
      later_title: "The wait today is about {n} minutes",
      later_text: "You may wait in the hall (tap “Take a number”), or go and come back at {time}: your number keeps "
        + "its place in the line. When you are back, scan the QR on the ticket at the kiosk.",
      later_take: "Take a number, come back at {time}", later_time: "Please come back at {time}",
      later_notice: "Please come back at {time}. When you are back, scan the QR on the ticket at the kiosk to join "
        + "the line: your number keeps its place. If your turn comes before you scan it, it is held {grace} more minutes.",
      later_text_sms: "Leave your phone number and we text you when it is time to come back.",
    },
  });

  let offer = null; // the controller's offer for the procedure on the papers screen
  let asked = 0; // which request is the latest: an older answer must not overwrite a newer one
  let shown = null; // the number that returns later on the ticket screen, for its notice
  let graceMin = 10; // how long its turn is held for it (the site's, from the last offer)

  const take = el("button", { id: "issue-later", type: "button", class: "big", onclick: takeLater });
  const box = el("section", { id: "later-box", class: "later-box hidden", "aria-labelledby": "later-title" },
    el("h3", { id: "later-title" }), el("p", { id: "later-text" }), take);
  $("s-papers").querySelector(".actions").before(box);
  const notice = el("p", { id: "later-notice", class: "notice hidden", role: "status" });
  $("done").before(notice);
  const when = el("p", { id: "later-time", class: "later-time hidden" }); // what to remember, by the number
  $("ticket-number").after(when);

  document.addEventListener("kiosk:papers", (event) => { refresh(event.detail.procedure, event.detail.priority); });
  document.addEventListener("kiosk:ticket", (event) => {
    shown = event.detail.return_at && event.detail.state === "away" ? event.detail : null; // not once checked in
    render();
  });
  new MutationObserver(() => { render(); }).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  new MutationObserver(() => {
    if ($("s-ticket").classList.contains("hidden")) { shown = null; render(); }
  }).observe($("s-ticket"), { attributes: true, attributeFilter: ["class"] });

  async function refresh(procedure, priority) {
    const mine = ++asked;
    if (priority) { offer = null; render(); return; } // legal priority is called first
    if (offer && offer.procedure !== procedure.id) { offer = null; render(); }
    try {
      const { data } = await api("GET", `/api/v1/sites/${encodeURIComponent(kiosk.site)}/return-later`
        + `?procedure=${encodeURIComponent(procedure.id)}`);
      if (mine === asked) { offer = data.offered ? data : null; graceMin = Math.round(data.grace_s / 60); render(); }
    } catch (error) {
      if (mine === asked) { offer = null; render(); } // no offer without the controller's word
    }
  }

  async function takeLater() {
    await kiosk.issue({ return_later: true });
    const flow = kiosk.flow();
    // the wait changed since the offer: the kiosk said so; ask again, the citizen sees the new figure (or none)
    if (flow.problem && flow.problem.error && flow.problem.error.code === "return_later_not_offered") {
      refresh(flow.procedure, flow.priority);
    }
  }

  function render() {
    const flow = kiosk.flow();
    const visible = Boolean(offer && flow.procedure && offer.procedure === flow.procedure.id && !flow.priority);
    box.classList.toggle("hidden", !visible);
    document.body.dataset.later = visible ? offer.return_time : "";
    if (visible) {
      $("later-title").textContent = t("later_title", { n: Math.round(offer.predicted_wait_s / 60) });
      $("later-text").textContent = t("later_text", { time: offer.return_time })
        + (document.body.dataset.phone === "on" ? ` ${t("later_text_sms")}` : "");
      take.textContent = t("later_take", { time: offer.return_time });
      take.disabled = !kiosk.usable();
    }
    notice.classList.toggle("hidden", !shown);
    when.classList.toggle("hidden", !shown);
    const time = shown ? shown.return_at.slice(11, 16) : "";
    notice.textContent = shown ? t("later_notice", { time, grace: graceMin }) : "";
    when.textContent = shown ? t("later_time", { time }) : "";
  }
})();
