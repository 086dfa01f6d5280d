"""Plan stage (pure): media info + card + captions + settings -> `RenderPlan`.

Every choice of a render is made here, so it can be tested without ffmpeg: what the card
says (and whether it shows who wrote the comment), where and when it shows, how the clip is
reframed, the frame rate, the loudness gain and the encoder settings. A reply of several clips
(`join_parts` -> `make_joined_plan`) makes those choices per clip (rotation, tone mapping, gain)
and then for the joined video (one frame rate, one card, where each clip starts).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from pipeline.config import FONTS_DIR, Settings
from pipeline.errors import InputError
from pipeline.types import (
    AudioPlan,
    CardContent,
    CardImage,
    CardPlacement,
    Comment,
    Encoder,
    EndCardPlacement,
    MediaInfo,
    PartPlan,
    RenderPlan,
)

_MIN_SECONDS = 0.2


def card_content(comment: Comment, settings: Settings, *, show_user: bool | None = None) -> CardContent:
    """Decide what the card shows: the header line and the avatar.

    With `show_user` (default: `card.show_user` in config) the header names the commenter and
    the avatar is their picture or initial; otherwise the anonymous header and a neutral avatar.
    """
    style = settings.card
    show = style.show_user if show_user is None else show_user
    user = comment.user.strip().lstrip("@").strip()
    if show and user:
        header = style.header_template.replace("{user}", user)
        letter = next((ch.upper() for ch in user if ch.isalnum()), "")
        return CardContent(text=comment.text, header=header, avatar=comment.avatar, avatar_letter=letter)
    return CardContent(text=comment.text, header=style.anonymous_header, avatar=None, avatar_letter="")


def output_fps(media: MediaInfo, max_fps: int) -> Fraction:
    """The source's frame rate, capped at `max_fps`; a VFR clip gets its nominal rate."""
    fps = media.fps if media.fps > 0 else Fraction(30)
    if media.variable_frame_rate and media.nominal_fps and 0 < media.nominal_fps <= 120:
        fps = media.nominal_fps  # phones record VFR around a nominal rate; keep that rate
    if fps > max_fps:
        return Fraction(max_fps)
    # Rates like 29.97 stay exact; odd averages of VFR clips (29.87) snap to the nearest
    # common rate so the output is constant frame rate at a rate players expect.
    if media.variable_frame_rate:
        common = [Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30),
                  Fraction(50), Fraction(60000, 1001), Fraction(60)]
        fps = min(common, key=lambda c: abs(float(c) - float(fps)))
    return fps


def place_card(card: CardImage, settings: Settings, duration: float) -> CardPlacement:
    """Centre the card's bubble in the safe zone horizontally, its top at `card.top`.

    The PNG has a transparent shadow margin around the bubble; only the bubble must be in
    the safe zone (the soft shadow may reach past it).

    Raises:
        InputError: the bubble does not fit inside the safe zone.
    """
    canvas_w, canvas_h = settings.canvas.width, settings.canvas.height
    safe = settings.safe_zone
    bubble_w, bubble_h = card.width - 2 * card.margin, card.height - 2 * card.margin
    area_w = canvas_w - safe.left - safe.right
    if bubble_w > area_w:
        raise InputError(
            f"the comment card is {bubble_w} px wide; the safe zone is only {area_w} px",
            hint="lower card.width in your config",
        )
    bubble_x = safe.left + (area_w - bubble_w) // 2
    bubble_y = max(settings.card.top, safe.top)
    if bubble_y + bubble_h > canvas_h - safe.bottom:
        raise InputError(
            f"the comment card ({bubble_w}x{bubble_h}) does not fit in the safe zone",
            hint="lower card.max_lines or card.font_size in your config",
        )
    style = settings.card
    end = duration if style.duration <= 0 else min(duration, style.duration)
    return CardPlacement(
        image=card, x=bubble_x - card.margin, y=bubble_y - card.margin, start=0.0, end=end,
        pop_in=min(style.pop_in, end), pop_slide_px=style.pop_slide,
    )


