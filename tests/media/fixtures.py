"""Media fixtures, loaded by tests/conftest.py: the generated corpus, built once per session."""

from __future__ import annotations

import pytest

from tests.media import corpus


@pytest.fixture(scope="session")
def videos(tmp_path_factory):
    """Good and bad videos by name, each under a neutral server-style name except where the name is the point."""
    folder = tmp_path_factory.mktemp("videos")
    return {
        "phone_mov": corpus.phone_portrait_mov(folder / "a1.mov"),
        "webm_vp8": corpus.browser_webm(folder / "a2.webm"),
        "webm_vp9": corpus.browser_webm(folder / "a3.webm", vp9=True),
        "vfr": corpus.variable_frame_rate_mp4(folder / "a4.mp4"),
        "fade_in": corpus.fade_in_mp4(folder / "a5.mp4"),
        "full_hd": corpus.full_hd_mp4(folder / "a6.mp4"),
        "truncated": corpus.truncated_mp4(folder / "b1.mp4"),
        "truncated_faststart": corpus.truncated_faststart_mp4(folder / "b2.mp4"),
        "audio_only": corpus.audio_only_mp4(folder / "b3.mp4"),
        "header_8k": corpus.header_8k_mp4(folder / "b4.mp4"),
        "long": corpus.long_low_bitrate_mp4(folder / "b5.mp4"),
    }


@pytest.fixture
def listener():
    server = corpus.LoopbackListener()
    yield server
    server.close()
