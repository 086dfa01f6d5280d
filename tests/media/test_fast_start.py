"""A render starts ffmpeg soon (issue 14): it loads only what it needs, probes its clip once and
measures the loudness of the span alone, with ffmpeg's meter, to the value of our own meter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import load_settings
from pipeline.reply import ReplyJob, make_reply
from pipeline.types import Comment
from pipeline.video import decode_audio, integrated_loudness, probe, start_loudness
from tests.conftest import REPO, make_clip, run

pytestmark = pytest.mark.media

SETTINGS = load_settings()
SRT = "1\n00:00:00,200 --> 00:00:01,500\nHei kaikki, tänään puhutaan ilmoituksista.\n"
# Modules a render with a caption file must not load before its encode starts.
HEAVY = ("numpy", "pipeline.speech", "pipeline.comments.inbox", "pipeline.comments.ledger",
         "pipeline.video.duet", "pipeline.video.sync", "pipeline.card.zones", "rich", "rapidfuzz", "fontTools",
         "stdnum", "phonenumbers", "pipeline.cli.comments", "pipeline.batch")


def _ours(path: Path, start: float = 0.0, duration: float | None = None) -> float:
    return integrated_loudness(decode_audio(path, 48000, "stereo", start=start, duration=duration), 48000)


def test_meter_of_a_span_equals_our_decode_of_that_span(tmp_path: Path) -> None:
    """Two levels 20 dB apart: each span measures its own half, as decoding the span does."""
    tone = "sin(2*PI*440*t)"
    clip = tmp_path / "two_levels.mp4"
    run("-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=8",
        "-f", "lavfi", "-i", f"aevalsrc='if(lt(t,4),0.5,0.05)*{tone}':s=44100:d=8",
        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "192k", "-shortest", str(clip))
    for start, duration in ((0.5, 3.0), (4.5, 3.0), (5.0, 1.0), (0.0, None)):
        with start_loudness(clip, True, start, duration) as pending:
            measured = pending.result()
        assert measured is not None
        assert abs(measured - _ours(clip, start, duration)) < 0.1, (start, duration)
    quiet = start_loudness(clip, True, 4.5, 3.0).result()
    loud = start_loudness(clip, True, 0.5, 3.0).result()
    assert quiet is not None and loud is not None and abs(loud - quiet - 20) < 0.5


def test_meter_counts_a_mono_clip_as_it_plays_from_two_speakers(tmp_path: Path) -> None:
    clip = tmp_path / "mono.m4a"
    run("-f", "lavfi", "-i", "anoisesrc=d=3:c=pink:a=0.2", "-ac", "1", "-c:a", "aac", str(clip))
    measured = start_loudness(clip, True).result()
    assert measured is not None and abs(measured - _ours(clip)) < 0.1


def test_meter_of_a_clip_without_sound_is_none(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "silent.mp4", size=(320, 240), seconds=1, audio=False)
    assert start_loudness(clip, probe(clip).has_audio).result() is None


def test_render_probes_its_clip_once_and_opens_it_once_to_probe(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import av

    import pipeline.reply
    import pipeline.video.media

    clip = make_clip(tmp_path / "clip.mp4", size=(640, 360), seconds=2)
    captions = tmp_path / "c.srt"
    captions.write_text(SRT, encoding="utf-8")
    probed: list[Path] = []
    opened: list[str] = []
    real_probe, real_open = pipeline.reply.probe, av.open

    def counting_probe(path: Path) -> object:
        probed.append(Path(path))
        return real_probe(path)

    def counting_open(file: str, *args: object, **kwargs: object) -> object:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(pipeline.reply, "probe", counting_probe)
    monkeypatch.setattr(pipeline.video.media.av, "open", counting_open)
    out = tmp_path / "out.mp4"
    make_reply(ReplyJob(clip=clip, comment=Comment("Mitä nyt?"), output=out, captions=str(captions)), SETTINGS)
    assert out.is_file()
    assert probed == [clip]
    assert opened.count(str(clip)) == 1  # the probe's one open; loudness is ffmpeg's


def test_render_with_a_caption_file_loads_only_what_it_needs(tmp_path: Path) -> None:
    """Up to the moment the encode's ffmpeg is started: no numpy, no speech, no inbox..."""
    clip = make_clip(tmp_path / "clip.mp4", size=(640, 360), seconds=2)
    captions = tmp_path / "c.srt"
    captions.write_text(SRT, encoding="utf-8")
    dump = tmp_path / "modules.json"
    code = f"""
import json, runpy, subprocess, sys
real = subprocess.Popen.__init__
def popen(self, args, *a, **k):
    if any("libx264" in str(x) for x in args):
        with open({str(dump)!r}, "w") as f:
            json.dump(sorted(sys.modules), f)
        raise SystemExit(0)
    real(self, args, *a, **k)
subprocess.Popen.__init__ = popen
sys.argv = ["sossut", "render", {str(clip)!r}, "-o", {str(tmp_path / "o.mp4")!r}, "--comment", "Mitä nyt? 🤔",
            "--captions", {str(captions)!r}]
runpy.run_module("pipeline", run_name="__main__")
"""
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(REPO)})
    loaded = set(json.loads(dump.read_text()))
    assert "av" in loaded and "pipeline.card.draw" in loaded  # it got as far as the encode
    assert sorted(m for m in loaded for heavy in HEAVY if m == heavy or m.startswith(heavy + ".")) == []


