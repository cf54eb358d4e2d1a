"""Videos: hostile or broken files refused with a reason; phone and browser recordings made web-ready."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from testimonials.media import video
from testimonials.media.errors import MediaRejected
from testimonials.media.sniff import Sniffed
from testimonials.media.video import inspect_video, make_poster, transcode_video
from tests.media import corpus


def _describe(path: Path) -> str:
    """ffmpeg's own description of a file, for assertions independent of the code under test."""
    return video._run(["-i", str(path)], timeout=30).stderr.decode()


def _top_level_boxes(path: Path) -> list[str]:
    data, boxes, offset = path.read_bytes(), [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        boxes.append(data[offset + 4 : offset + 8].decode("latin-1"))
        if size < 8:
            break
        offset += size
    return boxes


def _frame_count(path: Path) -> int:
    result = video._run(
        ["-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "null", "-progress", "pipe:1", "-"], timeout=30
    )
    return int(re.findall(rb"frame=(\d+)", result.stdout)[-1])


# ------------------------------------------------------------------------- refused


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        ("truncated", "incomplete", "cut off"),
        ("audio_only", "no_video", "only sound"),
        ("header_8k", "too_many_pixels", "7680x4320"),
        ("long", "too_long", "11:40 long; the limit here is 1:00"),
    ],
)
def test_it_refuses_broken_and_oversized_videos_at_inspection(videos, name, code, words):
    with pytest.raises(MediaRejected) as refused:
        inspect_video(videos[name], max_seconds=60)
    assert refused.value.code == code
    assert words in refused.value.reason


def test_it_refuses_a_video_cut_off_after_its_index_when_transcoding(videos, tmp_path):
    info = inspect_video(videos["truncated_faststart"], max_seconds=60)  # the index still says 3 s
    with pytest.raises(MediaRejected) as refused:
        transcode_video(videos["truncated_faststart"], tmp_path / "out.mp4", info=info)
    assert refused.value.code == "incomplete"


def test_it_refuses_an_hls_playlist_named_clip_mp4_without_touching_the_network(tmp_path, listener):
    playlist = corpus.hls_playlist(tmp_path / "clip.mp4", listener.port)
    with pytest.raises(MediaRejected) as refused:
        inspect_video(playlist, max_seconds=60)
    assert refused.value.code == "playlist"
    assert listener.connections() == 0


def test_it_refuses_an_ffconcat_file_without_reading_what_it_lists(tmp_path, listener):
    concat = corpus.ffconcat_file(tmp_path / "clip.mp4", listener.port)
    with pytest.raises(MediaRejected) as refused:
        inspect_video(concat, max_seconds=60)
    assert refused.value.code == "playlist"
    assert listener.connections() == 0


@pytest.mark.parametrize("demuxer", ["hls", "concat", "mov"])
def test_it_keeps_ffmpeg_to_local_containers_even_if_sniffing_were_fooled(tmp_path, listener, monkeypatch, demuxer):
    # Defence in depth: pretend content sniffing let a playlist through and even asked for its reader.
    fooled = Sniffed("video", "mp4", "video/mp4", ".mp4", demuxer=demuxer)
    monkeypatch.setattr(video, "sniff", lambda *args, **kwargs: fooled)
    for make in (corpus.hls_playlist, corpus.ffconcat_file):
        with pytest.raises(MediaRejected):
            inspect_video(make(tmp_path / "clip.mp4", listener.port), max_seconds=60)
    assert listener.connections() == 0


def test_it_refuses_a_codec_outside_its_list(tmp_path):
    path = tmp_path / "a.mov"
    corpus.ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10:duration=1", "-c:v", "mjpeg", "-y", str(path))
    with pytest.raises(MediaRejected) as refused:
        inspect_video(path, max_seconds=60)
    assert refused.value.code == "unsupported_codec"
    assert "mjpeg" in refused.value.reason


def test_it_times_out_instead_of_hanging(videos, tmp_path):
    info = inspect_video(videos["full_hd"], max_seconds=60)
    with pytest.raises(video.MediaTimeout):
        transcode_video(videos["full_hd"], tmp_path / "out.mp4", info=info, timeout=0.05)


# ------------------------------------------------------------------------- made web-ready


