/* Kiosk: the optional phone number for texts (issue 6), on the papers screen before "Take a number".

   Self-contained: it asks the controller whether the site sends texts
   (GET /api/v1/sites/{site}/sms) and only then adds its fieldset before the
   screen's actions: what the number is for and how long it is kept, the number
   typed on an on-screen keypad (kiosks have no keyboard), and a consent box.
   kiosk.js asks KioskPhone.fields() for the request body; the number is cleared
   whenever the papers screen is left, so the next citizen never sees it.
   It follows the page language (document lang, set by the English toggle). */
"use strict";

const KioskPhone = (() => {
  const { el } = Motcua;
  const site = decodeURIComponent(location.pathname.split("/")[2] || "");
  const MAX_DIGITS = 15;
  const TEXTS = {
    vi: {
      legend: "Nhận tin nhắn khi sắp đến lượt (không bắt buộc)",
      purpose: "Nếu muốn, hãy nhập số điện thoại: chúng tôi gửi 2 tin nhắn, khi còn 3 người trước bạn và khi đến lượt bạn. "
        + "Số chỉ dùng cho việc này, không ghi vào sổ sách, và được xóa khi bạn xong việc hoặc hết ngày; "
        + "bạn có thể xóa sớm hơn trên trang theo dõi (mã QR).",
      phone: "Số điện thoại", keypad: "Bàn phím số", erase: "Xóa một số", clear: "Xóa hết",
      consent: "Tôi đồng ý nhận tin nhắn về số thứ tự này",
      need_consent: "Hãy đánh dấu ô đồng ý, hoặc xóa số điện thoại.",
      bad_phone: "Số điện thoại chưa đúng (cần 9 đến 15 chữ số).",
    },
    en: {
      legend: "Get a text when your turn is near (optional)",
      purpose: "If you wish, enter your phone number: we send 2 texts, when 3 people are ahead of you and when it is your turn. "
        + "The number is used for nothing else, is not recorded, and is deleted when you are done or at the end of the day; "
        + "you can delete it sooner on the tracking page (the QR code).",
      phone: "Phone number", keypad: "Number keypad", erase: "Delete one digit", clear: "Clear",
      consent: "I agree to receive texts about this ticket",
      need_consent: "Tick the consent box, or clear the phone number.",
      bad_phone: "That phone number is not right (9 to 15 digits).",
    },
  };
  let box = null;
  const t = (key) => (TEXTS[document.documentElement.lang] || TEXTS.vi)[key];
  const $ = (id) => document.getElementById(id);

  function digits() { return box ? $("phone").value.replace(/\D/g, "").slice(0, MAX_DIGITS) : ""; }

  function type(key) {
    const input = $("phone");
    if (key === "erase") input.value = digits().slice(0, -1);
    else if (key === "clear") input.value = "";
    else if (digits().length < MAX_DIGITS) input.value = digits() + key;
    check();
  }

  function check() {
    const problem = message();
    $("phone-error").textContent = problem || "";
    $("phone-error").classList.toggle("hidden", !problem || !digits());
    return problem;
  }

  function message() {
    const number = digits();
    if (!number) return null;
    if (number.length < 9) return t("bad_phone");
    if (!$("phone-consent").checked) return t("need_consent");
    return null;
  }

  function build() {
    const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "erase"].map((key) => el("button", {
      type: "button", class: "phone-key", "data-key": key, text: key === "erase" ? "⌫" : key === "clear" ? "C" : key,
      "aria-label": /\d/.test(key) ? key : "", onclick: () => type(key),
    }));
    box = el("fieldset", { id: "phone-box", class: "phone-box" },
      el("legend", { id: "phone-legend" }),
      el("p", { id: "phone-purpose", class: "muted" }),
      el("div", { class: "phone-row" },
        el("div", { class: "phone-entry" },
          el("label", { for: "phone", id: "phone-label" }),
          el("input", { id: "phone", type: "tel", inputmode: "none", autocomplete: "off", maxlength: String(MAX_DIGITS),
            oninput: () => { $("phone").value = digits(); check(); } }),
          el("label", { class: "consent" },
            el("input", { id: "phone-consent", type: "checkbox", onchange: check }),
            el("span", { id: "phone-consent-label" })),
          el("p", { id: "phone-error", class: "error hidden", role: "alert" })),
        el("div", { id: "phone-keypad", class: "phone-keypad", role: "group" }, ...keys)));
    const screen = $("s-papers");
    screen.querySelector(".actions").before(box);
    relabel();
    // leaving the papers screen (ticket issued, back, idle reset) forgets the number
    new MutationObserver(() => { if (screen.classList.contains("hidden")) reset(); })
      .observe(screen, { attributes: true, attributeFilter: ["class"] });
    new MutationObserver(relabel).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  }

  function relabel() {
    if (!box) return;
    $("phone-legend").textContent = t("legend");
    $("phone-purpose").textContent = t("purpose");
    $("phone-label").textContent = t("phone");
    $("phone-consent-label").textContent = t("consent");
    $("phone-keypad").setAttribute("aria-label", t("keypad"));
    box.querySelector("[data-key=erase]").setAttribute("aria-label", t("erase"));
    box.querySelector("[data-key=clear]").setAttribute("aria-label", t("clear"));
    check();
  }

  /** Forget what was typed and ticked. */
  function reset() {
    if (!box) return;
    $("phone").value = "";
    $("phone-consent").checked = false;
    check();
  }

  /** The request body's phone fields: {} without a number; throws an Error with the message to show when not ready. */
  function fields() {
    const number = digits();
    if (!number) return {};
    const problem = check();
    if (problem) throw Object.assign(new Error(problem), { kiosk: true }); // kiosk.js shows it as it is
    return { phone: number, phone_consent: true };
  }

  async function start() {
    try {
      const { data } = await Motcua.api("GET", `/api/v1/sites/${encodeURIComponent(site)}/sms`);
      if (data.enabled) build();
    } catch (error) {
      // no texts without the controller's word: the kiosk works as before
    }
    document.body.dataset.phone = box ? "on" : "off";
  }

  start();
  return { fields, reset };
})();
