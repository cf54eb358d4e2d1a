/* Vouch embed: <script src="https://VOUCH/embed.js" data-widget="ID" async></script>
   Shows a published widget in an iframe on Vouch's own origin, so the host page's CSS cannot
   break it and its text cannot touch the host page. No cookies, no storage, no fingerprinting;
   any error is swallowed: the widget must never break the page it sits on. It also sizes
   embedded collection forms (<iframe data-vouch-form src="https://VOUCH/c/...">), and reports
   conversions: vouch('convert', {value: 49, currency: 'EUR', id: 'order-123'}) (queue it before
   this script loads with window.vouch = window.vouch || function () { (vouch.q = vouch.q || []).push(arguments); }),
   or <script ... data-widget="ID" data-vouch-convert='{"value":49,"currency":"EUR","id":"order-123"}'>,
   which reports and shows nothing. docs/analytics.md. */
(function (w, d) {
  "use strict";
  var frames = [], me = d.currentScript, origin = me ? new URL(me.src, location.href).origin : "";
  var bot = navigator.webdriver, first = null, done = {};
  function post(f, path, events) {
    // A CORS request, so the browser names this page's origin even under a no-referrer policy.
    return fetch(f.origin + "/widgets/" + encodeURIComponent(f.id) + "/" + path, { method: "POST", keepalive: true,
      credentials: "omit", headers: { "Content-Type": "text/plain" }, body: events ? JSON.stringify({ e: events }) : "" });
  }
  function rid() {
    var a = crypto.getRandomValues(new Uint32Array(3));
    return a[0].toString(36) + a[1].toString(36) + a[2].toString(36) + "0000";
  }
  function convert(o) {
    // One conversion per order id on this page; Vouch counts an order id once however often it is sent.
    o = o || {};
    var id = o.id == null ? "" : String(o.id);
    if (bot || !first || (id && done[id])) return;
    if (id) done[id] = 1;
    post(first, "events", [[rid(), "convert", "", o.value == null ? null : +o.value, o.currency || "", id]])["catch"](function () {});
  }
  function important(el, styles) {
    // Inline !important beats any host stylesheet, even one with !important rules.
    for (var key in styles) el.style.setProperty(key, styles[key], "important");
  }
  function onMessage(event) {
    var forms = d.querySelectorAll("iframe[data-vouch-form]");
    for (var k = 0; k < forms.length; k++) {
      // A collection form tells its height; only from its own frame and Vouch's origin.
      if (event.source === forms[k].contentWindow && event.origin === origin && event.data && event.data.type === "vouch:size") {
        var fh = Math.round(+event.data.height);
        if (fh > 0 && fh < 20000) important(forms[k], { height: fh + "px" });
      }
    }
    for (var i = 0; i < frames.length; i++) {
      var f = frames[i], m = event.data;
      // Only our own frame, from our own origin: a forged message from anywhere else is ignored.
      if (event.source !== f.el.contentWindow || event.origin !== f.origin || !m || m.id !== f.id) continue;
      if (m.type === "vouch:size") {
        var h = Math.round(+m.height);
        if (h >= 0 && h < 20000) important(f.el, { height: h + "px", display: h ? "block" : "none" });
      } else if (m.type === "vouch:close" && f.el.parentNode) {
        f.el.parentNode.removeChild(f.el);
      }
    }
  }
  function jsonld(data) {
    if (!data || !data.jsonld || d.querySelector('script[data-vouch-jsonld="' + data.widget.id + '"]')) return;
    var s = d.createElement("script");
    s.type = "application/ld+json";
    s.setAttribute("data-vouch-jsonld", data.widget.id);
    // Built from data by the server, set as text: never parsed as markup.
    s.textContent = JSON.stringify(data.jsonld);
    (d.head || d.body).appendChild(s);
  }
  function allowed(list) {
    // The widget's allowed sites, as its frame-ancestors: exact origins, or https://*.example.com.
    var here = location.origin;
    for (var i = 0; i < list.length; i++) {
      var a = list[i];
      if (a === here) return true;
      var star = /^(https?:\/\/)\*(\.[^:\/]+)(:\d+)?$/.exec(a);
      if (star && here.indexOf(star[1]) === 0 && new RegExp("^[^:/]+" + star[2].replace(/\./g, "\\.") + (star[3] || "") + "$").test(here.slice(star[1].length))) return true;
    }
    return false;
  }
  function dark(el) {
    // "Match the host page": the first opaque background around the widget decides.
    for (var node = el.parentElement; node; node = node.parentElement) {
      var c = (getComputedStyle(node).backgroundColor.match(/[\d.]+/g) || []).map(Number);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2] < 128;
    }
    return false;
  }
  function load(f) {
    var dir = f.origin + "/widgets/" + encodeURIComponent(f.id) + "/";
    fetch(dir + "index.json", { credentials: "omit" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (p) {
      if (!p || !/^[0-9a-f]+\.html$/.test(p.doc)) return;
      if (p.allow && !allowed(p.allow)) {
        // Not among the widget's allowed sites: the document would be refused. Tell the brand (the
        // browser sets the Origin header; the body says nothing) and stay out of the way.
        fetch(dir + "blocked", { method: "POST", body: "", keepalive: true, credentials: "omit", mode: "no-cors",
          headers: { "Content-Type": "text/plain" } })["catch"](function () {});
        return important(f.el, { display: "none" });
      }
      if (p.jsonld && /^[0-9a-f]+\.json$/.test(p.data)) {
        fetch(dir + p.data, { credentials: "omit" }).then(function (r) { return r.json(); }).then(jsonld)["catch"](function () {});
      }
      function show(seed) {
        // The document learns the host page's origin (for its beacons) and this visitor's seed from the hash.
        f.el.src = dir + p.doc + "#o=" + encodeURIComponent(location.origin) + (seed ? "&s=" + seed : "") +
          (p.theme === "auto" && dark(f.el) ? "&dark" : "");
      }
      if (p.holdout && !bot) {
        // A holdout: the loader's one request asks whether this visitor is in the control group.
        var ask = show;
        show = function () {
          post(f, "hello").then(function (r) { return r.json(); }).then(function (a) {
            if (a.h) important(f.el, { display: "none" }); else ask(a.s);
          })["catch"](function () { ask(); });
        };
      }
      if (p.layout === "toast") {
        important(f.el, {
          position: "fixed", left: "16px", bottom: "16px", width: "min(380px, calc(100vw - 32px))",
          "z-index": "2147483000", "max-height": "calc(100vh - 32px)"
        });
        return show();
      }
      if (!("IntersectionObserver" in w)) return show();
      // The document loads when the widget comes near the viewport.
      var seen = new IntersectionObserver(function (entries) {
        if (entries[0].isIntersecting) { seen.disconnect(); show(); }
      }, { rootMargin: "600px" });
      seen.observe(f.el);
    })["catch"](function () {});
  }
  function setup(script) {
    if (script.getAttribute("data-vouch-ready")) return;
    script.setAttribute("data-vouch-ready", "1");
    var id = script.getAttribute("data-widget") || "";
    if (!/^[\w-]{4,40}$/.test(id)) return;
    var el = d.createElement("iframe"), f = { el: el, id: id, origin: new URL(script.src, location.href).origin };
    if (!first) {
      first = f;
      // Arrived through a reviewer's share link (the code is in the address the visitor sees).
      var ref = /[?&]vouch_ref=([\w-]{4,40})/.exec(location.search);
      if (ref && !bot) post(f, "events", [[rid(), "arrive", ref[1]]])["catch"](function () {});
    }
    var order = script.getAttribute("data-vouch-convert");
    if (order !== null) return convert(JSON.parse(order || "{}"));
    el.title = "Customer testimonials";
    el.setAttribute("scrolling", "no");
    el.setAttribute("referrerpolicy", "no-referrer");
    el.setAttribute("sandbox", "allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox");
    important(el, {
      display: "block", visibility: "visible", opacity: "1", position: "static", "box-sizing": "border-box",
      width: "100%", "max-width": "100%", "min-width": "0", height: "1px", "min-height": "0", "max-height": "none",
      border: "0", margin: "0", padding: "0", background: "transparent", transform: "none", filter: "none",
      float: "none", "clip-path": "none", overflow: "hidden", "color-scheme": "normal"
    });
    var parent = script.parentNode && script.parentNode !== d.head ? script.parentNode : d.body;
    parent.insertBefore(el, script.parentNode === parent ? script.nextSibling : null);
    frames.push(f);
    load(f);
  }
  function run() {
    try {
      var scripts = d.querySelectorAll("script[data-widget]");
      for (var i = 0; i < scripts.length; i++) setup(scripts[i]);
      var queued = (w.vouch && w.vouch.q) || [];
      w.vouch = function (command, options) { try { if (command === "convert") convert(options); } catch (e) {} };
      for (var q = 0; q < queued.length; q++) w.vouch.apply(null, queued[q]);
    } catch (e) { /* never break the host page */ }
  }
  w.addEventListener("message", function (event) { try { onMessage(event); } catch (e) {} });
  if (d.body) run(); else d.addEventListener("DOMContentLoaded", run);
})(window, document);
