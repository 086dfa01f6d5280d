"""One reply video end to end: clip + comment -> MP4. The CLI and batch both call `make_reply`.

Order: probe -> privacy + card -> (transcribe ->) captions below the card -> loudness -> plan
-> render -> sidecars. Each stage is its own module; this one only wires them and keeps the temp
files of one job together (a temp folder, gone when the job ends, whatever happens).

A reply may be made of several clips joined in order (a relay: one worker answers, the other
adds to it later): each clip is probed, transcribed and loudness-measured on its own, and its
captions are moved to where it starts in the joined video.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import Settings
from pipeline.errors import InputError
from pipeline.types import CardImage, CardPlacement, Comment, Cue, MediaInfo, Transcript
from pipeline.video import (
    captions_end,
    card_content,
    check_output_path,
    check_writable,
    join_parts,
    make_joined_plan,
    make_plan,
    place_card,
    preflight_warnings,
    probe,
    render,
    start_loudness,
)

if TYPE_CHECKING:
    from pipeline.comments import MaskOptions
    from pipeline.speech import TranscribeOptions, TranscriberFactory
    from pipeline.video import PendingLoudness

log = logging.getLogger(__name__)

Stage = Callable[[str], None]
CAPTION_GAP_PX = 40  # captions keep this far below the card's bubble


@dataclass(frozen=True, slots=True)
class ClipPart:
    """One clip of a reply and the stretch of it used, in seconds of the clip."""

    path: Path
    start: float = 0.0
    end: float | None = None  # None: to the clip's end


@dataclass(frozen=True, slots=True)
class ReplyJob:
    """What one reply video is made of: `clip` (its `span`), then `more_clips` joined in order."""

    clip: Path
    comment: Comment
    output: Path
    captions: str = "none"  # "auto" (transcribe), "none", or a path to SRT/VTT/JSON/ASS
    span: tuple[float, float] | None = None  # cut of a long recording, seconds; end math.inf: to its end
    show_user: bool | None = None  # None: config's card.show_user
    sidecar: bool = False  # also write OUTPUT.srt and OUTPUT.vtt
    keep_personal_data: bool = False  # True: do not mask personal data on the card
    mask_captions: bool | None = None  # None: config's privacy.mask_captions
    end_card: str | None = None  # help-resources end card: auto | always | never; None: config's end_card.mode
    more_clips: tuple[ClipPart, ...] = ()  # clips joined after `clip`, in order (a relay reply)

    @classmethod
    def of_parts(cls, parts: Sequence[ClipPart], comment: Comment, output: Path, **options: Any) -> ReplyJob:
        """A job of one or more clips, each with its own cut; `options` are the other fields."""
        if not parts:
            raise ValueError("a reply needs at least one clip")
        first = parts[0]
        whole = first.start <= 0 and first.end is None
        span = None if whole else (first.start, math.inf if first.end is None else first.end)
        return cls(clip=first.path, comment=comment, output=output, span=span, more_clips=tuple(parts[1:]),
                   **options)

    @property
    def parts(self) -> tuple[ClipPart, ...]:
        """Every clip of the reply, in order."""
        first = ClipPart(self.clip) if self.span is None else ClipPart(self.clip, self.span[0], self.span[1])
        return (first, *self.more_clips)


@dataclass(frozen=True, slots=True)
class ReplyResult:
    output: Path
    media: MediaInfo  # the (first) clip's
    card: CardImage | None
    cues: int = 0
    warnings: tuple[str, ...] = field(default_factory=tuple)
    duration: float = 0.0  # seconds of the video made


@dataclass(frozen=True, slots=True)
class _Part:
    """A clip of the job as probed, the cut used, and where it starts in the video made."""

    media: MediaInfo
    span: tuple[float, float] | None  # None: the whole clip
    start: float = 0.0  # seconds on the output's clock
    length: float = 0.0  # seconds of it in the output before the next part begins


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
        mask_options,
        mask_personal_data,
        needs_personal_response,
    )

    options = mask_options(settings.privacy)
    warnings: list[str] = []
    text = clean_display_text(comment.text, keep_newlines=True)
    keep = keep_personal_data or not settings.privacy.mask_personal_data
    masked = mask_personal_data(text, keep_personal_data=keep, options=options)
    if masked.findings:
        verb = "kept (--keep-personal-data)" if keep else "masked on the card"
        warnings.append(f"personal data in the comment {verb}: {describe_findings(masked.findings)}")
    flags = [f for f in check_comment(text, options=options) if f.category != "personal_data"]
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
    with start_measure(media, span) as pending:
        return pending.result()


def start_measure(media: MediaInfo, span: tuple[float, float] | None) -> PendingLoudness:
    """Start measuring the loudness of the clip or span in the background (ffmpeg's meter on
    another core); its `result()` is `measure_loudness`'s value."""
    start, end = span if span is not None else (0.0, media.duration)
    length = min(end, media.duration) - start
    # A span outside the clip measures nothing: `make_plan` then says what is wrong with it.
    return start_loudness(media.path, media.has_audio and length > 0, start, length)


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
    from pipeline.speech import options_from_settings

    options = options_from_settings(settings.transcribe, vocabulary_file=vocabulary_file, **overrides)
    return _ChildTranscribe(options, transcriber_factory)


