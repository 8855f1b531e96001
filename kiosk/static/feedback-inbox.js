/* The managers' feedback inbox (/feedback/SITE): what citizens wrote, newest first; assign to an
   agency, answer (upheld or not), close; overdue items first in mind. Citizens' text is shown as
   text (textContent), never as markup. Log-in is the monitor's (the same token in this tab). */
"use strict";

(() => {
  const M = Motcua;
  const { t, el, api } = M;
  const $ = (id) => document.getElementById(id);
  const site = decodeURIComponent(location.pathname.split("/")[2] || "");
  const base = `/api/v1/sites/${encodeURIComponent(site)}`;
  let catalogue = null;

  M.setDictionary({
    vi: {
      not_manager: "Tài khoản này không được xem hộp thư phản ánh",
      title: "Phản ánh, kiến nghị", monitor: "Giám sát", logout: "Đăng xuất", login_title: "Đăng nhập quản lý",
      user: "Tài khoản", secret: "Mật khẩu", login: "Đăng nhập", list_title: "Hộp thư phản ánh", show: "Hiển thị",
      unanswered: "Chưa trả lời", overdue_only: "Quá hạn", answered: "Đã trả lời", closed: "Đã đóng", all: "Tất cả",
      empty: "Không có phản ánh nào.", overdue_count: "{n} phản ánh quá hạn trả lời",
      status_open: "Mới", status_assigned: "Đã giao", status_answered: "Đã trả lời", status_closed: "Đã đóng",
      late: "Quá hạn", due: "Hạn trả lời {d}", received: "Nhận {d}", via_ticket: "từ trang theo dõi số",
      via_kiosk: "từ ki-ốt", visit: "Lượt phục vụ {ticket}, quầy {counter}, cán bộ {staff}",
      agency: "Cơ quan", assign: "Giao", answer_label: "Trả lời công dân", upheld: "Phản ánh đúng (có lỗi)",
      send_answer: "Gửi trả lời", close: "Đóng", by_text: "Công dân chờ tin nhắn trả lời",
      upheld_yes: "Phản ánh đúng", upheld_no: "Phản ánh chưa đúng",
      topic_filter: "Chủ đề", all_topics: "Mọi chủ đề", topics: "Theo chủ đề: {list}", topic: "Chủ đề",
      topic_auto: "(tự động, có thể sai)", topic_set: "Sửa chủ đề", topic_none: "chưa rõ",
    },
    en: {
      not_manager: "This account may not read the feedback inbox",
      title: "Feedback and complaints", monitor: "Monitor", logout: "Log out", login_title: "Manager login",
      user: "User", secret: "Password", login: "Log in", list_title: "Feedback inbox", show: "Show",
      unanswered: "Not answered", overdue_only: "Overdue", answered: "Answered", closed: "Closed", all: "All",
      empty: "No feedback.", overdue_count: "{n} items past their response deadline",
      status_open: "New", status_assigned: "Assigned", status_answered: "Answered", status_closed: "Closed",
      late: "Overdue", due: "Answer by {d}", received: "Received {d}", via_ticket: "from the ticket page",
      via_kiosk: "from a kiosk", visit: "Visit {ticket}, counter {counter}, staff {staff}",
      agency: "Agency", assign: "Assign", answer_label: "Answer to the citizen", upheld: "Complaint upheld",
      send_answer: "Send answer", close: "Close", by_text: "The citizen waits for the answer by text",
      upheld_yes: "Upheld", upheld_no: "Not upheld",
      topic_filter: "Topic", all_topics: "All topics", topics: "By topic: {list}", topic: "Topic",
      topic_auto: "(automatic, may be wrong)", topic_set: "Correct the topic", topic_none: "unclear",
    },
  });

  const session = M.managerSession({
    roles: ["manager", "admin", "ops"], deniedText: () => t("not_manager"), onStart: start, onEnd: stop });
  const auth = session.auth;
  const logout = () => session.end("");
  const when = (text) => (text ? text.replace("T", " ").slice(0, 16) : "");

  function fail(error) {
    if (error.status === 401) { logout(); return; }
    $("error").textContent = M.errorText(error);
    $("error").classList.remove("hidden");
  }

  async function act(code, action, body) {
    try {
      await api("POST", `${base}/feedback/${code}/${action}`, { body, headers: auth() });
      await load();
    } catch (error) { fail(error); }
  }

  function category(code) {
    const found = catalogue.site.feedback.categories.find((c) => c.code === code);
    return found ? M.named(found) : code;
  }

  function topicOptions() {
    const chosen = $("topic").value;
    $("topic").replaceChildren(el("option", { value: "", text: t("all_topics") }),
      ...catalogue.site.feedback.categories.map((c) => el("option", { value: c.code, text: M.named(c) })));
    $("topic").value = chosen;
  }

  /** The comment's topic: the model's guess (said so) or a manager's; a manager may correct it, and it stays. */
  function topicRow(item) {
    const choice = el("select", { class: "topic-choice", "aria-label": t("topic_set") },
      ...catalogue.site.feedback.categories.map((c) => el("option", { value: c.code, text: M.named(c) })));
    if (item.topic) choice.value = item.topic;
    return el("p", { class: "row topic" },
      el("span", { text: `${t("topic")}: ${item.topic ? category(item.topic) : t("topic_none")}` }),
      item.topic_auto ? el("span", { class: "meta", text: t("topic_auto") }) : null,
      choice,
      el("button", { type: "button", class: "set-topic", text: t("topic_set"),
        onclick: () => act(item.code, "topic", { topic: choice.value }) }));
  }

  function draw(item) {
    const open = item.status === "open" || item.status === "assigned";
    const node = el("li", { class: "item" + (item.overdue ? " overdue" : ""), "data-code": item.code },
      el("p", { class: "row" },
        el("strong", { text: `${item.code} · ${category(item.category)}` }),
        el("span", { class: "badge", text: t(`status_${item.status}`) }),
        item.overdue ? el("span", { class: "badge late", text: t("late") }) : null),
      el("p", { class: "meta", text: [t("received", { d: when(item.received_at) }), t(`via_${item.channel}`),
        open ? t("due", { d: when(item.due_at) }) : null].filter(Boolean).join(" · ") }),
      item.ticket ? el("p", { class: "meta", text: t("visit", { ticket: item.ticket, counter: item.counter ?? "—",
        staff: item.staff ?? "—" }) }) : null,
      el("p", { class: "text", text: item.text }),
      topicRow(item),
      item.has_phone ? el("p", { class: "meta", text: t("by_text") }) : null,
      item.answer ? el("p", { class: "answer", text: item.answer }) : null,
      item.upheld !== null && item.upheld !== undefined
        ? el("p", { class: "meta", text: item.upheld ? t("upheld_yes") : t("upheld_no") }) : null);
    if (open) {
      const agencies = el("select", { class: "agency-choice", "aria-label": t("agency") },
        ...catalogue.agencies.map((a) => el("option", { value: a.id, text: M.named(a) })));
      if (item.agency) agencies.value = item.agency;
      const answer = el("textarea", { maxlength: "2000", "aria-label": t("answer_label"), required: true });
      const upheld = el("input", { type: "checkbox" });
      node.append(
        el("div", { class: "row" }, el("label", {}, el("span", { text: t("agency") + " " }), agencies),
          el("button", { type: "button", class: "assign", text: t("assign"),
            onclick: () => act(item.code, "assign", { agency: agencies.value }) })),
        el("form", { class: "answer-form", onsubmit: (event) => {
          event.preventDefault();
          act(item.code, "answer", { answer: answer.value, upheld: upheld.checked });
        } },
        el("label", {}, el("span", { text: t("answer_label") }), answer),
        el("label", {}, upheld, el("span", { text: " " + t("upheld") })),
        el("div", { class: "row" }, el("button", { type: "submit", class: "primary", text: t("send_answer") }),
          el("button", { type: "button", class: "close", text: t("close"), onclick: () => act(item.code, "close") }))));
    } else if (item.status === "answered") {
      node.append(el("button", { type: "button", class: "close", text: t("close"),
        onclick: () => act(item.code, "close") }));
    }
    return node;
  }

  async function load() {
    try {
      const query = new URLSearchParams();
      if ($("status").value) query.set("status", $("status").value);
      if ($("topic").value) query.set("topic", $("topic").value);
      const { data } = await api("GET", `${base}/feedback?${query}`, { headers: auth() });
      $("topics").textContent = t("topics", { list: Object.entries(data.topics)
        .map(([code, n]) => `${category(code)} ${n}`).join(" · ") || "—" });
      $("error").classList.add("hidden");
      $("overdue").textContent = t("overdue_count", { n: data.overdue });
      $("overdue").classList.toggle("hidden", data.overdue === 0);
      $("items").replaceChildren(...data.items.map(draw));
      $("empty").classList.toggle("hidden", data.items.length > 0);
      document.body.dataset.ready = "true";
    } catch (error) { fail(error); }
  }

  function stop() {
    $("list").classList.add("hidden");
    document.body.dataset.ready = "true";
  }

  async function start() {
    $("list").classList.remove("hidden");
    await load();
  }

  $("status").addEventListener("change", load);
  $("topic").addEventListener("change", load);
  $("lang-button").addEventListener("click", () => {
    M.applyLanguage(M.language() === "vi" ? "en" : "vi");
    $("lang-button").textContent = M.language() === "vi" ? "English" : "Tiếng Việt";
    if (catalogue) topicOptions();
    if (session.token) load();
  });
  $("monitor-link").href = `/monitor/${encodeURIComponent(site)}`;
  M.applyLanguage("vi");
  api("GET", `${base}/catalogue`).then(({ data }) => {
    catalogue = data;
    topicOptions();
    session.resume();
  });
})();
