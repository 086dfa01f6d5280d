"""One reply video end to end: clip + comment -> MP4. The CLI and batch both call `make_reply`.

Order: probe -> (transcribe -> captions) -> card -> loudness -> plan -> render. Each stage is
its own module; this one only wires them and keeps the temp files of one job together.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pipeline.config import Settings
from pipeline.errors import InputError
from pipeline.loudness import integrated_loudness
from pipeline.media import decode_audio, probe
from pipeline.model import CardImage, Comment, MediaInfo
from pipeline.plan import card_content, make_plan
from pipeline.render import check_output_path, check_writable, render

log = logging.getLogger(__name__)

Stage = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ReplyJob:
    """What one reply video is made of."""

    clip: Path
    comment: Comment
    output: Path
    captions: str = "none"  # "auto" (transcribe), "none", or a path to SRT/VTT/JSON/ASS
    span: tuple[float, float] | None = None  # cut of a long recording, seconds
    show_user: bool | None = None  # None: config's card.show_user
    sidecar: bool = False  # also write OUTPUT.srt and OUTPUT.vtt
    keep_personal_data: bool = False  # True: do not mask personal data on the card
    mask_captions: bool | None = None  # None: config's privacy.mask_captions


@dataclass(frozen=True, slots=True)
class ReplyResult:
    output: Path
    media: MediaInfo
    card: CardImage | None
    cues: int = 0
    warnings: tuple[str, ...] = field(default_factory=tuple)


def protect_comment(comment: Comment, settings: Settings, *, keep_personal_data: bool = False
                    ) -> tuple[Comment, list[str]]:
    """Clean the comment and the name for display, mask personal data, flag hate and self-harm.

    Returns the comment to draw and warnings that name kinds and positions, never values.
    """
    from pipeline.moderation import (
        SELF_HARM_HINT,
        check_comment,
        describe_flags,
        needs_personal_response,
    )
    from pipeline.privacy import clean_display_text, describe_findings, mask_personal_data

    warnings: list[str] = []
    text = clean_display_text(comment.text, keep_newlines=True)
    keep = keep_personal_data or not settings.privacy.mask_personal_data
    masked = mask_personal_data(text, keep_personal_data=keep)
    if masked.findings:
        verb = "kept (--keep-personal-data)" if keep else "masked on the card"
        warnings.append(f"personal data in the comment {verb}: {describe_findings(masked.findings)}")
    flags = [f for f in check_comment(text) if f.category != "personal_data"]
    if flags:
        warnings.append(f"the comment is flagged: {describe_flags(flags)}")
        if needs_personal_response(flags):
            warnings.append(SELF_HARM_HINT)
    cleaned = Comment(text=masked.text, user=clean_display_text(comment.user), avatar=comment.avatar)
    return cleaned, warnings


def measure_loudness(media: MediaInfo, span: tuple[float, float] | None) -> float | None:
    """Integrated loudness (LUFS) of the clip or span, None without audio."""
    if not media.has_audio:
        return None
    start, end = span if span is not None else (0.0, media.duration)
    samples = decode_audio(media.path, rate=48000, layout="stereo", start=start, duration=end - start)
    if samples.shape[1] == 0:
        return None
    return integrated_loudness(samples, 48000)


def make_reply(
    job: ReplyJob,
    settings: Settings,
    *,
    transcribe: Callable[[MediaInfo], Any] | None = None,
    on_stage: Stage | None = None,
    on_progress: Callable[[float], None] | None = None,
    threads: int | None = None,
) -> ReplyResult:
    """Make one reply video.

    Args:
        job: clip, comment, output and options.
        settings: style and encoder values.
        transcribe: called for `captions="auto"` with the probed media; returns a Transcript
            of the whole clip (batch passes one that caches and reuses the model).
        on_stage: told the name of each stage as it starts ("probe", "card", ...).
        on_progress: fraction of the encode done.
        threads: ffmpeg threads for this job (batch divides the cores).

    Raises:
        PipelineError: any stage failed; nothing is left at the output path.
    """
    stage = on_stage or (lambda name: None)
    warnings: list[str] = []
    stage("probe")
    media = probe(job.clip)
    avatar = job.comment.avatar
    check_output_path(job.output, [job.clip] + ([avatar] if avatar else []))
    check_writable(job.output)
    if avatar is not None and not avatar.is_file():
        raise InputError(f"{avatar}: avatar image not found")

    with tempfile.TemporaryDirectory(prefix="sossut-job-") as work:
        work_dir = Path(work)
        captions_file = None
        cue_count = 0
        if job.captions != "none":
            stage("captions")
            captions_file, cue_count = _captions(job, media, settings, work_dir, transcribe, stage)
        stage("card")
        from pipeline.card import write_card

        comment, notes = protect_comment(job.comment, settings, keep_personal_data=job.keep_personal_data)
        warnings.extend(notes)
        content = card_content(comment, settings, show_user=job.show_user)
        card = write_card(content, settings.card, work_dir / "card.png")
        stage("loudness")
        loudness = measure_loudness(media, job.span) if settings.audio.normalize else None
        plan = make_plan(
            media, settings, job.output, card=card, captions=captions_file, loudness_lufs=loudness,
            span=job.span, threads=threads,
        )
        stage("render")
        render(plan, on_progress=on_progress)
    return ReplyResult(output=job.output, media=media, card=card, cues=cue_count, warnings=tuple(warnings))


def _captions(
    job: ReplyJob,
    media: MediaInfo,
    settings: Settings,
    work_dir: Path,
    transcribe: Callable[[MediaInfo], Any] | None,
    stage: Stage,
) -> tuple[Path | None, int]:
    raise InputError("captions are not available yet; use --captions none")
