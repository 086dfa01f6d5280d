"""Several clips, one reply: clips of different sizes, rates, rotations, HDR or not, with or without
sound, joined in one ffmpeg graph; each part loudness-matched, captions moved to each part's start,
one card over the whole video; the CLI (--trim, --crossfade), a broken clip, a batch row."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from pipeline.cli.batch import batch
from pipeline.config import load_settings
from pipeline.reply import ClipPart, ReplyJob, ReplyResult, make_reply
from pipeline.types import Comment, MediaInfo, Segment, Transcript, Word
from pipeline.video.loudness import integrated_loudness
from pipeline.video.media import decode_audio, probe
from pipeline.video.plan import place_card
from tests.conftest import REPO, frame_at, make_clip, probe_output, run

pytestmark = pytest.mark.media

SETTINGS = load_settings().with_values(reframe={"mode": "crop"})
GREEN, BLUE = (0, 160, 0), (0, 0, 192)
B_TRIM = 0.2  # the second clip is used from 0.2 s


def _quiet_clip(path: Path) -> Path:
    """Green portrait 360x640 at 30 fps with a quiet 440 Hz tone (about 18 dB below the others)."""
    run("-f", "lavfi", "-i", "color=c=0x00a000:s=360x640:r=30:d=1.5",
        "-f", "lavfi", "-i", "sine=f=440:sample_rate=44100:d=1.5", "-af", "volume=-18dB",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path))
    return path


@pytest.fixture(scope="module")
def trio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One render of three unlike clips: A green 30 fps, quiet; B blue 25 fps, stored turned 90
    degrees, loud, a red marker top-left, used from 0.2 s; C 10-bit HLG HDR bars, landscape, silent."""
    folder = tmp_path_factory.mktemp("join")
    a = _quiet_clip(folder / "a.mp4")
    b = make_clip(folder / "b.mp4", size=(360, 640), seconds=1.6, fps="25", rotation=90, marker=True,
                  source="color=c=0x0000c0:")
    c = make_clip(folder / "c.mp4", size=(640, 360), seconds=1.0, hdr="hlg", audio=False, source="smptehdbars")
    said = {a: [Word("Hei", 0.3, 0.6)], b: [Word("Moikka", 0.5, 0.9)]}  # on each clip's own clock
    asked: list[Path] = []

    def transcribe(media: MediaInfo) -> Transcript:
        asked.append(media.path)
        words = tuple(said[media.path])
        return Transcript("fi", media.duration, (Segment(words[0].start, words[-1].end, words[0].word, words),))

    out = folder / "vastaus.mp4"
    job = ReplyJob.of_parts([ClipPart(a), ClipPart(b, B_TRIM), ClipPart(c)], Comment("Kaksi vastaajaa"), out,
                            captions="auto", sidecar=True)
    result = make_reply(job, SETTINGS, transcribe=transcribe)
    durations = [probe(a).duration, probe(b).duration - B_TRIM, probe(c).duration]
    starts = [0.0, durations[0], durations[0] + durations[1]]
    return {"out": out, "result": result, "durations": durations, "starts": starts, "asked": asked}


def test_duration_is_the_sum_of_the_parts_and_the_output_is_a_tiktok_video(trio: dict[str, Any]) -> None:
    info = probe_output(trio["out"])
    assert (info["width"], info["height"]) == (1080, 1920)
    assert info["codec"] == "h264" and info["profile"] == "High" and info["pix_fmt"] == "yuv420p"
    assert info["audio_codec"] == "aac" and info["audio_rate"] == 48000
    assert abs(info["duration"] - sum(trio["durations"])) <= 0.1, (info, trio["durations"])
    assert info["fps"] == 30  # the highest of 30, 25 and 30
    assert info["color_trc"] == 1 and info["color_primaries"] == 1 and info["rotation"] == 0
    result: ReplyResult = trio["result"]
    assert abs(result.duration - sum(trio["durations"])) <= 0.1


