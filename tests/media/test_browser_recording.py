"""A real browser recording (Chromium's MediaRecorder with a fake camera) becomes a web-ready MP4."""

from __future__ import annotations

import base64

import pytest

from testimonials.media.video import inspect_video, make_poster, transcode_video

pytestmark = pytest.mark.browser

RECORD = """async (mimeType) => {
  const stream = await navigator.mediaDevices.getUserMedia({video: {width: 640, height: 480}, audio: true});
  const recorder = new MediaRecorder(stream, {mimeType});
  const chunks = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start(250);  // timeslices, as the collection form records them
  await new Promise((resolve) => setTimeout(resolve, 2500));
  recorder.stop();
  await stopped;
  stream.getTracks().forEach((track) => track.stop());
  const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return btoa(text);
}"""


@pytest.mark.parametrize("mime_type", ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus"])
def test_it_makes_a_chromium_mediarecorder_webm_web_ready(browser, tmp_path, monkeypatch, mime_type):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    page = browser.new_page()
    try:
        # http://localhost is a secure context, so getUserMedia works; the page never leaves Playwright.
        page.route("http://localhost/record", lambda route: route.fulfill(body="<!doctype html><title>rec</title>"))
        page.goto("http://localhost/record")
        recording = base64.b64decode(page.evaluate(RECORD, mime_type))
    finally:
        page.close()
    source = tmp_path / "upload"
    source.write_bytes(recording)

    info = inspect_video(source, max_seconds=60)
    result = transcode_video(source, tmp_path / "video.mp4", info=info)
    poster = make_poster(tmp_path / "video.mp4", duration=result.duration, workdir=tmp_path)

    assert info.container == "webm" and info.audio_codec == "opus"
    assert info.video_codec == mime_type.split("codecs=")[1].split(",")[0]
    assert 1.5 < result.duration < 3.5
    assert (result.width, result.height) == (640, 480)
    assert {r.name for r in poster.renditions} == {"poster.webp", "poster.jpg"}
