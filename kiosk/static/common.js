/* motcua screens: shared helpers (no framework, no build step).
   fold() for diacritic-free search, t() for the two languages, api() for JSON
   calls with the contract's error shape, Live for the resumable event stream. */
"use strict";

const Motcua = (() => {
  /** Lower-case, strip Vietnamese marks: "Lý lịch" and "ly lich" compare equal. */
  function fold(text) {
    return String(text)
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d")
      .replace(/Đ/g, "D")
      .toLowerCase();
  }

  /** True when every word of the query starts a word (or is inside one) of the text. */
  function matches(query, text) {
    const words = fold(query).split(/\s+/).filter(Boolean);
    const hay = fold(text);
    return words.length > 0 && words.every((w) => hay.includes(w));
  }

  let lang = "vi";
  let dictionary = { vi: {}, en: {} };

  function setDictionary(dict) { dictionary = dict; }
  /** Add words to the dictionary (a page's optional module brings its own). */
  function addWords(dict) {
    for (const [code, words] of Object.entries(dict)) dictionary[code] = { ...(dictionary[code] || {}), ...words };
  }
  function language() { return lang; }

  /** The text for a key in the current language, with {name} filled in. */
  function t(key, values) {
    const table = dictionary[lang] || {};
    let text = key in table ? table[key] : (dictionary.vi[key] ?? key);
    if (values) {
      for (const [name, value] of Object.entries(values)) text = text.split(`{${name}}`).join(String(value));
    }
    return text;
  }

  /** Re-label everything marked with data-i18n / data-i18n-aria / data-i18n-placeholder. */
  function applyLanguage(next, root = document) {
    lang = next;
    document.documentElement.lang = next;
    root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    root.querySelectorAll("[data-i18n-aria]").forEach((el) => { el.setAttribute("aria-label", t(el.dataset.i18nAria)); });
    root.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  }

  /** A catalogue name in the current language (sites may leave the English name empty). */
  function named(item) {
    return lang === "en" && item.name_en ? item.name_en : item.name;
  }

  /** "12 phút" / "12 min"; null means no estimate yet. */
  function minutes(seconds) {
    if (seconds === null || seconds === undefined) return t("no_estimate");
    const m = Math.max(1, Math.round(seconds / 60));
    return t("minutes", { n: m });
  }

  /** mm:ss for a running clock on the staff screen. */
  function clock(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const m = Math.floor(s / 60);
    return `${m}:${String(s % 60).padStart(2, "0")}`;
  }

  /** The time of day on the site's clock (HH:MM[:SS]), whatever zone the screen's own clock is set to. */
  function timeOfDay(timeZone, seconds = false) {
    const options = { hour: "2-digit", minute: "2-digit", hour12: false, ...(seconds ? { second: "2-digit" } : {}) };
    try {
      return new Date().toLocaleTimeString("vi-VN", { ...options, timeZone });
    } catch (error) {  // a zone this browser does not know: its own clock beats no clock
      return new Date().toLocaleTimeString("vi-VN", options);
    }
  }

  class ApiError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }

  /** JSON request; resolves {status, data}; rejects ApiError (HTTP error) or TypeError (network). */
  async function api(method, path, { body, headers, timeoutMs = 8000 } = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await fetch(path, {
        method,
        headers: { ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...(headers || {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: controller.signal,
        cache: "no-store",
      });
      const text = await response.text();
      const data = text ? JSON.parse(text) : null;
      if (!response.ok) {
        const err = (data && data.error) || {};
        throw new ApiError(response.status, err.code || "http_" + response.status, err.message || response.statusText);
      }
      return { status: response.status, data };
    } finally {
      clearTimeout(timer);
    }
  }

  /** The site's live stream; reconnects with ?after=SEQ so nothing is missed or repeated.
      Without a token it is the public stream (what the hall shows); with a staff or manager
      token, offered as a subprotocol (never in the address, which logs keep), every event.
      onSignedOut: the server ended the stream because the token was logged out or expired. */
  class Live {
    constructor(site, onEvent, { after = null, onState = () => {}, token = null, onSignedOut = null } = {}) {
      this.site = site;
      this.onEvent = onEvent;
      this.onState = onState;
      this.token = token;
      this.onSignedOut = onSignedOut;
      this.lastSeq = after;
      this.delay = 250;
      this.closed = false;
      this.connect();
    }

    url() {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      const query = this.lastSeq === null ? "?snapshots=false" : `?snapshots=false&after=${this.lastSeq}`;
      return `${scheme}://${location.host}/api/v1/sites/${encodeURIComponent(this.site)}/live${query}`;
    }

    connect() {
      const socket = this.token ? new WebSocket(this.url(), ["motcua.live.v1", `motcua.bearer.${this.token}`])
        : new WebSocket(this.url());
      this.socket = socket;
      socket.onopen = () => { this.delay = 250; this.onState(true); };
      socket.onmessage = (message) => {
        const event = JSON.parse(message.data);
        // The server replays from ?after; anything at or below what we applied is a duplicate.
        if (typeof event.seq === "number" && event.type !== "monitor.snapshot") {
          if (this.lastSeq !== null && event.seq <= this.lastSeq) return;
          this.lastSeq = event.seq;
        }
        this.onEvent(event);
      };
      socket.onclose = (closing) => {
        this.onState(false);
        if (closing.code === 4401 && this.onSignedOut) { this.closed = true; this.onSignedOut(); }
        if (this.closed) return;
        setTimeout(() => this.connect(), this.delay);
        this.delay = Math.min(this.delay * 2, 5000);
      };
      socket.onerror = () => socket.close();
    }

    close() { this.closed = true; if (this.socket) this.socket.close(); }
  }

  /** Run fn at most once per `ms`, trailing: many events, one refresh. */
  function debounce(fn, ms) {
    let timer = null;
    return () => {
      if (timer !== null) return;
      timer = setTimeout(() => { timer = null; fn(); }, ms);
    };
  }

  /** A random key for one tap flow (crypto.randomUUID needs a secure context; kiosks may be on http). */
  function newKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  return { fold, matches, setDictionary, addWords, language, t, applyLanguage, named, minutes, clock, timeOfDay, api, ApiError, Live,
           debounce, newKey, el };
})();
