/* The counter's rating screen (/rate/SITE/N), a tablet facing the citizen.

   Opened once by a technician as /rate/SITE/N?key=KIOSK-KEY: the key is kept in this
   browser's localStorage (as the kiosk keeps it) and dropped from the address. A tap
   records a rating of the ticket last served at the counter (POST /ratings); a rating at
   or below the site's threshold asks why from the site's short list, optional, for the
   site's timeout (POST /ratings/reasons), then thanks and goes back to the scale. */
"use strict";

(() => {
  const { t, el, api } = Motcua;
  const $ = (id) => document.getElementById(id);
  const [, , site, counterText] = location.pathname.split("/");
  const counter = Number(counterText);
  const THANKS_MS = 4000;

  // Labels of the scale, best first (CONTRACT.md section 2: satisfaction is the top two levels).
  const LEVELS = {
    vi: {
      3: ["Hài lòng", "Bình thường", "Không hài lòng"],
      4: ["Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng"],
      5: ["Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng", "Rất không hài lòng"],
    },
    en: {
      3: ["Satisfied", "Neutral", "Dissatisfied"],
      4: ["Very satisfied", "Satisfied", "Neutral", "Dissatisfied"],
      5: ["Very satisfied", "Satisfied", "Neutral", "Dissatisfied", "Very dissatisfied"],
    },
  };

  Motcua.setDictionary({
    vi: {
      title: "Đánh giá mức độ hài lòng", question: "Quầy {n}: ông/bà có hài lòng với lần phục vụ vừa rồi?",
      reasons_title: "Ông/bà chưa hài lòng vì điều gì? (không bắt buộc)", send: "Gửi", skip: "Bỏ qua",
      thanks: "Cảm ơn ông/bà đã đánh giá!", countdown: "Màn hình tự trở lại sau {s} giây",
      no_key: "Màn hình đánh giá chưa có khóa (mở /rate/{site}/{n}?key=KHÓA một lần).",
      nothing_to_rate: "Quầy chưa phục vụ ai để đánh giá.",
      already_rated: "Lượt phục vụ này đã được đánh giá. Cảm ơn ông/bà!",
      rating_moved_on: "Quầy đã phục vụ người tiếp theo.",
      reasons_too_late: "Đã hết thời gian nêu lý do.",
      network: "Không kết nối được máy chủ, vui lòng thử lại.",
    },
    en: {
      title: "How satisfied are you?", question: "Counter {n}: were you satisfied with the service?",
      reasons_title: "What was not good? (optional)", send: "Send", skip: "Skip",
      thanks: "Thank you for your rating!", countdown: "This screen resets in {s} s",
      no_key: "This rating screen has no key (open /rate/{site}/{n}?key=KEY once).",
      nothing_to_rate: "The counter has served nobody to rate yet.",
      already_rated: "This service has already been rated. Thank you!",
      rating_moved_on: "The counter has moved on to the next citizen.",
      reasons_too_late: "The time to give reasons is over.",
      network: "Cannot reach the server, please try again.",
    },
  });

  const key = (() => {
    const params = new URLSearchParams(location.search);
    if (params.get("key")) {
      localStorage.setItem("motcua.kiosk.key", params.get("key"));
      params.delete("key");
      history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : ""));
    }
    return localStorage.getItem("motcua.kiosk.key");
  })();

  let feedback = null;   // the catalogue's site.feedback
  let levels = 4;
  let chosen = new Set();
  let timer = null;
  let busy = false;

  function show(id) {
    for (const section of document.querySelectorAll(".screen")) section.classList.toggle("hidden", section.id !== id);
  }

  function say(id, error) {
    const node = $(id);
    const words = error ? (t(error.code) !== error.code ? t(error.code) : Motcua.errorText(error)) : "";
    node.textContent = words;
    node.classList.toggle("hidden", !words);
  }

  function stopTimer() { if (timer !== null) { clearInterval(timer); timer = null; } }

  function backToScale() {
    stopTimer();
    chosen = new Set();
    say("scale-error", null);
    show("s-scale");
    drawScale();
  }

  function thanks() {
    stopTimer();
    show("s-thanks");
    setTimeout(backToScale, THANKS_MS);
  }

  function drawScale() {
    $("scale-title").textContent = t("question", { n: counter });
    const names = LEVELS[Motcua.language()][levels];
    $("scores").replaceChildren(...names.map((name, i) => {
      const score = levels - i;
      return el("li", {}, el("button", { type: "button", class: "score", "data-score": score, onclick: () => rate(score) },
        el("span", { class: "score-n", text: String(score) }), el("span", { text: name })));
    }));
  }

  function drawReasons() {
    $("reasons").replaceChildren(...feedback.reasons.map((reason) => el("li", {}, el("button", {
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

  function askReasons() {
    chosen = new Set();
    say("reasons-error", null);
    drawReasons();
    show("s-reasons");
    let left = Math.round(feedback.reasons_timeout_s);
    $("countdown").textContent = t("countdown", { s: left });
    timer = setInterval(() => {
      left -= 1;
      $("countdown").textContent = t("countdown", { s: Math.max(0, left) });
      if (left <= 0) backToScale();  // optional: silence is an answer too
    }, 1000);
  }

  async function rate(score) {
    if (busy) return;
    busy = true;
    try {
      const { data } = await api("POST", `/api/v1/sites/${site}/ratings`, {
        body: { counter, score }, headers: { "X-Kiosk-Key": key } });
      if (data.ask_reasons) askReasons(); else thanks();
    } catch (error) {
      say("scale-error", error instanceof Motcua.ApiError ? error : { code: "network" });
    } finally {
      busy = false;
    }
  }

  async function sendReasons() {
    if (busy || chosen.size === 0) return;
    busy = true;
    try {
      await api("POST", `/api/v1/sites/${site}/ratings/reasons`, {
        body: { counter, reasons: [...chosen] }, headers: { "X-Kiosk-Key": key } });
      thanks();
    } catch (error) {
      if (error instanceof Motcua.ApiError && error.status === 409) thanks();  // too late or moved on: nothing to fix
      else say("reasons-error", error instanceof Motcua.ApiError ? error : { code: "network" });
    } finally {
      busy = false;
    }
  }

  function relabel() {
    Motcua.applyLanguage(Motcua.language());
    $("lang-button").textContent = Motcua.language() === "vi" ? "English" : "Tiếng Việt";
    $("lang-button").lang = Motcua.language() === "vi" ? "en" : "vi";
    drawScale();
    if (feedback && !$("s-reasons").classList.contains("hidden")) drawReasons();
  }

  async function start() {
    $("send-reasons").addEventListener("click", sendReasons);
    $("skip-reasons").addEventListener("click", thanks);
    $("lang-button").addEventListener("click", () => {
      Motcua.applyLanguage(Motcua.language() === "vi" ? "en" : "vi");
      relabel();
    });
    if (!key) {
      $("setup-error").textContent = t("no_key", { site, n: counter });
      $("setup-error").classList.remove("hidden");
    }
    const { data } = await api("GET", `/api/v1/sites/${site}/catalogue`);
    feedback = data.site.feedback;
    levels = data.site.rating_levels;
    relabel();
    show("s-scale");
    document.body.dataset.ready = "true";
  }

  start();
})();
