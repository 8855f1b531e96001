/* The ticket page's feedback part (/t/SITE/ID): reasons after a low rating, and feedback.

   Feedback (phản ánh, kiến nghị): a category, a short text and, where the centre sends
   texts, an optional phone number with consent. Each item's code is kept in this
   browser (localStorage), and its status and answer are shown here (GET /feedback/CODE):
   the answer is read with the code, which cannot be guessed, not with the ticket id.
   Everything a person wrote is shown as text, never as markup.

   Ratings are not on the public stream, so this part asks the ticket itself every
   POLL_MS while the page is visible: when its last rating is at or below the site's
   threshold and still within the window, it offers the site's short list of reasons
   (optional); the answer binds to that rating (POST /tickets/{id}/reasons). */
"use strict";

(() => {
  const { t, el, api } = Motcua;
  const [, , siteRaw, ticketRaw] = location.pathname.split("/");
  if (!ticketRaw) return;
  const site = decodeURIComponent(siteRaw || "");
  const ticketId = decodeURIComponent(ticketRaw);
  const base = `/api/v1/sites/${encodeURIComponent(site)}`;
  const $ = (id) => document.getElementById(id);
  const POLL_MS = 15000;

  Motcua.addWords({
    vi: {
      reasons_title: "Bạn chưa hài lòng vì điều gì?", reasons_hint: "Không bắt buộc; chọn một hay nhiều lý do.",
      send_reasons: "Gửi lý do", reasons_thanks: "Cảm ơn bạn, ý kiến đã được ghi nhận.",
      feedback_title: "Phản ánh, kiến nghị", feedback_category: "Về việc", feedback_text: "Nội dung (tối đa 1000 ký tự)",
      feedback_phone: "Số điện thoại nhận trả lời (không bắt buộc)",
      feedback_consent: "Tôi đồng ý nhận tin nhắn trả lời; số sẽ bị xóa sau khi trả lời.", feedback_send: "Gửi phản ánh",
      feedback_code: "Mã phản ánh {code}", feedback_waiting: "Đang chờ trả lời (hạn {d})",
      feedback_answered: "Trả lời của trung tâm:", feedback_closed: "Đã đóng",
    },
    en: {
      reasons_title: "What was not good?", reasons_hint: "Optional; choose one or more reasons.",
      send_reasons: "Send reasons", reasons_thanks: "Thank you, your answer has been recorded.",
      feedback_title: "Feedback and complaints", feedback_category: "About", feedback_text: "Your message (at most 1000 characters)",
      feedback_phone: "Phone number for the answer (optional)",
      feedback_consent: "I agree to get the answer by text; the number is deleted once answered.", feedback_send: "Send",
      feedback_code: "Feedback {code}", feedback_waiting: "Waiting for an answer (by {d})",
      feedback_answered: "The centre's answer:", feedback_closed: "Closed",
    },
  });

  // ticket.js labelled the page before these words were added: label this part now
  Motcua.applyLanguage(Motcua.language(), $("ticket-reasons"));
  Motcua.applyLanguage(Motcua.language(), $("ticket-feedback"));
  const STORE = `motcua.feedback.${site}.${ticketId}`;
  let categories = [];
  const codes = () => JSON.parse(localStorage.getItem(STORE) || "[]");

  let choices = [];
  const chosen = new Set();
  let asked = false;
  let done = false;

  function drawReasons() {
    $("reasons-list").replaceChildren(...choices.map((reason) => el("li", {}, el("button", {
      type: "button", "data-reason": reason.code, "aria-pressed": String(chosen.has(reason.code)),
      text: Motcua.named(reason),
      onclick: (event) => {
        if (chosen.has(reason.code)) chosen.delete(reason.code); else chosen.add(reason.code);
        event.currentTarget.setAttribute("aria-pressed", String(chosen.has(reason.code)));
        $("send-reasons").disabled = chosen.size === 0;
      },
    }))));
    $("send-reasons").disabled = chosen.size === 0;
  }

  async function poll() {
    if (done || document.hidden) return;
    try {
      const ticket = (await api("GET", `${base}/tickets/${encodeURIComponent(ticketId)}`)).data;
      if (ticket.reasons_wanted && !asked) {
        asked = true;
        drawReasons();
        $("ticket-reasons").classList.remove("hidden");
      } else if (!ticket.reasons_wanted && asked) {
        $("ticket-reasons").classList.add("hidden");  // the window closed, or answered at the counter
        asked = false;
      }
    } catch (error) { /* the main part of the page says what went wrong */ }
  }

  async function sendReasons() {
    $("send-reasons").disabled = true;
    try {
      await api("POST", `${base}/tickets/${encodeURIComponent(ticketId)}/reasons`, { body: { reasons: [...chosen] } });
      done = true;
      $("reasons-form").classList.add("hidden");
      $("reasons-thanks").classList.remove("hidden");
    } catch (error) {
      $("reasons-error").textContent = Motcua.errorText(error);
      $("reasons-error").classList.remove("hidden");
      $("send-reasons").disabled = false;
    }
  }

  function drawCategories() {
    const chosen = $("feedback-category").value;
    $("feedback-category").replaceChildren(...categories.map((c) => el("option", { value: c.code, text: Motcua.named(c) })));
    if (chosen) $("feedback-category").value = chosen;
  }

  async function showSent() {
    const items = [];
    for (const code of codes()) {
      try {
        items.push((await api("GET", `${base}/feedback/${code}`)).data);
      } catch (error) { /* forgotten, or limited for a moment: shown at the next look */ }
    }
    $("feedback-sent").replaceChildren(...items.map((item) => el("li", { "data-code": item.code },
      el("strong", { text: t("feedback_code", { code: item.code }) }),
      el("p", { class: "text", text: item.text }),
      item.answer ? el("p", { text: t("feedback_answered") }) : el("p", { class: "muted",
        text: item.status === "closed" ? t("feedback_closed") : t("feedback_waiting", { d: item.due_at.slice(0, 10) }) }),
      item.answer ? el("p", { class: "answer", text: item.answer }) : null)));
  }

  let pending = null;  // the item being sent: its body and Idempotency-Key

  async function sendFeedback(event) {
    event.preventDefault();
    $("feedback-send").disabled = true;
    const body = { category: $("feedback-category").value, text: $("feedback-text").value, ticket: ticketId };
    if ($("feedback-phone").value.trim()) {
      body.phone = $("feedback-phone").value.trim();
      body.phone_consent = $("feedback-consent").checked;
    }
    // one Idempotency-Key per item: a retry after a lost answer never files it twice; a changed form is another
    const sending = JSON.stringify(body);
    if (!pending || pending.body !== sending) pending = { key: Motcua.newKey(), body: sending };
    try {
      const { data } = await api("POST", `${base}/feedback`, { headers: { "Idempotency-Key": pending.key }, body });
      pending = null;
      localStorage.setItem(STORE, JSON.stringify([...codes(), data.code]));
      $("feedback-text").value = "";
      $("feedback-phone").value = "";
      $("feedback-consent").checked = false;
      $("feedback-error").classList.add("hidden");
      await showSent();
    } catch (error) {
      $("feedback-error").textContent = Motcua.errorText(error);
      $("feedback-error").classList.remove("hidden");
    } finally {
      $("feedback-send").disabled = false;
    }
  }

  async function start() {
    const catalogue = (await api("GET", `${base}/catalogue`)).data;
    choices = catalogue.site.feedback.reasons;
    categories = catalogue.site.feedback.categories;
    drawCategories();
    $("feedback-form").addEventListener("submit", sendFeedback);
    $("lang-button").addEventListener("click", drawCategories);
    api("GET", `${base}/sms`).then(({ data }) => $("feedback-phone-box").classList.toggle("hidden", !data.enabled));
    showSent();
    setInterval(showSent, 60000);
    $("send-reasons").addEventListener("click", sendReasons);
    $("lang-button").addEventListener("click", () => { if (asked) drawReasons(); });
    await poll();
    setInterval(poll, POLL_MS);
    document.addEventListener("visibilitychange", poll);
  }

  start();
})();
