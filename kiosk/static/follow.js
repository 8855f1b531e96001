/* A citizen's feedback by its code (/f/SITE/CODE: the QR the kiosk shows after sending it, and the link in
   the text that says it was answered): what was sent, its status, the deadline and the centre's answer.
   Without a code in the address it is a form to type one. The code cannot be guessed, so it is the key:
   nothing here says who sent it or who served them. Everything a person wrote is shown as text. */
"use strict";

(() => {
  const { t, api } = Motcua;
  const [, , siteRaw, codeRaw] = location.pathname.split("/");
  const site = decodeURIComponent(siteRaw || "");
  const code = codeRaw ? decodeURIComponent(codeRaw) : null;
  const base = `/api/v1/sites/${encodeURIComponent(site)}`;
  const $ = (id) => document.getElementById(id);
  let item = null;
  let categories = [];
  let failure = null;

  Motcua.setDictionary({
    vi: {
      title: "Theo dõi phản ánh", lookup_title: "Tra cứu phản ánh theo mã", code_label: "Mã phản ánh (8 ký tự)",
      lookup: "Tra cứu", your_code: "Mã phản ánh của bạn", category: "Về việc", received: "Ngày gửi",
      due: "Hạn trả lời", text_title: "Nội dung bạn gửi", answer_title: "Trả lời của trung tâm",
      answered_on: "Trả lời ngày {d}",
      open: "Đã nhận, đang chờ xử lý", assigned: "Đã chuyển cơ quan chuyên môn xử lý", answered: "Đã trả lời",
      closed: "Đã đóng", overdue: "Quá hạn trả lời: trung tâm đã được nhắc.",
      by_text: "Bạn sẽ nhận tin nhắn khi có trả lời.", bad_code: "Mã phản ánh gồm 8 ký tự (chữ và số).",
    },
    en: {
      title: "Follow your feedback", lookup_title: "Look up feedback by its code", code_label: "Feedback code (8 characters)",
      lookup: "Look up", your_code: "Your feedback code", category: "About", received: "Sent on",
      due: "Answer due by", text_title: "What you sent", answer_title: "The centre's answer",
      answered_on: "Answered on {d}",
      open: "Received, waiting to be handled", assigned: "Passed to the agency concerned", answered: "Answered",
      closed: "Closed", overdue: "Past its answer deadline: the centre has been reminded.",
      by_text: "You will get a text when it is answered.", bad_code: "A feedback code has 8 letters and digits.",
    },
  });

  /** "26/10/2026 14:33" from the API's local ISO time (the site's clock, as the kiosk showed it). */
  function when(iso) {
    if (!iso) return "—";
    const [date, time] = iso.split("T");
    const [y, m, d] = date.split("-");
    return `${d}/${m}/${y} ${time.slice(0, 5)}`;
  }

  function render() {
    $("error").textContent = !failure ? "" : failure.key ? t(failure.key) : Motcua.errorText(failure.error);
    $("error").classList.toggle("hidden", !failure);
    if (!item) return;
    $("item").classList.remove("hidden");
    $("item-code").textContent = `${item.code.slice(0, 4)} ${item.code.slice(4)}`;
    $("item-code").setAttribute("aria-label", item.code.split("").join(" "));
    const status = [t(item.status)];
    if (item.overdue) status.push(t("overdue"));
    else if (item.reply_by_text && !item.answer) status.push(t("by_text"));
    $("item-status").textContent = status.join(" ");
    const category = categories.find((c) => c.code === item.category);
    $("item-category").textContent = category ? Motcua.named(category) : item.category;
    $("item-received").textContent = when(item.received_at);
    $("item-due").textContent = when(item.due_at).slice(0, 10);
    $("item-text").textContent = item.text;
    $("answer-box").classList.toggle("hidden", !item.answer);
    $("item-answer").textContent = item.answer || "";
    $("item-answered").textContent = item.answered_at ? t("answered_on", { d: when(item.answered_at) }) : "";
    document.title = `${item.code} · ${t("title")}`;
  }

  function setLanguage(lang) {
    Motcua.applyLanguage(lang);
    $("lang-button").textContent = lang === "vi" ? "English" : "Tiếng Việt";
    $("lang-button").setAttribute("lang", lang === "vi" ? "en" : "vi");
    $("lang-button").setAttribute("aria-label", lang === "vi" ? "English" : "Tiếng Việt");
    render();
  }

  async function start() {
    setLanguage("vi");
    $("lang-button").addEventListener("click", () => setLanguage(Motcua.language() === "vi" ? "en" : "vi"));
    $("lookup").addEventListener("submit", (event) => {
      event.preventDefault();
      const typed = $("lookup-code").value.toUpperCase().replace(/[\s-]/g, "");
      if (!/^[2-9A-HJKMNP-Z]{8}$/.test(typed)) { failure = { key: "bad_code" }; render(); return; }
      location.assign(`/f/${encodeURIComponent(site)}/${typed}`);
    });
    try {
      categories = (await api("GET", `${base}/catalogue`)).data.site.feedback.categories;
    } catch (error) { /* the code's own category code is shown instead */ }
    if (!code) {
      $("lookup").classList.remove("hidden");
    } else {
      try {
        item = (await api("GET", `${base}/feedback/${encodeURIComponent(code)}`)).data;
      } catch (error) {
        failure = { error };
        $("lookup").classList.remove("hidden");
      }
    }
    render();
    document.body.dataset.ready = "true";
  }

  start();
})();
