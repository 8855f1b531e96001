/* Hall display: the newest call (big and blinking), a tile per counter in use with its
   number now, people waiting per agency with the wait a number taken now would have, and
   a scrolling notice. Calls are drawn straight from the live stream; the board is re-read
   (at most once a second) for the counters' tiles and the waiting counts.
   ?notice=TEXT replaces the notice line for this screen; a list longer than its box turns
   a page every ?page=SECONDS (default 8). Each list keeps its box: a page turn moves nothing else. */
"use strict";

(() => {
  const { el, api } = Motcua;
  const site = decodeURIComponent(location.pathname.split("/")[2] || "");
  const base = `/api/v1/sites/${encodeURIComponent(site)}`;
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const PAGE_MS = 1000 * Math.max(2, Number(params.get("page")) || 8);
  const FRESH_MS = 6000; // as long as the newest call blinks
  let newest = null;
  let live = null;
  let zone;
  let tiles = []; // [{id, status, ticket, number}] of the last board read, patched by calls
  const fresh = new Map(); // counter -> when it called: its tile is outlined for a while

  /** A list shown a page at a time inside its fixed box: pages are cut where the next item would not fit whole. */
  class Pager {
    constructor(list, indicator) {
      this.list = list; this.indicator = indicator; this.items = []; this.page = 0; this.pages = [[0, 0]];
    }

    show(items) {
      this.items = items;
      this.list.replaceChildren(...items);
      const height = this.list.clientHeight;
      const pages = [];
      for (let start = 0; start < items.length;) {
        const top = items[start].offsetTop;
        let end = start + 1;
        while (end < items.length && items[end].offsetTop + items[end].offsetHeight - top <= height) end++;
        pages.push([start, end]);
        start = end;
      }
      this.pages = pages.length ? pages : [[0, 0]];
      this.page %= this.pages.length;
      this.draw();
    }

    turn() {
      if (this.pages.length < 2) return;
      this.page = (this.page + 1) % this.pages.length;
      this.draw();
    }

    draw() {
      const [start, end] = this.pages[this.page];
      this.list.replaceChildren(...this.items.slice(start, end));
      this.list.dataset.page = String(this.page + 1);
      this.list.dataset.pages = String(this.pages.length);
      this.indicator.textContent = this.pages.length > 1 ? `${this.page + 1}/${this.pages.length}` : "";
    }
  }

  const counterPages = new Pager($("counters"), $("counters-page"));
  const agencyPages = new Pager($("agencies"), $("agencies-page"));

  function drawNewest(blink) {
    const box = document.querySelector(".newest");
    $("newest-number").textContent = newest ? newest.number : "—";
    $("newest-counter").textContent = newest ? String(newest.counter) : "—";
    if (!blink) return;
    box.classList.remove("blink");
    void box.offsetWidth; // restart the blink animation for every new call
    box.classList.add("blink");
  }

  function tile(c) {
    const paused = c.status === "paused" && !c.number;
    const now = el("span", { class: `now${c.number ? "" : paused ? " paused" : " idle"}` });
    if (paused) now.append("Tạm nghỉ", el("br"), el("span", { class: "en", lang: "en", text: "Paused" }));
    else now.textContent = c.number || "—";
    const called = fresh.get(c.id);
    return el("li", { "data-counter": String(c.id), "data-ticket": c.ticket || null,
      class: called && Date.now() - called < FRESH_MS ? "fresh" : "" },
      el("span", { class: "id", text: String(c.id) }), now);
  }

  function drawTiles() {
    counterPages.show(tiles.map(tile));
  }

  function onCall(event) {
    newest = { ticket: event.ticket, number: event.number, counter: event.counter };
    drawNewest(true);
    fresh.set(event.counter, Date.now());
    const known = tiles.find((c) => c.id === event.counter);
    if (known) Object.assign(known, { ticket: event.ticket, number: event.number });
    else tiles = [...tiles, { id: event.counter, status: "open", ticket: event.ticket, number: event.number }]
      .sort((a, b) => a.id - b.id);
    drawTiles();
    setTimeout(drawTiles, FRESH_MS + 50); // the outline goes
  }

  /** "≈ 12 phút / min", "ngay / now", or "chưa có quầy / no counter" when no open counter serves the agency. */
  function waitText(seconds) {
    const en = (text) => el("span", { class: "en", lang: "en", text });
    if (seconds === null || seconds === undefined) return el("span", { class: "wait none" }, "Chưa có quầy", el("br"), en("No counter"));
    if (seconds < 60) return el("span", { class: "wait" }, "Ngay", el("span", { class: "unit" }, en("Now")));
    return el("span", { class: "wait" }, `≈ ${Math.round(seconds / 60)}`, el("span", { class: "unit" }, "phút · ", en("min")));
  }

  function agencyItem(a) {
    const names = el("span", { class: "names" }, el("span", { class: "vi", text: a.name }));
    if (a.name_en) names.append(el("span", { class: "en", lang: "en", text: a.name_en }));
    return el("li", { "data-agency": a.id, "data-wait": a.predicted_wait_s ?? "" }, names,
      el("b", { class: "count", text: String(a.waiting) }), waitText(a.predicted_wait_s));
  }

  function drawBoard(board) {
    tiles = board.counters || [];
    drawTiles();
    agencyPages.show(board.agencies.filter((a) => a.role === "service" || a.waiting > 0).map(agencyItem));
  }

  async function readBoard() {
    const board = (await api("GET", `${base}/hall?limit=1`)).data;
    drawBoard(board);
    return board;
  }
  const boardSoon = Motcua.debounce(() => readBoard().catch(() => {}), 1000);

  function onEvent(event) {
    if (event.type === "ticket.called" || event.type === "ticket.recalled") onCall(event);
    if (event.type.startsWith("ticket.") || event.type === "counter.changed") boardSoon();
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
    $("site-name-en").textContent = board.name_en || "";
    const notice = params.get("notice") || board.notice;
    $("notice-text").textContent = notice;
    // Same reading speed for any length of notice: about 12 characters a second.
    $("notice").style.setProperty("--duration", `${Math.max(20, Math.round(notice.length / 12))}s`);
    const last = board.called[0];
    newest = last ? { ticket: last.ticket, number: last.number, counter: last.counter } : null;
    drawNewest(false);
    // Resume right after the board's moment: nothing between the read and the stream is lost.
    live = new Motcua.Live(site, onEvent, {
      after: board.seq,
      onState: (up) => { $("live-state").dataset.state = up ? "on" : "off"; if (up) boardSoon(); },
    });
    setInterval(() => { counterPages.turn(); agencyPages.turn(); }, PAGE_MS);
    setInterval(boardSoon, 15000); // predicted waits move with the clock, not only with events
    addEventListener("resize", Motcua.debounce(() => { drawTiles(); agencyPages.show(agencyPages.items); }, 200));
    document.body.dataset.ready = "true";
  }

  start();
  window.motcuaHall = { get live() { return live; } };
})();
