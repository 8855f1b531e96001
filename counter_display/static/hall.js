/* Hall display: the latest calls (newest big and blinking), people waiting per
   agency, a scrolling notice. Calls are drawn straight from the live stream; the
   board is re-read (at most once a second) for the waiting counts.
   ?notice=TEXT replaces the notice line for this screen; a waiting list longer than
   its share of the screen turns a page every ?page=SECONDS (default 8). */
"use strict";

(() => {
  const { el, api } = Motcua;
  const site = decodeURIComponent(location.pathname.split("/")[2] || "");
  const base = `/api/v1/sites/${encodeURIComponent(site)}`;
  const ROWS = 8;
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const PAGE_MS = 1000 * Math.max(2, Number(params.get("page")) || 8);
  let called = [];
  let live = null;
  let zone;
  let waitingList = [];
  let page = 0;
  let pages = 1;

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

  function agencyItem(a) {
    const name = el("span", { text: a.name });
    if (a.name_en) name.append(el("span", { class: "en", lang: "en", text: a.name_en }));
    return el("li", { "data-agency": a.id }, name, el("b", { text: String(a.waiting) }));
  }

  function drawAgencies(agencies) {
    waitingList = agencies.filter((a) => a.role === "service" || a.waiting > 0);
    drawPage();
  }

  // As many whole items as the list's box holds, page by page: a TV cannot be scrolled.
  function drawPage() {
    const list = $("agencies");
    const items = waitingList.map(agencyItem);
    list.replaceChildren(...items);
    const bottom = list.getBoundingClientRect().bottom + 1;
    const firstOut = items.findIndex((li) => li.getBoundingClientRect().bottom > bottom);
    const fit = firstOut < 0 ? Math.max(1, items.length) : Math.max(1, firstOut);
    pages = Math.max(1, Math.ceil(items.length / fit));
    page %= pages;
    list.replaceChildren(...items.slice(page * fit, (page + 1) * fit));
    list.dataset.page = String(page + 1);
    list.dataset.pages = String(pages);
    $("agencies-page").textContent = pages > 1 ? `${page + 1}/${pages}` : "";
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
    $("clock").textContent = Motcua.timeOfDay(zone);
  }

  async function start() {
    tickClock();
    setInterval(tickClock, 5000);
    let board = null;
    for (let attempt = 0; !board; attempt++) {
      try { board = await readBoard(); } catch (error) { await new Promise((r) => setTimeout(r, Math.min(5000, 500 * (attempt + 1)))); }
    }
    zone = board.timezone;
    tickClock();
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
    setInterval(() => { if (pages > 1) { page = (page + 1) % pages; drawPage(); } }, PAGE_MS);
    addEventListener("resize", Motcua.debounce(drawPage, 200));
    document.body.dataset.ready = "true";
  }

  start();
  window.motcuaHall = { get live() { return live; } };
})();
