/* The ticket page's feedback part (/t/SITE/ID): reasons after a low rating.

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
    },
    en: {
      reasons_title: "What was not good?", reasons_hint: "Optional; choose one or more reasons.",
      send_reasons: "Send reasons", reasons_thanks: "Thank you, your answer has been recorded.",
    },
  });

  // ticket.js labelled the page before these words were added: label this part now
  Motcua.applyLanguage(Motcua.language(), $("ticket-reasons"));

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
      $("reasons-error").textContent = error.message;
      $("reasons-error").classList.remove("hidden");
      $("send-reasons").disabled = false;
    }
  }

  async function start() {
    const catalogue = (await api("GET", `${base}/catalogue`)).data;
    choices = catalogue.site.feedback.reasons;
    $("send-reasons").addEventListener("click", sendReasons);
    $("lang-button").addEventListener("click", () => { if (asked) drawReasons(); });
    await poll();
    setInterval(poll, POLL_MS);
    document.addEventListener("visibilitychange", poll);
  }

  start();
})();
