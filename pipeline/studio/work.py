"""What the studio does with a job: card preview, transcription, edited captions, render.

In: a `JobStore`, a job id and the studio's `Settings`. Out: files in the job folder. Every step
calls the same functions as the CLI (`comment_card`, `transcribe_file`, `layout_cues`,
`write_json`, `make_reply`, `record_answer`); this module only chooses the job's paths and settings.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import Settings
from pipeline.errors import PipelineError
from pipeline.studio import joined
from pipeline.studio.cliplist import is_duet, timeline
from pipeline.studio.jobs import OUTPUT_NAME, JobData, JobStore, download_name
from pipeline.types import Comment, Cue, Transcript, Word

if TYPE_CHECKING:
    from pipeline.duet import DuetResult
    from pipeline.reply import ReplyResult

log = logging.getLogger(__name__)

MAX_CUES = 5000
MAX_CUE_TEXT = 500


def job_settings(settings: Settings, job: JobData) -> Settings:
    """The studio's settings with the look chosen for this job (reframe, caption size, end card)."""
    return settings.with_values(**job_overrides(settings, job))


def job_overrides(settings: Settings, job: JobData) -> dict[str, dict[str, Any]]:
    size = settings.captions.font_size
    if job.caption_size == "large":
        size = round(size * settings.studio.large_caption_scale)
    overrides: dict[str, dict[str, Any]] = {"reframe": {"mode": job.reframe}, "captions": {"font_size": size}}
    if job.end_card:  # "": the config's own [end_card] mode
        overrides["end_card"] = {"mode": job.end_card}
    if is_duet(job):
        overrides["duet"] = {"layout": job.duet_layout}
    return overrides


def write_render_config(store: JobStore, job: JobData, settings: Settings) -> Path:
    """`render.toml`: the job's look as a `--config` file, so the CLI can make the same video."""
    overrides = job_overrides(settings, job)
    lines = ["# The look chosen in sossut studio: sossut render ... --config render.toml --captions captions.json"]
    for section, values in overrides.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    path = store.file(job.id, "render.toml")
    from pipeline.files import atomic_write

    atomic_write(path, "\n".join(lines) + "\n", mode=0o600)
    return path


def card_preview(store: JobStore, job: JobData, settings: Settings) -> list[str]:
    """Draw the job's card to `card.png` with `comment_card` (as render does); its warnings."""
    from pipeline.reply import comment_card

    path = store.file(job.id, "card.png")
    text = job.comment if job.comment.strip() else " "
    _, warnings = comment_card(Comment(text, job.user), settings, path, show_user=job.show_user)
    return warnings


def transcribe(store: JobStore, job: JobData, settings: Settings, on_progress: Callable[[float], None],
               vocabulary_file: Path | None = None) -> list[Cue]:
    """Transcribe the job's clips (each cached by content, as the CLI), keep the transcript of a
    one-clip job, and lay the speech out as the first captions on the clock of the video the job
    makes (`joined.timeline_cues`: the clip's, the joined clips', or the duet's).

    Raises:
        InputError: no clip, or no audio.
        TranscribeError: the engine failed.
    """
    from pipeline.captions import write_json
    from pipeline.speech import options_from_settings, transcribe_file

    options = options_from_settings(settings.transcribe, vocabulary_file=vocabulary_file)

    def run(clip: Path, progress: Callable[[float], None]) -> Transcript:
        transcript = transcribe_file(clip, options, on_progress=progress)
        if len(job.clips) == 1:
            write_json(transcript, store.file(job.id, "transcript.json"))
        return transcript

    cues = joined.timeline_cues(store, job, job_settings(settings, job), run, on_progress)
    write_json(cues, store.file(job.id, "captions.json"))
    # Reloaded: the page may have saved edits meanwhile; the captions fit the clock they were made on.
    latest = store.load(job.id)  # with the offset a duet's sync found meanwhile
    store.save(replace(latest, captions_timeline=timeline(latest)))
    return cues


def read_cues(store: JobStore, job_id: str) -> list[dict[str, Any]] | None:
    """The job's caption cues as the page edits them, None before transcription."""
    path = store.file(job_id, "captions.json")
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    cues: list[dict[str, Any]] = data["cues"]
    return cues


def save_cues(store: JobStore, job_id: str, items: Any) -> int:
    """Check the cues the page sends and write them as `captions.json` (atomic).

    Raises:
        ValueError: not a list of cues with finite, ordered times and short text.
    """
    from pipeline.captions import write_json

    cues = parse_cues(items)
    write_json(cues, store.file(job_id, "captions.json"))
    store.save(store.load(job_id))
    return len(cues)


