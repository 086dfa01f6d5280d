"""Where a batch's tasks run: a `Pool` of worker processes on this machine (`LocalPool`) or a
Dask cluster (`DaskPool`). Both take a `Task` (`pipeline.batch.worker`) and give a future of its
result, and hand back the workers' stage and progress events as `WorkerEvent`s.

A local worker that dies (the out-of-memory killer, a crash in native code, SIGKILL) breaks
its process pool: every task in flight on it fails with `BrokenProcessPool`. `LocalPool` then
starts fresh workers and says so (`worker_lost`); which of those tasks to run again is the
scheduler's choice (`pipeline.batch.schedule`). Dask moves the tasks of a lost worker itself.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import queue
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Literal, Protocol

from pipeline.batch.worker import Task, WorkerEvent, WorkerSetup, init_local_worker, run_task
from pipeline.errors import PipelineError

log = logging.getLogger(__name__)

DASK_CONNECT_TIMEOUT = "20s"
Executor = Literal["local", "dask"]  # worker processes here, or a Dask cluster


class TaskFuture(Protocol):
    """What the scheduler needs of a future: a `concurrent.futures.Future` or a Dask future."""

    def result(self) -> Any: ...

    def add_done_callback(self, fn: Callable[[Any], object], /) -> None: ...


class Pool(Protocol):
    """Runs tasks somewhere; `run_batch` opens one per batch and closes it at the end."""

    window: int  # tasks worth keeping in flight at once
    address: str  # where the tasks run: "" for this machine, else the Dask scheduler's address

    def submit(self, task: Task) -> TaskFuture:
        """Start a task; its future gives a `TaskResult`, or raises if the worker was lost."""
        ...

    def worker_lost(self, exc: BaseException) -> bool:
        """Whether a future's `exc` means its worker process died; the pool has then started a
        fresh one, so the task may be run again."""
        ...

    def events(self) -> list[WorkerEvent]:
        """The workers' events that arrived since the last call, oldest first."""
        ...

    def close(self, *, kill: bool = False) -> None:
        """Wait for the workers to end, or with `kill` end them (and their ffmpeg) now."""
        ...


class _EventSource(Protocol):
    def get_nowait(self) -> Any: ...


def drain(events: _EventSource) -> list[WorkerEvent]:
    """Everything waiting in an event queue, without blocking (nothing once it is closed)."""
    got = []
    while True:
        try:
            got.append(events.get_nowait())
        except (queue.Empty, OSError, ValueError):  # empty, or closed at shutdown
            return got


class LocalPool:
    """`jobs` worker processes (spawned: a model is never forked) on this machine."""

    def __init__(self, jobs: int, setup: WorkerSetup, max_tasks_per_child: int = 0) -> None:
        self.window = jobs
        self.address = ""
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

    def submit(self, task: Task) -> TaskFuture:
        try:
            return self._executor.submit(run_task, task)
        except BrokenProcessPool:  # a worker died after the last result came in
            self._restart()
            return self._executor.submit(run_task, task)

    def worker_lost(self, exc: BaseException) -> bool:
        if not isinstance(exc, BrokenProcessPool):
            return False
        # Each task in flight on the broken pool brings this error; restart only once.
        if getattr(self._executor, "_broken", True):
            self._restart()
        return True

    def _restart(self) -> None:
        log.warning("a batch worker process died; starting new ones")
        old = self._executor
        groups = [proc.pid for proc in getattr(old, "_processes", {}).values()]
        self._executor = self._new_executor()
        old.shutdown(wait=False, cancel_futures=True)
        # The broken pool's other workers are ended with SIGTERM, which leaves their ffmpeg
        # running: end each worker's process group. A group's id is not reused while it has
        # members, so this never reaches an unrelated process.
        for pgid in groups:
            _kill_group(pgid, leader_too=False)

    def events(self) -> list[WorkerEvent]:
        return drain(self._events)

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


def _kill_group(pid: int | None, *, leader_too: bool = True) -> None:
    """End a worker and its ffmpeg: they share the worker's process group.

    Args:
        pid: the worker's pid, which is its group's id once it runs.
        leader_too: also kill the worker itself if it does not lead a group yet (it is alive).
    """
    if pid is None:
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        if not leader_too:
            return
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
        self._queue: queue.SimpleQueue[WorkerEvent] = queue.SimpleQueue()
        self._client.subscribe_topic(setup.topic, self._on_event)
        info = self._client.scheduler_info()
        self.address = str(info.get("address") or scheduler or "")
        workers = info.get("workers", {})
        self.window = max(1, sum(w.get("nthreads", 1) for w in workers.values())) * 2
        self._futures: list[Any] = []

    def _on_event(self, event: Any) -> None:
        _, message = event
        self._queue.put(WorkerEvent.from_message(message))

    def submit(self, task: Task) -> TaskFuture:
        future: TaskFuture = self._client.submit(run_task, task, self._setup, pure=False)
        self._futures.append(future)
        return future

    def worker_lost(self, exc: BaseException) -> bool:
        return False  # Dask runs a lost worker's tasks elsewhere; KilledWorker means give up

    def events(self) -> list[WorkerEvent]:
        return drain(self._queue)

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