def make_plan(
    media: MediaInfo,
    settings: Settings,
    output: Path,
    *,
    card: CardImage | None = None,
    captions: Path | None = None,
    loudness_lufs: float | None = None,
    span: tuple[float, float] | None = None,
    threads: int | None = None,
    cores: int | None = None,
    end_card: CardImage | None = None,
) -> RenderPlan:
    """Make every choice of one render.

    Args:
        media: the probed clip.
        settings: style and encoder values.
        output: the final path (the render writes a temp file beside it).
        card: the drawn comment card, or None for no card.
        captions: an ASS file the project wrote, or None.
        loudness_lufs: measured integrated loudness of the source (span), None if unknown.
        span: (start, end) seconds to cut from the clip; None for the whole clip.
        threads: ffmpeg threads (batch divides the cores); None: from config.
        cores: CPU cores this render may use (default: all of the machine's). The filters get
            half of them, so they do not fight the encoder (measured: 4 % faster on 2 cores).
        end_card: the drawn help-resources end card (full canvas), or None for none; where
            it goes is `end_card_placement`'s choice.

    Raises:
        InputError: a span outside the clip or too short.
    """
    start, duration = _cut(media, span)
    audio_cfg = settings.audio
    gain = _gain(media, settings, loudness_lufs)
    ending = end_card_placement(end_card, settings, duration) if end_card is not None else None
    enc = settings.encoder
    encoder = _encoder(settings, threads, cores, hdr=media.is_hdr)
    return RenderPlan(
        source=media.path,
        output=output,
        media=media,
        canvas=(settings.canvas.width, settings.canvas.height),
        fps=output_fps(media, enc.max_fps),
        duration=duration,
        trim_start=start,
        **_reframe(settings),
        tonemap=settings.reframe.tonemap if media.is_hdr else None,
        card=_card_before(place_card(card, settings, duration), ending) if card is not None else None,
        captions=captions,
        fonts_dir=FONTS_DIR,
        audio=AudioPlan(has_source_audio=media.has_audio, gain_db=gain, limit_db=audio_cfg.true_peak),
        encoder=encoder,
        end_card=ending,
    )


def _cut(media: MediaInfo, span: tuple[float, float] | None) -> tuple[float, float]:
    """(start, duration) of the span of the clip, checked and clamped to the clip."""
    start, end = (0.0, media.duration) if span is None else span
    if start < 0 or end <= start:
        raise InputError(f"{media.path.name}: the span {start:.2f}-{end:.2f} s is empty or reversed")
    if start >= media.duration:
        raise InputError(
            f"{media.path.name}: the span starts at {start:.2f} s, after the clip ends ({media.duration:.2f} s)"
        )
    end = min(end, media.duration)
    duration = end - start
    if duration < _MIN_SECONDS:
        raise InputError(f"{media.path.name}: the span is too short ({duration:.2f} s)")
    return start, duration


def _gain(media: MediaInfo, settings: Settings, loudness_lufs: float | None) -> float | None:
    """dB that bring the measured loudness to the target; None: nothing to normalise."""
    audio_cfg = settings.audio
    if media.has_audio and audio_cfg.normalize and loudness_lufs is not None and loudness_lufs > -70:
        return round(max(-30.0, min(30.0, audio_cfg.loudness - loudness_lufs)), 2)
    return None