def test_it_turns_a_rotated_iphone_hevc_mov_into_an_upright_h264_mp4(videos, tmp_path):
    info = inspect_video(videos["phone_mov"], max_seconds=60)
    assert (info.container, info.video_codec, info.rotation, info.audio_codec) == ("mov", "hevc", 90, "aac")
    assert info.display_size == (360, 640)

    progress: list[int] = []
    result = transcode_video(videos["phone_mov"], tmp_path / "out.mp4", info=info, progress_callback=progress.append)

    described = _describe(tmp_path / "out.mp4")
    assert (result.width, result.height) == (360, 640)
    assert "Video: h264 (High)" in described and "yuv420p" in described and ", 360x640" in described
    assert "Audio: aac" in described
    assert "rotation" not in described.lower()  # upright pixels, no matrix left for players to misread
    assert "location" not in described and "Apple" not in described  # the phone's metadata is gone
    assert _top_level_boxes(tmp_path / "out.mp4").index("moov") < _top_level_boxes(tmp_path / "out.mp4").index("mdat")
    assert progress == sorted(progress) and progress[-1] == 100
    assert abs(result.duration - 2.0) < 0.2


@pytest.mark.parametrize("name", ["webm_vp8", "webm_vp9"])
def test_it_turns_a_browser_recording_into_mp4_even_without_a_duration_in_its_header(videos, tmp_path, name):
    assert "Duration: N/A" in _describe(videos[name])
    info = inspect_video(videos[name], max_seconds=60)
    assert info.container == "webm" and info.audio_codec == "opus"
    assert abs(info.duration - 2.0) < 0.2

    result = transcode_video(videos[name], tmp_path / "out.mp4", info=info)

    described = _describe(tmp_path / "out.mp4")
    assert "Video: h264" in described and "Audio: aac" in described and ", 640x480" in described
    assert result.bytes == (tmp_path / "out.mp4").stat().st_size


def test_it_tone_maps_an_hdr_iphone_video_to_standard_range(tmp_path):
    source = corpus.hlg_hdr_mov(tmp_path / "a.mov")
    info = inspect_video(source, max_seconds=60)
    assert info.hdr

    transcode_video(source, tmp_path / "out.mp4", info=info)

    stream = next(line for line in _describe(tmp_path / "out.mp4").splitlines() if "Video:" in line)
    assert "yuv420p(tv, bt709" in stream  # 8-bit BT.709: every browser shows it with the right colours


def test_it_scales_1080p_down_to_720p(videos, tmp_path):
    info = inspect_video(videos["full_hd"], max_seconds=60)
    result = transcode_video(videos["full_hd"], tmp_path / "out.mp4", info=info)
    assert (result.width, result.height) == (1280, 720)
    assert ", 1280x720" in _describe(tmp_path / "out.mp4")


def test_it_keeps_a_variable_frame_rate_without_duplicating_frames(videos, tmp_path):
    source_frames = _frame_count(videos["vfr"])
    assert source_frames < 90  # 3 s that would be 90 frames at a constant 30 fps
    info = inspect_video(videos["vfr"], max_seconds=60)
    result = transcode_video(videos["vfr"], tmp_path / "out.mp4", info=info)
    assert _frame_count(tmp_path / "out.mp4") == source_frames
    assert abs(result.duration - 3.0) < 0.2


def test_it_takes_the_poster_from_a_representative_frame_not_the_black_start(videos, tmp_path):
    info = inspect_video(videos["fade_in"], max_seconds=60)
    result = transcode_video(videos["fade_in"], tmp_path / "out.mp4", info=info)

    poster = make_poster(tmp_path / "out.mp4", duration=result.duration, workdir=tmp_path)

    assert {r.name for r in poster.renditions} == {"poster.webp", "poster.jpg"}
    for rendition in poster.renditions:
        (tmp_path / rendition.name).write_bytes(rendition.content)
        with Image.open(tmp_path / rendition.name) as image:
            assert image.size == (320, 240)
            assert image.convert("L").getextrema()[1] > 100  # not a black frame


def test_it_generates_sample_clips_for_the_demo(tmp_path):
    clip = video.generate_sample_video(tmp_path / "demo.mp4", seconds=1)
    info = inspect_video(clip, max_seconds=60)
    assert info.video_codec == "h264" and info.audio_codec == "aac" and abs(info.duration - 1.0) < 0.1