class _ChildTranscribe:
    """`transcriber_for`'s callable. `prepare(medias)` transcribes several recordings at once, in
    one child (one model load); a later call for one of them returns its transcript."""

    def __init__(self, options: TranscribeOptions, factory: TranscriberFactory | None) -> None:
        self.options, self.factory = options, factory
        self.ready: dict[Path, Transcript] = {}

    def prepare(self, medias: Sequence[MediaInfo]) -> None:
        from pipeline.speech import transcribe_files_in_child

        paths = list(dict.fromkeys(m.path for m in medias if m.has_audio and m.path not in self.ready))
        if len(paths) > 1:
            found = transcribe_files_in_child(paths, self.options, transcriber_factory=self.factory)
            self.ready.update(zip(paths, found, strict=True))

    def __call__(self, media: MediaInfo) -> Transcript:
        from pipeline.speech import transcribe_file_in_child

        if media.path in self.ready:
            return self.ready[media.path]
        return transcribe_file_in_child(media.path, self.options, transcriber_factory=self.factory)


def prepare_transcripts(transcribe: Transcribe, medias: Sequence[MediaInfo]) -> None:
    """Let `transcribe` do these recordings together if it can (`transcriber_for`'s loads the
    model once for all of them); any other `Transcribe` is called one recording at a time."""
    prepare = getattr(transcribe, "prepare", None)
    if prepare is not None:
        prepare(medias)


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
    clips = job.parts
    medias = [_probe_part(part.path, index, len(clips)) for index, part in enumerate(clips, 1)]
    media = medias[0]
    avatar = job.comment.avatar
    check_output_path(job.output, [part.path for part in clips] + ([avatar] if avatar else []))
    check_writable(job.output)
    if avatar is not None and not avatar.is_file():
        raise InputError(f"{avatar}: avatar image not found")
    parts = _place_parts(clips, medias, settings)
    span = parts[0].span
    duration = (min(span[1], media.duration) - span[0]) if span else media.duration
    if len(parts) > 1:
        duration = parts[-1].start + parts[-1].length

    # The loudness meters run on another core while the card and the captions are made.
    with tempfile.TemporaryDirectory(prefix="sossut-job-") as work, ExitStack() as meters:
        pending = [meters.enter_context(start_measure(p.media, p.span)) for p in parts] \
            if settings.audio.normalize else []
        work_dir = Path(work)
        stage("card")
        card, notes = comment_card(job.comment, settings, work_dir / "card.png", show_user=job.show_user,
                                   keep_personal_data=job.keep_personal_data)
        warnings.extend(notes)
        placement = place_card(card, settings, max(duration, 0.1))
        cues: list[Cue] = []
        if job.captions != "none":
            stage("transcribe" if job.captions == "auto" else "captions")
            if job.captions == "auto" and transcribe is None:
                transcribe = transcriber_for(settings)
            cues = _cues(job, parts, settings, transcribe, warnings)
        cues, end_card, captions_file = end_card_and_captions(
            job.end_card, job.comment.text, cues, duration, card, placement, settings, work_dir, warnings)
        stage("loudness")
        loudness_of = [p.result() for p in pending] if pending else [None] * len(parts)
        if len(parts) == 1:
            plan = make_plan(
                media, settings, job.output, card=card, captions=captions_file, loudness_lufs=loudness_of[0],
                span=span, threads=threads, end_card=end_card,
            )
        else:  # each clip its own gain, so both voices are equally loud
            joined = join_parts(medias, [p.span for p in parts], settings, loudness_of)
            plan = make_joined_plan(joined, settings, job.output, card=card, captions=captions_file,
                                    threads=threads, end_card=end_card)
        stage("render")
        render(plan, on_progress=on_progress)
        warnings.extend(preflight_warnings(job.output, settings, cues))
        if job.sidecar:
            write_sidecars(cues, job.output)
    return ReplyResult(output=job.output, media=media, card=card, cues=len(cues), warnings=tuple(warnings),
                       duration=round(plan.output_duration, 3))


