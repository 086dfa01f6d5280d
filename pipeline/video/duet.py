"""Duet stage: two recordings of one conversation + their offset -> a `RenderPlan` (pure) and its
graph: each recording cut to the time both cover, A above B, each cropped to fill its half.

`common_span` says which stretch of each recording is used; `make_duet_plan` makes every choice
of the render; `duet_streams` (called by `render.build_args`) builds the picture and the sound.
The sound is one recording's only: each phone also hears the other person, so playing both
would echo. Which one is `[duet] sound`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg as ffmpeg_python

from pipeline.config import FONTS_DIR, Settings
from pipeline.errors import InputError
from pipeline.types import AudioPlan, CardImage, DuetLayout, MediaInfo, PartPlan, RenderPlan
from pipeline.video.plan import (
    end_card_placement,
    joined_fps,
    make_plan,
    place_card,
)
from pipeline.video.render import video_chain

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
    loudness_lufs: float | None = None,
    threads: int | None = None,
    end_card: CardImage | None = None,
) -> RenderPlan:
    """Every choice of a duet render (`stack`: A above B over the time both cover).

    Args:
        media_a, media_b: the probed recordings.
        offset: seconds after A that B started (negative: before).
        settings: [duet] gives the focus and whose sound is used; the rest as for `make_plan`.
        loudness_lufs: measured loudness of the chosen sound over the common span.
        card, captions, threads, end_card: as for `make_plan` (captions on the duet's clock).

    Raises:
        InputError: the recordings do not overlap (by at least 0.2 s).
    """
    span = common_span(media_a.duration, media_b.duration, offset)
    fps = joined_fps([media_a, media_b], settings.encoder.max_fps)
    duration = float(Fraction(max(1, int(span.duration * fps))) / fps)  # whole frames, inside both
    sound = 0 if settings.duet.sound == "a" else 1
    # make_plan makes the per-clip choices (gain, tone mapping, encoder); the parts keep them.
    parts = []
    for index, (media, start) in enumerate(((media_a, span.start_a), (media_b, span.start_b))):
        own = make_plan(media, settings, output, loudness_lufs=loudness_lufs if index == sound else None,
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
    return dataclasses.replace(
        base, fps=fps, duration=duration, trim_start=0.0, reframe="crop", tonemap=None, card=card_at,
        captions=captions, fonts_dir=FONTS_DIR, end_card=ending, parts=tuple(parts),
        audio=AudioPlan(has_source_audio=parts[sound].audio.has_source_audio, gain_db=None,
                        limit_db=settings.audio.true_peak),
        duet=DuetLayout(layout="stack", focus=settings.duet.focus, sound=sound),
    )


def _input(part: PartPlan) -> Any:
    options: dict[str, Any] = {"t": f"{part.duration + 0.5:.3f}"}
    if part.trim_start > 0:
        options["ss"] = f"{part.trim_start:.3f}"
    return ffmpeg_python.input(str(part.source.resolve()), **options)


def duet_streams(plan: RenderPlan) -> tuple[Any, Any]:
    """The picture (A above B, each its half of the canvas) and the chosen recording's sound.

    The sound has its loudness gain but no limiter or ending yet (`build_args` adds those).
    """
    layout = plan.duet
    if layout is None or len(plan.parts) != 2:
        raise ValueError("duet_streams needs a duet plan of two parts")
    width, height = plan.canvas
    half = (width, height // 2 // 2 * 2)
    halves = []
    for part in plan.parts:
        own = dataclasses.replace(plan, source=part.source, media=part.media, tonemap=part.tonemap, canvas=half,
                                  reframe="crop", duration=part.duration, trim_start=part.trim_start, parts=(),
                                  duet=None)
        halves.append(
            video_chain(own, _input(part), focus_y=layout.focus)
            .filter("tpad", stop_mode="clone", stop_duration=1)  # a last frame that comes early is held
            .filter("trim", duration=f"{part.duration:.6f}")
            .filter("setpts", "PTS-STARTPTS")
            .filter("format", plan.encoder.pix_fmt)
        )
    v = ffmpeg_python.filter(halves, "vstack", inputs=2)
    if height != 2 * half[1]:
        v = v.filter("pad", width, height)
    chosen = plan.parts[layout.sound]
    rate = plan.encoder.audio_rate
    if not chosen.audio.has_source_audio:
        return v, ffmpeg_python.input(f"anullsrc=r={rate}:cl=stereo", f="lavfi").audio
    a = _input(chosen).audio
    if chosen.audio.gain_db is not None:
        a = a.filter("volume", f"{chosen.audio.gain_db}dB")
    a = a.filter("atrim", duration=f"{chosen.duration:.6f}").filter("asetpts", "PTS-STARTPTS")
    return v, a
