/* /docs: the API reference. Swagger UI, shipped in kiosk/static/vendor/swagger-ui/ and loaded by
   docs.html from this controller; should its files be missing, a plain list of every operation
   drawn from /openapi.json. Nothing is loaded from another origin: the pages' Content-Security-Policy
   allows this origin only, no inline script or style and no eval, and Swagger UI needs none of them. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const { el } = Motcua;

  function schemaName(content) {
    const types = Object.entries(content || {});
    return types.map(([type, media]) => {
      const ref = media.schema && (media.schema.$ref || (media.schema.items && media.schema.items.$ref));
      return ref ? `${type} (${ref.split("/").pop()})` : type;
    }).join(", ");
  }

  function operation(path, method, op) {
    const params = (op.parameters || []).map((p) => el("tr", {},
      el("td", {}, el("code", { text: p.name })), el("td", { text: p.in }),
      el("td", { text: p.required ? "bắt buộc / required" : "" }),
      el("td", {}, el("code", { text: JSON.stringify(p.schema || {}) }))));
    const responses = Object.entries(op.responses || {}).map(([status, r]) => el("tr", {},
      el("td", { text: status }), el("td", { text: r.description || "" }),
      el("td", { text: schemaName(r.content) }),
      el("td", { text: Object.keys(r.headers || {}).join(", ") })));
    const body = op.requestBody ? el("p", {}, "Thân yêu cầu / request body: ", el("code", { text: schemaName(op.requestBody.content) })) : null;
    const callers = (op.security || []).map((requirement) => Object.keys(requirement).join(" + ")).join(" | ");
    const who = el("p", {}, "Xác thực / credentials: ", el("code", { text: callers || "không cần / none" }));
    return el("details", { class: "op", id: `${method}-${path}` },
      el("summary", {}, el("span", { class: `method ${method}`, text: method.toUpperCase() }),
        el("span", { class: "path", text: path }), el("span", { class: "muted", text: op.summary || "" })),
      el("div", { class: "body" },
        op.description ? el("p", { text: op.description }) : null,
        who,
        params.length ? el("table", {}, el("tr", {}, ...["Tham số / parameter", "ở / in", "", "schema"].map((h) => el("th", { text: h }))), ...params) : null,
        body,
        el("table", {}, el("tr", {}, ...["Mã / status", "Ý nghĩa / meaning", "Nội dung / content", "Header"].map((h) => el("th", { text: h }))), ...responses)));
  }

  async function list() {
    try {
      const response = await fetch("/openapi.json", { cache: "no-store" });
      const doc = await response.json();
      const items = [];
      for (const [path, methods] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(methods)) items.push(operation(path, method, op));
      }
      $("operations").replaceChildren(el("h2", { text: `${doc.info.title} ${doc.info.version}: ${items.length} thao tác / operations` }), ...items);
    } catch (error) {
      $("error").textContent = `Không đọc được /openapi.json / could not read /openapi.json: ${error}`;
      $("error").classList.remove("hidden");
    }
    document.body.dataset.ready = "true";
  }

  if (typeof window.SwaggerUIBundle === "function") {
    window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
    document.body.dataset.ready = "true";
  } else {
    list();
  }
})();
