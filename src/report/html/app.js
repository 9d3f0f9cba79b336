// unitdiff report: filters, lazy change list, overview pan/zoom. No network, no libraries.
// Everything from the image is set with textContent, never parsed as markup.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("data").textContent);
  var BATCH = 200;
  var RANK = { error: 3, warn: 2, info: 1 };
  var ids = ["level", "kind", "layer", "cause", "q"];
  var el = {};
  ids.forEach(function (k) { el[k] = document.getElementById("f-" + k); });
  var rows = document.getElementById("c-rows");
  var more = document.getElementById("c-more");
  var shown = 0, matching = [];

  function state() {
    var s = {};
    ids.forEach(function (k) { s[k] = el[k].value.trim(); });
    return s;
  }
  function readHash() {
    var h = location.hash.replace(/^#/, "");
    h.split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i < 0) return;
      var k = kv.slice(0, i), v = decodeURIComponent(kv.slice(i + 1));
      if (el[k]) el[k].value = v;
    });
  }
  function writeHash(s) {
    var parts = [];
    ids.forEach(function (k) { if (s[k]) parts.push(k + "=" + encodeURIComponent(s[k])); });
    history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname + location.search);
  }
  function has(list, v) { return !v || (" " + list + " ").indexOf(" " + v + " ") >= 0; }
  function nameMatch(names, q) {
    if (!q) return true;
    q = q.toLowerCase();
    for (var i = 0; i < names.length; i++) if (names[i].toLowerCase().indexOf(q) >= 0) return true;
    return false;
  }

  // One test for the top findings (data-* attributes) and the listed ones (JSON rows).
  function findingMatch(s, level, kinds, layers, cause, units) {
    return (!s.level || RANK[level] >= RANK[s.level]) && has(kinds, s.kind) &&
      has(layers, s.layer) && (!s.cause || cause === s.cause) && nameMatch(units.split(" "), s.q);
  }
  // Pictures past the first few are embedded inert (<template>) and inserted when their
  // finding is expanded, or when the filters leave few findings.
  var FEW = 5;
  function showPicture(d) {
    var t = d.querySelector("template"), box = d.querySelector(".pic");
    if (!t || !box || box.firstChild) return;
    box.appendChild(document.importNode(t.content, true));
  }
  var lazy = document.querySelectorAll("details.lazy-pic");
  for (var li = 0; li < lazy.length; li++) {
    lazy[li].addEventListener("toggle", function () { if (this.open) showPicture(this); });
  }
  function filterFindings(s) {
    var n = 0, all = document.querySelectorAll("article.finding"), shownNow = [];
    for (var i = 0; i < all.length; i++) {
      var a = all[i], d = a.dataset;
      var ok = findingMatch(s, d.level, d.kinds, d.layers, d.causes, d.units);
      a.hidden = !ok;
      if (ok) { n++; shownNow.push(a); }
    }
    var filtered = ids.some(function (k) { return s[k]; });
    if (filtered && n <= FEW) {
      shownNow.forEach(function (a) {
        var d = a.querySelector("details.lazy-pic");
        if (d) { d.open = true; showPicture(d); }
      });
    }
    document.getElementById("no-findings").hidden = n + rmatching.length > 0 ||
      all.length + rest.length === 0;
    return n;
  }

  // The findings beyond the top ones: {v level, r rule, m message, s site, u units, k kinds,
  // l layers, c cause}, listed in batches.
  var rest = JSON.parse(document.getElementById("findings-data").textContent);
  var rrows = document.getElementById("r-rows"), rmore = document.getElementById("r-more");
  var rshown = 0, rmatching = [];
  function renderMoreFindings() {
    var end = Math.min(rshown + BATCH, rmatching.length), frag = document.createDocumentFragment();
    for (; rshown < end; rshown++) {
      var f = rmatching[rshown], tr = document.createElement("tr");
      cell(tr, f.v, "lvl-" + f.v); cell(tr, f.r, "u"); cell(tr, f.a ? f.m + " [" + f.a + "]" : f.m);
      cell(tr, f.s, "src");
      frag.appendChild(tr);
    }
    rrows.appendChild(frag);
    rmore.hidden = rshown >= rmatching.length;
    rmore.textContent = "Show more (" + (rmatching.length - rshown) + " left)";
  }
  function filterRest(s) {
    rmatching = rest.filter(function (f) { return findingMatch(s, f.v, f.k, f.l, f.c, f.u); });
    rrows.textContent = "";
    rshown = 0;
    document.getElementById("r-count").textContent =
      rmatching.length === rest.length ? String(rest.length) : rmatching.length + " of " + rest.length;
    renderMoreFindings();
  }
  rmore.addEventListener("click", renderMoreFindings);

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    if (cls === "u") { var c = document.createElement("code"); c.textContent = text; td.appendChild(c); }
    else td.textContent = text;
    tr.appendChild(td);
  }
  function renderMore() {
    var end = Math.min(shown + BATCH, matching.length), frag = document.createDocumentFragment();
    for (; shown < end; shown++) {
      var c = matching[shown], tr = document.createElement("tr");
      cell(tr, c.s, c.s === "+" ? "s-add" : c.s === "-" ? "s-del" : "s-mov");
      cell(tr, c.f, "u"); cell(tr, c.k); cell(tr, c.t, "u"); cell(tr, c.l); cell(tr, c.c); cell(tr, c.p, "src");
      frag.appendChild(tr);
    }
    rows.appendChild(frag);
    more.hidden = shown >= matching.length;
    more.textContent = "Show more (" + (matching.length - shown) + " left)";
  }
  function filterChanges(s) {
    matching = data.filter(function (c) {
      return (!s.kind || c.k === s.kind) && (!s.layer || c.l === s.layer) &&
        (!s.cause || c.c === s.cause) && nameMatch([c.f, c.t], s.q);
    });
    rows.textContent = "";
    shown = 0;
    document.getElementById("c-count").textContent =
      matching.length === data.length ? String(data.length) : matching.length + " of " + data.length;
    renderMore();
  }
  // Changed unit files: [unit, change, path, layer], filtered by layer and name.
  var files = JSON.parse(document.getElementById("files-data").textContent);
  var frows = document.getElementById("u-rows"), fmore = document.getElementById("u-more");
  var fshown = 0, fmatching = [];
  function renderMoreFiles() {
    var end = Math.min(fshown + BATCH, fmatching.length), frag = document.createDocumentFragment();
    for (; fshown < end; fshown++) {
      var f = fmatching[fshown], tr = document.createElement("tr");
      cell(tr, f[1], f[1] === "+" ? "s-add" : f[1] === "-" ? "s-del" : "s-mov");
      cell(tr, f[0], "u"); cell(tr, f[2], "u"); cell(tr, f[3]);
      frag.appendChild(tr);
    }
    frows.appendChild(frag);
    fmore.hidden = fshown >= fmatching.length;
    fmore.textContent = "Show more (" + (fmatching.length - fshown) + " left)";
  }
  function filterFiles(s) {
    fmatching = files.filter(function (f) {
      return (!s.layer || f[3] === s.layer) && nameMatch([f[0], f[2]], s.q);
    });
    frows.textContent = "";
    fshown = 0;
    document.getElementById("u-count").textContent =
      fmatching.length === files.length ? String(files.length) : fmatching.length + " of " + files.length;
    renderMoreFiles();
  }
  fmore.addEventListener("click", renderMoreFiles);

  function apply() {
    var s = state();
    filterRest(s);
    var n = filterFindings(s) + rmatching.length;
    filterChanges(s);
    filterFiles(s);
    document.getElementById("f-count").textContent =
      n + " findings, " + matching.length + " changes shown";
    writeHash(s);
  }

  document.getElementById("filters").addEventListener("submit", function (e) { e.preventDefault(); });
  // Typing in the name search filters once the typing pauses (the lists can be long).
  var typing = null;
  ids.forEach(function (k) {
    el[k].addEventListener(k === "q" ? "input" : "change", k === "q" ? function () {
      clearTimeout(typing); typing = setTimeout(apply, 150);
    } : apply);
  });
  more.addEventListener("click", renderMore);
  if ("IntersectionObserver" in window) {
    new IntersectionObserver(function (es) {
      if (es[0].isIntersecting && !more.hidden) renderMore();
    }).observe(more);
  }
  window.addEventListener("hashchange", function () { readHash(); apply(); });
  readHash();
  apply();
  // When the page was ready, in ms since navigation (read back by the benchmark in
  // docs/performance.md): after the first rendering by this script, and at the load event.
  var root = document.documentElement;
  root.setAttribute("data-script-ms", String(Math.round(performance.now())));
  window.addEventListener("load", function () {
    root.setAttribute("data-load-ms", String(Math.round(performance.now())));
  });

  // Overview: pan (drag), zoom (wheel), reset (double-click), click a unit to filter by it.
  var vp = document.querySelector("#overview .viewport");
  var svg = vp && vp.querySelector("svg");
  if (!svg) return;
  var vb0 = svg.viewBox.baseVal;
  var box = { x: vb0.x, y: vb0.y, w: vb0.width, h: vb0.height }, home = Object.assign({}, box);
  svg.removeAttribute("width"); svg.removeAttribute("height");
  function set() { svg.setAttribute("viewBox", box.x + " " + box.y + " " + box.w + " " + box.h); }
  function scale() { var r = svg.getBoundingClientRect(); return Math.max(box.w / r.width, box.h / r.height); }
  vp.addEventListener("wheel", function (e) {
    e.preventDefault();
    var r = svg.getBoundingClientRect(), k = e.deltaY > 0 ? 1.2 : 1 / 1.2, sc = scale();
    var px = box.x + (e.clientX - r.left - (r.width - box.w / sc) / 2) * sc;
    var py = box.y + (e.clientY - r.top - (r.height - box.h / sc) / 2) * sc;
    box.x = px - (px - box.x) * k; box.y = py - (py - box.y) * k; box.w *= k; box.h *= k; set();
  }, { passive: false });
  var drag = null;
  vp.addEventListener("mousedown", function (e) { drag = { x: e.clientX, y: e.clientY, moved: false }; });
  window.addEventListener("mousemove", function (e) {
    if (!drag) return;
    var sc = scale(), dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
    box.x -= dx * sc; box.y -= dy * sc; drag.x = e.clientX; drag.y = e.clientY; set();
  });
  window.addEventListener("mouseup", function () { setTimeout(function () { drag = null; }, 0); });
  vp.addEventListener("dblclick", function () { box = Object.assign({}, home); set(); });
  vp.addEventListener("click", function (e) {
    if (drag && drag.moved) return;
    var g = e.target.closest && e.target.closest("g.node");
    if (!g) return;
    var t = g.querySelector("title"), name = t ? t.textContent : "";
    if (!name || /^(summary|legend):/.test(name)) return;
    var prev = vp.querySelector("g.node.sel");
    if (prev) prev.classList.remove("sel");
    g.classList.add("sel");
    el.q.value = name;
    apply();
    document.getElementById("changes").scrollIntoView();
  });
})();
