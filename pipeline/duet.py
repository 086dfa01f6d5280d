"""Two recordings of one conversation -> one reply video: A above B over the time both cover.

`make_duet` wires the stages as `make_reply` does for one clip: probe -> sync (unless the offset
is given) -> card -> captions (from the recording whose sound is used) -> loudness -> plan ->
render. The sound is one recording's ([duet] sound, "a" by default): each phone also hears the
other person, so mixing both would echo.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import InputError
from pipeline.reply import (
    Stage,
    Transcribe,
    comment_card,
    end_card_and_captions,
    keep_inside,
    measure_loudness,
    transcriber_for,
)
from pipeline.types import Comment, Cue, MediaInfo
from pipeline.video import (
    SyncResult,
    check_output_path,
    check_writable,
    common_span,
    make_duet_plan,
    place_card,
    preflight_warnings,
    probe,
    render,
    sync_clips,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DuetJob:
    """Two recordings of one conversation (A shown on top) and what to make of them."""

    clip_a: Path
    clip_b: Path
    comment: Comment
    output: Path
    offset: float | None = None  # seconds after A that B started; None: found from their sound
    captions: str = "none"  # "auto" (transcribe the chosen sound), "none", or a file on the duet's clock
    show_user: bool | None = None
    keep_personal_data: bool = False
    mask_captions: bool | None = None
    end_card: str | None = None


@dataclass(frozen=True, slots=True)
class DuetResult:
    output: Path
    offset: float  # seconds after A that B started
    sync: SyncResult | None  # None: the offset was given
    cues: int = 0
    duration: float = 0.0
    warnings: tuple[str, ...] = field(default_factory=tuple)


def make_duet(
    job: DuetJob,
    settings: Settings,
    *,
    transcribe: Transcribe | None = None,
    on_stage: Stage | None = None,
    on_sync: Callable[[SyncResult], None] | None = None,
    on_progress: Callable[[float], None] | None = None,
    threads: int | None = None,
) -> DuetResult:
    """Make one duet reply video.

    Args:
        job: the two recordings, comment, output and options.
        settings: [sync] and [duet] with the usual style and encoder values.
        transcribe: for `captions="auto"`: the whole clip's Transcript; default `transcriber_for`.
        on_stage: told the name of each stage as it starts.
        on_sync: told the offset found from the sound (not called when the job gives one).
        on_progress: fraction of the encode done.
        threads: ffmpeg threads.

    Raises:
        PipelineError: any stage failed, or the sound gives no confident offset (give one by
            hand); nothing is left at the output path.
    """
    stage = on_stage or (lambda name: None)
    warnings: list[str] = []
    stage("probe")
    medias = []
    for name, path in (("A", job.clip_a), ("B", job.clip_b)):
        try:
            medias.append(probe(path))
        except InputError as exc:
            raise InputError(f"recording {name}: {exc.message}", hint=exc.hint) from None
    media_a, media_b = medias
    check_output_path(job.output, [job.clip_a, job.clip_b] + ([job.comment.avatar] if job.comment.avatar else []))
    check_writable(job.output)
    sync = None
    offset = job.offset
    if offset is None:
        stage("sync")
        sync = sync_clips(job.clip_a, job.clip_b, settings.sync)
        offset = sync.offset_s
        if on_sync is not None:
            on_sync(sync)
    span = common_span(media_a.duration, media_b.duration, offset)
    voice = media_a if settings.duet.sound == "a" else media_b
    voice_start = span.start_a if voice is media_a else span.start_b

    with tempfile.TemporaryDirectory(prefix="sossut-duet-") as work:
        work_dir = Path(work)
        stage("card")
        card, notes = comment_card(job.comment, settings, work_dir / "card.png", show_user=job.show_user,
                                   keep_personal_data=job.keep_personal_data)
        warnings.extend(notes)
        placement = place_card(card, settings, span.duration)
        cues: list[Cue] = []
        if job.captions != "none":
            stage("transcribe" if job.captions == "auto" else "captions")
            cues = _cues(job, voice, (voice_start, voice_start + span.duration), settings,
                         transcribe or transcriber_for(settings), warnings)
        cues, end_card, captions_file = end_card_and_captions(
            job.end_card, job.comment.text, cues, span.duration, card, placement, settings, work_dir, warnings)
        stage("loudness")
        loudness = (measure_loudness(voice, (voice_start, voice_start + span.duration))
                    if settings.audio.normalize else None)
        plan = make_duet_plan(media_a, media_b, offset, settings, job.output, card=card, captions=captions_file,
                              loudness_lufs=loudness, threads=threads, end_card=end_card)
        stage("render")
        render(plan, on_progress=on_progress)
        warnings.extend(preflight_warnings(job.output, settings, cues))
    return DuetResult(output=job.output, offset=offset, sync=sync, cues=len(cues),
                      duration=round(plan.output_duration, 3), warnings=tuple(warnings))


def _cues(job: DuetJob, voice: MediaInfo, span: tuple[float, float], settings: Settings, transcribe: Transcribe,
          warnings: list[str]) -> list[Cue]:
    """Captions of the chosen sound over the common span, on the duet's clock; personal data masked."""
    from pipeline.captions import layout_cues, read_captions

    canvas_w, safe = settings.canvas.width, settings.safe_zone
    if job.captions == "auto":
        if not voice.has_audio:
            warnings.append(f"{voice.path.name} has no audio track: rendered without captions")
            return []
        cues = layout_cues(transcribe(voice).between(*span), settings.captions, canvas_w, safe)
    else:  # a caption file is on the duet video's clock (0 = where both recordings run)
        cues = read_captions(Path(job.captions), settings.captions, canvas_w, safe)
    return keep_inside(cues, span[1] - span[0], settings, job.mask_captions, warnings)
