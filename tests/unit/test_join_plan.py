"""Several clips, one reply, without ffmpeg: where each part goes, its own gain and tone mapping,
one graph that joins them, the --trim syntax, and manifest rows that name several clips."""

from __future__ import annotations

import dataclasses
import json
import math
from fractions import Fraction
from pathlib import Path

import pytest

from pipeline.batch.manifest import load_manifest
from pipeline.cli.options import parse_trim
from pipeline.config import load_settings
from pipeline.errors import InputError
from pipeline.reply import ClipPart, ReplyJob
from pipeline.types import CardImage, Comment, MediaInfo
from pipeline.video.plan import join_parts, joined_duration, make_joined_plan, make_plan
from pipeline.video.render import build_args

SETTINGS = load_settings()
A = MediaInfo(path=Path("/clips/a.mp4"), duration=2.0, width=1080, height=1920, rotation=0, fps=Fraction(30),
              has_audio=True, audio_rate=48000)
B = dataclasses.replace(A, path=Path("/clips/b.mp4"), duration=3.0, width=1920, height=1080, rotation=90,
                        fps=Fraction(25), has_audio=False, color_transfer="arib-std-b67", bit_depth=10)
CARD = CardImage(Path("/work/card.png"), 904, 300, margin=42)


def test_parts_follow_each_other_and_the_length_is_their_sum() -> None:
    parts = join_parts([A, B], [None, (0.5, 2.5)], SETTINGS)
    assert [(p.start, p.trim_start, p.duration) for p in parts] == [(0.0, 0.0, 2.0), (2.0, 0.5, 2.0)]
    assert joined_duration(parts) == 4.0
    # each part keeps its own tone mapping: only the HLG clip is tone-mapped
    assert parts[0].tonemap is None and parts[1].tonemap == SETTINGS.reframe.tonemap
    assert parts[0].audio.has_source_audio and not parts[1].audio.has_source_audio


def test_each_part_gets_its_own_loudness_gain() -> None:
    loud = dataclasses.replace(B, has_audio=True)
    parts = join_parts([A, loud], [None, None], SETTINGS, [-20.0, -35.0])
    assert [p.audio.gain_db for p in parts] == [pytest.approx(6.0), pytest.approx(21.0)]
    off = join_parts([A, loud], [None, None], SETTINGS.with_values(audio={"normalize": False}), [-20.0, -35.0])
    assert [p.audio.gain_db for p in off] == [None, None]


def test_one_output_rate_and_parts_of_whole_frames() -> None:
    odd = dataclasses.replace(A, duration=1.013)  # not a whole number of 30 fps frames
    fast = dataclasses.replace(B, fps=Fraction(120))
    parts = join_parts([odd, fast], [None, None], SETTINGS)
    plan = make_joined_plan(parts, SETTINGS, Path("/o.mp4"))
    assert plan.fps == 60  # the highest rate, capped
    assert parts[0].duration == pytest.approx(61 / 60) and parts[1].start == parts[0].duration
    assert plan.duration == pytest.approx(61 / 60 + 3.0)


def test_crossfade_overlaps_the_parts_and_is_shortened_for_short_ones() -> None:
    settings = SETTINGS.with_values(join={"crossfade": 0.5})
    parts = join_parts([A, B, A], [None, None, None], settings)
    assert [p.start for p in parts] == [0.0, 1.5, 4.0]
    plan = make_joined_plan(parts, settings, Path("/o.mp4"))
    assert plan.crossfade == pytest.approx(0.5) and plan.duration == pytest.approx(2.0 + 3.0 + 2.0 - 1.0)
    short = join_parts([A, B], [(0.0, 0.4), None], settings)  # a fade may take half of a part at most
    assert short[1].start == pytest.approx(0.2)


def test_a_bad_span_names_its_clip() -> None:
    with pytest.raises(InputError, match="b.mp4"):
        join_parts([A, B], [None, (5.0, 6.0)], SETTINGS)