def parse_cues(items: Any) -> list[Cue]:
    """Cues from the page's JSON: `[{start, end, lines, words: [{word, start, end}]}]`.

    Raises:
        ValueError: anything else.
    """
    if not isinstance(items, list) or len(items) > MAX_CUES:
        raise ValueError("cues must be a list")
    cues = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("a cue must be an object")
        start, end = _time(item.get("start")), _time(item.get("end"))
        lines = item.get("lines")
        if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
            raise ValueError("lines must be strings")
        if sum(len(x) for x in lines) > MAX_CUE_TEXT or end <= start:
            raise ValueError("a cue is too long or ends before it starts")
        words = []
        for w in item.get("words") or []:
            if not isinstance(w, dict) or not isinstance(w.get("word"), str):
                raise ValueError("a word must be an object with a text")
            ws, we = _time(w.get("start")), _time(w.get("end"))
            words.append(Word(w["word"][:MAX_CUE_TEXT], min(max(ws, start), end), min(max(we, start), end),
                              float(w.get("probability", 1.0))))
        scale = item.get("font_scale", 1.0)
        scale = float(scale) if isinstance(scale, int | float) and 0.05 <= scale <= 1.0 else 1.0
        kept = tuple(x.strip() for x in lines if x.strip())
        speaker = item.get("speaker")  # a duet's cue keeps who says it (its colour) through edits
        if not (isinstance(speaker, int) and not isinstance(speaker, bool) and speaker in (0, 1)):
            speaker = None
        if kept:
            cues.append(Cue(start, end, kept, tuple(words), scale, speaker))
    cues.sort(key=lambda c: c.start)
    return cues


