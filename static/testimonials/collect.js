/* Vouch collection page. Everything here is an addition: the form works without it.
   Adds: live character counts, a stepped flow on phones, photo previews, in-browser video
   recording (MediaRecorder), resumable chunked uploads with progress that continue from where
   they stopped, and submit progress. Its words come translated from the page (#vouch-strings). */
(function () {
  "use strict";

  var RETRY_DELAYS = [1000, 2000, 4000, 8000, 15000];
  // A 503 means "we couldn't save it yet" (storage briefly down, and even the spool full): keep the
  // page, with its files, and send again for about four minutes before asking the customer to.
  var OUTAGE_DELAYS = [5000, 10000, 20000, 30000, 30000, 60000, 60000];

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function fmt(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    return Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
  }
  function say(el, text, kind) {
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("is-error", kind === "error");
    el.classList.toggle("is-ok", kind === "ok");
  }
  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }
  var STRINGS = {};
  function t(key, values) {
    var text = STRINGS[key] || key;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(values[k])); });
    return text;
  }

  /* ------------------------------------------------------------------ counters */
  function initCounters(root) {
    $all("[data-counter-for]", root).forEach(function (counter) {
      var input = document.getElementById(counter.getAttribute("data-counter-for"));
      if (!input) return;
      // No maxlength on the input: a browser would silently cut pasted text. Count, and say what is over.
      var max = parseInt(input.getAttribute("data-maxlength") || "0", 10);
      var min = parseInt(input.getAttribute("minlength") || "0", 10);
      input.removeAttribute("minlength"); // the server explains a too-short text better than a tooltip
      function update() {
        var n = input.value.length;
        var text = max ? t("characters", { n: n, max: max }) : t("characters_no_max", { n: n });
        if (min && n > 0 && n < min) text += " " + t("at_least", { min: min });
        if (max && n > max) text = t("over", { over: n - max });
        counter.textContent = text;
        counter.classList.toggle("is-over", !!(max && n > max));
        // Announce only near the limit: a screen reader reading every keystroke is noise.
        counter.setAttribute("aria-live", max && n >= max * 0.9 ? "polite" : "off");
      }
      input.addEventListener("input", update);
      update();
    });
  }

  /* ------------------------------------------------------------------ resumable upload */
  function xhr(method, url, body, headers, onProgress) {
    return new Promise(function (resolve, reject) {
      var req = new XMLHttpRequest();
      req.open(method, url);
      Object.keys(headers || {}).forEach(function (k) { req.setRequestHeader(k, headers[k]); });
      if (onProgress && req.upload) req.upload.onprogress = function (e) { onProgress(e.loaded); };
      req.onload = function () {
        var data = {};
        try { data = JSON.parse(req.responseText || "{}"); } catch (e) { data = {}; }
        resolve({ status: req.status, data: data });
      };
      req.onerror = function () { reject(new Error("network")); };
      req.ontimeout = function () { reject(new Error("timeout")); };
      req.send(body);
    });
  }

  function Uploader(form, kind, ui) {
    this.form = form;
    this.kind = kind;
    this.ui = ui; // {status, progress, hidden}
    this.cancelled = false;
    this.promise = null;
  }
  Uploader.prototype.show = function (done, total) {
    var bar = this.ui.progress;
    if (!bar) return;
    bar.hidden = false;
    var pct = total ? Math.min(100, Math.floor((done / total) * 100)) : 0;
    $("progress", bar).value = pct;
    $("[data-progress-text]", bar).textContent = pct + "%";
  };
  Uploader.prototype.run = function (blob, name) {
    var self = this;
    var startUrl = self.form.getAttribute("data-upload-url");
    var chunk = parseInt(self.form.getAttribute("data-chunk-bytes") || "2097152", 10);
    var token = $("input[name=token]", self.form).value;
    self.ui.hidden.value = "";
    say(self.ui.status, t("uploading"));
    self.promise = (async function () {
      var attempt = 0;
      var session = null;
      while (!session) {
        try {
          var started = await xhr("POST", startUrl, JSON.stringify({ token: token, kind: self.kind, size: blob.size, name: name }),
            { "Content-Type": "application/json" });
          if (started.status !== 201) throw { fatal: started.data.error || t("upload_not_started") };
          session = started.data;
        } catch (err) {
          if (err && err.fatal) throw err;
          await sleep(RETRY_DELAYS[Math.min(attempt++, RETRY_DELAYS.length - 1)]);
        }
      }
      var offset = session.offset || 0;
      attempt = 0;
      while (offset < blob.size) {
        if (self.cancelled) throw { fatal: "" };
        var end = Math.min(blob.size, offset + chunk);
        try {
          var base = offset;
          var sent = await xhr("PATCH", session.url, blob.slice(offset, end),
            { "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" },
            function (loaded) { self.show(base + loaded, blob.size); });
          if (sent.status === 200 || sent.status === 409) {
            offset = sent.data.offset; // 409: the server has more (or less) than we thought: resume there
            attempt = 0;
            self.show(offset, blob.size);
          } else if (sent.status >= 500) {
            throw new Error("server");
          } else {
            throw { fatal: sent.data.error || t("upload_refused") };
          }
        } catch (err) {
          if (err && err.fatal !== undefined) throw err;
          // Dropped connection or server hiccup: wait, ask where we are, and continue from there.
          say(self.ui.status, t("retrying", { pct: Math.floor((offset / blob.size) * 100) }));
          await sleep(RETRY_DELAYS[Math.min(attempt++, RETRY_DELAYS.length - 1)]);
          try {
            var where = await xhr("GET", session.url);
            if (where.status === 200) offset = where.data.offset;
            else if (where.status === 404) throw { fatal: where.data.error || t("upload_expired") };
          } catch (e2) { if (e2 && e2.fatal) throw e2; }
        }
      }
      self.ui.hidden.value = session.id;
      self.show(blob.size, blob.size);
      say(self.ui.status, t("ready"), "ok");
      return session.id;
    })();
    self.promise.catch(function (err) {
      if (err && err.fatal) say(self.ui.status, err.fatal, "error");
      if (self.ui.progress) self.ui.progress.hidden = true;
    });
    return self.promise;
  };

  /* ------------------------------------------------------------------ video recorder */
  function pickMime() {
    var types = ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus", "video/webm", "video/mp4"];
    if (!window.MediaRecorder || !MediaRecorder.isTypeSupported) return "";
    for (var i = 0; i < types.length; i++) if (MediaRecorder.isTypeSupported(types[i])) return types[i];
    return "";
  }

  function cameraMessage(err) {
    var name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
      return t("camera_denied");
    }
    if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
      return t("camera_missing");
    }
    if (name === "NotReadableError") {
      return t("camera_busy");
    }
    return t("camera_failed");
  }

  function initVideo(form, state) {
    var block = $("[data-video]", form);
    if (!block) return;
    var rec = $("[data-recorder]", block);
    var live = $("[data-live]", block), preview = $("[data-preview]", block);
    var countdown = $("[data-countdown]", block), timer = $("[data-timer]", block);
    var btnRecord = $("[data-action=record]", block), btnStop = $("[data-action=stop]", block);
    var btnRetake = $("[data-action=retake]", block);
    var status = $("[data-status]", block);
    var input = $("input[type=file]", block);
    var maxSeconds = parseInt(block.getAttribute("data-max-seconds") || "60", 10);
    var limit = parseInt(block.getAttribute("data-limit") || "0", 10);
    var ui = { status: status, progress: $("[data-progress]", block), hidden: $("input[name=video_upload]", block) };
    var stream = null, recorder = null, chunks = [], tick = null, stopAt = 0;

    rec.hidden = false;
    var canRecord = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder);
    if (!canRecord) {
      btnRecord.hidden = true;
      say(status, status.textContent || t("no_recording"));
    }

    function stopStream() {
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
      live.hidden = true;
      live.srcObject = null;
    }
    function upload(blob, name) {
      if (state.upload) state.upload.cancelled = true;
      var up = new Uploader(form, "video", ui);
      state.upload = up;
      up.run(blob, name).catch(function () {});
    }

    btnRecord.addEventListener("click", async function () {
      say(status, t("asking_camera"));
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: true });
      } catch (err) {
        stopStream();
        say(status, cameraMessage(err), "error");
        return;
      }
      preview.hidden = true;
      live.hidden = false;
      live.srcObject = stream;
      live.play().catch(function () {});
      btnRecord.hidden = true;
      btnRetake.hidden = true;
      say(status, t("countdown", { time: fmt(maxSeconds) }));
      for (var n = 3; n > 0; n--) { countdown.textContent = String(n); await sleep(1000); }
      countdown.textContent = "";
      chunks = [];
      var mime = pickMime();
      try {
        recorder = mime ? new MediaRecorder(stream, { mimeType: mime }) : new MediaRecorder(stream);
      } catch (err) {
        stopStream();
        btnRecord.hidden = false;
        say(status, t("no_recording"), "error");
        return;
      }
      recorder.ondataavailable = function (e) { if (e.data && e.data.size) chunks.push(e.data); };
      recorder.onstop = function () {
        clearInterval(tick);
        timer.classList.remove("is-recording");
        stopStream();
        var type = (recorder.mimeType || mime || "video/webm").split(";")[0];
        var blob = new Blob(chunks, { type: type });
        preview.src = URL.createObjectURL(blob);
        preview.hidden = false;
        btnStop.hidden = true;
        btnRetake.hidden = false;
        state.recording = false;
        upload(blob, "recording." + (type.indexOf("mp4") >= 0 ? "mp4" : "webm"));
      };
      recorder.start(1000);
      state.recording = true;
      var started = Date.now();
      stopAt = started + maxSeconds * 1000;
      timer.hidden = false;
      timer.classList.add("is-recording");
      timer.textContent = "0:00 / " + fmt(maxSeconds);
      btnStop.hidden = false;
      btnStop.focus();
      say(status, t("recording"));
      tick = setInterval(function () {
        var elapsed = (Date.now() - started) / 1000;
        timer.textContent = fmt(elapsed) + " / " + fmt(maxSeconds);
        if (Date.now() >= stopAt && recorder.state === "recording") recorder.stop();
      }, 250);
    });

    btnStop.addEventListener("click", function () {
      if (recorder && recorder.state === "recording") recorder.stop();
    });

    btnRetake.addEventListener("click", function () {
      if (state.upload) state.upload.cancelled = true;
      state.upload = null;
      ui.hidden.value = "";
      if (ui.progress) ui.progress.hidden = true;
      preview.hidden = true;
      preview.removeAttribute("src");
      timer.hidden = true;
      btnRetake.hidden = true;
      btnRecord.hidden = false;
      btnRecord.click();
    });

    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) return;
      if (limit && file.size > limit) {
        say(status, t("video_too_big", { mb: Math.round(limit / 1048576) }), "error");
        input.value = "";
        return;
      }
      preview.src = URL.createObjectURL(file);
      preview.hidden = false;
      upload(file, file.name);
      // Sent through the resumable upload, not again inside the form.
      input.value = "";
    });
  }

  /* ------------------------------------------------------------------ photos: size check and preview */
  function initPhotos(form) {
    $all(".media-field input[type=file][data-limit]", form).forEach(function (input) {
      input.addEventListener("change", function () {
        var file = input.files && input.files[0];
        var mb = parseInt(input.getAttribute("data-limit"), 10);
        var field = input.closest(".field");
        var preview = $("[data-photo-preview]", field);
        var note = $("[data-status]", field);
        if (!note) {
          note = document.createElement("p");
          note.className = "status";
          note.setAttribute("data-status", "");
          note.setAttribute("role", "status");
          field.appendChild(note);
        }
        if (preview) { preview.hidden = true; preview.removeAttribute("src"); }
        if (file && mb && file.size > mb * 1048576) {
          say(note, t("file_too_big", { mb: mb }), "error");
          input.value = "";
        } else if (file) {
          say(note, t("selected", { name: file.name }), "ok");
          // Shown before sending, from the file itself: nothing leaves the browser yet.
          if (preview && /^image\/(jpeg|png|webp)$/.test(file.type)) {
            preview.src = URL.createObjectURL(file);
            preview.alt = file.name;
            preview.hidden = false;
          }
        }
      });
    });
  }

  /* ------------------------------------------------------------------ steps on phones */
  function initSteps(form) {
    var steps = $all(".step", form);
    var nav = $("[data-step-nav]", form), progress = $("[data-steps-progress]", form);
    if (steps.length < 2 || !nav || !window.matchMedia) return;
    var phone = window.matchMedia("(max-width: 40rem)");
    var current = 0;
    var back = $("[data-step-back]", nav), next = $("[data-step-next]", nav);
    function show(index, focus) {
      current = Math.max(0, Math.min(steps.length - 1, index));
      steps.forEach(function (step, i) { step.classList.toggle("is-current", i === current); });
      back.hidden = current === 0;
      next.hidden = current === steps.length - 1;
      nav.hidden = current === steps.length - 1 && current === 0;
      progress.hidden = false;
      progress.textContent = t("step", { n: current + 1, total: steps.length, name: steps[current].getAttribute("data-step") });
      if (focus) {
        var first = $("input:not([type=hidden]), textarea, button", steps[current]);
        if (first) first.focus({ preventScroll: true });
        form.scrollIntoView({ block: "start" });
      }
    }
    function missing(step) {
      // The required answers of this step, checked before moving on (the server checks again).
      var found = null;
      $all("[data-required]", step).forEach(function (field) {
        if (found) return;
        var inputs = $all("input:not([type=hidden]), textarea, select", field);
        var filled = inputs.some(function (el) {
          return (el.type === "radio" || el.type === "checkbox") ? el.checked : el.value.trim() !== "";
        });
        if (!filled) found = field;
      });
      return found;
    }
    function complain(field) {
      var message = $(".error", field);
      if (!message) {
        message = document.createElement("p");
        message.className = "error";
        message.setAttribute("role", "alert");
        var after = $("legend, label, .label", field);
        if (after) after.insertAdjacentElement("afterend", message); else field.prepend(message);
      }
      message.textContent = field.getAttribute("data-required");
      field.classList.add("has-error");
      var input = $("input:not([type=hidden]), textarea", field);
      if (input) input.focus();
    }
    function apply() {
      var on = phone.matches;
      form.classList.toggle("is-stepped", on);
      nav.hidden = !on;
      progress.hidden = !on;
      if (!on) return;
      // After a refused send, open the first step with a message in it.
      var withError = steps.findIndex(function (step) { return $(".has-error", step); });
      show(withError >= 0 ? withError : current, false);
    }
    next.addEventListener("click", function () {
      var gap = missing(steps[current]);
      if (gap) { complain(gap); return; }
      show(current + 1, true);
    });
    back.addEventListener("click", function () { show(current - 1, true); });
    if (phone.addEventListener) phone.addEventListener("change", apply);
    apply();
  }

  /* ------------------------------------------------------------------ submit with progress */
  function replacePage(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    document.title = doc.title;
    document.body.replaceWith(document.adoptNode(doc.body));
    init();
  }

  function initSubmit(form, state) {
    var button = $("[data-submit]", form);
    var status = $("[data-submit-status]", form);
    var bar = $("[data-submit-progress]", form);
    form.addEventListener("submit", async function (event) {
      if (!window.FormData || !window.DOMParser) return; // plain submit
      event.preventDefault();
      if (state.sending) return;
      state.sending = true;
      button.disabled = true;
      try {
        if (state.recording) { say(status, t("stop_first"), "error"); return; }
        if (state.upload && state.upload.promise) {
          say(status, t("finishing"));
          try { await state.upload.promise; } catch (e) { /* the server will say what is missing */ }
        }
        await solveProofOfWork(form, status);
        say(status, t("sending"));
        var attempt = 0, outage = 0;
        for (;;) {
          try {
            var result = await send(form, bar);
            if (result.url.indexOf("/thanks/") >= 0) { window.location.assign(result.url); return; }
            replacePage(result.html);
            return;
          } catch (err) {
            // Nothing is lost: the page stays, and the form token makes a resend store one testimonial.
            if (err && err.outage && outage < OUTAGE_DELAYS.length) {
              say(status, t("not_saved_yet", { s: Math.round(OUTAGE_DELAYS[outage] / 1000) }), "error");
              await sleep(OUTAGE_DELAYS[outage++]);
              say(status, t("sending"));
              continue;
            }
            if (attempt >= 2) { say(status, t("unreachable"), "error"); return; }
            say(status, t("trying_again"));
            await sleep(RETRY_DELAYS[attempt++]);
          }
        }
      } finally {
        state.sending = false;
        if (document.body.contains(button)) button.disabled = false;
      }
    });
  }

  /* ------------------------------------------------------------------ draft
     The customer's own words survive a reload, a crash or a lost connection: kept in sessionStorage
     (this tab only, gone when it closes, never sent anywhere) while they write, cleared once the
     thank-you page shows. Only what they typed: never the email address, files, tokens or hidden
     fields. Widgets shown to visitors use no storage at all; this is the customer's own page, at
     their own action. Storage may be blocked (a third-party frame): then there is simply no draft. */
  var DRAFT_SKIP = { token: 1, author_email: 1, pow: 1, website: 1, consent_given: 1, marketing_consent: 1 };
  function draftKey(path) { return "vouch-draft:" + path; }
  function draftFields(form) {
    return $all("input, textarea, select", form).filter(function (el) {
      return el.name && !DRAFT_SKIP[el.name] && el.type !== "file" && el.type !== "hidden" &&
        el.type !== "password" && !el.readOnly && !el.disabled && !/_upload$/.test(el.name) &&
        !el.closest("[aria-hidden=true]");
    });
  }
  function initDraft(form) {
    var key = draftKey(window.location.pathname), store;
    try { store = window.sessionStorage; store.getItem(key); } catch (e) { return; }
    var fields = draftFields(form);
    var saved = null;
    try { saved = JSON.parse(store.getItem(key) || "null"); } catch (e) { saved = null; }
    // Restore only into an empty form: a page the server sent back with the text already in it wins.
    var typed = fields.some(function (el) {
      return (el.type === "checkbox" || el.type === "radio") ? false : !!el.value;
    });
    if (saved && !typed) {
      fields.forEach(function (el) {
        if (!(el.name in saved)) return;
        if (el.type === "checkbox") el.checked = saved[el.name] === true;
        else if (el.type === "radio") el.checked = saved[el.name] === el.value;
        else el.value = saved[el.name];
        el.dispatchEvent(new Event("input", { bubbles: true }));
      });
    }
    var pending = null;
    function save() {
      pending = null;
      var draft = {};
      fields.forEach(function (el) {
        if (el.type === "checkbox") draft[el.name] = el.checked;
        else if (el.type === "radio") { if (el.checked) draft[el.name] = el.value; }
        else draft[el.name] = el.value;
      });
      try { store.setItem(key, JSON.stringify(draft)); } catch (e) { /* full or blocked: no draft */ }
    }
    form.addEventListener("input", function () { if (!pending) pending = setTimeout(save, 400); });
    form.addEventListener("change", function () { if (!pending) pending = setTimeout(save, 400); });
  }
  function clearDraft() {
    // The thank-you page lives at <form path>thanks/.
    try { window.sessionStorage.removeItem(draftKey(window.location.pathname.replace(/thanks\/$/, ""))); } catch (e) {}
  }

  /* Optional proof of work (CAPTCHA_VERIFIER=testimonials.abuse.ProofOfWork): find `pow` such that
     sha256(token + ":" + pow) starts with `bits` zero bits. */
  async function solveProofOfWork(form, status) {
    var box = $("[data-pow]", form);
    if (!box || !window.crypto || !crypto.subtle) return;
    var input = $("input[name=pow]", box);
    var token = $("input[name=token]", form).value;
    if (input.value && input.getAttribute("data-for") === token) return;
    var bits = parseInt(box.getAttribute("data-pow-bits") || "16", 10);
    var encoder = new TextEncoder();
    say(status, t("robot_check"));
    for (var n = 0; ; n++) {
      var digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(token + ":" + n)));
      var need = bits, ok = true;
      for (var i = 0; need > 0; i++, need -= 8) {
        var mask = need >= 8 ? 0xff : (0xff << (8 - need)) & 0xff;
        if (digest[i] & mask) { ok = false; break; }
      }
      if (ok) { input.value = String(n); input.setAttribute("data-for", token); return; }
    }
  }

  function send(form, bar) {
    return new Promise(function (resolve, reject) {
      var req = new XMLHttpRequest();
      req.open("POST", form.getAttribute("action") || window.location.href);
      req.upload.onprogress = function (e) {
        if (!e.lengthComputable || e.total < 200000) return;
        bar.hidden = false;
        $("progress", bar).value = Math.floor((e.loaded / e.total) * 100);
      };
      req.onload = function () {
        if (req.status >= 500) { var e = new Error("server"); e.outage = req.status === 503; reject(e); return; }
        resolve({ url: req.responseURL || "", html: req.responseText });
      };
      req.onerror = function () { reject(new Error("network")); };
      req.send(new FormData(form));
    });
  }

  /* ------------------------------------------------------------------ thank-you page */
  function initCopy() {
    $all("[data-copy]", document).forEach(function (button) {
      var value = button.getAttribute("data-copy");
      var status = $("[data-copy-status]");
      button.hidden = false;
      button.addEventListener("click", function () {
        var done = function () { say(status, t("copied"), "ok"); };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(value).then(done, function () {});
        }
      });
    });
  }

  /* ------------------------------------------------------------------ embedded: tell the host our height */
  var sizing = false;
  function initFrameSize() {
    // embed.js on the brand's page sizes the iframe from this (it checks our origin and the frame).
    if (sizing || window.parent === window || !document.body.classList.contains("is-embedded")) return;
    sizing = true;
    var last = -1;
    function tell() {
      var h = Math.ceil(document.documentElement.getBoundingClientRect().height);
      if (h !== last) { last = h; window.parent.postMessage({ type: "vouch:size", height: h }, "*"); }
    }
    if (window.ResizeObserver) new ResizeObserver(tell).observe(document.documentElement);
    window.addEventListener("load", tell);
    tell();
  }

  function init() {
    var strings = document.getElementById("vouch-strings");
    try { STRINGS = strings ? JSON.parse(strings.textContent) : {}; } catch (e) { STRINGS = {}; }
    var form = $("[data-collect-form]");
    initCopy();
    initFrameSize();
    if ($("[data-thanks]")) clearDraft();
    if (!form) return;
    var state = { upload: null, recording: false, sending: false };
    initCounters(form);
    initVideo(form, state);
    initPhotos(form);
    initSteps(form);
    initSubmit(form, state);
    initDraft(form);
    var summary = $("[data-error-summary]");
    if (summary) summary.focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
