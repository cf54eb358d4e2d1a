/* Runs inside a Vouch widget document (its own origin): tells the host page its height, plays
   videos only when asked, drives the carousel and the toast. No cookies, no storage. */
(function () {
  "use strict";
  var d = document, root = d.getElementById("vouch"), id = d.documentElement.getAttribute("data-widget");
  if (!root) return;
  var framed = window.parent !== window, last = -1;
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

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

  d.addEventListener("click", function (event) {
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
    var pauseButton = carousel.querySelector(".pause");
    var turn = rotator(slides, function (index) {
      for (var i = 0; i < slides.length; i++) {
        var on = i === index;
        slides[i].className = on ? "slide on" : "slide";
        if (on) slides[i].removeAttribute("inert"); else slides[i].setAttribute("inert", "");
      }
    }, 7000);
    function label() {
      pauseButton.textContent = turn.paused() ? "Play" : "Pause";
      pauseButton.setAttribute("aria-label", turn.paused() ? "Start automatic rotation" : "Stop automatic rotation");
    }
    function step(delta) {
      // A person is in control now: announce the change, and stop rotating under them.
      track.setAttribute("aria-live", "polite");
      turn.pause(true); label();
      turn.show(turn.index() + delta);
    }
    carousel.querySelector(".prev").addEventListener("click", function () { step(-1); });
    carousel.querySelector(".next").addEventListener("click", function () { step(1); });
    pauseButton.addEventListener("click", function () { turn.pause(!turn.paused()); label(); });
    carousel.addEventListener("keydown", function (event) {
      if (event.key === "ArrowRight") { step(1); event.preventDefault(); }
      if (event.key === "ArrowLeft") { step(-1); event.preventDefault(); }
    });
    carousel.addEventListener("mouseenter", function () { turn.stop(); });
    carousel.addEventListener("mouseleave", function () { turn.start(); });
    carousel.addEventListener("focusin", function () { turn.stop(); });
    label();
  }

  var toast = d.querySelector(".toast");
  if (toast) {
    var notes = toast.querySelectorAll(".item");
    rotator(notes, function (index) {
      for (var j = 0; j < notes.length; j++) notes[j].hidden = j !== index;
    }, 8000);
  }
})();