def _mean(frame: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
    return frame[rows, cols].reshape(-1, 3).mean(axis=0)


def test_parts_come_in_order_upright_and_the_hdr_one_tone_mapped(trio: dict[str, Any]) -> None:
    out, starts = trio["out"], trio["starts"]
    middle = (slice(1300, 1500), slice(300, 800))  # below the card and the captions' start
    a = _mean(frame_at(out, starts[0] + 0.7), *middle)
    b_frame = frame_at(out, starts[1] + 0.7).astype(int)
    b = _mean(b_frame, *middle)
    assert np.abs(a - GREEN).max() < 30, a
    assert np.abs(b - BLUE).max() < 30, b
    # B was stored turned 90 degrees: upright, its red marker is top-left (1/8 of the picture)
    corner = _mean(b_frame, slice(20, 200), slice(10, 110))
    assert corner[0] > 180 and corner[2] < 80, corner
    other = _mean(b_frame, slice(20, 200), slice(-110, -10))
    assert other[0] < 80, "marker in the wrong corner"
    # C: SMPTE HDR bars in colour (tone-mapped), not washed-out grey
    c_frame = frame_at(out, starts[2] + 0.5).astype(int)
    bars = c_frame[600:1000]  # the colour bars, below the card
    saturation = (bars.max(axis=-1) - bars.min(axis=-1)).mean()
    assert saturation > 60, saturation


def test_each_part_is_normalised_to_the_target_loudness(trio: dict[str, Any]) -> None:
    samples = decode_audio(trio["out"], 48000, "stereo")
    target = SETTINGS.audio.loudness
    for index in (0, 1):  # A was recorded about 18 dB quieter than B
        start, length = trio["starts"][index], trio["durations"][index]
        span = samples[:, int((start + 0.05) * 48000):int((start + length - 0.05) * 48000)]
        lufs = integrated_loudness(span, 48000)
        assert abs(lufs - target) < 1.0, (index, lufs)
    c_start = trio["starts"][2]
    silent = samples[:, int((c_start + 0.1) * 48000):]
    assert silent.shape[1] > 0.5 * 48000 and float(np.abs(silent).max()) < 1e-3  # C had no sound


def test_captions_of_each_clip_start_where_its_part_starts(trio: dict[str, Any]) -> None:
    out: Path = trio["out"]
    assert sorted(p.name for p in trio["asked"]) == ["a.mp4", "b.mp4"]  # each transcribed on its own; C is silent
    srt = out.with_suffix(".srt").read_text(encoding="utf-8")
    cues = {m.group(3).strip(): _seconds(m.group(1)) for m in
            re.finditer(r"(\d\d:\d\d:\d\d,\d\d\d) --> (\d\d:\d\d:\d\d,\d\d\d)\n(.+)", srt)}
    assert set(cues) == {"Hei", "Moikka"}, srt
    assert cues["Hei"] == pytest.approx(0.3, abs=0.02)
    # said 0.5 s into B, which is used from 0.2 s and starts after A
    assert cues["Moikka"] == pytest.approx(trio["starts"][1] + 0.5 - B_TRIM, abs=0.02)
    assert any("c.mp4 has no audio track" in w for w in trio["result"].warnings)


def _seconds(clock: str) -> float:
    h, m, s = clock.replace(",", ".").split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_one_card_over_the_whole_video(trio: dict[str, Any]) -> None:
    result: ReplyResult = trio["result"]
    assert result.card is not None
    card = result.card
    place = place_card(card, SETTINGS, result.duration)
    assert place.end == pytest.approx(result.duration)
    top, left = place.y + card.margin, place.x + card.margin
    inside = (slice(top + 8, top + card.height - 2 * card.margin - 8), slice(left + 8, left + 60))
    for start, length in zip(trio["starts"], trio["durations"]):
        frame = frame_at(trio["out"], start + length / 2).astype(int)
        bubble = _mean(frame, *inside)
        assert bubble.min() > 200, (start, bubble)  # the white bubble, over green, blue and the bars alike


# --- the command line and the batch --------------------------------------------------------------


def sossut(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=300)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("pair")
    return (make_clip(folder / "eka klippi@1.mp4", size=(360, 640), seconds=1.2, source="color=c=0x00a000:"),
            make_clip(folder / "toka.mp4", size=(480, 640), seconds=1.5, fps="25", audio=False,
                      source="color=c=0x0000c0:"))


def test_cli_joins_trims_and_crossfades(pair: tuple[Path, Path], tmp_path: Path) -> None:
    first, second = pair
    out = tmp_path / "vastaus.mp4"
    result = sossut("render", str(first), str(second), "-o", str(out), "--comment", "moi", "--captions", "none",
                    "--trim", "2:0,5-", "--crossfade", "0.3", "--reframe", "crop")
    assert result.returncode == 0, result.stderr
    expected = probe(first).duration + probe(second).duration - 0.5 - 0.3
    info = probe_output(out)
    assert abs(info["duration"] - expected) <= 0.1, (info["duration"], expected)
    assert info["fps"] == 30
    middle = (slice(1300, 1500), slice(300, 800))
    assert np.abs(_mean(frame_at(out, 0.3), *middle) - GREEN).max() < 30
    assert np.abs(_mean(frame_at(out, expected - 0.2), *middle) - BLUE).max() < 30
    during = _mean(frame_at(out, probe(first).duration - 0.15), *middle)  # halfway through the fade
    assert during[1] > 30 and during[2] > 30, during


def test_a_broken_second_clip_is_named_and_nothing_is_written(pair: tuple[Path, Path], tmp_path: Path) -> None:
    broken = tmp_path / "rikki.mp4"
    broken.write_text("ei video\n", encoding="utf-8")
    out = tmp_path / "vastaus.mp4"
    result = sossut("render", str(pair[0]), str(broken), "-o", str(out), "--comment", "moi", "--captions", "none")
    assert result.returncode == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "clip 2 of 2" in errors[0] and "rikki.mp4" in errors[0]
    assert not out.exists() and list(tmp_path.iterdir()) == [broken]


def test_a_trim_of_a_clip_that_is_not_there_is_a_usage_error(pair: tuple[Path, Path], tmp_path: Path) -> None:
    result = sossut("render", str(pair[0]), str(pair[1]), "-o", str(tmp_path / "o.mp4"), "--comment", "moi",
                    "--trim", "3:1-2")
    assert result.returncode == 2 and "--trim" in result.stderr and "no such clip" in result.stderr


def test_a_batch_row_joins_several_clips(pair: tuple[Path, Path], tmp_path: Path) -> None:
    first, second = pair
    manifest = tmp_path / "vastaukset.csv"
    manifest.write_text(f"clip;comment;output\n{first} | {second};Kaksi klippiä;yhdessä.mp4\n"
                        f"{first};Yksi klippi;yksin.mp4\n", encoding="utf-8")
    out_dir = tmp_path / "valmiit"
    result = CliRunner().invoke(batch, [str(manifest), "--out-dir", str(out_dir), "--captions", "none",
                                        "--jobs", "1"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    joined = probe_output(out_dir / "yhdessä.mp4")
    assert abs(joined["duration"] - (probe(first).duration + probe(second).duration)) <= 0.1
    assert abs(probe_output(out_dir / "yksin.mp4")["duration"] - probe(first).duration) <= 0.1
    report = (out_dir / "report.csv").read_text(encoding="utf-8")
    assert f"{first} | {second}" in report
