"""Duet stage: two recordings of one conversation + their offset (+ who speaks when) -> a
`RenderPlan` (pure) and its graph: each recording cut to the time both cover, then `stack` (A
above B, each cropped to fill its half) or `switch` (the whole canvas on whoever is speaking).

`common_span` says which stretch of each recording is used; `make_duet_plan` makes every choice
of the render; `duet_streams` (called by `render.build_args`) builds the picture and the sound.
The sound is one recording's at a time: each phone also hears the other person, so playing both
would echo. `[duet] sound = "speaker"` takes it from the speaking person's own phone (the clean
mic), fading over `sound_ramp` seconds at each change of speaker; "a" or "b" fixes it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import ffmpeg as ffmpeg_python

from pipeline.config import FONTS_DIR, Settings
from pipeline.errors import InputError
from pipeline.types import AudioPlan, CardImage, DuetLayout, MediaInfo, PartPlan, RenderPlan, Shot
from pipeline.video.plan import (
    end_card_placement,
    joined_fps,
    make_plan,
    place_card,
)
from pipeline.video.render import fit_audio, video_chain
from pipeline.video.turns import speaker_at

_MIN_SECONDS = 0.2


@dataclass(frozen=True, slots=True)
class CommonSpan:
    """The time both recordings cover: where it starts in each, and how long it is."""

    start_a: float  # seconds into recording A
    start_b: float  # seconds into recording B
    duration: float


def common_span(duration_a: float, duration_b: float, offset: float) -> CommonSpan:
    """The stretch both recordings cover, when B started `offset` seconds after A.

    Raises:
        InputError: they overlap by less than 0.2 s (a wrong --offset, or two other recordings).
    """
    start = max(0.0, offset)  # on A's clock
    end = min(duration_a, offset + duration_b)
    if end - start < _MIN_SECONDS:
        raise InputError(
            f"the two recordings do not overlap with the offset {offset:+.3f} s "
            f"(A is {duration_a:.2f} s, B {duration_b:.2f} s long)",
            hint="--offset is how many seconds after the first recording the second one started",
        )
    return CommonSpan(start_a=start, start_b=start - offset, duration=end - start)


def make_duet_plan(
    media_a: MediaInfo,
    media_b: MediaInfo,
    offset: float,
    settings: Settings,
    output: Path,
    *,
    card: CardImage | None = None,
    captions: Path | None = None,
    loudness: tuple[float | None, float | None] = (None, None),
    shots: Sequence[Shot] = (),
    threads: int | None = None,
    end_card: CardImage | None = None,
) -> RenderPlan:
    """Every choice of a duet render over the time both recordings cover.

    Args:
        media_a, media_b: the probed recordings.
        offset: seconds after A that B started (negative: before).
        settings: [duet] gives the layout, focus, whose sound is used and its fade; the rest as
            for `make_plan`.
        loudness: measured loudness (LUFS) of A and B over the common span (None: not measured).
        shots: who speaks when, on the duet's clock (`find_turns`); empty: A throughout. Used by
            `switch` and by `sound = "speaker"`.
        card, captions, threads, end_card: as for `make_plan` (captions on the duet's clock).

    Raises:
        InputError: the recordings do not overlap (by at least 0.2 s).
    """
    span = common_span(media_a.duration, media_b.duration, offset)
    fps = joined_fps([media_a, media_b], settings.encoder.max_fps)
    duration = float(Fraction(max(1, int(span.duration * fps))) / fps)  # whole frames, inside both
    sound = _sound(settings.duet.sound, media_a.has_audio, media_b.has_audio)
    frame_shots = snap_shots(shots, fps, duration)
    # make_plan makes the per-clip choices (gain, tone mapping, encoder); the parts keep them.
    parts = []
    for index, (media, start) in enumerate(((media_a, span.start_a), (media_b, span.start_b))):
        heard = sound is None or index == sound
        own = make_plan(media, settings, output, loudness_lufs=loudness[index] if heard else None,
                        span=(start, start + duration), threads=threads)
        parts.append(PartPlan(source=media.path, media=media, trim_start=start, duration=duration, start=0.0,
                              tonemap=own.tonemap, audio=own.audio))
    ending = end_card_placement(end_card, settings, duration) if end_card is not None else None
    base = make_plan(media_a, settings, output, span=(span.start_a, span.start_a + duration), threads=threads)
    card_at = None
    if card is not None:
        card_at = place_card(card, settings, duration)
        if ending is not None and card_at.end > ending.start - 1e-3:  # it leaves as the end card comes
            card_at = dataclasses.replace(card_at, end=max(card_at.start, ending.start + (
                ending.fade if ending.style == "card" else 0.0)))
    layout: Literal["stack", "switch"] = "switch" if settings.duet.layout == "switch" else "stack"
    return dataclasses.replace(
        base, fps=fps, duration=duration, trim_start=0.0, reframe="crop", tonemap=None, card=card_at,
        captions=captions, fonts_dir=FONTS_DIR, end_card=ending, parts=tuple(parts),
        audio=AudioPlan(has_source_audio=media_a.has_audio or media_b.has_audio, gain_db=None,
                        limit_db=settings.audio.true_peak),
        duet=DuetLayout(layout=layout, focus=settings.duet.focus, sound=sound, shots=frame_shots,
                        ramp=settings.duet.sound_ramp),
    )


def _sound(choice: str, a_heard: bool, b_heard: bool) -> int | None:
    """Index of the one recording whose sound is used, or None: the speaker's (both have sound)."""
    if not b_heard:
        return 0  # A's (or silence when neither has sound)
    if not a_heard:
        return 1
    return {"a": 0, "b": 1}.get(choice)


def snap_shots(shots: Sequence[Shot], fps: Fraction, duration: float) -> tuple[Shot, ...]:
    """Shots with their cuts on the output's frame grid, covering exactly [0, duration]."""
    if not shots:
        return (Shot(0.0, duration, 0),)
    out: list[Shot] = []
    for shot in shots:
        start = 0.0 if not out else out[-1].end
        end = min(duration, float(Fraction(round(shot.end * fps)) / fps))
        if end - start < 1e-6:
            continue
        if out and out[-1].speaker == shot.speaker:
            out[-1] = Shot(out[-1].start, end, shot.speaker)
        else:
            out.append(Shot(start, end, shot.speaker))
    if not out:
        return (Shot(0.0, duration, shots[0].speaker),)
    last = out[-1]
    out[-1] = Shot(last.start, duration, last.speaker)
    return tuple(out)


def _input(part: PartPlan, start: float = 0.0, length: float | None = None) -> Any:
    """The part's file from `start` s into the part (ffmpeg seeks), `length` s of it (+0.5 s)."""
    seek = part.trim_start + start
    options: dict[str, Any] = {"t": f"{(part.duration if length is None else length) + 0.5:.3f}"}
    if seek > 0:
        options["ss"] = f"{seek:.3f}"
    return ffmpeg_python.input(str(part.source.resolve()), **options)


def _picture(plan: RenderPlan, part: PartPlan, canvas: tuple[int, int], start: float = 0.0,
             length: float | None = None) -> Any:
    """One recording upright, reframed to `canvas` at the output rate, exactly `length` s from 0."""
    length = part.duration - start if length is None else length
    own = dataclasses.replace(plan, source=part.source, media=part.media, tonemap=part.tonemap, canvas=canvas,
                              reframe="crop", duration=length, trim_start=part.trim_start + start, parts=(),
                              duet=None)
    focus = plan.duet.focus if plan.duet is not None else 0.5
    return (
        video_chain(own, _input(part, start, length), focus_y=focus)
        .filter("tpad", stop_mode="clone", stop_duration=1)  # a last frame that comes early is held
        .filter("trim", duration=f"{length:.6f}")
        .filter("setpts", "PTS-STARTPTS")
        .filter("format", plan.encoder.pix_fmt)
    )


def duet_streams(plan: RenderPlan) -> tuple[Any, Any]:
    """The picture (`stack` or `switch`) and the sound (one recording's, or the speaker's).

    The sound has its loudness gains but no limiter or ending yet (`build_args` adds those).
    """
    layout = plan.duet
    if layout is None or len(plan.parts) != 2:
        raise ValueError("duet_streams needs a duet plan of two parts")
    v = _switch_picture(plan, layout) if layout.layout == "switch" else _stack_picture(plan)
    return v, _sound_stream(plan, layout)


def _stack_picture(plan: RenderPlan, start: float = 0.0, length: float | None = None) -> Any:
    width, height = plan.canvas
    half = (width, height // 2 // 2 * 2)
    v = ffmpeg_python.filter([_picture(plan, part, half, start, length) for part in plan.parts], "vstack", inputs=2)
    if height != 2 * half[1]:
        v = v.filter("pad", width, height)
    return v


def duet_picture_at(plan: RenderPlan, at: float, length: float) -> Any:
    """The duet's picture from `at` s on its clock, `length` s of it, timestamps from 0: both
    recordings stacked, or the whole canvas on whoever speaks at `at` (a still's few frames)."""
    layout = plan.duet
    if layout is None or len(plan.parts) != 2:
        raise ValueError("duet_picture_at needs a duet plan of two parts")
    if layout.layout == "switch":
        return _picture(plan, plan.parts[speaker_at(layout.shots, at)], plan.canvas, at, length)
    return _stack_picture(plan, at, length)


def _switch_picture(plan: RenderPlan, layout: DuetLayout) -> Any:
    """The whole canvas on whoever speaks, shots joined by concat.

    Each recording is read and reframed once, keeping (`select`, before the scaling) only the
    frames of its own shots; those are split to its shots, each shot `trim`s out its stretch,
    and the shots are joined in order. So only the picture shown is scaled, and the graph has a
    chain per recording, not per shot (see bench/bench_duet.py: an input per shot was about as
    fast, but its memory grew by some 35 MB a shot).
    """
    shots = layout.shots or (Shot(0.0, plan.duration, 0),)
    if len(shots) == 1:
        return _picture(plan, plan.parts[shots[0].speaker], plan.canvas)
    half = 0.5 / float(plan.fps)  # frames sit on the output rate's grid: cut halfway between two
    frames: dict[int, Iterator[Any]] = {}
    for speaker in sorted({shot.speaker for shot in shots}):
        own = [shot for shot in shots if shot.speaker == speaker]
        keep = "+".join(f"between(t,{shot.start - half:.6f},{shot.end - half:.6f})" for shot in own)
        part = plan.parts[speaker]
        chain = video_chain(dataclasses.replace(plan, source=part.source, media=part.media, tonemap=part.tonemap,
                                                reframe="crop", duration=part.duration, trim_start=part.trim_start,
                                                parts=(), duet=None),
                            _input(part), focus_y=layout.focus, keep=keep)
        if len(own) > 1:
            split = chain.filter_multi_output("split", len(own))
            frames[speaker] = iter([split[k] for k in range(len(own))])
        else:
            frames[speaker] = iter([chain])
    pieces = []
    for shot in shots:
        piece = (next(frames[shot.speaker])
                 .filter("trim", start=f"{shot.start - half:.6f}", end=f"{shot.end - half:.6f}")
                 .filter("setpts", "PTS-STARTPTS"))
        if shot is shots[-1]:  # a recording whose last frame comes early is held to the end
            piece = (piece.filter("tpad", stop_mode="clone", stop_duration=1)
                     .filter("trim", duration=f"{shot.end - shot.start:.6f}"))
        pieces.append(piece)
    return ffmpeg_python.concat(*pieces, v=1, a=0).filter("format", plan.encoder.pix_fmt)


def _sound_stream(plan: RenderPlan, layout: DuetLayout) -> Any:
    rate = plan.encoder.audio_rate
    if not plan.audio.has_source_audio:
        return ffmpeg_python.input(f"anullsrc=r={rate}:cl=stereo", f="lavfi").audio
    if layout.sound is not None:
        return _track(plan, plan.parts[layout.sound])
    shots = layout.shots or (Shot(0.0, plan.duration, 0),)
    heard = [_track(plan, part).filter("asetnsamples", n=_GAIN_STEP, p=0)
             .filter("volume", volume=speaker_gain(shots, index, layout.ramp), eval="frame")
             for index, part in enumerate(plan.parts)]
    return ffmpeg_python.filter(heard, "amix", inputs=2, normalize=0, duration="longest")


_GAIN_STEP = 240  # samples per gain step of the fade between phones (5 ms at 48 kHz)


def _track(plan: RenderPlan, part: PartPlan) -> Any:
    """A recording's sound with its loudness gain, exactly the duet's length from 0."""
    a = _input(part).audio
    if part.audio.gain_db is not None:
        a = a.filter("volume", f"{part.audio.gain_db}dB")
    return fit_audio(plan, a, part.duration)


def speaker_gain(shots: Sequence[Shot], speaker: int, ramp: float) -> str:
    """An ffmpeg expression of t: 1 while `speaker`'s shots play, 0 otherwise, with linear fades
    of `ramp` seconds centred on each cut. Built from numbers only."""
    level = "1" if shots[0].speaker == speaker else "0"
    terms = [level]
    ramp = max(ramp, 0.001)
    for before, after in zip(shots, shots[1:]):
        if before.speaker == after.speaker:
            continue
        sign = "+" if after.speaker == speaker else "-"
        terms.append(f"{sign}clip((t-{after.start:.4f})/{ramp:.4f}+0.5,0,1)")
    return "".join(terms)
