"""The worker side of a batch: a task (make one manifest row, or transcribe one recording that
several rows cut) -> its result, run in a worker process (`pipeline.batch.pool` hosts them).

Workers keep one loaded speech model for all their rows. A task never raises: every failure
becomes a `RowResult` with status "failed" (or a `TranscribeOutcome` without a transcript) and
a one-line reason, so one bad clip cannot stop the rest. Stage and encode-progress events go
back to the batch process as `WorkerEvent`s through a queue (local) or a Dask event topic.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeGuard, get_args

from pipeline.batch.manifest import ManifestRow, path_key
from pipeline.config import Settings
from pipeline.errors import PipelineError
from pipeline.types import Comment, Transcript

log = logging.getLogger(__name__)

RowStatus = Literal["done", "failed", "skipped", "invalid"]
ROW_STATUSES: tuple[RowStatus, ...] = get_args(RowStatus)
# The stages `make_reply` and `make_duet` announce, in order ("captions": read from a file;
# "sync": a duet's two recordings lined up by their sound).
StageName = Literal["probe", "sync", "card", "transcribe", "captions", "loudness", "render"]
STAGES: tuple[StageName, ...] = get_args(StageName)
WorkerEventKind = Literal["stage", "progress"]


def is_stage(name: str) -> TypeGuard[StageName]:
    return name in STAGES


@dataclass(frozen=True, slots=True)
class RowResult:
    """What became of one manifest row."""

    row: int
    status: RowStatus
    clip: str
    output: str  # relative to the out dir
    seconds: float = 0.0  # wall time of the row
    error: str = ""
    hint: str = ""
    warnings: tuple[str, ...] = ()
    traceback: str = ""  # unexpected errors only; shown with --debug
    video_seconds: float | None = None  # length of the video made
    offset: float | None = None  # a duet row: seconds after A that B started (given or found)
    confidence: float | None = None  # ...and how sure the sound made it; None: the row gave the offset


@dataclass(frozen=True, slots=True)
class TranscribeOutcome:
    """The transcript of one recording shared by several rows, or why there is none."""

    clip: Path
    transcript: Transcript | None
    error: str = ""
    hint: str = ""
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class TranscribeTask:
    """Transcribe one recording once, for all the rows that cut it."""

    clip: Path


@dataclass(frozen=True, slots=True)
class RowTask:
    """Make one row's video; `shared` is the transcript of its recording when rows share one."""

    row: ManifestRow
    shared: TranscribeOutcome | None = None


Task = TranscribeTask | RowTask
TaskResult = TranscribeOutcome | RowResult


@dataclass(frozen=True, slots=True)
class WorkerEvent:
    """A task began a stage, or its encode went on. Row 0 is a transcription (`label`: the clip)."""

    kind: WorkerEventKind
    row: int
    label: str
    stage: StageName
    fraction: float = 0.0

    def to_message(self) -> list[Any]:
        """Plain values, as a Dask event topic carries them (msgpack)."""
        return list(astuple(self))

    @classmethod
    def from_message(cls, message: Any) -> WorkerEvent:
        kind, row, label, stage, fraction = message
        return cls(kind, int(row), str(label), stage, float(fraction))


@dataclass(frozen=True, slots=True)
class WorkerSetup:
    """Everything a worker needs; pickled once per worker (local) or per task (Dask)."""

    settings: Settings
    transcribe_options: Any  # pipeline.speech.transcribe.TranscribeOptions
    threads: int | None  # ffmpeg threads per job; None: config's encoder.threads
    transcriber_factory: Callable[[Any], Any]  # TranscribeOptions -> Transcriber (get_transcriber)
    cache_transcripts: bool = True
    sidecar: bool = False
    debug: bool = False
    topic: str = ""  # Dask event topic; "" for the local pool
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


