"""The worker side of a batch: run one manifest row (or transcribe one recording) in a worker
process, and the two pools that host those workers (local processes, or a Dask cluster).

Workers keep one loaded speech model for all their rows. A row never raises: every failure
becomes a `RowResult` with status "failed" and a one-line reason, so one bad clip cannot stop
the rest. Stage and encode-progress events go back to the batch process through a queue
(local) or a Dask event topic.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.batch.manifest import ManifestRow
from pipeline.config import Settings
from pipeline.errors import PipelineError
from pipeline.types import Comment, Transcript

log = logging.getLogger(__name__)

DASK_CONNECT_TIMEOUT = "20s"
# (kind, row, label, stage, fraction): kind is "stage" or "progress"; row 0 is a transcription.
RawEvent = tuple[str, int, str, str, float]


@dataclass(frozen=True, slots=True)
class RowResult:
    """What became of one manifest row."""

    row: int
    status: str  # done | failed | skipped | invalid
    clip: str
    output: str  # relative to the out dir
    seconds: float = 0.0  # wall time of the row
    error: str = ""
    hint: str = ""
    warnings: tuple[str, ...] = ()
    traceback: str = ""  # unexpected errors only; shown with --debug
    video_seconds: float | None = None  # length of the video made


@dataclass(frozen=True, slots=True)
class TranscribeOutcome:
    """The transcript of one recording shared by several rows, or why there is none."""

    clip: Path
    transcript: Transcript | None
    error: str = ""
    hint: str = ""
    seconds: float = 0.0


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

    def emit(self, event: RawEvent) -> None:
        try:
            if self.events is not None:
                self.events.put_nowait(event)
            elif self.setup.topic:
                import distributed

                distributed.get_worker().log_event(self.setup.topic, list(event))
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


def transcribe_clip(clip: Path, setup: WorkerSetup | None = None) -> TranscribeOutcome:
    """Transcribe a recording once for all rows that cut it (a task; never raises)."""
    worker = _worker(setup)
    started = time.monotonic()
    worker.emit(("stage", 0, clip.name, "transcribe", 0.0))
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
    """Make one row's video (a task; never raises but for KeyboardInterrupt).

    Args:
        row: a checked manifest row.
        shared: the transcript of the row's recording when several rows share it.
        setup: given on Dask (no initializer there); None in a local pool worker.
    """
    worker = _worker(setup)
    started = time.monotonic()
    label = row.clip.name
    base = dict(row=row.row, clip=str(row.clip), output=row.output_name)
    last = [-1]

    def on_stage(name: str) -> None:
        worker.emit(("stage", row.row, label, name, 0.0))

    def on_progress(fraction: float) -> None:
        step = int(fraction * 50)  # 2 % steps keep the queue quiet
        if step != last[0]:
            last[0] = step
            worker.emit(("progress", row.row, label, "render", fraction))

    try:
        if shared is not None and shared.transcript is None:
            raise PipelineError(f"transcribing {shared.clip.name} failed: {shared.error}", shared.hint)
        result = _make(row, shared, worker, on_stage, on_progress)
    except PipelineError as exc:
        return RowResult(status="failed", seconds=time.monotonic() - started, error=exc.message, hint=exc.hint,
                         **base)  # type: ignore[arg-type]
    except Exception as exc:
        return RowResult(status="failed", seconds=time.monotonic() - started,
                         error=f"unexpected error: {type(exc).__name__}: {exc}", traceback=traceback.format_exc(),
                         **base)  # type: ignore[arg-type]
    warnings, video_seconds = result
    return RowResult(status="done", seconds=time.monotonic() - started, warnings=warnings,
                     video_seconds=video_seconds, **base)  # type: ignore[arg-type]


def _make(row: ManifestRow, shared: TranscribeOutcome | None, worker: _Worker,
          on_stage: Callable[[str], None], on_progress: Callable[[float], None]) -> tuple[tuple[str, ...], float]:
    from pipeline.reply import ReplyJob, make_reply
    from pipeline.types import MediaInfo
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

    def transcribe(media: MediaInfo) -> Transcript:
        if shared is not None and shared.transcript is not None:
            return shared.transcript
        return worker.transcribe(media.path)

    job = ReplyJob(clip=row.clip, comment=Comment(row.comment, row.user, row.avatar), output=row.output,
                   captions=row.captions, span=span, show_user=row.show_user, sidecar=worker.setup.sidecar)
    result = make_reply(job, worker.setup.settings, transcribe=transcribe, on_stage=on_stage,
                        on_progress=on_progress, threads=worker.setup.threads)
    duration = result.media.duration
    if span is not None:
        duration = min(span[1], duration) - span[0]
    return result.warnings, round(duration, 3)


# --- pools ----------------------------------------------------------------------------------


class LocalPool:
    """`jobs` worker processes (spawned: a model is never forked) on this machine."""

    def __init__(self, jobs: int, setup: WorkerSetup, max_tasks_per_child: int = 0) -> None:
        self.window = jobs
        self._jobs = jobs
        self._setup = setup
        self._max_tasks = max_tasks_per_child
        self._ctx = multiprocessing.get_context("spawn")
        # A plain queue handed to each worker at start: unlike a Manager queue it needs no extra
        # server process, which would outlive a batch killed with SIGKILL.
        self._events = self._ctx.Queue()
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        extra: dict[str, Any] = {"max_tasks_per_child": self._max_tasks} if self._max_tasks > 0 else {}
        return ProcessPoolExecutor(self._jobs, mp_context=self._ctx, initializer=init_local_worker,
                                   initargs=(self._setup, self._events, os.getpid()), **extra)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        return self._executor.submit(fn, *args)

    def lost(self, exc: BaseException) -> bool:
        """A worker died (out of memory, killed): start a fresh pool for the remaining rows."""
        if not isinstance(exc, BrokenProcessPool):
            return False
        if not getattr(self._executor, "_broken", True):
            return False  # a future of a pool already replaced
        log.warning("a batch worker process died; starting a new one")
        old = self._executor
        self._executor = self._new_executor()
        old.shutdown(wait=False, cancel_futures=True)
        return True

    def events(self) -> list[RawEvent]:
        got = []
        while True:
            try:
                got.append(self._events.get_nowait())
            except (queue.Empty, OSError, ValueError):
                return got

    def close(self, *, kill: bool = False) -> None:
        if kill:
            processes = list(getattr(self._executor, "_processes", {}).values())
            for proc in processes:
                _kill_group(proc.pid)
            for proc in processes:
                proc.join(timeout=5)
        self._executor.shutdown(wait=not kill, cancel_futures=True)
        self._events.close()
        self._events.join_thread()


def _kill_group(pid: int | None) -> None:
    """End a worker and its ffmpeg: they share the worker's process group."""
    if pid is None:
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        try:  # not yet its own group leader
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class DaskPool:
    """One task per row on a Dask distributed cluster (or a LocalCluster started here).

    Workers must see the clips and the out dir at the same paths (a shared filesystem) and
    have sossut installed. Results come back to this process, which writes state and report.
    """

    def __init__(self, scheduler: str | None, setup: WorkerSetup, jobs: int) -> None:
        try:
            distributed: Any = importlib.import_module("distributed")
        except ImportError:
            raise PipelineError("--executor dask needs Dask distributed",
                                hint='install the extra: pip install "sossut[dask]"') from None
        self._cluster: Any = None
        self._client: Any = None
        try:
            if scheduler:
                self._client = distributed.Client(scheduler, timeout=DASK_CONNECT_TIMEOUT)
            else:
                self._cluster = distributed.LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                                         dashboard_address=None, silence_logs=logging.ERROR)
                self._client = distributed.Client(self._cluster)
        except (OSError, TimeoutError) as exc:
            raise PipelineError(f"cannot reach the Dask scheduler {scheduler}: {exc}",
                                hint="check the address (tcp://host:8786) and that the scheduler runs") from None
        self._setup = setup
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._client.subscribe_topic(setup.topic, self._on_event)
        workers = self._client.scheduler_info().get("workers", {})
        self.window = max(1, sum(w.get("nthreads", 1) for w in workers.values())) * 2
        self._futures: list[Any] = []

    def _on_event(self, event: Any) -> None:
        _, message = event
        self._queue.put(tuple(message))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        future = self._client.submit(fn, *args, self._setup, pure=False)
        self._futures.append(future)
        return future

    def lost(self, exc: BaseException) -> bool:
        return False

    def events(self) -> list[RawEvent]:
        got = []
        while True:
            try:
                got.append(self._queue.get_nowait())
            except queue.Empty:
                return got

    def close(self, *, kill: bool = False) -> None:
        if kill:
            self._client.cancel(self._futures)
        try:
            self._client.unsubscribe_topic(self._setup.topic)
        except Exception:
            pass
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
