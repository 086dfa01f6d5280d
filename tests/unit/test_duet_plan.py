"""The duet plan (pure): the common span of two recordings, the stack and switch graphs' choices,
and the speaker's sound."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import pytest

from pipeline.config import Settings, load_settings
from pipeline.errors import InputError
from pipeline.types import MediaInfo, RenderPlan, Shot
from pipeline.video import CommonSpan, common_span, make_duet_plan
from pipeline.video.duet import speaker_gain
from pipeline.video.render import build_args


@pytest.mark.parametrize(("offset", "expected"), [
    (0.7, CommonSpan(start_a=0.7, start_b=0.0, duration=2.3)),  # B started later, ends after A
    (-0.5, CommonSpan(start_a=0.0, start_b=0.5, duration=2.0)),  # B started earlier
    (0.2, CommonSpan(start_a=0.2, start_b=0.0, duration=2.5)),  # B inside A
])
def test_common_span_is_the_time_both_recordings_cover(offset: float, expected: CommonSpan) -> None:
    got = common_span(3.0, 2.5, offset)
    assert got.start_a == pytest.approx(expected.start_a)
    assert got.start_b == pytest.approx(expected.start_b)
    assert got.duration == pytest.approx(expected.duration)


def test_recordings_that_do_not_overlap_are_refused() -> None:
    with pytest.raises(InputError, match="do not overlap"):
        common_span(3.0, 2.5, 3.5)


# --- switch layout and the speaker's sound (plan and argv, no ffmpeg run) ---------------------

A = MediaInfo(path=Path("/clips/sanna {a}.mp4"), duration=14.0, width=1080, height=1920, rotation=0,
              fps=Fraction(30), has_audio=True, audio_rate=48000, audio_channels=2)
B = MediaInfo(path=Path("/clips/mikko's;b.mp4"), duration=13.0, width=1920, height=1080, rotation=90,
              fps=Fraction(25), has_audio=True, audio_rate=44100, audio_channels=1)
SHOTS = [Shot(0.0, 4.31, 0), Shot(4.31, 9.27, 1), Shot(9.27, 12.0, 0)]


def _plan(settings: Settings | None = None, b: MediaInfo = B, shots: list[Shot] | None = None) -> RenderPlan:
    settings = settings or load_settings().with_values(duet={"layout": "switch"})
    return make_duet_plan(A, b, 1.0, settings, Path("/out/vastaus.mp4"), loudness=(-20.0, -26.0),
                          shots=SHOTS if shots is None else shots)


def _graph(plan: RenderPlan) -> str:
    argv = build_args(plan, Path("/out/tmp.mp4"))
    return argv[argv.index("-filter_complex") + 1]


def test_switch_plan_puts_the_cuts_on_frame_boundaries_and_covers_the_duet() -> None:
    plan = _plan()
    assert plan.duet is not None and plan.duet.layout == "switch" and plan.duet.sound is None
    shots = plan.duet.shots
    assert [s.speaker for s in shots] == [0, 1, 0]
    assert shots[0].start == 0.0 and shots[-1].end == plan.duration
    for shot in shots:
        assert (Fraction(shot.start).limit_denominator(1000) * plan.fps).denominator == 1
    assert [p.audio.gain_db for p in plan.parts] == [pytest.approx(6.0), pytest.approx(12.0)]  # -14 LUFS each


def test_switch_graph_reads_each_recording_once_and_scales_only_its_shots() -> None:
    plan = _plan()
    argv = build_args(plan, Path("/out/tmp.mp4"))
    graph = _graph(plan)
    inputs = [argv[i + 1] for i, x in enumerate(argv) if x == "-i"]
    assert sorted(inputs) == sorted([str(A.path), str(B.path)])  # picture and sound share each input
    half = 0.5 / 30
    shots = plan.duet.shots if plan.duet else ()
    # A's frames kept before scaling: its two shots; B's: its one
    a_keep = "+".join(f"between(t\\,{s.start - half:.6f}\\,{s.end - half:.6f})" for s in shots if s.speaker == 0)
    assert f"select={a_keep}" in graph, graph
    assert graph.count("select=") == 2 and graph.count("scale=") == 2
    assert "concat=a=0:n=3:v=1" in graph
    assert "amix" in graph and "normalize=0" in graph
    for name in ("sanna", "mikko", "{a}", "'s;b"):  # user paths only as -i inputs, never in the graph
        assert name not in graph


def _gain_at(expression: str, t: float) -> float:
    assert set(expression) <= set("0123456789.+-*/(),tclip"), expression  # numbers only
    return float(eval(expression, {"clip": lambda x, lo, hi: min(max(x, lo), hi), "t": t}))  # noqa: S307


def test_the_speakers_sound_fades_over_the_ramp_at_each_cut() -> None:
    ramp = 0.1
    a, b = speaker_gain(SHOTS, 0, ramp), speaker_gain(SHOTS, 1, ramp)
    for t, expected_a in ((1.0, 1.0), (4.31 - ramp / 2 - 0.01, 1.0), (4.31, 0.5), (4.31 + ramp / 2 + 0.01, 0.0),
                          (7.0, 0.0), (9.27, 0.5), (11.0, 1.0)):
        assert _gain_at(a, t) == pytest.approx(expected_a, abs=1e-6), t
        assert _gain_at(a, t) + _gain_at(b, t) == pytest.approx(1.0)  # one phone at a time, never both full


def test_many_shots_keep_the_expression_small() -> None:
    shots = [Shot(k * 1.5, (k + 1) * 1.5, k % 2) for k in range(400)]  # 10 minutes of quick turns
    assert len(speaker_gain(shots, 0, 0.1)) < 40 * len(shots)


def test_fixed_sound_uses_one_recording_only() -> None:
    settings = load_settings().with_values(duet={"layout": "stack", "sound": "b"})
    plan = _plan(settings)
    assert plan.duet is not None and plan.duet.sound == 1
    assert plan.parts[0].audio.gain_db is None and plan.parts[1].audio.gain_db == pytest.approx(12.0)
    graph = _graph(plan)
    assert "amix" not in graph and "vstack" in graph


def test_a_recording_without_sound_gives_the_sound_to_the_other() -> None:
    plan = _plan(b=dataclasses.replace(B, has_audio=False, audio_rate=None, audio_channels=None))
    assert plan.duet is not None and plan.duet.sound == 0
    assert "amix" not in _graph(plan)


def test_no_shots_is_a_throughout() -> None:
    plan = _plan(shots=[])
    assert plan.duet is not None and plan.duet.shots == (Shot(0.0, plan.duration, 0),)
    assert "concat" not in _graph(plan)