def test_the_card_covers_the_whole_joined_video() -> None:
    parts = join_parts([A, B], [None, None], SETTINGS)
    plan = make_joined_plan(parts, SETTINGS, Path("/o.mp4"), card=CARD)
    assert plan.card is not None and (plan.card.start, plan.card.end) == (0.0, 5.0)
    with pytest.raises(ValueError):
        make_joined_plan(parts[:1], SETTINGS, Path("/o.mp4"))


def _graph(args: list[str]) -> str:
    assert args.count("-filter_complex") == 1  # one process, one graph
    return args[args.index("-filter_complex") + 1]


def test_the_joined_graph_reads_each_clip_once_and_joins_in_order() -> None:
    plan = make_joined_plan(join_parts([A, B], [None, (0.5, 2.5)], SETTINGS, [-20.0, None]), SETTINGS,
                            Path("/out/o.mp4"), card=CARD, captions=Path("/x.ass"))
    args = build_args(plan, Path("/out/o.mp4"))
    graph = _graph(args)
    assert args.count("-i") == 4  # a, b (from 0.5 s), the silence for b, the card
    at = args.index("/clips/b.mp4")
    assert args[at - 5:at] == ["-ss", "0.500", "-t", "2.500", "-i"]
    assert "anullsrc=r=48000:cl=stereo" in args
    assert "concat=a=1:n=2:v=1" in graph
    assert graph.count("]lut3d=") == 1 and graph.count("volume=") == 1 and graph.count("alimiter") == 1
    assert "trim=duration=2.000000" in graph and "atrim=duration=2.000000" in graph
    assert graph.count("overlay=enable") == 1 and graph.count("ass=captions.ass") == 1  # after the join
    assert args[args.index("-t", args.index("-filter_complex")) + 1] == "4.000"
    assert "/clips" not in graph


def test_a_crossfade_uses_xfade_and_acrossfade() -> None:
    settings = SETTINGS.with_values(join={"crossfade": 0.3})
    plan = make_joined_plan(join_parts([A, B], [None, None], settings), settings, Path("/o.mp4"))
    graph = _graph(build_args(plan, Path("/o.mp4")))
    assert "xfade=duration=0.300000:offset=1.700000:transition=fade" in graph
    assert "acrossfade=d=0.300000" in graph and "concat" not in graph


def test_the_same_cut_twice_and_two_silences_are_split_not_merged() -> None:
    """ffmpeg-python merges equal nodes; a merged node feeding two filters would fail to compile."""
    silent = dataclasses.replace(B, color_transfer="")
    plan = make_joined_plan(join_parts([A, silent, A, silent], [None, None, None, None], SETTINGS), SETTINGS,
                            Path("/o.mp4"))
    args = build_args(plan, Path("/o.mp4"))
    graph = _graph(args)
    assert args.count("-i") == 3  # a, b and one silence, each read once
    assert "concat=a=1:n=4:v=1" in graph and "asplit=2" in graph and "split=2" in graph


def test_a_single_clip_plan_has_no_parts() -> None:
    assert make_plan(A, SETTINGS, Path("/o.mp4")).parts == ()


# --- the job and the command line -------------------------------------------------------------------


def test_a_job_of_parts_keeps_each_cut() -> None:
    parts = [ClipPart(Path("a.mp4"), 1.0), ClipPart(Path("b@2.mp4"), 0.5, 3.0)]
    job = ReplyJob.of_parts(parts, Comment("moi"), Path("o.mp4"))
    assert job.clip == Path("a.mp4") and job.span == (1.0, math.inf)
    assert job.parts == (ClipPart(Path("a.mp4"), 1.0, math.inf), parts[1])
    whole = ReplyJob.of_parts([ClipPart(Path("a.mp4"))], Comment("moi"), Path("o.mp4"))
    assert whole.span is None and whole.more_clips == () and whole == ReplyJob(Path("a.mp4"), Comment("moi"),
                                                                               Path("o.mp4"))