def _probe_part(path: Path, index: int, count: int) -> MediaInfo:
    """Probe one clip of the job; with several clips the error says which one it is."""
    try:
        return probe(path)
    except InputError as exc:
        if count == 1:
            raise
        raise InputError(f"clip {index} of {count}: {exc.message}", hint=exc.hint) from None


def _place_parts(clips: Sequence[ClipPart], medias: Sequence[MediaInfo], settings: Settings) -> list[_Part]:
    """Each clip's cut and, for several clips, where it lands in the joined video."""
    spans: list[tuple[float, float] | None] = []
    for clip, media in zip(clips, medias):
        whole = clip.start <= 0 and clip.end is None
        end = media.duration if clip.end is None or math.isinf(clip.end) else clip.end
        spans.append(None if whole else (clip.start, end))  # make_plan checks and clamps it
    if len(clips) == 1:
        return [_Part(medias[0], spans[0])]
    timing = join_parts(medias, spans, settings)
    fade = timing[0].duration - timing[1].start
    return [_Part(media, span, start=t.start, length=t.duration - (fade if i < len(timing) - 1 else 0.0))
            for i, (media, span, t) in enumerate(zip(medias, spans, timing))]


def end_card_decision(mode: str, comment: str, cues: Sequence[Cue],
                      options: MaskOptions | None = None) -> tuple[bool, list[str]]:
    """Whether the video ends with the help-resources card, and the warnings that say why.

    Args:
        mode: "always", "never", or "auto": when the comment or the captions are flagged for
            self-harm or a disclosure (a reported or "what if" flag counts too: help is never amiss).
        comment: the viewer comment as given.
        cues: the captions going into the video (what is said aloud).
        options: the config's [privacy] choices (`mask_options`), for masking before matching.
    """
    if mode == "always":
        return True, []
    from pipeline.comments import PERSONAL_RESPONSE, check_comment, describe_flags

    where = []
    for what, text in (("the comment", comment), ("the captions", " ".join(c.text for c in cues))):
        flags = ([f for f in check_comment(text, options=options) if f.category in PERSONAL_RESPONSE]
                 if text.strip() else [])
        if flags:
            where.append(f"{what} ({describe_flags(flags)})")
    if not where:
        return False, []
    flagged = " and ".join(where)
    if mode == "never":
        return False, [f"no help-resources end card (--end-card never), though flagged: {flagged}"]
    return True, [f"added the help-resources end card: flagged {flagged} "
                  "(--end-card never leaves it out; check the numbers in config [end_card])"]


