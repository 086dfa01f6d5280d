"""Hand a batch's tasks to a `Pool` and give back each row's result as it comes, with the
events the caller is told (`BatchEvent`).

- A recording cut by several captions=auto rows is transcribed first, in one task; its rows
  are handed out with the transcript when it arrives.
- At most `pool.window` tasks are in flight.
- When a worker process dies, every task in flight on its pool fails at once, the one that
  killed it and the ones that happened to run beside it alike. Each such task runs again
  alone; one that loses its worker while running alone fails, with its reason. So a row that
  crashes its worker fails alone and the rows beside it are made.
"""

from __future__ import annotations

import functools
import itertools
import logging
import queue
from collections import deque
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pipeline.batch.manifest import ManifestRow, path_key
from pipeline.batch.pool import Pool, TaskFuture
from pipeline.batch.worker import (
    RowResult,
    RowTask,
    StageName,
    Task,
    TaskResult,
    TranscribeOutcome,
    TranscribeTask,
)

log = logging.getLogger(__name__)

EventKind = Literal["plan", "stage", "progress", "transcribed", "finished"]
LOST_HINT = "the machine may be out of memory: try fewer --jobs, then run again with --resume"


@dataclass(frozen=True, slots=True)
class BatchEvent:
    """What the batch tells its caller while it runs.

    kind: "plan" (rows decided: `to_run`, `skipped`), "stage" (a task began a stage),
    "progress" (encode fraction of a row), "transcribed" (a shared recording, `label`; its
    transcription took `fraction` seconds), "finished" (a row's `result`).
    Row 0 is the transcription of a shared recording (`label` is its name).
    """

    kind: EventKind
    row: int = 0
    label: str = ""
    stage: StageName | None = None
    fraction: float = 0.0
    result: RowResult | None = None
    to_run: int = 0
    skipped: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class _Running:
    task: Task
    future: TaskFuture
    alone: bool  # nothing else runs on the pool while it does


def schedule(rows: Sequence[ManifestRow], pool: Pool, emit: Callable[[BatchEvent], None]
             ) -> Generator[RowResult, None, None]:
    """Run every row on `pool`; yield each row's result when it is ready (in no fixed order)."""
    waiting = _shared_recordings(rows)
    held = {r.row for group in waiting.values() for r in group}
    ready: deque[Task] = deque(waiting)
    ready.extend(RowTask(r) for r in rows if r.row not in held)
    again: deque[Task] = deque()  # lost beside others: each runs again alone
    running: dict[int, _Running] = {}
    done: queue.SimpleQueue[int] = queue.SimpleQueue()
    ids = itertools.count(1)

    def start(task: Task, alone: bool) -> None:
        task_id = next(ids)
        future = pool.submit(task)
        running[task_id] = _Running(task, future, alone)
        future.add_done_callback(functools.partial(_put, done, task_id))

    def start_more() -> None:
        if again:
            if not running:
                start(again.popleft(), alone=True)
            return
        if any(r.alone for r in running.values()):
            return
        while ready and len(running) < pool.window:
            start(ready.popleft(), alone=pool.window == 1)

    while ready or again or running:
        start_more()
        _forward(pool, emit)
        try:
            task_id = done.get(timeout=0.1)
        except queue.Empty:
            continue
        run = running.pop(task_id)
        _forward(pool, emit)
        value = _outcome(run, pool)
        if value is None:
            log.info("a task was running when a worker died; running it again on its own")
            again.append(run.task)
        elif isinstance(run.task, TranscribeTask):
            assert isinstance(value, TranscribeOutcome)
            emit(BatchEvent("transcribed", label=run.task.clip.name, fraction=value.seconds))
            ready.extendleft(RowTask(r, value) for r in reversed(waiting.pop(run.task)))
        else:
            assert isinstance(value, RowResult)
            yield value


def _shared_recordings(rows: Sequence[ManifestRow]) -> dict[TranscribeTask, list[ManifestRow]]:
    """The captions=auto rows that cut one recording, by the task that transcribes it."""
    by_clip: dict[str, list[ManifestRow]] = {}
    for row in rows:
        if row.captions == "auto":
            by_clip.setdefault(path_key(row.clip), []).append(row)
    return {TranscribeTask(group[0].clip): group for group in by_clip.values() if len(group) > 1}


def _forward(pool: Pool, emit: Callable[[BatchEvent], None]) -> None:
    for event in pool.events():
        emit(BatchEvent(event.kind, row=event.row, label=event.label, stage=event.stage, fraction=event.fraction))


def _put(done: queue.SimpleQueue[int], task_id: int, future: Any) -> None:
    done.put(task_id)


def _outcome(run: _Running, pool: Pool) -> TaskResult | None:
    """The task's result; None when it should run again alone (its worker died beside others)."""
    try:
        value: TaskResult = run.future.result()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # the worker died, or Dask lost the task
        if pool.worker_lost(exc) and not run.alone:
            return None
        return _lost(run.task, exc)
    return value


def _lost(task: Task, exc: BaseException) -> TaskResult:
    reason = f"the worker stopped unexpectedly ({type(exc).__name__}: {exc})".replace(" ()", "")
    if isinstance(task, TranscribeTask):
        return TranscribeOutcome(task.clip, None, reason, LOST_HINT)
    row = task.row
    return RowResult(row.row, "failed", row.clip_text, row.output_name, error=reason, hint=LOST_HINT)
