"""Batch: a checked manifest -> many reply videos in parallel, a report, and resume.

`run_batch(manifest, settings, options)` takes the rows of `pipeline.batch.manifest.load_manifest`,
runs `make_reply` for each in worker processes or on a Dask cluster (`pipeline.batch.pool`,
tasks handed out by `pipeline.batch.schedule`, run by `pipeline.batch.worker`), and returns a `BatchReport` (also written as `report.json` and `report.csv` in the out dir).

- One bad row fails alone with its reason; the rest go on, even when it crashes its worker.
- Rows that cut one long recording with `start`/`end` share one transcription: the recording
  is transcribed once, in one worker, before its rows are handed out.
- Each finished row is recorded in `OUT_DIR/.sossut-batch.json` (written atomically) with a
  fingerprint of everything that makes its video; `resume=True` skips rows whose fingerprint
  and output are unchanged. Videos are written to a temp name and renamed, so a batch killed
  at any moment leaves finished videos and no partial files once it is run again.
- On Dask, the workers must reach the clips and the out dir at the same paths (a shared
  filesystem); results come back to this process, which alone writes state and report.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from pipeline.batch.manifest import Manifest
from pipeline.batch.pool import DaskPool, Executor, LocalPool, Pool
from pipeline.batch.schedule import BatchEvent, EventKind, schedule
from pipeline.batch.state import (
    LOCK_NAME,
    REPORT_CSV,
    REPORT_JSON,
    STATE_NAME,
    BatchReport,
    already_done,
    fingerprints,
    out_dir_lock,
    read_state,
    record_row,
    remove_partials,
    write_report,
)
from pipeline.batch.worker import RowResult, WorkerSetup
from pipeline.comments import record_answer
from pipeline.config import Settings
from pipeline.errors import ConfigError, InputError, PipelineError

log = logging.getLogger(__name__)

__all__ = ["LOCK_NAME", "REPORT_CSV", "REPORT_JSON", "STATE_NAME", "BatchEvent", "BatchOptions", "BatchReport",
           "EventKind", "RowResult", "available_cores", "default_jobs", "run_batch"]


@dataclass(frozen=True, slots=True)
class BatchOptions:
    """How to run a batch (the CLI's options)."""

    jobs: int | None = None  # worker processes; None: config batch.jobs, 0 there = `default_jobs()`
    resume: bool = False
    skip_invalid: bool = False
    executor: Executor = "local"
    scheduler: str | None = None  # Dask scheduler address; None: start a LocalCluster
    engine: str | None = None  # speech options for captions = auto; None: config
    model: str | None = None
    language: str | None = None
    vocabulary_file: Path | None = None
    sidecar: bool = False  # also write OUTPUT.srt / OUTPUT.vtt
    cache_transcripts: bool = True
    debug: bool = False


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def available_memory() -> int | None:
    """Bytes of RAM free for new work without swapping, None if unknown."""
    try:
        return int(psutil.virtual_memory().available)
    except (OSError, RuntimeError):  # psutil cannot read it on this system
        return None


def default_jobs(memory_per_job_gb: float = 1.5) -> int:
    """What the machine affords: max(1, min(max(2, cores // 2), cores, free RAM / memory per job)).

    At least two jobs where there are two cores: a row's Python phases (probe, card, loudness,
    the checks after it) leave a core idle that the other row's encode then uses, and two
    one-thread encodes waste less than one two-thread encode. Beyond that, two cores a job.
    """
    cores = available_cores()
    free = available_memory()
    by_memory = int(free / (memory_per_job_gb * 2**30)) if free else cores
    return max(1, min(max(2, cores // 2), cores, by_memory))


def resolve_jobs(options: BatchOptions, settings: Settings) -> int:
    """The number of worker processes for `options` (explicit, config, or machine default).

    Raises:
        ConfigError: a negative batch.jobs or memory_per_job in the config.
    """
    if options.jobs is not None:
        return max(1, options.jobs)
    cfg = settings.batch
    if cfg.jobs < 0 or cfg.memory_per_job <= 0 or cfg.max_tasks_per_child < 0:
        raise ConfigError("batch.jobs and batch.max_tasks_per_child must not be negative, "
                          "batch.memory_per_job must be greater than 0")
    return cfg.jobs or default_jobs(cfg.memory_per_job)


def run_batch(
    manifest: Manifest,
    settings: Settings,
    options: BatchOptions = BatchOptions(),
    *,
    on_event: Callable[[BatchEvent], None] | None = None,
    transcriber_factory: Callable[[Any], Any] | None = None,
) -> BatchReport:
    """Make every row's video; one failing row does not stop the others.

    Args:
        manifest: from `load_manifest`; its invalid rows are reported as "invalid".
        settings: style and encoder values.
        options: jobs, resume, executor...
        on_event: told of stages, progress and finished rows (called in this thread).
        transcriber_factory: TranscribeOptions -> Transcriber, called once per worker on its
            first captions=auto row; default `pipeline.speech.transcribe.get_transcriber`. Must be
            picklable (a module-level function) to reach the worker processes.

    Returns:
        Every row's result, in row order. `report.json`/`report.csv` are in the out dir.

    Raises:
        InputError: the manifest has invalid rows and `skip_invalid` is off.
        OutputError: the out dir cannot be written or another batch is writing to it.
        PipelineError: the executor cannot start (Dask missing or unreachable).
    """
    from pipeline.speech import get_transcriber, options_from_settings

    if manifest.invalid and not options.skip_invalid:
        listed = "; ".join(f"row {p.row}: {p.reason}" for p in manifest.invalid)
        raise InputError(f"{len(manifest.invalid)} invalid rows in {manifest.path.name}: {listed}",
                         hint="fix them, or run with --skip-invalid to make the others")
    emit = on_event or (lambda event: None)
    started = time.monotonic()
    out_dir = manifest.out_dir.resolve()
    jobs = resolve_jobs(options, settings)
    threads = max(1, available_cores() // jobs) if options.executor == "local" else None
    overrides: dict[str, Any] = dict(engine=options.engine, model=options.model, language=options.language)
    if threads is not None:
        overrides["threads"] = threads
    speech = options_from_settings(settings.transcribe, vocabulary_file=options.vocabulary_file, **overrides)
    with out_dir_lock(out_dir):
        remove_partials(out_dir, manifest.rows)
        state = read_state(out_dir)
        prints = fingerprints(manifest.rows, settings, speech, sidecar=options.sidecar)
        skipped = [r for r in manifest.rows if options.resume and already_done(r, prints[r.row], state)]
        skipped_rows = {r.row for r in skipped}
        to_run = [r for r in manifest.rows if r.row not in skipped_rows]
        results = [RowResult(p.row, "invalid", p.clip, "", error=p.reason) for p in manifest.invalid]
        results += [RowResult(r.row, "skipped", r.clip_text, r.output_name, error="") for r in skipped]
        emit(BatchEvent("plan", to_run=len(to_run), skipped=tuple(r.row for r in skipped)))
        setup = WorkerSetup(settings=settings, transcribe_options=speech, threads=threads,
                            transcriber_factory=transcriber_factory or get_transcriber,
                            cache_transcripts=options.cache_transcripts, sidecar=options.sidecar,
                            debug=options.debug, topic=f"sossut-batch-{uuid.uuid4().hex}")
        address = (options.scheduler or "") if options.executor == "dask" else ""
        try:
            if to_run:
                by_number = {r.row: r for r in to_run}
                with _open_pool(options, setup, jobs, settings) as pool, \
                        closing(schedule(to_run, pool, emit)) as finished:
                    address = pool.address
                    for result in finished:
                        row = by_number[result.row]
                        record_row(out_dir, state, row, result, prints[row.row])
                        if result.status == "done":
                            _record_answer(row.comment, row.output, settings)
                        results.append(result)
                        emit(BatchEvent("finished", row=result.row, label=row.clip.name, result=result))
        finally:
            remove_partials(out_dir, to_run)
        report = BatchReport(tuple(sorted(results, key=lambda r: r.row)), out_dir, time.monotonic() - started, jobs,
                             options.executor, address)
        write_report(report, manifest)
    return report


def _record_answer(comment: str, output: Path, settings: Settings) -> None:
    """The answered ledger gets the row; a ledger that cannot be written does not fail the row."""
    try:
        record_answer(comment, output, settings)
    except PipelineError as exc:
        log.warning("the answer of %s was not recorded in the ledger: %s", output.name, exc.message)


@contextmanager
def _open_pool(options: BatchOptions, setup: WorkerSetup, jobs: int, settings: Settings) -> Iterator[Pool]:
    """The pool the options ask for; closed when the block ends, its workers killed if the
    block ended by an error or an interrupt (Ctrl-C, SIGTERM), so no ffmpeg goes on and the
    partial files can be removed."""
    pool: Pool
    if options.executor == "dask":
        pool = DaskPool(options.scheduler, setup, jobs)
    else:
        pool = LocalPool(jobs, dataclasses.replace(setup, topic=""), settings.batch.max_tasks_per_child)
    clean = False
    try:
        yield pool
        clean = True
    finally:
        pool.close(kill=not clean)