class _Worker:
    """Per-process state: the setup, the loaded model, where events go."""

    def __init__(self, setup: WorkerSetup, events: Any = None) -> None:
        self.setup = setup
        self.events = events
        self._transcriber: Any = None
        self._lock = threading.Lock()

    def transcriber(self) -> Any:
        with self._lock:  # Dask may run several tasks in one process at once
            if self._transcriber is None:
                self._transcriber = self.setup.transcriber_factory(self.setup.transcribe_options)
            return self._transcriber

    def emit(self, event: WorkerEvent) -> None:
        try:
            if self.events is not None:
                self.events.put_nowait(event)
            elif self.setup.topic:
                import distributed

                distributed.get_worker().log_event(self.setup.topic, event.to_message())
        except Exception:  # progress is best effort; never fail a row over it
            pass

    def transcribe(self, clip: Path) -> Transcript:
        from pipeline.speech import transcribe_file

        return transcribe_file(clip, self.setup.transcribe_options, transcriber=self.transcriber(),
                               cache=self.setup.cache_transcripts)


_WORKER: _Worker | None = None


def _worker(setup: WorkerSetup | None) -> _Worker:
    global _WORKER
    if setup is not None and (_WORKER is None or _WORKER.setup.token != setup.token):
        _WORKER = _Worker(setup)
    assert _WORKER is not None, "worker not initialised"
    return _WORKER


