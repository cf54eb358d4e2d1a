/* Runs inside a Vouch widget document (its own origin): tells the host page its height, plays
   videos only when asked, clamps long text behind "Read more", matches a dark host page, drives
   the carousel and the toast, and counts what visitors see and do (batched beacons, below).
   No cookies, no storage. */
/* order:start. The "Best performing (auto)" order (testimonials/influence/sampler.py, ported
   faithfully and held to it by tests/influence/test_sampler_js.py): each page view draws one sample
   per card from the Beta posterior the publish wrote into it (data-a, data-b) and orders by it.
   Pinned cards (data-pin) stay first; an exploration share puts a random card first; nothing is
   dropped. No request, no cookie, no storage: a fresh draw per view. */
var vouchOrder = (function () {
  "use strict";
  function normal(rng) {
    var u = 0, v = 0;
    while (u === 0) u = rng();
    v = rng();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  function gamma(shape, rng) {
    // Marsaglia and Tsang; a shape below 1 is boosted by U^(1/shape).
    if (shape < 1) return gamma(shape + 1, rng) * Math.pow(rng() || 1e-12, 1 / shape);
    var d = shape - 1 / 3, c = 1 / Math.sqrt(9 * d);
    for (;;) {
      var x = normal(rng), v = 1 + c * x;
      if (v <= 0) continue;
      v = v * v * v;
      var u = rng();
      if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }
  function beta(a, b, rng) {
    // A malformed parameter would never leave the rejection loop: treat it as knowing nothing.
    if (!(a > 0 && b > 0 && a < 1e9 && b < 1e9)) { a = 1; b = 1; }
    var x = gamma(a, rng), y = gamma(b, rng);
    return x + y > 0 ? x / (x + y) : 0.5;
  }
  // items: [{key, a, b}]; returns the keys in display order (every key once).
  function order(items, pinned, exploration, rng) {
    var pin = {}, head = [], rest = [], i;
    for (i = 0; i < pinned.length; i++) pin[pinned[i]] = true;
    for (i = 0; i < pinned.length; i++) {
      for (var j = 0; j < items.length; j++) if (items[j].key === pinned[i]) { head.push(pinned[i]); break; }
    }
    for (i = 0; i < items.length; i++) {
      if (!pin[items[i].key]) rest.push({ key: items[i].key, draw: beta(items[i].a, items[i].b, rng), index: i });
    }
    rest.sort(function (x, y) { return y.draw - x.draw || x.index - y.index; });
    var tail = rest.map(function (r) { return r.key; });
    if (tail.length && rng() < exploration) tail.unshift(tail.splice(Math.floor(rng() * tail.length) % tail.length, 1)[0]);
    return head.concat(tail);
  }
  function apply(doc, rng) {
    var lists = doc.querySelectorAll("[data-auto]");
    for (var l = 0; l < lists.length; l++) {
      var list = lists[l], cards = [], byKey = {}, pinned = [], anchor = null, c;
      for (c = list.firstElementChild; c; c = c.nextElementSibling) {
        if (!c.hasAttribute("data-a")) continue;
        anchor = c.nextElementSibling;
        var key = c.getAttribute("data-key");
        byKey[key] = c;
        cards.push({ key: key, a: parseFloat(c.getAttribute("data-a")), b: parseFloat(c.getAttribute("data-b")) });
        if (c.hasAttribute("data-pin")) pinned.push(key);
      }
      var keys = order(cards, pinned, parseFloat(list.getAttribute("data-explore")) || 0, rng);
      var show = parseInt(list.getAttribute("data-show"), 10) || keys.length;
      // Moving the nodes keeps the chrome after the cards (a toast's close button) where it was.
      for (var k = 0; k < keys.length; k++) {
        var card = byKey[keys[k]];
        list.insertBefore(card, anchor);
        // Beyond what the widget shows, cards leave the document (a carousel counts its slides); a
        // single card or a toast shows the first and keeps the next ones for its rotation.
        if (k >= show) list.removeChild(card);
        else if (list.hasAttribute("data-one")) card.hidden = k > 0;
      }
    }
  }
  return { beta: beta, order: order, apply: apply };
})();
if (typeof document !== "undefined") vouchOrder.apply(document, Math.random);
/* order:end */
(function () {
  "use strict";
  var d = document, root = d.getElementById("vouch"), id = d.documentElement.getAttribute("data-widget");
  if (!root) return;
  var framed = window.parent !== window, last = -1;
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  root.classList.add("js");
  // "Match the host page": embed.js looked at the page around the widget and says so in the hash.
  // The hash also names the host page's origin (o=), for the analytics beacons.
  if (root.classList.contains("auto") && /(^#|&)dark(&|$)/.test(location.hash)) root.classList.add("dark");

  function tell(message) {
    // Only sizes and "close" go out; the host page checks our origin before believing them.
    if (framed) { message.type = "vouch:" + message.type; message.id = id; window.parent.postMessage(message, "*"); }
  }
  function size() {
    var h = Math.ceil(root.getBoundingClientRect().height);
    if (h !== last) { last = h; tell({ type: "size", height: h }); }
  }
  if (window.ResizeObserver) new ResizeObserver(size).observe(root);
  window.addEventListener("load", size);
  size();

  function clamp() {
    // "Read more" only where the clamp actually hides something.
    var texts = d.querySelectorAll(".text");
    for (var i = 0; i < texts.length; i++) {
      var card = texts[i].closest(".card"), more = card && card.querySelector(".more");
      if (more && !card.classList.contains("open")) more.hidden = texts[i].scrollHeight <= texts[i].clientHeight + 1;
    }
  }
  clamp();
  window.addEventListener("load", clamp);
  window.addEventListener("resize", clamp);

  d.addEventListener("click", function (event) {
    var more = event.target.closest && event.target.closest("button.more");
    if (more) {
      var card = more.closest(".card"), open = !card.classList.contains("open");
      card.classList.toggle("open", open);
      more.setAttribute("aria-expanded", open ? "true" : "false");
      more.textContent = more.getAttribute(open ? "data-less" : "data-more");
    }
    var play = event.target.closest && event.target.closest("button.play");
    if (play) {
      // The MP4 is fetched only now, when the visitor asks for it.
      var video = d.createElement("video");
      video.src = play.getAttribute("data-src");
      if (play.getAttribute("data-poster")) video.poster = play.getAttribute("data-poster");
      video.controls = true; video.playsInline = true; video.preload = "auto";
      play.parentNode.replaceChild(video, play);
      video.focus();
      var started = video.play();
      if (started && started.catch) started.catch(function () {});
    }
    if (event.target.closest && event.target.closest("button.close")) {
      var toast = d.querySelector(".toast");
      if (toast) toast.parentNode.removeChild(toast);
      tell({ type: "close" });
    }
  });

  function rotator(items, onShow, every) {
    var index = 0, timer = null, paused = still;
    function show(next) {
      index = (next + items.length) % items.length;
      onShow(index);
    }
    function tick() { if (!paused) show(index + 1); }
    function start() { stop(); if (!paused && items.length > 1) timer = setInterval(tick, every); }
    function stop() { if (timer) clearInterval(timer); timer = null; }
    start();
    return {
      show: show, index: function () { return index; }, start: start, stop: stop,
      pause: function (value) { paused = value; if (value) stop(); else start(); },
      paused: function () { return paused; }
    };
  }

  var carousel = d.querySelector(".carousel");
  if (carousel) {
    var slides = carousel.querySelectorAll(".slide"), track = carousel.querySelector(".track");
    var pauseButton = carousel.querySelector(".pause"), rtl = d.documentElement.dir === "rtl";
    var current = 0, paused = still, timer = null, settle = null;
    function perView() {
      var w = slides[0].getBoundingClientRect().width || 1;
      return Math.max(1, Math.min(slides.length, Math.round((track.clientWidth + 12) / (w + 12))));
    }
    function lastStart() { return Math.max(0, slides.length - perView()); }
    // The slides in view (1 to 3, by width) are "on"; the others are inert, so keyboard focus never
    // lands on a card nobody can see.
    function setOn(first) {
      var n = perView();
      for (var i = 0; i < slides.length; i++) {
        var on = i >= first && i < first + n;
        slides[i].className = on ? "slide on" : "slide";
        if (on) slides[i].removeAttribute("inert"); else slides[i].setAttribute("inert", "");
      }
    }
    function go(index) {
      current = index > lastStart() ? 0 : index < 0 ? lastStart() : index;
      var box = track.getBoundingClientRect(), r = slides[current].getBoundingClientRect();
      var delta = rtl ? r.right - box.right : r.left - box.left;
      track.scrollTo({ left: track.scrollLeft + delta, behavior: still ? "auto" : "smooth" });
      setOn(current);
    }
    function stop() { if (timer) clearInterval(timer); timer = null; }
    function start() {
      stop();
      if (!paused && slides.length > perView()) timer = setInterval(function () { go(current + 1); }, 7000);
    }
    function label() {
      pauseButton.textContent = pauseButton.getAttribute(paused ? "data-play" : "data-pause");
      pauseButton.setAttribute("aria-label", pauseButton.getAttribute(paused ? "data-start" : "data-stop"));
    }
    function step(delta) {
      // A person is in control now: announce the change, and stop rotating under them.
      track.setAttribute("aria-live", "polite");
      paused = true; stop(); label();
      go(current + delta);
    }
    track.addEventListener("scroll", function () {
      // A swipe moves the track by hand: follow it once it settles.
      clearTimeout(settle);
      settle = setTimeout(function () {
        var box = track.getBoundingClientRect();
        for (var i = 0; i < slides.length; i++) {
          var r = slides[i].getBoundingClientRect();
          if (r.left >= box.left - 2 && r.right <= box.right + 2) { current = i; setOn(i); return; }
        }
      }, 150);
    });
    carousel.querySelector(".prev").addEventListener("click", function () { step(-1); });
    carousel.querySelector(".next").addEventListener("click", function () { step(1); });
    pauseButton.addEventListener("click", function () { paused = !paused; label(); start(); });
    carousel.addEventListener("keydown", function (event) {
      var forward = rtl ? "ArrowLeft" : "ArrowRight", back = rtl ? "ArrowRight" : "ArrowLeft";
      if (event.key === forward) { step(1); event.preventDefault(); }
      if (event.key === back) { step(-1); event.preventDefault(); }
    });
    carousel.addEventListener("mouseenter", stop);
    carousel.addEventListener("mouseleave", start);
    carousel.addEventListener("focusin", stop);
    window.addEventListener("resize", function () { setOn(Math.min(current, lastStart())); });
    setOn(0);
    label();
    start();
  }

  var toast = d.querySelector(".toast");
  if (toast) {
    var notes = toast.querySelectorAll(".item");
    rotator(notes, function (index) {
      for (var j = 0; j < notes.length; j++) notes[j].hidden = j !== index;
    }, 8000);
  }
  /* Analytics (docs/analytics.md): events are queued and sent in batches as text/plain POSTs with
     keepalive, every few seconds while some wait and when the page is hidden or left. Each event has an
     id (random per page view, then a counter) so a batch sent twice counts once. Nothing is stored in
     the browser, automated browsers (navigator.webdriver) send nothing, and every error is swallowed. */
  var host = /(^#|&)o=([^&]+)/.exec(location.hash);
  if (framed && host && window.fetch && !navigator.webdriver) {
    try { measure(decodeURIComponent(host[2])); } catch (e) { /* never break the widget */ }
  }
  function measure(origin) {
    var queue = [], timer = null, n = 0, page = "", sent = {};
    var bytes = window.crypto && crypto.getRandomValues ? crypto.getRandomValues(new Uint8Array(8)) : [];
    for (var b = 0; b < 8; b++) page += ((bytes[b] === undefined ? Math.random() * 256 : bytes[b]) | 0).toString(16);
    function flush() {
      clearTimeout(timer); timer = null;
      while (queue.length) {
        try {
          fetch("events", { method: "POST", keepalive: true, credentials: "omit", referrerPolicy: "origin",
            headers: { "Content-Type": "text/plain" }, body: JSON.stringify({ o: origin, e: queue.splice(0, 50) })
          })["catch"](function () {});
        } catch (e) { queue = []; }
      }
    }
    function add(kind, ref, once) {
      // `once`: this page view counts it at most once (a card viewed, a video quartile reached).
      if (once) { if (sent[once]) return; sent[once] = 1; }
      queue.push(ref ? [page + (n++).toString(36), kind, ref] : [page + (n++).toString(36), kind]);
      if (!timer) timer = setTimeout(flush, 4000);
    }
    function card(el) { return el && el.closest ? el.closest("[data-t]") : null; }
    d.addEventListener("visibilitychange", function () { if (d.visibilityState === "hidden") flush(); });
    window.addEventListener("pagehide", flush);
    if (!window.IntersectionObserver) return;
    // Impression: some of the widget on screen. Viewed: at least half of a card on screen for 1 s, 2 s
    // for a video card (the IAB/MRC viewability rule); a card leaving the screen earlier starts over.
    new IntersectionObserver(function (entries, io) {
      if (entries[0].isIntersecting) { add("imp", "", "imp"); io.disconnect(); }
    }).observe(root);
    var waiting = {};
    var viewer = new IntersectionObserver(function (entries) {
      for (var i = 0; i < entries.length; i++) {
        var el = entries[i].target, t = el.getAttribute("data-t");
        if (entries[i].intersectionRatio >= 0.5 && !waiting[t]) {
          waiting[t] = setTimeout(function (el, t) {
            add("view", t, "v" + t); viewer.unobserve(el);
          }.bind(null, el, t), el.querySelector(".video") ? 2000 : 1000);
        } else if (entries[i].intersectionRatio < 0.5 && waiting[t]) {
          clearTimeout(waiting[t]); waiting[t] = 0;
        }
      }
    }, { threshold: [0, 0.5] });
    var cards = d.querySelectorAll("[data-t]");
    for (var c = 0; c < cards.length; c++) viewer.observe(cards[c]);
    // Media events do not bubble: listen while they go down (capture).
    d.addEventListener("play", function (event) {
      var el = card(event.target);
      if (el) add("play", el.getAttribute("data-t"), "p" + el.getAttribute("data-t"));
    }, true);
    d.addEventListener("timeupdate", function (event) {
      var v = event.target, el = card(v), t = el && el.getAttribute("data-t");
      if (!t || !(v.duration > 0)) return;
      var done = v.currentTime / v.duration;
      if (done >= 0.25) add("q25", t, "a" + t);
      if (done >= 0.5) add("q50", t, "b" + t);
      if (done >= 0.75) add("q75", t, "c" + t);
    }, true);
    d.addEventListener("ended", function (event) {
      var el = card(event.target);
      if (el) add("done", el.getAttribute("data-t"), "d" + el.getAttribute("data-t"));
    }, true);
    d.addEventListener("click", function (event) {
      var target = event.target, el = card(target), t = el && el.getAttribute("data-t");
      if (!target.closest) return;
      var link = target.closest("a[href]");
      if (t && target.closest(".author a")) add("c_author", t);
      else if (t && target.closest("button.more") && el.classList.contains("open")) add("c_more", t);
      else if (t && target.closest(".share, [data-share]")) add("c_share", t);
      else if (link && link.origin === location.origin && link.pathname.indexOf("/w/") === 0) add("c_wall");
    });
  }
})();
