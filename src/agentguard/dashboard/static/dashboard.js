/* agentguard dashboard. Draws every panel itself (DOM + inline SVG); no libraries, no network but
 * its own JSON API. All data is untrusted (agents write it): text goes in with textContent and
 * attributes through setAttribute, never as markup. In a static report the data is embedded as JSON
 * and nothing is fetched. */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var embedded = document.getElementById("agentguard-data");
  var STATIC = embedded ? JSON.parse(embedded.textContent) : null;
  var PAGE = 25;
  var SEVERITIES = ["critical", "high", "medium", "low", "info"];
  var OUTCOME_COLORS = { allow: "var(--allow)", ask: "var(--ask)", deny: "var(--deny)" };
  var SEV_COLORS = { info: "var(--info)", low: "var(--low)", medium: "var(--medium)", high: "var(--high)", critical: "var(--critical)" };
  var PALETTE = ["var(--c1)", "var(--c2)", "var(--c3)", "var(--c4)", "var(--c5)", "var(--c6)", "var(--c7)"];
  /* One colour per tool kind, whatever its rank or the order the data arrives in: known kinds have
   * their own, any other kind gets one from a hash of its name. */
  var KIND_COLORS = { file_read: "var(--c1)", file_write: "var(--c4)", shell: "var(--c3)", network: "var(--c5)", llm: "var(--c2)", agent: "var(--c6)", other: "var(--c7)" };
  function kindColor(kind) {
    if (Object.prototype.hasOwnProperty.call(KIND_COLORS, kind)) return KIND_COLORS[kind];
    var hash = 0;
    for (var i = 0; i < String(kind).length; i++) hash = (hash * 31 + String(kind).charCodeAt(i)) >>> 0;
    return PALETTE[hash % PALETTE.length];
  }
  var RANGE_LABELS = { 0: "All time", 900: "Last 15 min", 3600: "Last hour", 21600: "Last 6 hours", 86400: "Last 24 hours", 604800: "Last 7 days", 2592000: "Last 30 days" };

  var state = { range: 0, offset: 0, q: "", run: null, meta: null, data: {}, timer: null, inflight: false, findingsState: "", bucket: 0 };

  // --- DOM helpers ------------------------------------------------------------------------------
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, k) || attrs[k] == null) continue;
        if (k === "class") el.className = attrs[k];
        else if (k === "text") el.textContent = String(attrs[k]);
        else if (k === "title") el.title = String(attrs[k]);
        else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), attrs[k]);
        else el.setAttribute(k, String(attrs[k]));
      }
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el, child) {
    if (child == null || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(el, c); }); return; }
    el.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
  function s(tag, attrs) {
    var el = document.createElementNS(SVG, tag);
    for (var k in attrs || {}) if (attrs[k] != null) el.setAttribute(k, String(attrs[k]));
    return el;
  }
  function badge(text, cls) { return h("span", { class: "badge b-" + (cls || text || "none"), text: text || "—" }); }
  function empty(text, good) { return h("div", { class: "empty" + (good ? " good" : "") }, text); }
  function sub(title) {
    var box = h("div", { class: "sub" }, title ? h("h3", { text: title }) : null);
    for (var i = 1; i < arguments.length; i++) append(box, arguments[i]);
    return box;
  }
  function stats(items) {
    return h("div", { class: "stats" }, items.map(function (it) {
      return h("div", { class: "stat", title: it[2] || null }, h("div", { class: "v", text: it[1] }), h("div", { class: "k", text: it[0] }));
    }));
  }
  function legend(entries) {
    return h("div", { class: "legend" }, entries.map(function (e) {
      var dot = h("i"); dot.style.background = e[1];
      return h("span", null, dot, e[0]);
    }));
  }

  // --- formatting -------------------------------------------------------------------------------
  function num(n) { return n == null ? "—" : Number(n).toLocaleString("en-US", { maximumFractionDigits: 0 }); }
  function compact(n) {
    if (n == null) return "—";
    var a = Math.abs(n);
    if (a >= 1e9) return (n / 1e9).toFixed(1) + "B";
    if (a >= 1e6) return (n / 1e6).toFixed(1) + "M";
    if (a >= 1e4) return (n / 1e3).toFixed(1) + "k";
    return num(n);
  }
  /* The same rule as the command line (agentguard.cli._common.format_usd): two significant digits
   * below a cent, four decimals below a dollar, cents above; never "$0.0000" for a small cost. */
  function usd(v) {
    if (v == null) return "—";
    if (v === 0) return "$0";
    var a = Math.abs(v);
    if (a >= 1) return "$" + v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    if (a >= 0.01) return "$" + v.toFixed(4);
    return "$" + v.toFixed(Math.min(12, 1 - Math.floor(Math.log10(a))));
  }
  function plural(n, one, many) { return num(n) + " " + (n === 1 ? one : (many || one + "s")); }
  /* Axis labels: the fewest decimals that show every tick exactly, the same for all ticks. */
  function decimalsFor(values) {
    for (var d = 0; d < 8; d++) {
      if (values.every(function (v) { return Math.abs(Number(v.toFixed(d)) - v) < 1e-9 * Math.max(1, Math.abs(v)); })) return d;
    }
    return 8;
  }
  function axisFormatter(unit, ticks) {
    if (unit === "pct") { var dp = decimalsFor(ticks.map(function (v) { return v * 100; })); return function (v) { return (v * 100).toFixed(dp) + "%"; }; }
    var d = decimalsFor(ticks);
    if (unit === "usd") return function (v) { return v === 0 ? "$0" : "$" + v.toFixed(d); };
    return function (v) { return Math.abs(v) >= 1e4 ? compact(v) : v.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }); };
  }
  function pct(v) { return v == null ? "—" : (v * 100).toFixed(v < 0.1 ? 1 : 0) + "%"; }
  function secs(v) {
    if (v == null) return "—";
    if (v < 1) return Math.round(v * 1000) + " ms";
    if (v < 60) return v.toFixed(1) + " s";
    if (v < 3600) return Math.floor(v / 60) + "m " + Math.round(v % 60) + "s";
    return Math.floor(v / 3600) + "h " + Math.round((v % 3600) / 60) + "m";
  }
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function when(ms, withDate) {
    if (ms == null) return "—";
    var d = new Date(ms);
    var t = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    return withDate === false ? t : d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + t;
  }
  function tick(ms, bucketMs) {
    var d = new Date(ms);
    if (bucketMs >= 86400000) return pad(d.getMonth() + 1) + "-" + pad(d.getDate());
    if (bucketMs >= 3600000) return pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + "h";
    if (bucketMs >= 60000) return pad(d.getHours()) + ":" + pad(d.getMinutes());
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }
  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * p;
  }
  /* "FileNotFoundError: [Errno 2] …", not "FileNotFoundError: FileNotFoundError: …" */
  function errorText(type, message) {
    if (!message) return type || "error";
    return type && message.indexOf(type) !== 0 ? type + ": " + message : message;
  }
  function short(text, n) { text = text == null ? "" : String(text); return text.length > n ? text.slice(0, n - 1) + "…" : text; }

  // --- tooltip ----------------------------------------------------------------------------------
  var tooltip = document.getElementById("tooltip");
  function showTip(ev, title, rows) {
    tooltip.replaceChildren(h("div", { class: "tt", text: title }), rows.map(function (r) {
      var dot = h("i"); dot.style.cssText = ""; dot.style.display = "inline-block"; dot.style.width = "8px"; dot.style.height = "8px";
      dot.style.borderRadius = "2px"; dot.style.marginRight = "6px"; dot.style.background = r[2] || "transparent";
      return h("div", { class: "tr" }, h("span", null, dot, r[0]), h("b", { text: r[1] }));
    }));
    tooltip.hidden = false;
    var x = Math.min(ev.clientX + 14, window.innerWidth - tooltip.offsetWidth - 8);
    var y = Math.min(ev.clientY + 14, window.innerHeight - tooltip.offsetHeight - 8);
    tooltip.style.left = x + "px"; tooltip.style.top = y + "px";
  }
  function hideTip() { tooltip.hidden = true; }

  // --- charts -----------------------------------------------------------------------------------
  /* A time chart: series = [{name, values, color}], stacked columns or lines over axis buckets. */
  function timeChart(container, axis, series, opts) {
    opts = opts || {};
    var W = Math.max(240, container.clientWidth || 400), H = opts.height || 120;
    var L = 40, R = 6, T = 6, B = 18, n = axis.n;
    var iw = W - L - R, ih = H - T - B, bw = iw / n;
    var totals = [];
    for (var i = 0; i < n; i++) {
      var t = 0;
      series.forEach(function (sr) { var v = sr.values[i]; if (v != null) t = opts.lines ? Math.max(t, v) : t + v; });
      totals.push(t);
    }
    var unit = opts.unit || "count";
    var max = opts.max != null ? opts.max : niceMax(Math.max.apply(null, totals.concat([0])));
    if (unit === "count" && opts.max == null) max = Math.max(2, Math.ceil(max / 2) * 2);  // whole-number ticks
    var yTicks = [0, max / 2, max];
    var axisFmt = axisFormatter(unit, yTicks);
    var fmt = opts.format || compact;
    var svg = s("svg", { class: "chart", width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img" });
    yTicks.forEach(function (v, g) {
      var gy = T + ih - (ih * g) / 2;
      svg.appendChild(s("line", { class: "gridline", x1: L, x2: W - R, y1: gy, y2: gy }));
      var label = s("text", { x: L - 5, y: gy + 3, "text-anchor": "end", class: "y-label" });
      label.textContent = axisFmt(v);
      svg.appendChild(label);
    });
    xLabels(svg, n, function (i) { return L + bw * (i + 0.5); }, function (i) { return tick(axis.t0_ms + i * axis.bucket_ms, axis.bucket_ms); }, 0, W, H - 4);
    var y = function (v) { return T + ih - (Math.min(v, max) / max) * ih; };
    if (opts.lines) {
      /* A line joins a stretch of at least three neighbouring buckets that have a value; shorter
       * stretches are points (two buckets 0% and 100% apart are two facts, not a spike), a lone
       * bucket is a point whatever its value (a lone 0% too), and with few values every one is marked. */
      series.forEach(function (sr) {
        var d = "", present = 0, stretch = [];
        var flush = function () {
          if (stretch.length >= 3) stretch.forEach(function (i3, k3) { d += (k3 ? "L" : "M") + (L + bw * (i3 + 0.5)).toFixed(1) + " " + y(sr.values[i3]).toFixed(1); });
          stretch = [];
        };
        sr.values.forEach(function (v, i2) {
          if (v == null) { flush(); return; }
          present++;
          stretch.push(i2);
        });
        flush();
        if (d) svg.appendChild(s("path", { d: d, fill: "none", stroke: sr.color, "stroke-width": 1.8, "stroke-linejoin": "round" }));
        sr.values.forEach(function (v, i2) {
          if (v == null) return;
          var lone = (i2 === 0 || sr.values[i2 - 1] == null) && (i2 === sr.values.length - 1 || sr.values[i2 + 1] == null);
          if (lone || present <= 30) svg.appendChild(s("circle", { class: lone ? "point lone" : "point", cx: L + bw * (i2 + 0.5), cy: y(v), r: lone ? 3 : 2.2, fill: sr.color }));
        });
      });
    } else {
      var gap = bw > 6 ? Math.min(2, bw * 0.2) : 0;
      for (var j = 0; j < n; j++) {
        var acc = 0;
        series.forEach(function (sr) {
          var v = sr.values[j] || 0;
          if (v <= 0) return;
          var y0 = y(acc), y1 = y(acc + v);
          acc += v;
          svg.appendChild(s("rect", { x: L + bw * j + gap / 2, y: y1, width: Math.max(1, bw - gap), height: Math.max(1, y0 - y1), fill: sr.color, rx: bw > 8 ? 1.5 : 0 }));
        });
      }
    }
    for (var c = 0; c < n; c++) {
      (function (col) {
        var hover = s("rect", { class: "hover", x: L + bw * col, y: T, width: bw, height: ih });
        hover.addEventListener("mousemove", function (ev) {
          var start = axis.t0_ms + col * axis.bucket_ms;
          showTip(ev, when(start) + " · " + secs(axis.bucket_ms / 1000), series.map(function (sr) {
            return [sr.name, sr.values[col] == null ? "—" : (opts.tipFormat || fmt)(sr.values[col]), sr.color];
          }));
        });
        hover.addEventListener("mouseleave", hideTip);
        svg.appendChild(hover);
      })(c);
    }
    container.replaceChildren(svg);
    return svg;
  }
  /* X-axis labels placed left to right, each only where it does not overlap the one before it (text
   * widths measured once in the page), the first and last anchored inside the chart. */
  function xLabels(svg, n, xOf, textOf, left, right, y) {
    var gap = 10, lastRight = -Infinity, placed = [];
    var order = [];
    for (var i = 0; i < n; i++) order.push(i);
    order.forEach(function (i) {
      var text = textOf(i), w = textWidth(text), x = xOf(i);
      var x0 = Math.max(left, Math.min(x - w / 2, right - w));
      if (x0 < lastRight + gap) return;
      placed.push([x0, text]);
      lastRight = x0 + w;
    });
    placed.forEach(function (pl) {
      var tx = s("text", { x: pl[0].toFixed(1), y: y, "text-anchor": "start", class: "x-label" });
      tx.textContent = pl[1];
      svg.appendChild(tx);
    });
  }
  var measureCtx = null;
  function textWidth(text) {
    if (!measureCtx) {
      measureCtx = document.createElement("canvas").getContext("2d");
      if (measureCtx) measureCtx.font = "10px " + getComputedStyle(document.body).getPropertyValue("--sans");
    }
    return measureCtx ? Math.ceil(measureCtx.measureText(text).width) + 1 : text.length * 6.5;
  }
  function chartBox(axis, series, opts) {
    var box = h("div", { class: "chart-box" });
    box._draw = function () { timeChart(box, axis, series, opts); };
    return box;
  }
  /* Horizontal bars: items = [{label, value, color, text, title, parts:[{value,color}]}]. */
  function bars(items, opts) {
    opts = opts || {};
    if (!items.length) return empty(opts.empty || "Nothing yet.");
    var max = Math.max.apply(null, items.map(function (it) { return it.value; }).concat([0])) || 1;
    var grid = h("div", { class: "bars" });
    items.forEach(function (it, i) {
      var track = h("div", { class: "t" });
      (it.parts || [{ value: it.value, color: it.color || PALETTE[i % PALETTE.length] }]).forEach(function (p) {
        var seg = h("span"); seg.style.width = (100 * p.value / max) + "%"; seg.style.background = p.color; track.appendChild(seg);
      });
      grid.appendChild(h("div", { class: "l", title: it.title || it.label }, it.labelNode || it.label));
      grid.appendChild(track);
      grid.appendChild(h("div", { class: "n", text: it.text != null ? it.text : compact(it.value) }));
    });
    return grid;
  }
  function split(parts) {
    var total = parts.reduce(function (a, p) { return a + p.value; }, 0) || 1;
    var bar = h("div", { class: "split" });
    parts.forEach(function (p) {
      if (!p.value) return;
      var seg = h("span", { title: p.label + ": " + num(p.value) }); seg.style.width = (100 * p.value / total) + "%"; seg.style.background = p.color; bar.appendChild(seg);
    });
    return bar;
  }
  /* A table that never grows past its panel: fixed layout (headers may give a width), every cell on one
   * line, cut with an ellipsis, its full text in the title so hovering shows it. */
  function table(headers, rows, opts) {
    opts = opts || {};
    var cols = h("colgroup", null, headers.map(function (hd) {
      var col = h("col");
      if (hd.width) col.style.width = hd.width;
      else if (hd.num) col.style.width = "64px";
      return col;
    }));
    var head = h("tr", null, headers.map(function (hd) { return h("th", { class: hd.num ? "num" : null, text: hd.label || hd, title: hd.label || hd }); }));
    var body = h("tbody", null, rows.map(function (r) {
      var tr = h("tr", { class: r.cls || null }, r.cells.map(function (cell, i) {
        var td = h("td", { class: headers[i] && headers[i].num ? "num" : null }, cell);
        var inner = td.querySelector("[title]");
        td.title = inner && inner.title ? inner.title : td.textContent;
        return td;
      }));
      if (r.onclick) { tr.classList.add("click"); tr.tabIndex = 0; tr.addEventListener("click", r.onclick); tr.addEventListener("keydown", function (ev) { if (ev.key === "Enter") r.onclick(); }); }
      if (r.attrs) for (var k in r.attrs) tr.setAttribute(k, r.attrs[k]);
      return tr;
    }));
    return h("table", { class: "t" + (opts.cls ? " " + opts.cls : "") }, cols, h("thead", null, head), body);
  }
  function runLink(runId, label) {
    if (!runId) return h("span", { class: "faint", text: label || "—" });
    var a = h("a", { href: "#run=" + encodeURIComponent(runId), class: "clip", text: label || runId, title: runId });
    a.style.color = "var(--accent)"; a.style.textDecoration = "none";
    a.addEventListener("click", function (ev) { ev.preventDefault(); openRun(runId); });
    return a;
  }

  // --- panels -----------------------------------------------------------------------------------
  var PANELS = {
    refusals: function (d) {
      if (!d.total_calls) return null;
      var rows = [stats([["refusal rate", pct(d.overall_rate)], ["refusals", num(d.total_refusals)], ["LLM calls", num(d.total_calls)]])];
      rows.push(sub("Over time", legend([["refusal rate", "var(--c6)"]]), chartBox(d.axis, [{ name: "refusal rate", values: d.rate, color: "var(--c6)" }], { lines: true, format: pct, unit: "pct", max: 1, height: 92 })));
      rows.push(sub("Per agent", bars(d.by_agent.map(function (a) {
        return { label: a.agent, value: a.rate, color: "var(--c6)", text: pct(a.rate) + " of " + num(a.calls), title: a.agent + ": " + num(a.refusals) + " of " + plural(a.calls, "call") };
      }))));
      if (d.by_source.length) rows.push(sub("By source", bars(d.by_source.map(function (x) { return { label: x.source, value: x.n, color: "var(--c4)" }; }))));
      return rows;
    },
    cost: function (d) {
      var tokens = d.tokens.reduce(function (a, t) { return a + t.n; }, 0);
      if (!d.total_usd && !tokens && !d.per_run.length) return null;
      var tokColors = ["var(--c1)", "var(--c5)", "var(--c2)", "var(--c3)"];
      var perRun = { t0_ms: 0, bucket_ms: 0, n: d.per_run.length };
      var left = sub("Over time", chartBox(d.axis, [{ name: "cost", values: d.cost, color: "var(--c2)" }], { format: usd, unit: "usd", height: 110 }));
      var runsBox = h("div", { class: "chart-box" });
      runsBox._draw = function () { runBars(runsBox, d.per_run); };
      return [
        stats([["total", usd(d.total_usd)], ["avg per run", usd(d.avg_run_usd)], ["max run", usd(d.max_run_usd)], ["tokens", compact(tokens)]]),
        h("div", { class: "row" }, left, sub("Per run (latest " + perRun.n + ")", runsBox)),
        h("div", { class: "row" },
          sub("By model", bars(d.by_model.map(function (m, i) {
            return { label: m.model, value: m.usd || 0, color: PALETTE[i % PALETTE.length], text: (m.priced ? usd(m.usd) : "unpriced") + " · " + plural(m.calls, "call"), title: m.model + ": " + num(m.input) + " in / " + num(m.output) + " out" };
          }), { empty: "No LLM calls." })),
          sub("Tokens by type", split(d.tokens.map(function (t, i) { return { label: t.type, value: t.n, color: tokColors[i] }; })),
            bars(d.tokens.map(function (t, i) { return { label: t.type, value: t.n, color: tokColors[i], text: num(t.n) }; }))))
      ];
    },
    tools: function (d) {
      if (!d.total) return null;
      var color = {};
      Object.keys(d.by_kind_series).concat(d.by_kind.map(function (k) { return k.kind; })).forEach(function (k) { color[k] = kindColor(k); });
      var series = d.by_kind.map(function (k) { return { name: k.kind, values: d.by_kind_series[k.kind] || [], color: color[k.kind] }; });
      var out = [
        stats([["tool calls", num(d.total)], ["errors", num(d.total_errors)], ["error rate", pct(d.total ? d.total_errors / d.total : null)], ["tools", num(d.by_tool.length)]]),
        h("div", { class: "row" },
          sub("Mix by kind over time", legend(series.map(function (x) { return [x.name, x.color]; })), chartBox(d.axis, series, { height: 100 })),
          sub("By tool", bars(d.by_tool.map(function (t) {
            var ok = t.n - t.errors;
            return { label: t.tool, value: t.n, parts: [{ value: ok, color: color[t.kind] || "var(--c1)" }, { value: t.errors, color: "var(--deny)" }],
              text: num(t.n) + (t.errors ? " · " + t.errors + " err" : ""), title: t.tool + " (" + t.kind + ")" + (t.avg_ms != null ? ", avg " + secs(t.avg_ms / 1000) : "") };
          }))))
      ];
      out.push(sub("Errors", d.errors.length ? table([{ label: "tool", width: "30%" }, "error", { label: "count", num: true }], d.errors.map(function (e) {
        return { cells: [h("span", { class: "mono", text: e.tool }), h("span", { class: "clip", title: e.message || "", text: errorText(e.error, e.message) }), num(e.n)] };
      })) : empty("No tool errors.", true)));
      return out;
    },
    decisions: function (d) {
      var total = d.totals.allow + d.totals.ask + d.totals.deny;
      if (!total) return null;
      var series = ["allow", "ask", "deny"].map(function (o) { return { name: o, values: d.series[o], color: OUTCOME_COLORS[o] }; });
      return [
        stats([["decisions", num(total)], ["allow", num(d.totals.allow)], ["ask", num(d.totals.ask)], ["deny", num(d.totals.deny)], ["shadow", num(d.shadow)]]),
        split(series.map(function (x) { return { label: x.name, value: d.totals[x.name], color: x.color }; })),
        h("div", { class: "row" },
          sub("Over time", legend(series.map(function (x) { return [x.name, x.color]; })), chartBox(d.axis, series, { height: 100 })),
          sub("Top rules", bars(d.top_rules.map(function (r) {
            return { label: r.rule, labelNode: h("span", { class: "mono", text: r.rule }), value: r.allow + r.ask + r.deny,
              parts: [{ value: r.deny, color: OUTCOME_COLORS.deny }, { value: r.ask, color: OUTCOME_COLORS.ask }, { value: r.allow, color: OUTCOME_COLORS.allow }],
              text: (r.deny ? r.deny + " deny " : "") + (r.ask ? r.ask + " ask " : "") + (r.allow ? r.allow + " allow" : "") };
          })))),
        d.recent.length ? sub("Latest denials and asks", table([{ label: "time", width: "74px" }, { label: "decision", width: "64px" }, "tool", "rule", { label: "reason", width: "40%" }], d.recent.map(function (r) {
          return { cells: [when(r.t_ms, false), badge(r.decision), h("span", { class: "mono", text: r.tool || "" }), h("span", { class: "mono", text: r.rules.join(", ") || "default" }), h("span", { class: "clip", title: r.reason || "", text: short(r.reason, 90) })],
            onclick: r.run_id ? function () { openRun(r.run_id); } : null };
        }))) : null
      ];
    },
    approvals: function (d) {
      if (!d.asked && !d.pending_count && !d.wait.count) return null;
      var out = [stats([["pending", num(d.pending_count)], ["approved", num(d.granted)], ["denied", num(d.denied)], ["wait p50", secs(d.wait.p50_s)], ["wait max", secs(d.wait.max_s)]])];
      out.push(split([{ label: "approved", value: d.granted, color: "var(--allow)" }, { label: "denied", value: d.denied, color: "var(--deny)" }, { label: "pending", value: d.pending_count, color: "var(--ask)" }]));
      out.push(sub("Pending", d.pending.length ? table([{ label: "waiting", width: "74px" }, { label: "tool", width: "28%" }, "request"], d.pending.map(function (p) {
        return { cells: [secs(p.waiting_s), h("span", { class: "mono", text: p.tool }), h("span", { class: "clip", title: p.reason, text: short(p.summary, 70) })] };
      })) : empty(d.approvals_db ? "Nothing waiting for an answer." : "No approval queue next to this store (QueueApprover writes one).", !!d.approvals_db)));
      out.push(sub("Wait time", bars(d.wait_hist.map(function (b) { return { label: b.label, value: b.n, color: "var(--c4)" }; }))));
      if (d.recent.length) out.push(sub("Answered", table([{ label: "time", width: "74px" }, { label: "answer", width: "88px" }, "tool", "by", { label: "wait", num: true }], d.recent.map(function (r) {
        return { cells: [when(r.t_ms, false), badge(r.granted ? "approved" : "denied", r.granted ? "allow" : "deny"), h("span", { class: "mono", text: r.tool || "" }), r.by || "—", secs(r.wait_s)],
          onclick: r.run_id ? function () { openRun(r.run_id); } : null };
      }))));
      return out;
    },
    scope: function (d) {
      if (!d.total && !d.out_of_scope_spans) return "good";
      return [
        stats([["violations", num(d.total)], ["runs", num(d.runs)], ["out-of-scope spans", num(d.out_of_scope_spans)]]),
        sub("Over time", chartBox(d.axis, [{ name: "violations", values: d.series, color: "var(--high)" }], { height: 70 })),
        sub("By rule", bars(d.by_rule.map(function (r) { return { label: r.rule, labelNode: h("span", { class: "mono", text: r.rule }), value: r.n, color: "var(--high)" }; }))),
        sub("Latest", table([{ label: "time", width: "74px" }, { label: "tool", width: "28%" }, "what"], d.recent.map(function (r) {
          return { cells: [when(r.t_ms, false), h("span", { class: "mono", text: r.tool || "" }),
            h("span", { class: "clip", title: [r.facts, r.reason, (r.signals || []).join(", ")].filter(Boolean).join("\n") }, r.decision ? badge(r.decision) : badge("signal", "high"), " ", r.facts || r.reason || "", r.decision && r.signals && r.signals.length ? h("span", { class: "faint", text: " · " + plural(r.signals.length, "signal") }) : null)],
            onclick: r.run_id ? function () { openRun(r.run_id); } : null };
        })))
      ];
    },
    signals: function (d) {
      if (!d.total) return null;
      var series = SEVERITIES.slice().reverse().map(function (k) { return { name: k, values: d.by_severity_series[k], color: SEV_COLORS[k] }; });
      return [
        stats(d.by_severity.map(function (x) { return [x.severity, num(x.n)]; })),
        sub("By severity over time", legend(series.slice().reverse().map(function (x) { return [x.name, x.color]; })), chartBox(d.axis, series, { height: 90 })),
        sub("By category", bars(d.by_category.map(function (c) {
          return { label: c.category, labelNode: h("span", null, badge(c.severity || "info"), " ", c.category), value: c.n, color: SEV_COLORS[c.severity] || "var(--info)", text: num(c.n) + " in " + plural(c.runs, "run") };
        }))),
        sub("Top codes", table([{ label: "severity", width: "76px" }, "code", { label: "n", num: true, width: "44px" }], d.top_codes.map(function (c) {
          return { cells: [badge(c.severity || "info"), h("span", { class: "mono clip", title: c.code, text: c.code }), num(c.n)] };
        })))
      ];
    }
  };
  var EMPTY = {
    refusals: "No LLM calls yet. Call agentguard.instrument_openai() and every chat call is checked for refusals.",
    cost: "No LLM usage yet. Cost appears once instrumented LLM calls report token usage.",
    tools: "No tool calls yet. Wrap tools with @agentguard.tool(kind=...) to record them.",
    decisions: "No policy decisions yet. Pass policy=agentguard.Policy(...) to @agentguard.guarded to decide on every action.",
    approvals: "No approvals requested. Rules that answer ask wait for an approver; pending requests show here.",
    scope: "No scope violations: every action stayed inside the declared scope.",
    signals: "No signals. Detectors flag reward hacking, circumvention, exfiltration and more here, with evidence."
  };

  function runBars(container, runs) {
    var W = Math.max(240, container.clientWidth || 400), H = 110, L = 40, B = 18, T = 6;
    var n = Math.max(1, runs.length), iw = W - L - 6, ih = H - T - B, bw = Math.min(iw / n, 36);
    var max = niceMax(Math.max.apply(null, runs.map(function (r) { return r.usd || 0; }).concat([0])));
    var yTicks = [0, max / 2, max], axisFmt = axisFormatter("usd", yTicks);
    var svg = s("svg", { class: "chart", width: W, height: H, viewBox: "0 0 " + W + " " + H });
    yTicks.forEach(function (v, g) {
      var gy = T + ih - (ih * g) / 2;
      svg.appendChild(s("line", { class: "gridline", x1: L, x2: W - 6, y1: gy, y2: gy }));
      var t = s("text", { x: L - 5, y: gy + 3, "text-anchor": "end", class: "y-label" }); t.textContent = axisFmt(v); svg.appendChild(t);
    });
    runs.forEach(function (r, i) {
      var v = r.usd || 0, bh = (v / max) * ih;
      var rect = s("rect", { x: L + bw * i + 1, y: T + ih - Math.max(1, bh), width: Math.max(1, bw - 2), height: Math.max(1, bh), fill: r.usd == null ? "var(--faint)" : "var(--c1)", rx: 1.5 });
      rect.style.cursor = "pointer";
      rect.addEventListener("mousemove", function (ev) { showTip(ev, when(r.t_ms), [[r.name, usd(r.usd), "var(--c1)"]]); });
      rect.addEventListener("mouseleave", hideTip);
      rect.addEventListener("click", function () { hideTip(); openRun(r.run_id); });
      svg.appendChild(rect);
    });
    if (runs.length) xLabels(svg, runs.length, function (i) { return L + bw * (i + 0.5); }, function (i) { return when(runs[i].t_ms, false); }, L, W - 6, H - 4);
    container.replaceChildren(svg);
  }

  function renderPanel(name, data, error) {
    var panel = document.querySelector('[data-panel="' + name + '"]');
    if (!panel) return;
    var body = panel.querySelector(".panel-body");
    if (error) { panel.dataset.state = "error"; body.replaceChildren(h("div", { class: "err", text: "Could not load: " + error })); return; }
    var content = PANELS[name](data);
    if (content === "good" || content == null) {
      panel.dataset.state = content === "good" ? "data" : "empty";
      body.replaceChildren(empty(EMPTY[name], content === "good"));
      return;
    }
    panel.dataset.state = "data";
    body.replaceChildren.apply(body, content.filter(Boolean));
    drawCharts(body);
  }
  function drawCharts(root) {
    root.querySelectorAll(".chart-box").forEach(function (box) { if (box._draw) box._draw(); });
  }

  function renderKpis(o) {
    var dec = o.decisions || { allow: 0, ask: 0, deny: 0 };
    var tiles = [
      ["Runs", num(o.runs), o.run_errors ? num(o.run_errors) + " failed" : "guarded runs", o.run_errors ? "warn" : ""],
      ["LLM calls", compact(o.llm_calls), compact(o.input_tokens) + " in · " + compact(o.output_tokens) + " out"],
      ["Tool calls", compact(o.tool_calls), "executed or denied"],
      ["Cost", usd(o.cost_usd), o.runs ? usd(o.cost_usd / o.runs) + " per run" : "priced from usage"],
      ["Refusal rate", pct(o.refusal_rate), plural(o.refusals, "refusal")],
      ["Denied", num(dec.deny), num(dec.ask) + " asked · " + num(dec.allow) + " allowed", dec.deny ? "bad" : ""],
      ["Signals", num(o.signals), "detector findings", o.signals ? "bad" : ""],
      ["Spans", compact(o.spans), "in range"]
    ];
    document.getElementById("kpis").replaceChildren.apply(document.getElementById("kpis"), tiles.map(function (t) {
      return h("div", { class: "kpi" + (t[3] ? " " + t[3] : "") }, h("div", { class: "k", text: t[0] }), h("div", { class: "v", text: t[1] }), h("div", { class: "s", text: t[2] }));
    }));
  }

  function renderBanner(meta, overview) {
    var banner = document.getElementById("banner");
    if (meta.lost_spans > 0) {
      banner.replaceChildren(
        h("h3", { text: "Some spans were lost" }),
        h("p", null, meta.lost_spans + " spans could not be written to ", h("code", { text: meta.source }), " (the store was locked, full or unwritable, or a queue overflowed): runs shown here may be incomplete."));
      banner.hidden = false;
      return overview;
    }
    if (meta.runs > 0 || meta.spans > 0) { banner.hidden = true; return; }
    var where = meta.source_kind === "otlp" ? "the OTLP file " : "the store ";
    banner.replaceChildren(
      h("h3", { text: meta.available ? "No runs recorded yet" : "Waiting for a store" }),
      h("p", null, "Nothing in " + where, h("code", { text: meta.source }), meta.available ? "." : " yet: it appears when an agent first writes to it. This page refreshes by itself."),
      h("p", null, "Record a run: call ", h("code", { text: "agentguard.configure()" }), ", wrap your agent with ", h("code", { text: "@agentguard.guarded" }), " and its tools with ", h("code", { text: "@agentguard.tool" }), ", or try ", h("code", { text: "make demo" }), "."));
    banner.hidden = false;
    return overview;
  }

  // --- triage and the run timeline ---------------------------------------------------------------
  function renderTriage(page) {
    var panel = document.querySelector('[data-panel="triage"]');
    var box = document.getElementById("triage-table");
    var info = document.getElementById("page-info");
    var end = Math.min(page.total, page.offset + page.items.length);
    info.textContent = page.total ? (page.offset + 1) + "–" + end + " of " + num(page.total) : "0 runs";
    document.getElementById("prev").disabled = page.offset <= 0;
    document.getElementById("next").disabled = end >= page.total;
    if (!page.items.length) {
      panel.dataset.state = page.total || state.q ? "data" : "empty";
      box.replaceChildren(empty(state.q ? "No run matches this filter." : "No runs yet. Each guarded run is listed here, the most severe first."));
      return;
    }
    panel.dataset.state = "data";
    box.replaceChildren(table([{ label: "severity", width: "76px" }, "run", { label: "started", width: "112px" }, { label: "signals", num: true, width: "56px" }, { label: "denied", num: true, width: "56px" }, { label: "errors", num: true, width: "52px" }, { label: "cost", num: true, width: "84px" }], page.items.map(function (r) {
      return {
        cls: r.run_id === state.run ? "sel" : null,
        attrs: { "data-run": r.run_id },
        cells: [r.severity ? badge(r.severity) : r.errors || r.status === "error" ? badge("error", "error") : r.denies ? badge("denied", "deny") : badge("ok", "ok"),
          h("div", null, h("span", { class: "clip", text: r.name }), h("span", { class: "clip faint", title: r.task || "", text: r.task || "" })),
          h("span", { class: "muted", title: when(r.t_ms), text: when(r.t_ms).slice(5) }), num(r.signals), num(r.denies), r.errors || r.status === "error" ? h("span", { text: num(Math.max(r.errors, 1)) }) : "0", usd(r.cost_usd)],
        onclick: function () { openRun(r.run_id); }
      };
    }), { cls: "triage" }));
  }

  function loadTriage() {
    if (STATIC) {
      var items = STATIC.triage.items.filter(function (r) {
        var q = state.q.toLowerCase();
        return !q || [r.name, r.task, r.run_id].some(function (x) { return x && String(x).toLowerCase().indexOf(q) >= 0; });
      });
      renderTriage({ total: items.length, offset: state.offset, items: items.slice(state.offset, state.offset + PAGE) });
      return Promise.resolve();
    }
    var qs = "range=" + state.range + "&offset=" + state.offset + "&limit=" + PAGE + "&q=" + encodeURIComponent(state.q);
    return getJSON("api/triage?" + qs).then(renderTriage);
  }

  function openRun(runId) {
    state.run = runId;
    if (location.hash !== "#run=" + encodeURIComponent(runId)) history.replaceState(null, "", "#run=" + encodeURIComponent(runId));
    document.querySelectorAll("#triage-table tr[data-run]").forEach(function (tr) { tr.classList.toggle("sel", tr.getAttribute("data-run") === runId); });
    var tl = document.getElementById("timeline");
    if (STATIC) {
      var run = STATIC.runs[runId];
      if (run) renderTimeline(run); else tl.replaceChildren(empty("This run's timeline is not in the report (it includes the " + plural(Object.keys(STATIC.runs).length, "most severe run") + ")."));
      tl.scrollIntoView({ block: "nearest" });
      return Promise.resolve();
    }
    return getJSON("api/run/" + encodeURIComponent(runId)).then(function (data) { if (state.run === runId) renderTimeline(data); }, function (err) {
      tl.replaceChildren(h("div", { class: "err", text: "Could not load the run: " + err.message }));
    });
  }

  function spanSummary(sp) {
    var a = sp.attributes || {};
    var parts = [];
    if (sp.type === "llm") {
      parts.push(a["gen_ai.response.model"] || a["gen_ai.request.model"] || "");
      if (a["gen_ai.usage.input_tokens"] != null) parts.push(num(a["gen_ai.usage.input_tokens"]) + " in / " + num(a["gen_ai.usage.output_tokens"]) + " out");
      if (a["agentguard.cost.usd"] != null) parts.push(usd(a["agentguard.cost.usd"]));
      if (a["gen_ai.response.finish_reasons"]) parts.push("finish " + [].concat(a["gen_ai.response.finish_reasons"]).join(","));
      if (a["gen_ai.request.stream"]) parts.push("stream");
    } else if (sp.type === "tool") {
      parts.push(a["agentguard.tool.kind"] || "");
      if (a["gen_ai.tool.call.id"]) parts.push(a["gen_ai.tool.call.id"]);
    } else if (sp.type === "agent") {
      if (a["agentguard.task"]) parts.push(a["agentguard.task"]);
    }
    if (sp.status_message) parts.push(sp.status_message);
    return parts.filter(Boolean).join(" · ");
  }

  function eventCard(ev) {
    if (ev.type === "decision" && ev.decision === "allow" && !ev.rules.length && !ev.approval) {
      return h("div", { class: "tl-ev minor" }, badge("allow"), " ", h("span", { class: "faint", text: "policy default" + (ev.facts ? " · " + short(ev.facts, 120) : "") }));
    }
    if (ev.type === "decision") {
      var card = h("div", { class: "tl-ev decision-" + ev.decision },
        h("div", { class: "hd" }, badge(ev.decision), h("b", { text: "policy " + (ev.rules.length ? ev.rules.join(", ") : "default") }), ev.mode === "shadow" ? badge("shadow", "info") : null, h("span", { class: "muted", text: ev.reason || "" })));
      if (ev.facts) card.appendChild(h("pre", { text: ev.facts }));
      if (ev.matched && ev.matched.length) card.appendChild(h("div", { class: "faint", text: "also matched: " + ev.matched.join(", ") }));
      if (ev.approval) card.appendChild(h("div", null, badge(ev.approval.granted ? "approved" : "refused", ev.approval.granted ? "allow" : "deny"), " by " + (ev.approval.by || "approver") + " after " + secs(ev.approval.wait_s) + (ev.approval.scope ? " (scope " + ev.approval.scope + ")" : "")));
      return card;
    }
    if (ev.type === "signal") {
      var sc = h("div", { class: "tl-ev sev-" + ev.severity },
        h("div", { class: "hd" }, badge(ev.severity), h("b", { class: "mono", text: ev.code || "signal" }), h("span", { class: "muted", text: ev.category || "" }), ev.confidence != null ? h("span", { class: "faint", text: "confidence " + Number(ev.confidence).toFixed(2) }) : null),
        ev.message ? h("div", { text: ev.message }) : null);
      var keys = Object.keys(ev.evidence || {});
      if (keys.length) sc.appendChild(h("div", { class: "kv" }, keys.map(function (k) {
        var v = ev.evidence[k];
        return [h("span", { class: "k", text: k }), h("span", { class: "v", text: typeof v === "string" ? v : JSON.stringify(v) })];
      })));
      return sc;
    }
    if (ev.type === "tool_request") return h("div", { class: "tl-ev" }, h("span", { class: "muted", text: "model requested " }), h("span", { class: "mono", text: (ev.tool || "?") + (ev.call_id ? "  [" + ev.call_id + "]" : "") }), ev.arguments ? h("pre", { text: ev.arguments }) : null);
    if (ev.type === "exception") return h("div", { class: "tl-ev exception" }, badge("error", "error"), " ", h("b", { class: "mono", text: ev.error || "exception" }), " ", h("span", { text: ev.message || "" }));
    return h("div", { class: "tl-ev" }, h("span", { class: "mono", text: ev.name }));
  }

  /* What a run's spans carry: signals by severity, denials, asks; and the one badge that sums it up
   * (an error, else the worst high/critical signal, else "denied", else the worst signal, else ok). */
  function runVerdict(run, spans) {
    var bySev = {}, denied = 0, asked = 0;
    spans.forEach(function (sp) {
      (sp.events || []).forEach(function (ev) {
        if (ev.type === "signal") bySev[ev.severity || "info"] = (bySev[ev.severity || "info"] || 0) + 1;
        else if (ev.type === "decision" && (ev.approval || ev.decision === "ask")) asked++;
        else if (ev.type === "decision" && ev.decision === "deny") denied++;
      });
    });
    var worst = SEVERITIES.filter(function (sv) { return bySev[sv]; })[0] || null;
    var label, cls;
    if (run.status === "error") { label = "error"; cls = "error"; }
    else if (worst === "critical" || worst === "high") { label = worst; cls = worst; }
    else if (denied) { label = "denied"; cls = "deny"; }
    else if (worst && worst !== "info") { label = worst; cls = worst; }
    else { label = "ok"; cls = "ok"; }
    var parts = SEVERITIES.filter(function (sv) { return bySev[sv]; }).map(function (sv) { return num(bySev[sv]) + " " + sv; });
    var summary = [parts.length ? parts.join(" · ") + (Object.keys(bySev).reduce(function (a, k) { return a + bySev[k]; }, 0) === 1 ? " signal" : " signals") : "no signals",
      plural(denied, "denial"), asked ? plural(asked, "ask") : null].filter(Boolean).join(" · ");
    return { label: label, cls: cls, summary: summary, worst: worst };
  }

  function renderTimeline(data) {
    var run = data.run, spans = data.spans;
    var tl = document.getElementById("timeline");
    var t0 = spans.length ? spans[0].t_ms : run.t_ms || 0;
    var total = Math.max(1, spans.reduce(function (m, sp) { return Math.max(m, sp.offset_ms + (sp.duration_ms || 0)); }, 0));
    var colors = { llm: "var(--c1)", tool: "var(--c3)", agent: "var(--c5)", span: "var(--c7)" };
    var verdict = runVerdict(run, spans);
    var nodes = [h("div", { class: "tl-head" },
      h("h3", null, run.name || run.run_id, " ", h("span", { class: "badge b-" + verdict.cls, "data-verdict": verdict.label, text: verdict.label })),
      h("div", { class: "tl-summary" + (verdict.worst && verdict.worst !== "info" ? " sev-" + verdict.worst : ""), text: verdict.summary }),
      run.task ? h("div", { class: "muted", text: run.task }) : null,
      h("div", { class: "meta" }, h("span", { text: "started " + when(run.t_ms || t0) }), h("span", { text: "duration " + secs(run.duration_s) }), h("span", { text: "cost " + usd(run.cost_usd) }),
        h("span", { text: num(run.input_tokens) + " in / " + num(run.output_tokens) + " out tokens" }), h("span", { text: plural(run.llm_calls, "LLM call") + " · " + plural(run.tool_calls, "tool call") }), h("span", { class: "mono faint", text: run.run_id })),
      run.status_message ? h("div", { class: "err", text: run.status_message }) : null)];
    spans.forEach(function (sp) {
      // the bar stays inside its track: at least 2 px wide, never starting later than its width from the end
      var width = Math.max(0, Math.min(100, 100 * (sp.duration_ms || 0) / total));
      var left = Math.max(0, Math.min(100 * sp.offset_ms / total, 100 - width));
      var bar = h("span"); bar.style.left = "min(" + left.toFixed(3) + "%, calc(100% - 2px))"; bar.style.width = width.toFixed(3) + "%"; bar.style.background = sp.status === "ERROR" ? "var(--deny)" : colors[sp.type];
      var detail = spanSummary(sp);
      var name = h("div", { class: "tl-name", title: sp.name + (detail ? " · " + detail : "") }, badge(sp.type === "llm" ? "LLM" : sp.type, sp.type), h("span", { class: "nm", text: sp.name }), h("span", { class: "dt", text: detail }));
      name.style.paddingLeft = Math.min(sp.depth, 6) * 12 + "px";
      if (sp.status === "ERROR") name.appendChild(badge("error", "error"));
      nodes.push(h("div", { class: "tl-span", "data-type": sp.type, title: secs((sp.duration_ms || 0) / 1000) }, h("div", { class: "tl-off", text: "+" + secs(sp.offset_ms / 1000) }), name, h("div", { class: "tl-gantt" }, bar)));
      sp.events.slice().sort(function (a, b) { return a.t_ms - b.t_ms; }).forEach(function (ev) { nodes.push(eventCard(ev)); });
      var keys = Object.keys(sp.attributes || {});
      if (keys.length) nodes.push(h("details", { class: "attrs" }, h("summary", { text: plural(keys.length, "attribute") }), h("div", { class: "kv" }, keys.map(function (k) {
        var v = sp.attributes[k];
        return [h("span", { class: "k", text: k }), h("span", { class: "v", text: typeof v === "string" ? v : JSON.stringify(v) })];
      }))));
    });
    if (data.truncated) nodes.push(empty("Only the first spans of this run are shown."));
    tl.replaceChildren.apply(tl, nodes);
    tl.dataset.run = run.run_id || "";
  }

  // --- the monitor's findings (agentguard dashboard --monitor DIR) and their triage ----------------
  var TRIAGE_LABELS = { "new": "new", acknowledged: "acknowledged", false_positive: "false positive", confirmed: "confirmed" };
  var TRIAGE_CLASSES = { "new": "ask", acknowledged: "info", false_positive: "ok", confirmed: "deny" };
  function tokenMeta() { var m = document.querySelector('meta[name="agentguard-token"]'); return m ? m.getAttribute("content") : ""; }
  /* A state change: a same-origin POST with the per-install token. The request's referrer policy is
   * same-origin so that the browser sends this page's Origin (the page itself says no-referrer, under
   * which a POST would carry "Origin: null"); the server checks both. */
  function postJSON(path, body) {
    return fetch(path, {
      method: "POST", cache: "no-store", credentials: "same-origin", referrerPolicy: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-Agentguard-Token": tokenMeta() },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) {
        if (!r.ok) throw new Error(b.error || r.status + " " + r.statusText);
        return b;
      });
    });
  }
  function setTriage(sessionId, findingId, triageState) {
    var body = { session_id: sessionId, state: triageState };
    if (findingId != null) body.finding_id = findingId;
    var info = document.getElementById("findings-info");
    return postJSON("api/monitor/triage", body).then(function () { return loadFindings(); }, function (err) {
      info.textContent = "Could not set the state: " + err.message;
      info.className = "err";
    });
  }
  function triageButtons(sessionId, findingId, current) {
    return h("span", { class: "tbtns" }, ["acknowledged", "false_positive", "confirmed", "new"].filter(function (st) { return st !== current; }).map(function (st) {
      return h("button", { type: "button", class: "tbtn", "data-finding": findingId == null ? "all" : findingId, "data-state": st, title: "mark " + TRIAGE_LABELS[st],
        onclick: function (ev) { ev.stopPropagation(); setTriage(sessionId, findingId, st); } }, TRIAGE_LABELS[st]);
    }));
  }
  function renderFindings(page) {
    var panel = document.querySelector('[data-monitor-panel="findings"]');
    var box = document.getElementById("findings-table");
    var info = document.getElementById("findings-info");
    info.className = "muted";
    info.textContent = plural(page.findings, "finding") + " in " + plural(page.total, "session");
    if (!page.items.length) {
      panel.dataset.state = "empty";
      box.replaceChildren(empty(state.findingsState ? "No finding in this state." : "No findings yet: the monitor lists each reviewed session's findings here."));
      return;
    }
    panel.dataset.state = "data";
    box.replaceChildren.apply(box, page.items.map(function (sess) {
      var counts = page.states.filter(function (st) { return sess.states[st]; }).map(function (st) { return num(sess.states[st]) + " " + TRIAGE_LABELS[st]; }).join(" · ");
      var head = h("div", { class: "fs-head" }, badge(sess.severity), " ",
        h("b", { class: "mono clip", title: sess.session_id, text: sess.session_id }), sess.fleet ? badge("fleet", "info") : null,
        h("span", { class: "muted", text: (sess.fleet ? "" : plural(sess.spans, "span") + " · reviewed " + when(sess.reviewed_ms) + " · ") + counts }),
        sess.findings.length > 1 ? h("span", { class: "faint", text: "all:" }) : null, sess.findings.length > 1 ? triageButtons(sess.session_id, null, null) : null);
      var rows = table([{ label: "severity", width: "76px" }, { label: "code", width: "24%" }, { label: "reviewer", width: "90px" }, "message", { label: "state", width: "104px" }, { label: "set", width: "300px" }], sess.findings.map(function (f) {
        return { attrs: { "data-finding": f.id },
          cells: [badge(f.severity), h("span", { class: "mono clip", title: f.code, text: f.code }), h("span", { class: "clip", text: f.reviewer }), h("span", { class: "clip", title: f.message, text: f.message }),
            h("span", { class: "badge tstate b-" + TRIAGE_CLASSES[f.state], "data-finding": f.id, "data-state": f.state, text: TRIAGE_LABELS[f.state] || f.state }), triageButtons(sess.session_id, f.id, f.state)] };
      }), { cls: "findings" });
      return h("div", { class: "fs", "data-session": sess.session_id }, head, rows);
    }));
  }
  function loadFindings() {
    if (STATIC || !state.meta || !state.meta.monitor) return Promise.resolve();
    var qs = "limit=50" + (state.findingsState ? "&state=" + encodeURIComponent(state.findingsState) : "");
    return getJSON("api/monitor/findings?" + qs).then(renderFindings, function (err) {
      document.getElementById("findings-table").replaceChildren(h("div", { class: "err", text: "Could not load the findings: " + err.message }));
    });
  }
  /* Fleet trends: per agent and repository, the pass rate of the agents' own test runs beside the share
   * of changed files that were source outside tests; refusal, deferral and unapproved-escalation rates;
   * cost per session. A pass-rate spike with no matching source change is marked on its bucket. */
  var BUCKETS = [[0, "Default buckets"], [3600, "Hourly"], [86400, "Daily"], [604800, "Weekly"]];
  function bucketLabel(ms) {
    var s0 = ms / 1000;
    if (s0 % 86400 === 0) return plural(s0 / 86400, "day");
    if (s0 % 3600 === 0) return plural(s0 / 3600, "hour");
    return secs(s0);
  }
  function renderTrends(d) {
    var panel = document.querySelector('[data-monitor-panel="trends"]');
    var body = document.getElementById("trends-body");
    document.getElementById("trends-info").textContent = plural(d.sessions, "reviewed session") + " · " + plural(d.series.length, "agent and repository", "agents and repositories") + " · buckets of " + bucketLabel(d.bucket_ms) + (d.spikes.length ? " · " + plural(d.spikes.length, "pass-rate spike") : "");
    if (!d.series.length) {
      panel.dataset.state = "empty";
      body.replaceChildren(empty("No reviewed sessions yet: trends appear per agent and repository once the monitor has reviewed some."));
      return;
    }
    panel.dataset.state = "data";
    var axis = { t0_ms: d.start_ms, bucket_ms: d.bucket_ms, n: d.n };
    var spikeAt = {};
    d.spikes.forEach(function (f) { spikeAt[f.evidence.agent + "\u0000" + f.evidence.repo] = (spikeAt[f.evidence.agent + "\u0000" + f.evidence.repo] || []).concat([f]); });
    body.replaceChildren.apply(body, d.series.map(function (sr) {
      var pick = function (k) { return sr.buckets.map(function (b) { return b[k]; }); };
      var last = sr.buckets.filter(function (b) { return b.sessions; }).slice(-1)[0] || {};
      var total = sr.buckets.reduce(function (a, b) { return a + b.sessions; }, 0);
      var found = spikeAt[sr.agent + "\u0000" + sr.repo] || [];
      var head = h("div", { class: "fs-head" }, h("b", { class: "clip", title: sr.agent + " · " + sr.repo, text: sr.agent + " · " + sr.repo }), h("span", { class: "muted", text: plural(total, "session") }),
        found.map(function (f) { return h("span", { class: "badge b-" + f.severity + " spike", "data-code": f.code, title: f.message, text: "pass-rate spike " + f.evidence.bucket_start }); }));
      var tests = [{ name: "pass rate", values: pick("pass_rate"), color: "var(--c2)" }, { name: "source share of changes", values: pick("source_share"), color: "var(--c4)" }];
      var rates = [{ name: "refusal rate", values: pick("refusal_rate"), color: "var(--c6)" }, { name: "deferral rate", values: pick("deferral_rate"), color: "var(--c5)" }, { name: "unapproved escalation rate", values: pick("escalation_rate"), color: "var(--deny)" }];
      return h("div", { class: "fs trend", "data-agent": sr.agent, "data-repo": sr.repo }, head,
        h("div", { class: "row" },
          sub("Tests passed vs source changed", legend(tests.map(function (x) { return [x.name, x.color]; })), chartBox(axis, tests, { lines: true, format: pct, unit: "pct", max: 1, height: 96 })),
          sub("Refusal, deferral, escalation", legend(rates.map(function (x) { return [x.name, x.color]; })), chartBox(axis, rates, { lines: true, format: pct, unit: "pct", max: 1, height: 96 })),
          sub("Latest bucket", stats([["pass rate", pct(last.pass_rate)], ["source share", pct(last.source_share)], ["cost / session", usd(last.cost_per_session)], ["refusals", pct(last.refusal_rate)]]),
            chartBox(axis, [{ name: "cost per session", values: pick("cost_per_session"), color: "var(--c1)" }], { lines: true, format: usd, unit: "usd", height: 60 }))));
    }));
    drawCharts(body);
  }
  function loadTrends() {
    if (STATIC || !state.meta || !state.meta.monitor) return Promise.resolve();
    return getJSON("api/monitor/trends?bucket=" + state.bucket).then(renderTrends, function (err) {
      document.getElementById("trends-body").replaceChildren(h("div", { class: "err", text: "Could not load the trends: " + err.message }));
    });
  }
  function showMonitorPanels(on) {
    document.querySelectorAll("[data-monitor-panel]").forEach(function (p) { p.hidden = !on; });
  }

  // --- data loading and the refresh loop ----------------------------------------------------------
  function getJSON(path) {
    return fetch(path, { cache: "no-store", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) throw new Error(body.error || r.status + " " + r.statusText);
        return body;
      });
    });
  }
  function setStatus(kind, text) {
    var el = document.getElementById("status");
    el.className = "status " + kind;
    document.getElementById("status-text").textContent = text;
  }
  function panelNames() { return Object.keys(PANELS); }

  function refresh() {
    if (state.inflight) return Promise.resolve();
    state.inflight = true;
    var range = "?range=" + state.range;
    var jobs = [getJSON("api/meta").then(function (meta) {
      state.meta = meta;
      document.getElementById("source").textContent = (meta.source_kind === "otlp" ? "otlp: " : "store: ") + meta.source + (meta.monitor ? " · monitor: " + meta.monitor : "");
      showMonitorPanels(!!meta.monitor);
      return Promise.all([getJSON("api/panel/overview" + range).then(function (o) { renderKpis(o); renderBanner(meta, o); }), loadFindings(), loadTrends()]);
    })];
    panelNames().forEach(function (name) {
      jobs.push(getJSON("api/panel/" + name + range).then(function (d) { state.data[name] = d; renderPanel(name, d); }, function (err) { renderPanel(name, null, err.message); }));
    });
    jobs.push(loadTriage());
    return Promise.all(jobs).then(function () {
      setStatus("live", "live · updated " + when(Date.now(), false));
    }, function (err) {
      setStatus("error", "disconnected · " + err.message);
    }).then(function () { state.inflight = false; });
  }

  function renderStatic() {
    var meta = STATIC.meta;
    document.body.classList.add("static");
    document.getElementById("source").textContent = "report of " + meta.source;
    setStatus("static", "report · " + when(meta.generated_ms));
    renderKpis(STATIC.panels.overview);
    renderBanner(meta, STATIC.panels.overview);
    panelNames().forEach(function (name) { state.data[name] = STATIC.panels[name]; renderPanel(name, STATIC.panels[name]); });
    loadTriage();
    document.getElementById("foot").textContent = "Static report: " + RANGE_LABELS[STATIC.range_s || 0] + ", the " + plural(STATIC.triage.items.length, "most severe run") + " in triage, timelines of " + num(Object.keys(STATIC.runs).length) + ". Generated by agentguard report at " + when(meta.generated_ms) + ".";
  }

  function setup() {
    var select = document.getElementById("range");
    var ranges = STATIC ? [STATIC.range_s || 0] : [0, 900, 3600, 21600, 86400, 604800, 2592000];
    var fromHash = /(?:^|[#&])range=(\d+)/.exec(location.hash);
    if (fromHash && !STATIC) state.range = Number(fromHash[1]);
    ranges.forEach(function (r) { select.appendChild(h("option", { value: r, text: RANGE_LABELS[r] || r + " s" })); });
    select.value = String(STATIC ? ranges[0] : state.range);
    select.disabled = !!STATIC;
    select.addEventListener("change", function () { state.range = Number(select.value); state.offset = 0; refresh(); });
    var fstate = document.getElementById("findings-state");
    Object.keys(TRIAGE_LABELS).forEach(function (st) { fstate.appendChild(h("option", { value: st, text: TRIAGE_LABELS[st] })); });
    fstate.addEventListener("change", function () { state.findingsState = fstate.value; loadFindings(); });
    var bucketSelect = document.getElementById("trends-bucket");
    BUCKETS.forEach(function (b) { bucketSelect.appendChild(h("option", { value: b[0], text: b[1] })); });
    bucketSelect.addEventListener("change", function () { state.bucket = Number(bucketSelect.value); loadTrends(); });
    var q = document.getElementById("triage-q"), debounce = null;
    q.addEventListener("input", function () {
      clearTimeout(debounce);
      debounce = setTimeout(function () { state.q = q.value.trim(); state.offset = 0; loadTriage(); }, 250);
    });
    document.getElementById("prev").addEventListener("click", function () { state.offset = Math.max(0, state.offset - PAGE); loadTriage(); });
    document.getElementById("next").addEventListener("click", function () { state.offset += PAGE; loadTriage(); });
    var resizeTimer = null;
    window.addEventListener("resize", function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(function () { drawCharts(document); }, 150); });
    var runHash = /(?:^|[#&])run=([^&]+)/.exec(location.hash);
    var initial = runHash ? decodeURIComponent(runHash[1]) : null;
    document.getElementById("timeline").replaceChildren(empty("Select a run to see its timeline: LLM calls, tool calls, decisions and signals in order, with the evidence."));
    if (STATIC) {
      renderStatic();
      var first = initial || (STATIC.triage.items[0] && STATIC.triage.items[0].run_id);
      if (first) openRun(first);
      return;
    }
    refresh().then(function () {
      var top = document.querySelector("#triage-table tr[data-run]");
      if (initial || top) openRun(initial || top.getAttribute("data-run"));
      var poll = (state.meta && state.meta.poll_ms) || 3000;
      state.timer = setInterval(function () {
        if (document.hidden) return;
        refresh();
        var tl = document.getElementById("timeline");
        if (state.run && tl.dataset.run === state.run && tl.querySelector(".tl-head") && /duration —/.test(tl.querySelector(".tl-head").textContent)) openRun(state.run);
      }, poll);
    });
  }

  setup();
})();