def init_local_worker(setup: WorkerSetup, events: Any, parent_pid: int) -> None:
    """ProcessPoolExecutor initializer: keep the setup, lead a process group, die with the parent.

    The worker leads its own process group so the batch can end it together with its ffmpeg
    (`os.killpg`), and a watchdog ends that group when the batch process dies (even by
    SIGKILL), so no orphan goes on writing into the out dir.
    """
    global _WORKER
    _WORKER = _Worker(setup, events)
    logging.basicConfig(level=logging.DEBUG if setup.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if hasattr(os, "setpgrp"):
        os.setpgrp()
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    # Import the stages now, while the pool starts, not in the first row's time.
    import pipeline.reply  # noqa: F401


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(0.25)
        if os.getppid() != parent_pid:
            os.killpg(0, signal.SIGKILL)


def run_task(task: Task, setup: WorkerSetup | None = None) -> TaskResult:
    """Run one task in a worker (never raises but for KeyboardInterrupt).

    Args:
        task: what to do.
        setup: given on Dask (no initializer there); None in a local pool worker.
    """
    if isinstance(task, TranscribeTask):
        return transcribe_clip(task.clip, setup)
    return run_row(task.row, task.shared, setup)


def transcribe_clip(clip: Path, setup: WorkerSetup | None = None) -> TranscribeOutcome:
    """Transcribe a recording once for all rows that cut it (never raises)."""
    worker = _worker(setup)
    started = time.monotonic()
    worker.emit(WorkerEvent("stage", 0, clip.name, "transcribe"))
    try:
        transcript = worker.transcribe(clip)
    except PipelineError as exc:
        return TranscribeOutcome(clip, None, exc.message, exc.hint, time.monotonic() - started)
    except Exception as exc:  # a bug must not stop the batch; the rows report it
        log.debug("transcribing %s failed", clip, exc_info=True)
        return TranscribeOutcome(clip, None, f"unexpected error: {type(exc).__name__}: {exc}", "",
                                 time.monotonic() - started)
    return TranscribeOutcome(clip, transcript, seconds=time.monotonic() - started)


def run_row(row: ManifestRow, shared: TranscribeOutcome | None = None,
            setup: WorkerSetup | None = None) -> RowResult:
    """Make one row's video (never raises but for KeyboardInterrupt).

    Args:
        row: a checked manifest row.
        shared: the transcript of the row's recording when several rows share it.
        setup: given on Dask (no initializer there); None in a local pool worker.
    """
    worker = _worker(setup)
    started = time.monotonic()
    label = row.clip.name
    last = [-1]

    def on_stage(name: str) -> None:
        if is_stage(name):
            worker.emit(WorkerEvent("stage", row.row, label, name))
        else:  # a stage make_reply gained: the display keeps showing the one before
            log.debug("unknown stage %r", name)

    def on_progress(fraction: float) -> None:
        step = int(fraction * 50)  # 2 % steps keep the queue quiet
        if step != last[0]:
            last[0] = step
            worker.emit(WorkerEvent("progress", row.row, label, "render", fraction))

    def result(status: RowStatus, **details: Any) -> RowResult:
        return RowResult(row.row, status, row.clip_text, row.output_name, time.monotonic() - started, **details)

    try:
        if shared is not None and shared.transcript is None:
            raise PipelineError(f"transcribing {shared.clip.name} failed: {shared.error}", shared.hint)
        if row.duet:
            return result("done", **_make_duet(row, shared, worker, on_stage, on_progress))
        warnings, video_seconds = _make(row, shared, worker, on_stage, on_progress)
    except PipelineError as exc:
        return result("failed", error=exc.message, hint=exc.hint)
    except Exception as exc:
        return result("failed", error=f"unexpected error: {type(exc).__name__}: {exc}",
                      traceback=traceback.format_exc())
    return result("done", warnings=warnings, video_seconds=video_seconds)


def _transcribe_with(shared: TranscribeOutcome | None, worker: _Worker) -> Callable[[Any], Transcript]:
    """The row's `transcribe`: the shared recording's transcript, other clips by the worker's model."""

    def transcribe(media: Any) -> Transcript:  # MediaInfo
        if shared is not None and shared.transcript is not None and path_key(media.path) == path_key(shared.clip):
            return shared.transcript
        return worker.transcribe(media.path)

    return transcribe


def _make(row: ManifestRow, shared: TranscribeOutcome | None, worker: _Worker,
          on_stage: Callable[[str], None], on_progress: Callable[[float], None]) -> tuple[tuple[str, ...], float]:
    from pipeline.reply import ClipPart, ReplyJob, make_reply
    from pipeline.video import probe

    span = None
    if row.has_span:
        start = row.start or 0.0
        end = row.end
        if end is None:  # "to the end of the clip"
            on_stage("probe")
            end = probe(row.clip).duration
            if start >= end:
                raise PipelineError(f"{row.clip.name}: start {start:.2f} s is at or after the clip's end ({end:.2f} s)")
        span = (start, end)

    comment = Comment(row.comment, row.user, row.avatar)
    options: dict[str, Any] = dict(captions=row.captions, show_user=row.show_user, sidecar=worker.setup.sidecar,
                                   end_card=row.end_card)
    if row.more_clips:  # each clip with its own cut
        parts = [ClipPart(path, start or 0.0, end) for path, (start, end) in zip(row.clips, row.spans)]
        job = ReplyJob.of_parts(parts, comment, row.output, **options)
    else:
        job = ReplyJob(clip=row.clip, comment=comment, output=row.output, span=span, **options)
    result = make_reply(job, worker.setup.settings, transcribe=_transcribe_with(shared, worker), on_stage=on_stage,
                        on_progress=on_progress, threads=worker.setup.threads)
    return result.warnings, result.duration


# A failed sync says what to do in a manifest, not on the command line.
OFFSET_HINT = ("write the offset in the row's offset column: how many seconds after the first clip (A) the "
               "second (B) started, negative if it started earlier; e.g. a clap at 2.0 s in A and at 0.5 s "
               "in B is 1.5")


def _make_duet(row: ManifestRow, shared: TranscribeOutcome | None, worker: _Worker,
               on_stage: Callable[[str], None], on_progress: Callable[[float], None]) -> dict[str, Any]:
    """Make a duet row's video; returns the RowResult fields it fills (warnings, length, offset)."""
    from pipeline.duet import DuetJob, make_duet

    settings = worker.setup.settings
    if row.layout is not None and row.layout != settings.duet.layout:
        settings = settings.with_values(duet={"layout": row.layout})
    stage = [""]

    def on_duet_stage(name: str) -> None:
        stage[0] = name
        on_stage(name)

    job = DuetJob(row.clip, row.more_clips[0], Comment(row.comment, row.user, row.avatar), row.output,
                  offset=row.offset, captions=row.captions, show_user=row.show_user, end_card=row.end_card,
                  sidecar=worker.setup.sidecar)
    try:
        result = make_duet(job, settings, transcribe=_transcribe_with(shared, worker), on_stage=on_duet_stage,
                           on_progress=on_progress, threads=worker.setup.threads)
    except PipelineError as exc:
        if stage[0] == "sync":
            raise PipelineError(exc.message, OFFSET_HINT) from None
        raise
    return dict(warnings=result.warnings, video_seconds=result.duration, offset=round(result.offset, 3),
                confidence=None if result.sync is None else round(result.sync.confidence, 1))
