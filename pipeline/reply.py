"""One reply video end to end: clip + comment -> MP4. The CLI and batch both call `make_reply`.

Order: probe -> privacy + card -> (transcribe ->) captions below the card -> loudness -> plan
-> render -> sidecars. Each stage is its own module; this one only wires them and keeps the temp
files of one job together (a temp folder, gone when the job ends, whatever happens).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import Settings
from pipeline.errors import InputError
from pipeline.types import CardImage, Comment, Cue, MediaInfo, Transcript
from pipeline.video import (
    card_content,
    check_output_path,
    check_writable,
    decode_audio,
    integrated_loudness,
    make_plan,
    place_card,
    probe,
    render,
)

if TYPE_CHECKING:
    from pipeline.speech import TranscriberFactory

log = logging.getLogger(__name__)

Stage = Callable[[str], None]
CAPTION_GAP_PX = 40  # captions keep this far below the card's bubble


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
    from pipeline.comments import (
        SELF_HARM_HINT,
        check_comment,
        clean_display_text,
        describe_findings,
        describe_flags,
        mask_personal_data,
        needs_personal_response,
    )

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


def comment_card(comment: Comment, settings: Settings, path: Path, *, show_user: bool | None = None,
                 keep_personal_data: bool = False) -> tuple[CardImage, list[str]]:
    """Protect the comment, decide header and avatar, and draw the card PNG at `path`.

    Returns the card and the privacy/moderation warnings (kinds and positions, never values).
    """
    from pipeline.card import write_card

    cleaned, warnings = protect_comment(comment, settings, keep_personal_data=keep_personal_data)
    card = write_card(card_content(cleaned, settings, show_user=show_user), settings.card, path)
    return card, warnings


def measure_loudness(media: MediaInfo, span: tuple[float, float] | None) -> float | None:
    """Integrated loudness (LUFS) of the clip or span, None without audio."""
    if not media.has_audio:
        return None
    start, end = span if span is not None else (0.0, media.duration)
    samples = decode_audio(media.path, rate=48000, layout="stereo", start=start, duration=end - start)
    if samples.shape[1] == 0:
        return None
    return integrated_loudness(samples, 48000)


Transcribe = Callable[[MediaInfo], Transcript]


def transcriber_for(settings: Settings, *, vocabulary_file: Path | None = None,
                    transcriber_factory: TranscriberFactory | None = None, **overrides: Any) -> Transcribe:
    """A `transcribe` callable for `make_reply`: the whole clip's transcript, cached by content.

    Each call runs the model in a child process that has ended when the call returns, so the
    render that follows encodes without the model in memory. (Batch workers keep one loaded
    model for all their rows instead.)

    Args:
        settings: the [transcribe] section gives the defaults.
        vocabulary_file: extra domain terms (`--vocabulary FILE`).
        transcriber_factory: TranscribeOptions -> Transcriber, run in the child; default
            `pipeline.speech.get_transcriber`. A module-level function (it is pickled by name).
        **overrides: `engine`, `model`, `language` from the command line (None: not given).
    """
    from pipeline.speech import options_from_settings, transcribe_file_in_child

    options = options_from_settings(settings.transcribe, vocabulary_file=vocabulary_file, **overrides)

    def run(media: MediaInfo) -> Transcript:
        return transcribe_file_in_child(media.path, options, transcriber_factory=transcriber_factory)

    return run


def make_reply(
    job: ReplyJob,
    settings: Settings,
    *,
    transcribe: Transcribe | None = None,
    on_stage: Stage | None = None,
    on_progress: Callable[[float], None] | None = None,
    threads: int | None = None,
) -> ReplyResult:
    """Make one reply video.

    Args:
        job: clip, comment, output and options.
        settings: style and encoder values.
        transcribe: for `captions="auto"`: gives the Transcript of the whole clip (batch passes
            one that reuses a loaded model); default `transcriber_for(settings)`.
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
    span = job.span
    duration = (min(span[1], media.duration) - span[0]) if span else media.duration

    with tempfile.TemporaryDirectory(prefix="sossut-job-") as work:
        work_dir = Path(work)
        stage("card")
        card, notes = comment_card(job.comment, settings, work_dir / "card.png", show_user=job.show_user,
                                   keep_personal_data=job.keep_personal_data)
        warnings.extend(notes)
        placement = place_card(card, settings, max(duration, 0.1))
        cues: list[Cue] = []
        if job.captions != "none":
            stage("transcribe" if job.captions == "auto" else "captions")
            cues = _cues(job, media, settings, transcribe or transcriber_for(settings), warnings)
        captions_file = None
        if cues:
            from pipeline.captions import write_ass

            captions_file = work_dir / "captions.ass"
            card_bottom = placement.y + card.height - card.margin
            write_ass(cues, captions_file, settings.captions, (settings.canvas.width, settings.canvas.height),
                      settings.safe_zone, top_limit_px=card_bottom + CAPTION_GAP_PX)
        stage("loudness")
        loudness = measure_loudness(media, span) if settings.audio.normalize else None
        plan = make_plan(
            media, settings, job.output, card=card, captions=captions_file, loudness_lufs=loudness,
            span=span, threads=threads,
        )
        stage("render")
        render(plan, on_progress=on_progress)
        if job.sidecar:
            _write_sidecars(cues, job.output)
    return ReplyResult(output=job.output, media=media, card=card, cues=len(cues), warnings=tuple(warnings))


def _cues(job: ReplyJob, media: MediaInfo, settings: Settings, transcribe: Transcribe,
          warnings: list[str]) -> list[Cue]:
    """The captions of the job: transcribed (auto) or read from a file, cut to the span, checked."""
    from pipeline.captions import layout_cues, read_captions, shift_cues
    from pipeline.comments import describe_findings, find_personal_data_in_cues, mask_cues

    canvas_w, safe = settings.canvas.width, settings.safe_zone
    if job.captions == "auto":
        if not media.has_audio:
            warnings.append(f"{media.path.name} has no audio track: rendered without captions")
            return []
        transcript = transcribe(media)
        if job.span:
            transcript = transcript.between(*job.span)
        cues = layout_cues(transcript, settings.captions, canvas_w, safe)
    else:
        # A caption file is on the clip's clock (for a span: the recording's).
        cues = read_captions(Path(job.captions), settings.captions, canvas_w, safe)
        if job.span:
            cues = shift_cues(cues, job.span[0], job.span[0], job.span[1])
    # Keep every cue inside the video (a cue stretched to its minimum length may pass the end).
    length = (min(job.span[1], media.duration) - job.span[0]) if job.span else media.duration
    cues = [replace(c, end=min(c.end, length)) for c in cues if c.start < length - 0.05]
    found = find_personal_data_in_cues(cues)
    if found:
        mask = settings.privacy.mask_captions if job.mask_captions is None else job.mask_captions
        if mask:
            cues, _ = mask_cues(cues)
        where = "; ".join(f"{f.cue_start:.1f}s: {describe_findings([f.finding])}" for f in found)
        warnings.append(f"personal data spoken in the captions ({'masked' if mask else 'not masked'}): {where}")
    return cues


def _write_sidecars(cues: list[Cue], output: Path) -> None:
    """OUTPUT.srt and OUTPUT.vtt beside the video (temp file + rename, like the video)."""
    from pipeline.captions import SIDECAR_SUFFIXES, write_subtitles

    for suffix in SIDECAR_SUFFIXES:
        write_subtitles(cues, output.with_suffix(suffix))