OLD_BLUR = {"blur_fps": 6.0, "blur_fraction": 8, "blur_radius": 10}  # the background before issue 14


def test_cheaper_background_is_still_a_blurred_dim_fill_around_the_same_picture(tmp_path: Path) -> None:
    from tests.conftest import frame_at

    clip = make_clip(tmp_path / "wide.mp4", size=(1280, 720), seconds=2, marker=True)
    frames = {}
    for name, settings in (("now", SETTINGS), ("old", SETTINGS.with_values(reframe=OLD_BLUR)),
                           ("fit", SETTINGS.with_values(reframe={"mode": "fit"}))):
        out = tmp_path / f"{name}.mp4"
        make_reply(ReplyJob(clip=clip, comment=Comment("Mitä nyt?"), output=out), settings)
        frames[name] = frame_at(out, 1.0).astype(int)
    # the picture (1080x608 in the middle) is the old chain's, and fit's
    middle = (slice(660, 1260), slice(0, 1080))
    assert abs(frames["now"][middle] - frames["old"][middle]).mean() < 2
    assert abs(frames["now"][middle] - frames["fit"][middle]).mean() < 4
    # below the picture (and the card): coloured, smooth, dimmer than the picture
    band = (slice(1400, 1900), slice(0, 1080))
    now_band = frames["now"][band]
    assert now_band.std() > 10
    assert abs(now_band[:, 1:] - now_band[:, :-1]).mean() < 3  # no sharp edges
    assert abs(now_band[1:] - now_band[:-1]).mean() < 3
    assert now_band.mean() < frames["now"][middle].mean() * 0.9  # dimmed
    assert abs(now_band.mean() - frames["old"][band].mean()) < 20  # the same kind of fill


def test_wash_background_is_the_blurred_copy_row_by_row(tmp_path: Path) -> None:
    """`blur_style = "wash"`: the same colours as the blurred copy, averaged along each row: no
    change across a row (what x264's slower presets encode cheaply), the same picture between."""
    from tests.conftest import frame_at

    clip = make_clip(tmp_path / "wide.mp4", size=(1280, 720), seconds=2, marker=True)
    frames = {}
    for style in ("soft", "wash"):
        out = tmp_path / f"{style}.mp4"
        make_reply(ReplyJob(clip=clip, comment=Comment("Mitä nyt?"), output=out),
                   SETTINGS.with_values(reframe={"blur_style": style}))
        frames[style] = frame_at(out, 1.0).astype(int)
    middle = (slice(660, 1260), slice(0, 1080))
    assert abs(frames["wash"][middle] - frames["soft"][middle]).mean() < 2
    band = (slice(1400, 1900), slice(0, 1080))
    wash, soft = frames["wash"][band], frames["soft"][band]
    across = wash.std(axis=1).mean()  # along each row
    assert across < 2.5 < soft.std(axis=1).mean(), across
    assert wash.std(axis=0).mean() > 1  # it still changes down the rows
    # each row is the soft background's average colour of that row, give or take
    assert abs(wash.mean(axis=1) - soft.mean(axis=1)).mean() < 6
