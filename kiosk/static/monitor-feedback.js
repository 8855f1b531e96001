/* The monitor's feedback figure: citizens' feedback past its response deadline (the inbox's overdue
   count over the last year), with links to the inbox and the monthly evaluation. Apart from monitor.js:
   it reads the same token of this tab and refreshes once a minute while the site view is shown. */
"use strict";

(() => {
  const M = Motcua;
  const $ = (id) => document.getElementById(id);
  const parts = location.pathname.split("/").filter(Boolean);
  const site = parts[1] ? decodeURIComponent(parts[1]) : null;
  if (!site) { $("fig-feedback").classList.add("hidden"); return; }
  const base = `/api/v1/sites/${encodeURIComponent(site)}`;
  let overdue = null;   // null: not known yet

  M.addWords({
    vi: { fig_feedback: "Phản ánh quá hạn trả lời", feedback_link: "Hộp thư phản ánh", evaluation_link: "Đánh giá tháng" },
    en: { fig_feedback: "Feedback past its deadline", feedback_link: "Feedback inbox", evaluation_link: "Monthly evaluation" },
  });

  M.applyLanguage(M.language(), $("fig-feedback"));  // monitor.js labelled the page before these words came

  function draw() {
    const value = $("fig-feedback-value");
    value.textContent = overdue === null ? "—" : String(overdue);
    $("fig-feedback").dataset.level = overdue > 0 ? "bad" : "";
  }

  async function refresh() {
    const token = sessionStorage.getItem("motcua.monitor.token");
    if (!token || $("app").classList.contains("hidden")) return;
    try {
      const { data } = await M.api("GET", `${base}/feedback?status=overdue&days=366`,
        { headers: { Authorization: `Bearer ${token}` } });
      overdue = data.overdue;
    } catch (error) { /* the figure keeps its last reading; the next minute asks again */ }
    draw();
  }

  $("feedback-link").href = `/feedback/${encodeURIComponent(site)}`;
  $("evaluation-link").href = `/evaluation/${encodeURIComponent(site)}`;
  $("lang-button").addEventListener("click", draw);
  new MutationObserver(refresh).observe($("app"), { attributes: true, attributeFilter: ["class"] });
  setInterval(refresh, 60000);
  refresh();
})();
