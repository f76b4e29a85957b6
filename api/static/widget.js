/*
 * policy-kb search widget (政策文件知识库 · 条款搜索).
 *
 * Embed with one tag; the box is mounted right after the tag (or into data-target):
 *
 *   <script src="https://kb.example.gov.cn/widget.js"
 *           data-endpoint="https://kb.example.gov.cn/"></script>
 *
 * data-endpoint  base URL of the policy-kb server (default: where widget.js came from);
 *                the server must list the host page's origin in KB_CORS_ORIGINS.
 * data-target    CSS selector of an element to mount into (optional).
 * data-k         number of results (default 10).
 * data-mode      "page" on the server's own /widget page: reads ?q= and ?clause=, and the
 *                document filters below from the address (?doc=…&type=…&versions=all).
 * data-doc, data-type, data-level, data-issuer, data-versions
 *                fixed document filters sent with every query (the server's doc, type,
 *                level, issuer and versions parameters, as `kb search --doc …`): e.g. a
 *                county portal embeds data-issuer="曾都区人民政府", a law page data-type="法律".
 *                With data-type the type selector is not shown; with data-versions="all"
 *                older versions (历史版本) are searched too, else a 含历史版本 box offers it.
 *
 * No external assets. The UI lives in a shadow root, so host styles do not leak in.
 * Every string from documents or queries is put in the DOM with textContent or
 * createTextNode, never parsed as markup.
 *
 * Whether the plans cover a query is the server's decision (GET /api/ask, as `kb ask`):
 * when it answers kind "not_found" the widget says 未找到相关条款 and lists the answer's
 * hits marked 低置信度 (low-confidence suggestions) instead of the search results.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) { return; }
  var base = new URL(script.getAttribute("data-endpoint") || ".", script.src || location.href);
  if (!/\/$/.test(base.pathname)) { base.pathname += "/"; }
  var k = parseInt(script.getAttribute("data-k") || "10", 10) || 10;
  var pageMode = script.getAttribute("data-mode") === "page";
  /* Fixed document filters: the tag's data-* attributes, or on the /widget page the address. */
  var FILTERS = ["doc", "type", "level", "issuer", "versions"];
  var address = new URLSearchParams(pageMode ? location.search : "");
  var fixed = {};
  FILTERS.forEach(function (name) {
    var v = script.getAttribute("data-" + name) || address.get(name);
    if (v) { fixed[name] = v; }
  });
  var MAX_QUERY_CHARS = 200;

  var CSS = [
    ":host{all:initial;display:block;font-family:system-ui,-apple-system,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;",
    "font-size:15px;line-height:1.6;color:#1f2328}",
    "*{box-sizing:border-box}",
    ".status,.answer,h3,.text,.crumbs,.meta{overflow-wrap:anywhere;word-break:break-word}",
    ".suggest{font-size:13px;color:#8a5a00;margin:0 0 6px}",
    ".badge.low{background:#fff8e6;border-color:#f0c36d;color:#8a5a00}",
    "form{display:flex;gap:8px;margin:0 0 12px}",
    "input{flex:1;min-width:0;font:inherit;padding:8px 12px;border:1px solid #b7c0cc;border-radius:6px}",
    "select{font:inherit;padding:8px 6px;border:1px solid #b7c0cc;border-radius:6px;background:#fff}",
    "label.versions{display:flex;align-items:center;gap:4px;font-size:13px;color:#59636e;white-space:nowrap}",
    "[hidden]{display:none!important}",
    "input:focus{outline:2px solid #c8161d33;border-color:#c8161d}",
    "button{font:inherit;padding:8px 18px;border:0;border-radius:6px;background:#c8161d;color:#fff;cursor:pointer}",
    ".status{color:#59636e;font-size:13px;min-height:1.4em;margin:0 0 8px}",
    ".status.error{color:#b42318}",
    ".answer{border:1px solid #f0c36d;background:#fff8e6;border-radius:8px;padding:10px 14px;margin:0 0 12px}",
    ".answer h2{font-size:13px;margin:0 0 4px;color:#8a5a00}",
    ".answer p{margin:0;font-size:16px}",
    ".answer .hint{font-size:12px;color:#8a5a00}",
    "ol{list-style:none;margin:0;padding:0}",
    "li.hit{border-bottom:1px solid #e6e8eb;padding:10px 0}",
    ".crumbs{font-size:12px;color:#59636e;margin:0}",
    ".crumbs span+span:before{content:' › ';color:#9aa4ae}",
    "h3{font-size:16px;margin:2px 0}",
    "a{color:#0b57b0;text-decoration:none}a:hover{text-decoration:underline}",
    ".text{margin:2px 0 6px;white-space:pre-wrap}",
    "mark{background:#ffe58f;color:inherit;padding:0 1px;border-radius:2px}",
    ".badges{display:flex;flex-wrap:wrap;gap:4px}",
    ".badge{font-size:12px;border-radius:10px;padding:0 8px;border:1px solid}",
    ".dept{background:#eef4ff;border-color:#b6ccf5;color:#1d4ed8}",
    ".dept.inferred{background:#f6f8fa;border-color:#d0d7de;color:#59636e;border-style:dashed}",
    ".target{background:#ecfdf3;border-color:#abefc6;color:#067647}",
    ".meta{font-size:12px;color:#9aa4ae}",
    ".nav{display:flex;justify-content:space-between;gap:8px;font-size:13px;margin-top:8px}",
    ".cites{font-size:13px;margin:4px 0 0;padding:0;list-style:none}",
    ".cites li{margin:2px 0}.cites .note{color:#8a5a00}.cites .unresolved{color:#59636e}"
  ].join("\n");

  var COMPARATORS = { ">=": "≥", "<=": "≤", "=": "=", "~": "约", "decrease_by": "下降", "increase_by": "提高",
                      "increase": "提高", "decrease": "下降" };

  // ------------------------------------------------------------------ DOM helpers
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function api(path, params) {
    var url = new URL(path, base);
    Object.keys(params || {}).forEach(function (key) {
      if (params[key] !== undefined && params[key] !== null) { url.searchParams.set(key, params[key]); }
    });
    return url;
  }

  function clauseLink(id) {
    var url = api("widget", { clause: id });
    return url.href;
  }

  /* Append ``text`` to ``parent`` as text nodes, each occurrence of ``terms`` in a <mark> element. */
  function highlight(parent, text, terms) {
    text = String(text || "");
    var lower = text.toLowerCase();
    var marked = new Array(text.length);
    (terms || []).forEach(function (term) {
      term = String(term || "").toLowerCase();
      if (!term) { return; }
      for (var i = lower.indexOf(term); i !== -1; i = lower.indexOf(term, i + term.length)) {
        for (var j = i; j < i + term.length; j++) { marked[j] = true; }
      }
    });
    var start = 0;
    for (var p = 1; p <= text.length; p++) {
      if (p === text.length || !!marked[p] !== !!marked[start]) {
        var part = text.slice(start, p);
        parent.appendChild(marked[start] ? el("mark", null, part) : document.createTextNode(part));
        start = p;
      }
    }
  }

  function targetText(t) {
    var value = t.value_display || "";  // formatted by the library: 98%, 9/100000, 2—3所
    var cmp = COMPARATORS[t.comparator] || "";
    var year = t.year ? t.year + "年" : (t.year_implied ? t.year_implied + "年前" : "");
    return [year, t.indicator, cmp, value].filter(Boolean).join(" ");
  }

  /* A title for a clause without a heading: 儿童安全 · 主要目标 第2条. */
  function plainTitle(c) {
    var where = [c.domain, c.section].filter(Boolean).join(" · ");
    return (where + (c.number !== null && c.number !== undefined ? " 第" + c.number + "条" : "")).trim() || c.short_path;
  }

  function badges(item) {
    var box = el("div", "badges");
    (item.departments || []).forEach(function (d) {
      var b = el("span", "badge dept" + (d.explicit ? "" : " inferred"), (d.role === "lead" ? "牵头 " : "") + d.name);
      b.title = d.explicit ? "文中明确提及：" + (d.evidence || d.name) : "根据“" + (d.cue || "") + "”推断";
      box.appendChild(b);
    });
    (item.targets || []).forEach(function (t) {
      var b = el("span", "badge target", "目标 " + targetText(t));
      b.title = t.evidence || "";
      box.appendChild(b);
    });
    return box;
  }

  /* Append a clause text with each resolved citation (by its offsets) as a link to the
   * cited article or document; unresolved ones stay plain text. */
  function citedText(parent, text, cites) {
    text = String(text || "");
    var pos = 0;
    (cites || []).filter(function (c) { return c.doc_id; }).forEach(function (c) {
      if (c.start < pos || c.end > text.length) { return; }  // a range gives several citations of one span
      parent.appendChild(document.createTextNode(text.slice(pos, c.start)));
      var a = el("a", "cite", text.slice(c.start, c.end));
      a.href = clauseLink(c.clause_id || c.doc_id);
      a.title = citeTitle(c);
      parent.appendChild(a);
      pos = c.end;
    });
    parent.appendChild(document.createTextNode(text.slice(pos)));
    return parent;
  }

  function citeTitle(c) {
    var t = c.short_path || c.doc_id || "";
    return c.in_force_doc_id ? t + "（引用时施行的版本：" + (c.in_force_clause_id || c.in_force_doc_id) + "）" : t;
  }

  /* 引用: each citation of the clause (a link when resolved, 未收录 when not); 被引用: the clauses citing it. */
  function citations(r) {
    var box = el("ul", "cites");
    (r.cites || []).forEach(function (c) {
      var li = el("li", "cite-item");
      li.appendChild(document.createTextNode("引用："));
      if (c.doc_id) {
        var a = el("a", "cite", c.title ? "《" + c.title + "》" + (c.label || "") : c.text);
        a.href = clauseLink(c.clause_id || c.doc_id);
        a.title = c.short_path || "";
        li.appendChild(a);
        if (c.in_force_doc_id) {
          var old = el("a", "note", "（引用时施行的版本）");
          old.href = clauseLink(c.in_force_clause_id || c.in_force_doc_id);
          li.appendChild(old);
        }
      } else {
        li.appendChild(el("span", "unresolved", c.text + "（未收录）"));
      }
      box.appendChild(li);
    });
    (r.cited_by || []).forEach(function (id) {
      var li = el("li", "cited-by");
      li.appendChild(document.createTextNode("被引用："));
      var a = el("a", null, id);
      a.href = clauseLink(id);
      li.appendChild(a);
      box.appendChild(li);
    });
    return box;
  }

  function crumbs(titles) {
    var nav = el("p", "crumbs");
    titles.forEach(function (t) { nav.appendChild(el("span", null, t)); });
    return nav;
  }

  // ------------------------------------------------------------------ UI
  var host = el("div", "policy-kb-widget");
  var selector = script.getAttribute("data-target");
  var mount = selector ? document.querySelector(selector) : null;
  if (mount) { mount.appendChild(host); } else { script.parentNode.insertBefore(host, script.nextSibling); }
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.appendChild(el("style", null, CSS));

  var form = el("form");
  form.setAttribute("role", "search");
  var input = el("input");
  input.type = "search";
  input.name = "q";
  input.maxLength = MAX_QUERY_CHARS;
  input.placeholder = "搜索政策条款，如：儿童溺水、孕产妇死亡率目标";
  input.setAttribute("aria-label", "搜索政策条款");
  input.autocomplete = "off";
  var button = el("button", null, "搜索");
  button.type = "submit";
  form.appendChild(input);
  form.appendChild(button);
  /* Document type selector (规划/通知/法律/行政法规…, from GET /api/documents): the server's `type` filter. */
  var typeSelect = el("select", "doctype");
  typeSelect.name = "type";
  typeSelect.setAttribute("aria-label", "文件类型");
  typeSelect.appendChild(el("option", null, "全部文件")).value = "";
  typeSelect.hidden = !!fixed.type;
  form.insertBefore(typeSelect, button);
  /* 含历史版本: also search superseded versions (versions=all), unless the filters fix versions. */
  var versionsBox = el("label", "versions");
  var allVersions = el("input");
  allVersions.type = "checkbox";
  allVersions.name = "versions";
  versionsBox.appendChild(allVersions);
  versionsBox.appendChild(document.createTextNode("含历史版本"));
  versionsBox.hidden = !!fixed.versions;
  form.insertBefore(versionsBox, button);
  getJSON(api("api/documents", fixedFilters({ versions: "current" }))).then(function (docs) {
    var seen = {};
    docs.forEach(function (d) {
      if (d.doc_type && !seen[d.doc_type]) { seen[d.doc_type] = true; typeSelect.appendChild(el("option", null, d.doc_type)).value = d.doc_type; }
    });
  }).catch(function () { typeSelect.hidden = true; });
  [typeSelect, allVersions].forEach(function (control) {
    control.addEventListener("change", function () { if (input.value.trim()) { run(input.value); } });
  });
  function fixedFilters(params) {
    Object.keys(fixed).forEach(function (name) { params[name] = fixed[name]; });
    return params;
  }
  function filtered(params) {
    fixedFilters(params);
    if (typeSelect.value && !fixed.type) { params.type = typeSelect.value; }
    if (allVersions.checked && !fixed.versions) { params.versions = "all"; }
    return params;
  }
  var status = el("p", "status");
  status.setAttribute("aria-live", "polite");
  var answerBox = el("section", "answer");
  answerBox.hidden = true;
  var results = el("ol", "results");
  [form, status, answerBox, results].forEach(function (n) { root.appendChild(n); });

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function setStatus(text, isError) {
    status.textContent = text;
    status.title = "";
    status.className = "status" + (isError ? " error" : "");
  }

  /* A Chinese message for a failed request; the server's own (English) detail goes in the tooltip. */
  var ERRORS = { 404: "未找到该条款或内容，请检查链接", 409: "知识库正在更新，请稍后再试",
                 422: "查询内容无法处理，请修改后重试", 429: "请求过于频繁，请稍后再试",
                 503: "知识库暂不可用，请稍后再试" };

  function HttpError(status, detail) {
    this.name = "HttpError";
    this.status = status;
    this.message = (ERRORS[status] || (status >= 500 ? "服务器出错，请稍后再试" : "请求失败")) + "（" + status + "）";
    this.detail = detail;
  }

  function errorDetail(body) {
    var d = body && body.detail;
    if (Array.isArray(d) && d.length) { d = d[0].msg; }
    return typeof d === "string" ? d : "";
  }

  function showError(e) {
    if (e.name === "AbortError") { return; }
    setStatus(e.name === "HttpError" ? e.message : "无法连接知识库服务器，请检查网络后重试", true);
    status.title = e.detail || "";
  }

  var seq = 0;
  var inflight = null;

  function getJSON(url, signal) {
    return fetch(url, { signal: signal, credentials: "omit", headers: { "Accept": "application/json" } })
      .then(function (resp) {
        return resp.json().catch(function () { return null; }).then(function (body) {
          if (!resp.ok) { throw new HttpError(resp.status, errorDetail(body)); }
          return body;
        });
      });
  }

  function run(q) {
    q = q.trim();
    if (inflight) { inflight.abort(); }
    var mine = ++seq;
    clear(results);
    answerBox.hidden = true;
    if (!q) { setStatus(""); return; }
    inflight = new AbortController();
    setStatus("正在搜索“" + q + "”…");
    var asked = getJSON(api("api/ask", filtered({ q: q })), inflight.signal);
    var searched = getJSON(api("api/search", filtered({ q: q, k: k })), inflight.signal);
    asked.then(function (a) {
      if (mine !== seq) { return; }
      if (a.kind === "not_found") { return renderNotFound(q, a); }
      return searched.then(function (hits) {
        if (mine !== seq) { return; }
        setStatus(hits.length ? "“" + q + "” 共 " + hits.length + " 条相关条款" : "“" + q + "” 未找到相关条款");
        hits.forEach(function (h) { results.appendChild(renderHit(h)); });
        renderAnswer(a);
      });
    }).catch(function (e) {
      if (mine === seq) { showError(e); }
    });
    searched.catch(function () { /* reported through the chain above */ });
  }

  /* The server decided the plans do not cover q: say so, and list its suggestions as such. */
  function renderNotFound(q, a) {
    setStatus("“" + q + "” 未找到相关条款");
    var hits = a.hits || [];
    if (!hits.length) { return; }
    results.appendChild(el("li", "suggest", "以下条款相关度较低，仅供参考："));
    hits.forEach(function (h) {
      var li = renderHit(h);
      li.className = "hit low";
      li.querySelector(".badges").insertBefore(el("span", "badge low", "低置信度"),
                                                 li.querySelector(".badges").firstChild);
      results.appendChild(li);
    });
  }

  function renderHit(h) {
    var li = el("li", "hit");
    li.setAttribute("data-id", h.id);
    li.appendChild(crumbs(h.path || []));
    var title = el("h3");
    var a = el("a", null);
    a.href = clauseLink(h.id);
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    highlight(a, h.heading || plainTitle(h), h.matched_terms);
    title.appendChild(a);
    li.appendChild(title);
    var text = el("p", "text");
    highlight(text, h.text, h.matched_terms);
    li.appendChild(text);
    li.appendChild(badges(h));
    li.appendChild(el("p", "meta", [h.place || h.short_path, h.doc_type].filter(Boolean).join(" · ")));
    return li;
  }

  function renderAnswer(a) {
    clear(answerBox);
    if (!a || a.answer === null || a.answer === undefined || a.kind === "not_found") { answerBox.hidden = true; return; }
    answerBox.appendChild(el("h2", null, "直接回答"));
    answerBox.appendChild(el("p", null, a.answer));
    if (!a.confident) { answerBox.appendChild(el("span", "hint", "（仅供参考，请核对原文）")); }
    var src = a.hits && a.hits[0];
    if (src) {
      var link = el("a", "meta", "出处：" + src.short_path);
      link.href = clauseLink(src.id);
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      answerBox.appendChild(el("br"));
      answerBox.appendChild(link);
    }
    answerBox.hidden = false;
  }

  /* The clause page (/widget?clause=ID): breadcrumb, full text, tags, neighbours. */
  function showClause(id) {
    setStatus("正在加载条款…");
    getJSON(api("api/clauses/" + encodeURIComponent(id))).then(function (r) {
      setStatus("");
      var li = el("li", "hit");
      li.setAttribute("data-id", r.id);
      li.appendChild(crumbs(r.breadcrumb.filter(function (c) { return c.kind !== "document"; })
                                        .map(function (c) { return c.title; })));
      var c = r.clause;
      li.appendChild(el("h3", null, c ? (c.heading || plainTitle(c)) : r.title));
      li.appendChild(c ? citedText(el("p", "text"), c.text, r.cites) : el("p", "text", r.node.text));
      if ((r.cites || []).length || (r.cited_by || []).length) { li.appendChild(citations(r)); }
      if (c) {
        li.appendChild(badges(c));
        li.appendChild(el("p", "meta", c.short_path + " · 第 " + c.line_start + "–" + c.line_end + " 行 · " + c.id));
      }
      var nav = el("div", "nav");
      [["← 上一条：", r.previous], ["下一条：", r.next]].forEach(function (pair) {
        var span = el("span");
        if (pair[1]) {
          var a = el("a", null, pair[0] + (pair[1].heading || pair[1].short_path));
          a.href = clauseLink(pair[1].id);
          span.appendChild(a);
        }
        nav.appendChild(span);
      });
      li.appendChild(nav);
      results.appendChild(li);
    }).catch(showError);
  }

  var timer = null;
  var composing = false;
  input.addEventListener("compositionstart", function () { composing = true; });
  input.addEventListener("compositionend", function () { composing = false; schedule(); });
  input.addEventListener("input", function () { if (!composing) { schedule(); } });
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(function () { run(input.value); }, 300);
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    clearTimeout(timer);
    run(input.value);
  });

  if (pageMode) {
    var params = new URLSearchParams(location.search);
    if (params.get("clause")) {
      showClause(params.get("clause"));
    } else if (params.get("q")) {
      input.value = params.get("q").slice(0, MAX_QUERY_CHARS);
      run(input.value);
    }
  }
}());