def _cues(job: ReplyJob, parts: Sequence[_Part], settings: Settings, transcribe: Transcribe | None,
          warnings: list[str]) -> list[Cue]:
    """The captions of the job: transcribed (auto) or read from a file, cut to the span, checked.

    Several clips: each is transcribed on its own (cached per clip) and its captions are moved to
    where it starts in the joined video; a caption file is on the joined video's clock.
    """
    from pipeline.captions import layout_cues, read_captions, shift_cues

    canvas_w, safe = settings.canvas.width, settings.safe_zone
    joined = len(parts) > 1
    media, span = parts[0].media, parts[0].span
    if job.captions == "auto":
        assert transcribe is not None
        cues = []
        transcripts: dict[Path, Transcript] = {}  # a clip used twice is transcribed once
        prepare_transcripts(transcribe, [part.media for part in parts])
        for part in parts:
            media, span = part.media, part.span
            if not media.has_audio:
                warnings.append(f"{media.path.name} has no audio track: "
                                + ("its part has no captions" if joined else "rendered without captions"))
                continue
            if media.path not in transcripts:
                transcripts[media.path] = transcribe(media)
            transcript = transcripts[media.path]
            if span:
                transcript = transcript.between(*span)
            part_cues = layout_cues(transcript, settings.captions, canvas_w, safe)
            cues += shift_cues(part_cues, -part.start, 0.0, part.length) if joined else part_cues
        media, span = parts[0].media, parts[0].span
    else:
        # A caption file is on the clip's clock (for a span: the recording's); with several clips
        # on the joined video's (as --sidecar writes it).
        cues = read_captions(Path(job.captions), settings.captions, canvas_w, safe)
        if span and not joined:
            cues = shift_cues(cues, span[0], span[0], span[1])
    # Keep every cue inside the video (a cue stretched to its minimum length may pass the end).
    length = (min(span[1], media.duration) - span[0]) if span else media.duration
    if joined:
        length = parts[-1].start + parts[-1].length
    return keep_inside(cues, length, settings, job.mask_captions, warnings)


def keep_inside(cues: list[Cue], length: float, settings: Settings, mask_captions: bool | None,
                warnings: list[str]) -> list[Cue]:
    """Cues kept inside a video of `length` s (a cue stretched to its minimum length may pass the
    end), with personal data spoken aloud reported by kind and time, and masked when asked
    (`mask_captions`; None: the config's `privacy.mask_captions`)."""
    from pipeline.comments import describe_findings, find_personal_data_in_cues, mask_cues, mask_options

    options = mask_options(settings.privacy)
    cues = [replace(c, end=min(c.end, length)) for c in cues if c.start < length - 0.05]
    found = find_personal_data_in_cues(cues, options=options)
    if found:
        mask = settings.privacy.mask_captions if mask_captions is None else mask_captions
        if mask:
            cues, _ = mask_cues(cues, options=options)
        where = "; ".join(f"{f.cue_start:.1f}s: {describe_findings([f.finding])}" for f in found)
        warnings.append(f"personal data spoken in the captions ({'masked' if mask else 'not masked'}): {where}")
    return cues


def end_card_and_captions(
    mode: str | None, comment: str, cues: list[Cue], duration: float, card: CardImage, placement: CardPlacement,
    settings: Settings, work_dir: Path, warnings: list[str],
) -> tuple[list[Cue], CardImage | None, Path | None]:
    """Decide the help-resources end card (drawn into `work_dir`), end the captions before it, and
    write the burn-in ASS below the card. Returns the cues, the end card and the ASS file."""
    from pipeline.comments import mask_options

    ending, notes = end_card_decision(mode or settings.end_card.mode, comment, cues, mask_options(settings.privacy))
    warnings.extend(notes)
    end_card = None
    if ending:
        from pipeline.card import write_end_card

        end_card = write_end_card(settings, work_dir / "end_card.png")
        limit = captions_end(duration, settings, end_card=True)  # captions never run under it
        cues = [replace(c, end=min(c.end, limit)) for c in cues if c.start < limit - 0.05]
    captions_file = None
    if cues:
        from pipeline.captions import write_ass

        captions_file = work_dir / "captions.ass"
        card_bottom = placement.y + card.height - card.margin
        write_ass(cues, captions_file, settings.captions, (settings.canvas.width, settings.canvas.height),
                  settings.safe_zone, top_limit_px=card_bottom + CAPTION_GAP_PX,
                  speaker_colors=settings.duet.speaker_colors)
    return cues, end_card, captions_file


def write_sidecars(cues: list[Cue], output: Path) -> None:
    """OUTPUT.srt and OUTPUT.vtt beside the video (temp file + rename, like the video)."""
    from pipeline.captions import SIDECAR_SUFFIXES, write_subtitles

    for suffix in SIDECAR_SUFFIXES:
        write_subtitles(cues, output.with_suffix(suffix))