def _encoder(settings: Settings, threads: int | None, cores: int | None, *, hdr: bool = False) -> Encoder:
    """The encoder settings; the filters get half the cores, or all of them when an HDR clip is
    tone-mapped (the LUT lookups are the graph's heaviest step and run in slices)."""
    enc = settings.encoder
    usable = threads or enc.threads or cores or os.cpu_count() or 1
    return Encoder(**{
        **dataclasses.asdict(enc),
        "threads": enc.threads if threads is None else threads,
        "filter_threads": usable if hdr else max(1, usable // 2),
    })


def join_parts(
    media: Sequence[MediaInfo],
    spans: Sequence[tuple[float, float] | None],
    settings: Settings,
    loudness_lufs: Sequence[float | None] | None = None,
) -> tuple[PartPlan, ...]:
    """Where each of several clips goes in the joined video, and how it is matched to the rest.

    The output runs at the highest of the clips' rates (capped at `encoder.max_fps`); each part
    lasts a whole number of its frames, so the joins fall on frames and the video's length is the
    sum of the parts, minus `join.crossfade` at each join (shortened for very short parts).

    Args:
        media: the probed clips, in order.
        spans: the (start, end) cut of each clip, None for the whole clip.
        settings: style, loudness and encoder values.
        loudness_lufs: each part's measured loudness (None: unknown); None: not measured yet.

    Raises:
        InputError: a span outside its clip or too short (the message names the clip).
    """
    if len(spans) != len(media) or (loudness_lufs is not None and len(loudness_lufs) != len(media)):
        raise ValueError("join_parts: one span and one loudness for each clip")
    fps = joined_fps(media, settings.encoder.max_fps)
    cuts = [_cut(m, span) for m, span in zip(media, spans)]
    durations = [Fraction(max(1, round(d * fps))) / fps for _, d in cuts]  # exact: joins fall on frames
    fade_s = min(settings.join.crossfade, float(min(durations)) / 2) if len(media) > 1 else 0.0
    fade = Fraction(round(fade_s * fps)) / fps
    parts = []
    at = Fraction(0)
    for index, (m, (trim_start, _), duration) in enumerate(zip(media, cuts, durations)):
        lufs = loudness_lufs[index] if loudness_lufs is not None else None
        parts.append(PartPlan(
            source=m.path, media=m, trim_start=trim_start, duration=float(duration), start=float(at),
            tonemap=settings.reframe.tonemap if m.is_hdr else None,
            audio=AudioPlan(has_source_audio=m.has_audio, gain_db=_gain(m, settings, lufs),
                            limit_db=settings.audio.true_peak),
        ))
        at += duration - fade
    return tuple(parts)


def joined_fps(media: Sequence[MediaInfo], max_fps: int) -> Fraction:
    """One output rate for clips of different rates: the highest of theirs, capped at `max_fps`."""
    return max(output_fps(m, max_fps) for m in media)


def joined_duration(parts: Sequence[PartPlan]) -> float:
    """Seconds of the joined video: where the last part ends."""
    return parts[-1].start + parts[-1].duration if parts else 0.0


def _reframe(settings: Settings) -> dict[str, Any]:
    """The plan's reframe fields, as the config gives them (one clip or several alike)."""
    r = settings.reframe
    return {"reframe": r.mode, "background": r.background, "blur_fraction": r.blur_fraction,
            "blur_radius": r.blur_radius, "blur_fps": r.blur_fps, "blur_brightness": r.blur_brightness,
            "blur_style": r.blur_style}


def make_joined_plan(
    parts: Sequence[PartPlan],
    settings: Settings,
    output: Path,
    *,
    card: CardImage | None = None,
    captions: Path | None = None,
    threads: int | None = None,
    cores: int | None = None,
    end_card: CardImage | None = None,
) -> RenderPlan:
    """Every choice of a render that joins several clips (`join_parts`) into one reply.

    One card over the whole video, captions on the joined video's clock, one end card; the
    arguments mean what they mean for `make_plan`.

    Raises:
        ValueError: fewer than two parts (one clip is `make_plan`'s).
    """
    if len(parts) < 2:
        raise ValueError("make_joined_plan needs two or more parts; one clip is make_plan's")
    first = parts[0]
    duration = joined_duration(parts)
    fade = round(first.start + first.duration - parts[1].start, 6)
    ending = end_card_placement(end_card, settings, duration) if end_card is not None else None
    return RenderPlan(
        source=first.source,
        output=output,
        media=first.media,
        canvas=(settings.canvas.width, settings.canvas.height),
        fps=joined_fps([p.media for p in parts], settings.encoder.max_fps),
        duration=duration,
        trim_start=0.0,
        **_reframe(settings),
        tonemap=None,  # each part's own
        card=_card_before(place_card(card, settings, duration), ending) if card is not None else None,
        captions=captions,
        fonts_dir=FONTS_DIR,
        audio=AudioPlan(has_source_audio=any(p.audio.has_source_audio for p in parts), gain_db=None,
                        limit_db=settings.audio.true_peak),
        encoder=_encoder(settings, threads, cores, hdr=any(p.tonemap for p in parts)),
        end_card=ending,
        parts=tuple(parts),
        crossfade=max(0.0, fade),
    )


def end_card_placement(image: CardImage, settings: Settings, duration: float) -> EndCardPlacement:
    """When the end card shows: after the clip (`card` style) or over its last seconds (`overlay`).

    An overlay on a clip shorter than the card's length covers the whole clip.
    """
    cfg = settings.end_card
    style = "overlay" if cfg.style == "overlay" else "card"
    if style == "card":
        return EndCardPlacement(image=image, style="card", start=duration, length=cfg.duration,
                                fade=min(cfg.fade, cfg.duration))
    length = min(cfg.duration, duration)
    return EndCardPlacement(image=image, style="overlay", start=round(duration - length, 3), length=length,
                            fade=min(cfg.fade, length))


def captions_end(duration: float, settings: Settings, end_card: bool) -> float:
    """The time captions must end by: the clip's end, or an overlaid end card's start."""
    if end_card and settings.end_card.style == "overlay":
        return max(0.0, duration - min(settings.end_card.duration, duration))
    return duration


def _card_before(card: CardPlacement, ending: EndCardPlacement | None) -> CardPlacement:
    """The comment card leaves as the end card comes (it would show through the scrim): over
    the end card's fade-in after the clip, or before an overlaid end card."""
    if ending is None:
        return card
    if ending.style == "card":
        return card if card.end < ending.start - 1e-3 else dataclasses.replace(card, end=ending.start + ending.fade)
    if card.end <= ending.start:
        return card
    return dataclasses.replace(card, end=max(card.start, ending.start))