def _time(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError("a time must be a number of seconds")
    return float(value)


def render(store: JobStore, job: JobData, settings: Settings, on_progress: Callable[[float], None]) -> Path:
    """Make the job's video with `make_reply` or `make_duet` (+ .srt/.vtt beside it, which the
    report reads); the captions it burned are the job's `captions.json`, read as `sossut render
    --captions` reads it.

    Raises:
        PipelineError: any stage failed; the previous video, if any, is left as it was.
    """
    from pipeline.duet import DuetJob, make_duet
    from pipeline.reply import ReplyJob, make_reply
    from pipeline.studio.report import render_report

    parts = joined.parts(store, job)
    captions = store.file(job.id, "captions.json")
    caption_file = str(captions) if captions.is_file() else "none"
    output = store.file(job.id, OUTPUT_NAME)
    write_render_config(store, job, settings)
    styled = job_settings(settings, job)
    comment = Comment(job.comment, job.user)
    started = time.time()
    # Each stage start is a progress report of 0: a cancel asked during probe or loudness is
    # noticed before the encode starts.
    result: ReplyResult | DuetResult
    if is_duet(job):
        offset = joined.duet_offset(store, job, settings, on_progress)
        result = make_duet(DuetJob(parts[0].path, parts[1].path, comment, output, offset=offset,
                                   captions=caption_file, show_user=job.show_user, end_card=job.end_card or None,
                                   sidecar=True),
                           styled, on_progress=on_progress, on_stage=lambda _stage: on_progress(0.0))
    else:
        reply = ReplyJob.of_parts(parts, comment, output, captions=caption_file, show_user=job.show_user,
                                  sidecar=True, end_card=job.end_card or None)
        result = make_reply(reply, styled, on_progress=on_progress, on_stage=lambda _stage: on_progress(0.0))
    # What the page shows beside the video: the end card and the checks after render, in Finnish.
    report = render_report(result.output, styled, mode=job.end_card or styled.end_card.mode, comment=job.comment)
    # Rendered as of its start: an edit made while it ran leaves the job a draft.
    latest = store.load(job.id)
    worker, warning = record_answers(latest, settings)
    store.save(replace(latest, rendered=started, notes=list(result.warnings), report=report, ledger_worker=worker,
                       ledger_warning=warning), touched=False)
    return result.output


def record_answers(job: JobData, settings: Settings) -> tuple[str, str]:
    """Note in the answered ledger (`[ledger]` folder) that the job's video answers its comment
    and the inbox comments it was opened from (`job.answers`), as `sossut render` does.

    A ledger that cannot be written never fails the render: the reason is returned for the page.
    The same answer recorded again the same day (a second render) is not written twice.

    Returns:
        (the worker's name, "") when recorded (("", "") when there is no comment), or ("", why not).
    """
    from pipeline.comments import ledger_folder, normalize_comment, read_ledger, record_answer, worker_name

    texts: dict[str, str] = {}
    for text in (job.comment, *job.answers):
        key = normalize_comment(text)
        if key and key not in texts:
            texts[key] = text
    if not texts:
        return "", ""
    output = download_name(job.id)
    try:
        worker = worker_name(settings)
        book = read_ledger(ledger_folder(settings))
        today = dt.date.today().isoformat()
        for text in texts.values():
            if not any(e.output == output and e.worker == worker and e.date == today for e in book.answers(text)):
                record_answer(text, output, settings, worker=worker)
    except PipelineError as exc:
        log.warning("job %s: the answer was not recorded in the ledger: %s", job.id, exc.message)
        return "", " ".join(x for x in (exc.message, exc.hint) if x)
    except Exception as exc:  # the video is made: a ledger problem is only a warning
        log.exception("job %s: the answer was not recorded in the ledger", job.id)
        return "", exc.__class__.__name__
    log.info("job %s: %d answers recorded in the ledger", job.id, len(texts))
    return worker, ""


def preview_still(store: JobStore, job: JobData, settings: Settings, at: float) -> Path:
    """`preview.png`: the 9:16 frame at `at` seconds as the render would burn it (card and
    captions placed as `make_reply` places them, one plan, `render_still`).

    `at` is on the captions' clock. With several clips the frame is of the clip playing then
    (`joined.still_source`). A duet lined up is shown in its layout, as `make_duet` plans it:
    both recordings stacked, or the one of whoever speaks then (switch); before its offset is
    known, the first recording as it is.

    Raises:
        InputError: no clip.
        PipelineError: the clip, the card or ffmpeg failed.
    """
    import tempfile

    from pipeline.captions import read_captions, shift_cues, write_ass
    from pipeline.comments import find_personal_data_in_cues, mask_cues, mask_options
    from pipeline.reply import CAPTION_GAP_PX, comment_card
    from pipeline.types import MediaInfo, RenderPlan
    from pipeline.video import common_span, make_duet_plan, make_plan, place_card, probe, render_still

    styled = job_settings(settings, job)
    pair: tuple[MediaInfo, MediaInfo, float] | None = None  # a duet lined up: A, B, the offset
    if is_duet(job) and job.duet_offset is not None:
        path_a, path_b = joined.clip_paths(store, job)[:2]
        pair = (probe(path_a), probe(path_b), job.duet_offset)
        duration = common_span(pair[0].duration, pair[1].duration, pair[2]).duration
        shift, span = 0.0, None
    else:
        clip, at, shift, span = joined.still_source(store, job, styled, at)
        media = probe(clip)
        duration = media.duration
    canvas = (styled.canvas.width, styled.canvas.height)
    with tempfile.TemporaryDirectory(prefix="sossut-preview-") as work:
        work_dir = Path(work)
        text = job.comment if job.comment.strip() else " "
        card, _ = comment_card(Comment(text, job.user), styled, work_dir / "card.png", show_user=job.show_user)
        placement = place_card(card, styled, duration)
        captions = store.file(job.id, "captions.json")
        ass = None
        if captions.is_file():
            cues = read_captions(captions, styled.captions, styled.canvas.width, styled.safe_zone)
            if span is not None:  # the part of the video this clip plays in, on the clip's clock
                cues = shift_cues(cues, shift, *span)
            cues = [replace(c, end=min(c.end, duration)) for c in cues if c.start < duration - 0.05]
            options = mask_options(styled.privacy)
            if cues and styled.privacy.mask_captions and find_personal_data_in_cues(cues, options):
                cues, _ = mask_cues(cues, options=options)
            if cues:
                ass = work_dir / "captions.ass"
                write_ass(cues, ass, styled.captions, canvas, styled.safe_zone,
                          top_limit_px=placement.y + card.height - card.margin + CAPTION_GAP_PX,
                          speaker_colors=styled.duet.speaker_colors)  # a duet's cues keep their speaker
        plan: RenderPlan
        if pair is not None:
            shots = joined.duet_shots(store, job, styled) if styled.duet.layout == "switch" else []
            plan = make_duet_plan(pair[0], pair[1], pair[2], styled, store.output(job.id), card=card, captions=ass,
                                  shots=shots)
        else:
            plan = make_plan(media, styled, store.output(job.id), card=card, captions=ass)
        return render_still(plan, at, store.file(job.id, "preview.png"))