@pytest.mark.parametrize(("text", "trim"), [
    ("2:1.5-4", (2, 1.5, 4.0)), ("1:0:03-0:07,5", (1, 3.0, 7.5)), ("2:3-", (2, 3.0, None)),
    ("1:-10", (1, 0.0, 10.0)), (" 3:1:02:03-1:02:04 ", (3, 3723.0, 3724.0)),
])
def test_trim_syntax(text: str, trim: tuple[int, float, float | None]) -> None:
    assert parse_trim(text) == trim


@pytest.mark.parametrize("text", ["1.5-4", "0:1-2", "x:1-2", "2:4-1.5", "2:1.5", "2:a-b", "-1:1-2"])
def test_bad_trims_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_trim(text)


# --- manifests ------------------------------------------------------------------------------------


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    for name in ("a.mp4", "b.mp4", "c.mp4", "x|y.mp4"):
        (tmp_path / name).write_bytes(b"x")
    return tmp_path


def test_a_csv_row_names_several_clips_separated_by_a_bar(folder: Path) -> None:
    manifest = folder / "m.csv"
    manifest.write_text("clip;comment\na.mp4 | b.mp4|c.mp4;moi\nx|y.mp4;yksi tiedosto\n", encoding="utf-8")
    loaded = load_manifest(manifest, folder / "out")
    assert loaded.invalid == ()
    joined, single = loaded.rows
    assert joined.clips == (folder / "a.mp4", folder / "b.mp4", folder / "c.mp4")
    assert joined.output_name == "002_a.mp4"
    assert single.clips == (folder / "x|y.mp4",)  # a cell naming one existing file is that file


def test_a_json_row_may_list_its_clips(folder: Path) -> None:
    manifest = folder / "m.json"
    manifest.write_text(json.dumps([{"clip": ["a.mp4", "b.mp4"], "comment": "moi"}]), encoding="utf-8")
    (row,) = load_manifest(manifest, folder / "out").rows
    assert row.clips == (folder / "a.mp4", folder / "b.mp4")
    assert row.clip_text == f"{folder / 'a.mp4'} | {folder / 'b.mp4'}"


def test_bad_rows_of_several_clips_say_why(folder: Path) -> None:
    manifest = folder / "m.csv"
    manifest.write_text("clip;comment;start;output\n"
                        "a.mp4 | puuttuu.mp4;moi;;o1.mp4\n"
                        "a.mp4 | b.mp4;moi;0:02;o2.mp4\n"
                        "a.mp4 | | b.mp4;moi;;o3.mp4\n"
                        "b.mp4;moi;;c.mp4\n"
                        "c.mp4 | a.mp4;moi;;o5.mp4\n", encoding="utf-8")
    loaded = load_manifest(manifest, folder)
    reasons = {p.row: p.reason for p in loaded.invalid}
    assert "clip puuttuu.mp4 not found" in reasons[2]
    assert "start '0:02' has 1 value for 2 clips" in reasons[3]  # one time per clip, separated by |
    assert "missing between the |" in reasons[4]
    assert "would overwrite the clip of row 6" in reasons[5]  # the second clip of a row is an input too
    assert [r.row for r in loaded.rows] == [6]


def test_resume_fingerprints_cover_the_clips_and_the_crossfade_of_joined_rows_only(folder: Path) -> None:
    from pipeline.batch.state import fingerprints
    from pipeline.speech.transcribe import TranscribeOptions

    manifest = folder / "m.csv"
    manifest.write_text("clip;comment\na.mp4 | b.mp4;moi\na.mp4;moi\n", encoding="utf-8")
    rows = load_manifest(manifest, folder / "out").rows

    def prints(settings: object) -> dict[int, str]:
        return fingerprints(rows, settings, TranscribeOptions(), sidecar=False)  # type: ignore[arg-type]

    before = prints(SETTINGS)
    after = prints(SETTINGS.with_values(join={"crossfade": 0.3}))
    assert before[2] != after[2] and before[3] == after[3]
    (folder / "b.mp4").write_bytes(b"toinen klippi")
    assert prints(SETTINGS)[2] != before[2]
