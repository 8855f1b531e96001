/* Hall display: the latest calls (newest big and blinking), people waiting per
   agency, a scrolling notice. Calls are drawn straight from the live stream; the
   board is re-read (at most once a second) for the waiting counts.
   ?notice=TEXT replaces the notice line for this screen. */
"use strict";

(() => {
  const { el, api } = Motcua;
  const site = decodeURIComponent(location.pathname.split("/")[2] || "");
  const base = `/api/v1/sites/${encodeURIComponent(site)}`;
  const ROWS = 8;
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  let called = [];
  let live = null;

  function drawCalls() {
    const newest = called[0];
    const box = document.querySelector(".newest");
    $("newest-number").textContent = newest ? newest.number : "—";
    $("newest-counter").textContent = newest ? String(newest.counter) : "—";
    box.classList.remove("blink");
    if (newest) {
      void box.offsetWidth; // restart the blink animation for every new call
      box.classList.add("blink");
    }
    $("recent").replaceChildren(...called.slice(0, ROWS).map((c) =>
      el("tr", { "data-ticket": c.ticket }, el("td", { text: c.number }), el("td", { text: String(c.counter) }))));
  }

  function onCall(event) {
    called = [{ ticket: event.ticket, number: event.number, counter: event.counter },
      ...called.filter((c) => c.ticket !== event.ticket)].slice(0, ROWS);
    drawCalls();
  }

  function drawAgencies(agencies) {
    const shown = agencies.filter((a) => a.role === "service" || a.waiting > 0);
    $("agencies").replaceChildren(...shown.map((a) => el("li", { "data-agency": a.id },
      el("span", { text: a.name }), el("b", { text: String(a.waiting) }))));
  }

  async function readBoard() {
    const board = (await api("GET", `${base}/hall?limit=${ROWS}`)).data;
    drawAgencies(board.agencies);
    return board;
  }
  const countsSoon = Motcua.debounce(() => readBoard().catch(() => {}), 1000);

  function onEvent(event) {
    if (event.type === "ticket.called" || event.type === "ticket.recalled") onCall(event);
    if (event.type.startsWith("ticket.") || event.type === "counter.changed") countsSoon();
  }

  function tickClock() {
    $("clock").textContent = new Date().toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Ho_Chi_Minh" });
  }

  async function start() {
    tickClock();
    setInterval(tickClock, 5000);
    let board = null;
    for (let attempt = 0; !board; attempt++) {
      try { board = await readBoard(); } catch (error) { await new Promise((r) => setTimeout(r, Math.min(5000, 500 * (attempt + 1)))); }
    }
    $("site-name").textContent = board.name;
    const notice = params.get("notice") || board.notice;
    $("notice-text").textContent = notice;
    // Same reading speed for any length of notice: about 12 characters a second.
    $("notice").style.setProperty("--duration", `${Math.max(20, Math.round(notice.length / 12))}s`);
    called = board.called.map((c) => ({ ticket: c.ticket, number: c.number, counter: c.counter }));
    drawCalls();
    // Resume right after the board's moment: nothing between the read and the stream is lost.
    live = new Motcua.Live(site, onEvent, {
      after: board.seq,
      onState: (up) => { $("live-state").dataset.state = up ? "on" : "off"; if (up) countsSoon(); },
    });
    document.body.dataset.ready = "true";
  }

  start();
  window.motcuaHall = { get live() { return live; } };
})();
