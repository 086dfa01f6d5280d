"""Long work of the studio (transcribe, render) in threads, off the event loop, with progress.

In: a job id, a kind and a function taking a progress callback. Out: a `Task` per job whose
state the server streams to the page as server-sent events. One heavy task runs at a time
(Whisper and ffmpeg each use every core of a small laptop); the others wait their turn.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pipeline.errors import PipelineError

log = logging.getLogger(__name__)

TaskKind = Literal["transcribe", "render", "sync"]
TaskState = Literal["waiting", "running", "done", "error", "cancelled"]


class Cancelled(BaseException):
    """Raised in a task's thread at its next progress report once it is cancelled.

    A BaseException (as KeyboardInterrupt), so no `except Exception` of a stage turns it into
    an error; every stage's cleanup (`atomic_path`, `run_ffmpeg`, temp folders) still runs.
    """


@dataclass
class Task:
    """One transcription or render of one job, as the page sees it."""

    job_id: str
    kind: TaskKind
    state: TaskState = "waiting"
    progress: float = 0.0
    error: dict[str, str] = field(default_factory=dict)  # {"kind", "message", "hint"}
    started: float = field(default_factory=time.monotonic)
    version: int = 0  # bumped on every change, so the event stream sends only news
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)

    def as_event(self) -> dict[str, Any]:
        return {"kind": self.kind, "state": self.state, "progress": round(self.progress, 3), "error": self.error}


class Tasks:
    """The tasks of one studio: at most one per job, one running at a time."""

    def __init__(self) -> None:
        self._tasks: dict[str, Task] = {}
        self._lock = threading.Lock()
        self._heavy = threading.Semaphore(1)
        self.changed = threading.Condition(self._lock)

    def get(self, job_id: str) -> Task | None:
        with self._lock:
            return self._tasks.get(job_id)

    def busy(self, job_id: str) -> bool:
        task = self.get(job_id)
        return task is not None and task.state in ("waiting", "running")

    def start(self, job_id: str, kind: TaskKind, work: Callable[[Callable[[float], None]], object]) -> Task | None:
        """Run `work(on_progress)` in a thread; None if this job already has a task going."""
        with self._lock:
            current = self._tasks.get(job_id)
            if current is not None and current.state in ("waiting", "running"):
                return None
            task = Task(job_id, kind)
            self._tasks[job_id] = task
        thread = threading.Thread(target=self._run, args=(task, work), name=f"studio-{kind}", daemon=True)
        thread.start()
        return task

    def cancel(self, job_id: str) -> Task | None:
        """Ask the job's running or waiting task to stop; it ends at its next progress report."""
        task = self.get(job_id)
        if task is None or task.state not in ("waiting", "running"):
            return None
        task.cancel_requested.set()
        log.info("%s of job %s: cancel asked", task.kind, job_id)
        return task

    def cancel_all(self, timeout: float = 15.0) -> bool:
        """Cancel every task and wait (up to `timeout` s) until each has cleaned up and ended.

        Returns:
            True when every task ended in time.
        """
        with self._lock:
            tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel_requested.set()
        deadline = time.monotonic() + timeout
        return all(task.ended.wait(max(0.0, deadline - time.monotonic())) for task in tasks)

    def _update(self, task: Task, **values: Any) -> None:
        with self._lock:
            for key, value in values.items():
                setattr(task, key, value)
            task.version += 1
            self.changed.notify_all()

    def _run(self, task: Task, work: Callable[[Callable[[float], None]], object]) -> None:
        try:
            self._run_work(task, work)
        finally:
            task.ended.set()

    def _run_work(self, task: Task, work: Callable[[Callable[[float], None]], object]) -> None:
        def on_progress(fraction: float) -> None:
            if task.cancel_requested.is_set():
                raise Cancelled
            fraction = min(max(fraction, 0.0), 1.0)
            if fraction - task.progress >= 0.01 or fraction >= 1.0:
                self._update(task, progress=fraction)

        with self._heavy:
            if task.cancel_requested.is_set():
                self._update(task, state="cancelled")
                return
            self._update(task, state="running")
            try:
                work(on_progress)
            except Cancelled:
                log.info("%s of job %s cancelled", task.kind, task.job_id)
                self._update(task, state="cancelled")
                return
            except PipelineError as exc:
                log.info("%s of job %s failed: %s", task.kind, task.job_id, exc.__class__.__name__)
                self._update(task, state="error", error={"kind": exc.__class__.__name__, "message": exc.message,
                                                         "hint": exc.hint})
                return
            except Exception as exc:  # the server keeps running; the page shows one message
                log.exception("%s of job %s failed", task.kind, task.job_id)
                self._update(task, state="error", error={"kind": "unexpected", "message": str(exc.__class__.__name__),
                                                         "hint": ""})
                return
        self._update(task, state="done", progress=1.0)

    def wait_change(self, job_id: str, version: int, timeout: float) -> Task | None:
        """The job's task once its version differs from `version` (or after `timeout`)."""
        with self._lock:
            self.changed.wait_for(lambda: self._version(job_id) != version, timeout=timeout)
            return self._tasks.get(job_id)

    def _version(self, job_id: str) -> int:
        task = self._tasks.get(job_id)
        return -1 if task is None else task.version
