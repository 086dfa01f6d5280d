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


def test_span_of_a_recording_has_the_loudness_of_its_part(tmp_path: Path) -> None:
    """A cut of a long recording is normalised by its own loudness: a clip whose first half is
    20 dB louder than its second gives each half's level for a span inside that half."""
    tone = "sin(2*PI*440*t)"
    recording = tmp_path / "recording.mp4"
    run("-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=8",
        "-f", "lavfi", "-i", f"aevalsrc='if(lt(t,4),0.5,0.05)*{tone}':s=44100:d=8",
        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "192k", "-shortest", str(recording))
    halves = {}
    for name, level in (("loud", 0.5), ("quiet", 0.05)):  # each half alone, measured by ffmpeg
        halves[name] = tmp_path / f"{name}.wav"
        run("-f", "lavfi", "-i", f"aevalsrc='{level}*{tone}':s=44100:d=3", "-ac", "2", str(halves[name]))
    loud, quiet = ffmpeg_lufs(halves["loud"]), ffmpeg_lufs(halves["quiet"])
    assert abs(loud - quiet - 20) < 0.5  # the fixture: two levels 20 dB apart
    for (start, end), expected in (((0.5, 3.5), loud), ((4.5, 7.5), quiet), ((5.0, 6.0), quiet)):
        samples = decode_audio(recording, 48000, "stereo", start=start, duration=end - start)
        assert samples.shape[1] == round((end - start) * 48000)
        assert abs(integrated_loudness(samples, 48000) - expected) < 0.5, (start, end)
    # Measured whole, the quiet half would be gated away: its gain would be ~20 dB off.
    whole = integrated_loudness(decode_audio(recording, 48000, "stereo"), 48000)
    assert abs(whole - quiet) > 15
