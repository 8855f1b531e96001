/* Kiosk: "Góp ý, phản ánh / Feedback and complaints" (phản ánh, kiến nghị), for a citizen with no phone or
   no ticket page at hand. A category, a short text typed on the kiosk's Vietnamese keyboard (kiosk-keyboard.js,
   marks and all), where the centre sends texts an optional phone number for the answer (with consent, as at
   the papers screen: kept only until the answer goes out or the item is closed), then the item's code and a
   QR of the page where its status and answer are read (/f/SITE/CODE). POST .../feedback with the kiosk key.
   What the citizen typed is forgotten as soon as the flow is left, by "Xong", "Quay lại" or the kiosk's idle
   reset. A module of its own: it adds its entry button, screens and words to the kiosk page (kiosk.js). */
"use strict";

(() => {
  const { t, el, api } = Motcua;
  const kiosk = Motcua.kiosk;
  const MAX_TEXT = 1000;   // what the controller keeps (controller/core/feedback.py MAX_TEXT)
  const MAX_DIGITS = 15;
  const SCREENS = ["s-feedback", "s-feedback-text", "s-feedback-phone", "s-feedback-done"];
  const $ = (id) => document.getElementById(id);

  Motcua.addWords({
    vi: {
      fb_entry: "Góp ý, phản ánh, kiến nghị", fb_title: "Góp ý, phản ánh, kiến nghị",
      fb_intro: "Chọn việc bạn muốn phản ánh. Lãnh đạo trung tâm trả lời trong vòng {days} ngày; "
        + "bạn nhận một mã để xem câu trả lời.",
      fb_categories: "Nội dung phản ánh", fb_text_title: "Bạn muốn phản ánh điều gì?",
      fb_text_label: "Viết ngắn gọn, có dấu hoặc không dấu", fb_count: "{n}/{max} ký tự",
      fb_tone_hint: "Gõ hết chữ rồi chạm dấu: “toan” rồi “sắc” thành “toán”. Chạm lại dấu để bỏ.",
      fb_keys: "Bàn phím tiếng Việt", fb_next: "Tiếp tục", fb_send: "Gửi phản ánh", fb_sending: "Đang gửi…",
      fb_empty: "Hãy viết nội dung phản ánh trước khi gửi.",
      fb_phone_title: "Nhận trả lời qua tin nhắn? (không bắt buộc)",
      fb_phone_purpose: "Nếu muốn, hãy nhập số điện thoại: chúng tôi nhắn tin cho bạn khi có câu trả lời. Số chỉ dùng "
        + "cho việc này, không ghi vào sổ sách, và được xóa ngay khi đã nhắn tin hoặc khi phản ánh được đóng. "
        + "Không cần thì để trống và chạm “Gửi phản ánh”.",
      fb_phone: "Số điện thoại", fb_phone_keys: "Bàn phím số", fb_consent: "Tôi đồng ý nhận tin nhắn trả lời",
      fb_need_consent: "Hãy đánh dấu ô đồng ý, hoặc xóa số điện thoại.",
      fb_bad_phone: "Số điện thoại chưa đúng (cần 9 đến 15 chữ số).",
      fb_network: "Mất kết nối, phản ánh chưa được gửi. Chạm “Gửi phản ánh” để thử lại.",
      fb_done_title: "Đã nhận phản ánh của bạn", fb_code: "Mã phản ánh",
      fb_qr_caption: "Quét mã QR để xem câu trả lời trên điện thoại, hoặc mở {url} và nhập mã.",
      fb_qr_alt: "Mã QR xem phản ánh {code}", fb_due: "Trung tâm trả lời trước ngày {date}.",
      fb_by_text: "Bạn sẽ nhận tin nhắn khi có câu trả lời.",
      fb_keep: "Hãy chụp ảnh màn hình này hoặc ghi lại mã.",
    },
    en: {
      fb_entry: "Feedback and complaints", fb_title: "Feedback and complaints",
      fb_intro: "Choose what your feedback is about. The centre's management answers within {days} days; "
        + "you get a code to read the answer with.",
      fb_categories: "Feedback topics", fb_text_title: "What would you like to tell us?",
      fb_text_label: "Keep it short; marks are optional", fb_count: "{n}/{max} characters",
      fb_tone_hint: "Type the whole word, then tap a mark: “toan” then “sắc” gives “toán”. Tap it again to remove it.",
      fb_keys: "Vietnamese keyboard", fb_next: "Next", fb_send: "Send", fb_sending: "Sending…",
      fb_empty: "Please write your feedback before sending it.",
      fb_phone_title: "Get the answer by text? (optional)",
      fb_phone_purpose: "If you wish, enter your phone number: we text you when the answer is ready. The number is used "
        + "for nothing else, is not recorded, and is deleted as soon as the text is sent or the feedback is closed. "
        + "Otherwise leave it empty and tap “Send”.",
      fb_phone: "Phone number", fb_phone_keys: "Number keypad", fb_consent: "I agree to get the answer by text",
      fb_need_consent: "Tick the consent box, or clear the phone number.",
      fb_bad_phone: "That phone number is not right (9 to 15 digits).",
      fb_network: "Connection lost: your feedback was not sent. Tap “Send” to try again.",
      fb_done_title: "Your feedback has been received", fb_code: "Feedback code",
      fb_qr_caption: "Scan the QR code to read the answer on your phone, or open {url} and type the code.",
      fb_qr_alt: "QR code to read feedback {code}", fb_due: "The centre answers by {date}.",
      fb_by_text: "You will get a text when the answer is ready.",
      fb_keep: "Take a photo of this screen or write the code down.",
    },
  });

  // key: one Idempotency-Key per item written, so a retry after a lost answer never files it twice
  const flow = { category: null, busy: false, failure: null, sent: null, key: null, body: null };
  let texts = false;  // the centre sends texts (--sms): the phone step is offered

  const words = (key) => ({ "data-i18n": key, text: t(key) });
  const button = (id, key, onclick, cls) => el("button", { id, type: "button", class: cls || null, ...words(key),
    "data-i18n-aria": key, onclick });
  const back = (onclick) => el("button", { type: "button", class: "back-start", "data-i18n": "back", "data-i18n-aria": "back",
    text: t("back"), onclick });

  // the way in, under the other ways in on the start screen: taking a number stays the first thing offered
  const entry = button("feedback-entry", "fb_entry", open, "secondary-entry");
  $("search-box").before(entry);

  // 1. the category
  const intro = el("p", { id: "fb-intro", class: "muted" });
  const categories = el("ul", { id: "fb-categories", class: "choices fb-categories", "data-i18n-aria": "fb_categories",
    "aria-label": t("fb_categories") });
  const chooseScreen = el("section", { id: "s-feedback", class: "screen hidden", "aria-labelledby": "fb-title" },
    el("h2", { id: "fb-title", ...words("fb_title") }), intro, categories,
    el("div", { class: "actions" }, back(() => kiosk.home())));

  // 2. the text, on the Vietnamese keyboard
  const text = el("textarea", { id: "fb-text", rows: "3", maxlength: String(MAX_TEXT), autocomplete: "off",
    spellcheck: "false", "aria-describedby": "fb-tone-hint" });
  const keys = KioskKeyboard.create(text, { rows: KioskKeyboard.VIETNAMESE, cased: true, label: "fb_keys",
    className: "fb-keys", accept: (typed) => Vietnamese.retone(typed).slice(0, MAX_TEXT) });
  const count = el("span", { id: "fb-count", class: "muted" });
  const textError = el("p", { id: "fb-text-error", class: "error hidden", role: "alert" });
  const next = el("button", { id: "fb-next", type: "button", class: "primary big", onclick: afterText });
  const chosen = el("p", { id: "fb-chosen", class: "eyebrow" });
  const textScreen = el("section", { id: "s-feedback-text", class: "screen hidden", "aria-labelledby": "fb-text-title" },
    chosen, el("h2", { id: "fb-text-title", ...words("fb_text_title") }),
    el("label", { for: "fb-text", class: "fb-label" }, el("span", words("fb_text_label")), count), text,
    el("p", { id: "fb-tone-hint", class: "muted fb-hint", ...words("fb_tone_hint") }), keys, textError,
    el("div", { class: "actions" }, back(() => show("s-feedback")), next));
  text.addEventListener("input", () => {
    if (text.value.length > MAX_TEXT) text.value = text.value.slice(0, MAX_TEXT);  // a real keyboard's typing
    renderCount();
    if (flow.failure && flow.failure.key === "fb_empty" && text.value.trim()) showFailure(null);
  });

  // 3. the phone for the answer, where the centre sends texts
  const phone = el("input", { id: "fb-phone", type: "tel", autocomplete: "off", maxlength: String(MAX_DIGITS) });
  const consent = el("input", { id: "fb-consent", type: "checkbox", onchange: () => showFailure(null) });
  const pad = KioskKeyboard.create(phone, { rows: [["1", "2", "3"], ["4", "5", "6"], ["7", "8", "9"], ["clear", "0", "erase"]],
    label: "fb_phone_keys", className: "fb-phone-keys", accept: (typed) => typed.replace(/\D/g, "").slice(0, MAX_DIGITS) });
  phone.addEventListener("input", () => { phone.value = phone.value.replace(/\D/g, "").slice(0, MAX_DIGITS); showFailure(null); });
  const phoneError = el("p", { id: "fb-phone-error", class: "error hidden", role: "alert" });
  const send = el("button", { id: "fb-send", type: "button", class: "primary big", onclick: submit });
  const phoneScreen = el("section", { id: "s-feedback-phone", class: "screen hidden", "aria-labelledby": "fb-phone-title" },
    el("h2", { id: "fb-phone-title", ...words("fb_phone_title") }),
    el("p", { id: "fb-phone-purpose", class: "muted", ...words("fb_phone_purpose") }),
    el("div", { class: "phone-row" },
      el("div", { class: "phone-entry" },
        el("label", { for: "fb-phone", ...words("fb_phone") }), phone,
        el("label", { class: "consent" }, consent, el("span", words("fb_consent")))),
      pad),
    phoneError,
    el("div", { class: "actions" }, back(() => show("s-feedback-text")), send));

  // 4. received: the code, and where to read the answer
  const code = el("p", { id: "fb-code", class: "fb-code" });
  const qr = el("img", { id: "fb-qr", alt: "", width: "260", height: "260" });
  const qrCaption = el("figcaption", { id: "fb-qr-caption" });
  const notes = el("p", { id: "fb-notes" });
  const doneScreen = el("section", { id: "s-feedback-done", class: "screen hidden", "aria-labelledby": "fb-done-title",
    "aria-live": "polite" },
    el("h2", { id: "fb-done-title", ...words("fb_done_title") }),
    el("div", { class: "ticket" },
      el("div", { class: "ticket-main" }, el("p", { class: "muted", ...words("fb_code") }), code, notes,
        el("p", { class: "fb-keep", ...words("fb_keep") })),
      el("figure", { class: "qr" }, qr, qrCaption)),
    el("button", { id: "fb-done", type: "button", class: "primary big", ...words("done"), "data-i18n-aria": "done",
      onclick: () => kiosk.reset() }));

  $("s-start").after(chooseScreen, textScreen, phoneScreen, doneScreen);

  // whatever the citizen typed goes when the flow is left, whichever way (Xong, Quay lại, the idle reset)
  new MutationObserver(() => { if (!SCREENS.includes(document.body.dataset.screen)) forget(); })
    .observe(document.body, { attributes: true, attributeFilter: ["data-screen"] });
  new MutationObserver(render).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });

  function settings() { return kiosk.catalogue().site.feedback; }

  function show(screen) {
    showFailure(null);
    kiosk.show(screen);
    render();
  }

  function open() {
    forget();
    show("s-feedback");
  }

  function forget() {
    flow.category = null; flow.busy = false; flow.failure = null; flow.sent = null; flow.key = null;
    text.value = ""; phone.value = ""; consent.checked = false;
    qr.removeAttribute("src");
    keys.refresh();
    renderFailure();
  }

  function choose(category) {
    flow.category = category;
    show("s-feedback-text");
    text.focus();
  }

  function afterText() {
    if (!text.value.trim()) { showFailure({ key: "fb_empty" }); return; }
    if (texts) show("s-feedback-phone"); else submit();
  }

  function phoneProblem() {
    const number = phone.value;
    if (!number) return null;
    if (number.length < 9) return { key: "fb_bad_phone" };
    if (!consent.checked) return { key: "fb_need_consent" };
    return null;
  }

  async function submit() {
    if (flow.busy || !flow.category) return;  // the second tap of a double tap lands here
    if (!text.value.trim()) { show("s-feedback-text"); showFailure({ key: "fb_empty" }); return; }
    const problem = texts ? phoneProblem() : null;
    if (problem) { showFailure(problem); return; }
    flow.busy = true;
    showFailure(null);
    render();
    const body = { category: flow.category.code, text: text.value };
    if (texts && phone.value) Object.assign(body, { phone: phone.value, phone_consent: true });
    // a changed text is another item: a new key (the server refuses one key with two bodies)
    const sending = JSON.stringify(body);
    if (!flow.key || flow.body !== sending) { flow.key = Motcua.newKey(); flow.body = sending; }
    try {
      const { data } = await api("POST", `/api/v1/sites/${encodeURIComponent(kiosk.site)}/feedback`, {
        headers: { "X-Kiosk-Key": kiosk.config.key, "Idempotency-Key": flow.key }, body });
      flow.key = null;
      flow.busy = false;
      text.value = ""; phone.value = ""; consent.checked = false;  // sent: nothing of it stays in the fields
      flow.sent = data;
      qr.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(data.qr_svg)}`;
      document.body.dataset.feedback = data.code;
      show("s-feedback-done");
    } catch (error) {
      flow.busy = false;
      // a refused key: the kiosk says so over every screen and nothing can be sent until it is set up again
      if (error instanceof Motcua.ApiError && (error.status === 401 || error.status === 403)) kiosk.problem(error);
      flow.failure = error instanceof Motcua.ApiError ? { error } : { key: "fb_network" };
      render();
    }
  }

  function showFailure(found) {
    flow.failure = found;
    renderFailure();
  }

  function renderFailure() {
    const found = flow.failure;
    const message = !found ? "" : found.error ? Motcua.errorText(found.error) : t(found.key);
    const screen = document.body.dataset.screen;
    for (const [box, on] of [[textError, screen === "s-feedback-text"], [phoneError, screen === "s-feedback-phone"]]) {
      box.textContent = on ? message : "";
      box.classList.toggle("hidden", !(on && found));
    }
  }

  function renderCount() {
    count.textContent = ` (${t("fb_count", { n: text.value.length, max: MAX_TEXT })})`;
  }

  /** Every word of the flow that is not a data-i18n label, in the page's language. */
  function render() {
    const catalogue = kiosk.catalogue();
    if (catalogue) {
      intro.textContent = t("fb_intro", { days: settings().response_days });
      categories.replaceChildren(...settings().categories.map((c) => el("li", {}, el("button", { type: "button",
        class: "fb-category", "data-category": c.code, text: Motcua.named(c), onclick: () => choose(c) }))));
    }
    chosen.textContent = flow.category ? Motcua.named(flow.category) : "";
    next.textContent = flow.busy ? t("fb_sending") : t(texts ? "fb_next" : "fb_send");
    send.textContent = flow.busy ? t("fb_sending") : t("fb_send");
    next.disabled = send.disabled = flow.busy || !kiosk.usable();
    renderCount();
    renderFailure();
    const sent = flow.sent;
    if (sent) {
      code.textContent = `${sent.code.slice(0, 4)} ${sent.code.slice(4)}`;
      code.setAttribute("aria-label", sent.code.split("").join(" "));  // read out one character at a time
      qr.alt = t("fb_qr_alt", { code: sent.code });
      qrCaption.textContent = t("fb_qr_caption", { url: sent.follow_url.slice(0, -sent.code.length - 1) });
      const [y, m, d] = sent.due_at.slice(0, 10).split("-");
      notes.textContent = [t("fb_due", { date: `${d}/${m}/${y}` }), sent.reply_by_text ? t("fb_by_text") : ""]
        .filter(Boolean).join(" ");
    }
  }

  async function start() {
    try {
      texts = Boolean((await api("GET", `/api/v1/sites/${encodeURIComponent(kiosk.site)}/sms`)).data.enabled);
    } catch (error) {
      texts = false;  // no texts without the controller's word: the answer is read with the code
    }
    document.body.dataset.feedbackPhone = texts ? "on" : "off";
    render();
  }

  start();
})();
