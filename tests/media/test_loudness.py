"""Our BS.1770 loudness agrees with ffmpeg's own EBU R128 meter (ebur128 filter)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.video.ffmpeg import ffmpeg_path
from pipeline.video.loudness import integrated_loudness
from pipeline.video.media import decode_audio
from tests.conftest import REPO, run

pytestmark = pytest.mark.media


def ffmpeg_lufs(path: Path) -> float:
    err = subprocess.run([ffmpeg_path(), "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128",
                          "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", err)[-1])


@pytest.mark.parametrize("source", ["speech", "tone", "noise"])
def test_matches_ffmpeg_ebur128(tmp_path: Path, source: str) -> None:
    if source == "speech":
        path = REPO / "assets" / "demo" / "demo.mp4"
    else:
        path = tmp_path / f"{source}.wav"
        lavfi = {"tone": "sine=f=100:d=4,volume=0.3", "noise": "anoisesrc=d=4:c=pink:a=0.2"}[source]
        run("-f", "lavfi", "-i", lavfi, "-ac", "2", "-ar", "44100", str(path))
    ours = integrated_loudness(decode_audio(path, 48000, "stereo"), 48000)
    assert abs(ours - ffmpeg_lufs(path)) < 0.3


def test_silence_and_short_audio_have_no_loudness() -> None:
    assert integrated_loudness(np.zeros((2, 48000 * 2), np.float32), 48000) == float("-inf")
    assert integrated_loudness(np.full((2, 1000), 0.5, np.float32), 48000) == float("-inf")
