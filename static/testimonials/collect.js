/* Vouch collection page. Everything here is an addition: the form works without it.
   Adds: live character counts, in-browser video recording (MediaRecorder), resumable chunked
   uploads with progress that continue from where they stopped, and submit progress. */
(function () {
  "use strict";

  var RETRY_DELAYS = [1000, 2000, 4000, 8000, 15000];

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

  /* ------------------------------------------------------------------ counters */
  function initCounters(root) {
    $all("[data-counter-for]", root).forEach(function (counter) {
      var input = document.getElementById(counter.getAttribute("data-counter-for"));
      if (!input) return;
      var max = parseInt(input.getAttribute("maxlength") || "0", 10);
      var min = parseInt(input.getAttribute("minlength") || "0", 10);
      input.removeAttribute("minlength"); // the server explains a too-short text better than a tooltip
      function update() {
        var n = input.value.length;
        var text = n + (max ? " / " + max : "") + " characters";
        if (min && n > 0 && n < min) text += " (at least " + min + ")";
        counter.textContent = text;
        counter.classList.toggle("is-over", max && n >= max);
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
    say(self.ui.status, "Uploading your " + self.kind + "…");
    self.promise = (async function () {
      var attempt = 0;
      var session = null;
      while (!session) {
        try {
          var started = await xhr("POST", startUrl, JSON.stringify({ token: token, kind: self.kind, size: blob.size, name: name }),
            { "Content-Type": "application/json" });
          if (started.status !== 201) throw { fatal: started.data.error || "The upload could not start." };
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
            throw { fatal: sent.data.error || "The upload was refused." };
          }
        } catch (err) {
          if (err && err.fatal !== undefined) throw err;
          // Dropped connection or server hiccup: wait, ask where we are, and continue from there.
          say(self.ui.status, "Connection lost. Retrying from " + Math.floor((offset / blob.size) * 100) + "%…");
          await sleep(RETRY_DELAYS[Math.min(attempt++, RETRY_DELAYS.length - 1)]);
          try {
            var where = await xhr("GET", session.url);
            if (where.status === 200) offset = where.data.offset;
            else if (where.status === 404) throw { fatal: where.data.error || "The upload expired." };
          } catch (e2) { if (e2 && e2.fatal) throw e2; }
        }
      }
      self.ui.hidden.value = session.id;
      self.show(blob.size, blob.size);
      say(self.ui.status, "Your " + self.kind + " is ready ✓", "ok");
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
      return "Camera access was denied. To record here, allow the camera and microphone in your browser's site settings and press Record again. Or upload a video file below.";
    }
    if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
      return "We could not find a camera or microphone. You can upload a video file below instead.";
    }
    if (name === "NotReadableError") {
      return "Your camera is being used by another app. Close it and press Record again, or upload a video file below.";
    }
    return "Your camera could not be started. You can upload a video file below instead.";
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
      say(status, status.textContent || "Recording is not available in this browser: upload a video file instead.");
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
      say(status, "Asking for your camera…");
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
      say(status, "Recording starts in 3 seconds. You have up to " + fmt(maxSeconds) + ".");
      for (var n = 3; n > 0; n--) { countdown.textContent = String(n); await sleep(1000); }
      countdown.textContent = "";
      chunks = [];
      var mime = pickMime();
      try {
        recorder = mime ? new MediaRecorder(stream, { mimeType: mime }) : new MediaRecorder(stream);
      } catch (err) {
        stopStream();
        btnRecord.hidden = false;
        say(status, "Recording is not available in this browser: upload a video file instead.", "error");
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
      say(status, "Recording. Press Stop when you are done.");
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
        say(status, "This video is larger than " + Math.round(limit / 1048576) + " MB. Please choose a shorter or smaller one.", "error");
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

  /* ------------------------------------------------------------------ photos: size check early */
  function initPhotos(form) {
    $all(".media-field input[type=file][data-limit]", form).forEach(function (input) {
      input.addEventListener("change", function () {
        var file = input.files && input.files[0];
        var mb = parseInt(input.getAttribute("data-limit"), 10);
        var field = input.closest(".field");
        var note = $("[data-status]", field);
        if (!note) {
          note = document.createElement("p");
          note.className = "status";
          note.setAttribute("data-status", "");
          note.setAttribute("role", "status");
          input.insertAdjacentElement("afterend", note);
        }
        if (file && mb && file.size > mb * 1048576) {
          say(note, "This file is larger than " + mb + " MB. Please choose a smaller one.", "error");
          input.value = "";
        } else if (file) {
          say(note, "Selected: " + file.name, "ok");
        }
      });
    });
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
        if (state.recording) { say(status, "Please stop the recording first.", "error"); return; }
        if (state.upload && state.upload.promise) {
          say(status, "Finishing your video upload…");
          try { await state.upload.promise; } catch (e) { /* the server will say what is missing */ }
        }
        await solveProofOfWork(form, status);
        say(status, "Sending…");
        var attempt = 0;
        for (;;) {
          try {
            var result = await send(form, bar);
            if (result.url.indexOf("/thanks/") >= 0) { window.location.assign(result.url); return; }
            replacePage(result.html);
            return;
          } catch (err) {
            // Nothing is lost: the page stays, and the form token makes a resend store one testimonial.
            if (attempt >= 2) { say(status, "We could not reach the server. Your testimonial is still here: press Send again.", "error"); return; }
            say(status, "Connection lost. Trying again…");
            await sleep(RETRY_DELAYS[attempt++]);
          }
        }
      } finally {
        state.sending = false;
        if (document.body.contains(button)) button.disabled = false;
      }
    });
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
    say(status, "Checking that you are not a robot…");
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
        if (req.status >= 500) { reject(new Error("server")); return; }
        resolve({ url: req.responseURL || "", html: req.responseText });
      };
      req.onerror = function () { reject(new Error("network")); };
      req.send(new FormData(form));
    });
  }

  /* ------------------------------------------------------------------ thank-you page */
  function initCopy() {
    $all("[data-copy]", document).forEach(function (button) {
      var input = $(button.getAttribute("data-copy"));
      var status = $("[data-copy-status]");
      button.hidden = false;
      button.addEventListener("click", function () {
        input.select();
        var done = function () { say(status, "Link copied ✓", "ok"); };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
        } else {
          document.execCommand("copy");
          done();
        }
      });
    });
  }

  function init() {
    var form = $("[data-collect-form]");
    initCopy();
    if (!form) return;
    var state = { upload: null, recording: false, sending: false };
    initCounters(form);
    initVideo(form, state);
    initPhotos(form);
    initSubmit(form, state);
    var summary = $("[data-error-summary]");
    if (summary) summary.focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
