"""Batch: a checked manifest -> many reply videos in parallel, a report, and resume.

`run_batch(manifest, settings, options)` takes the rows of `pipeline.manifest.load_manifest`,
runs `make_reply` for each in worker processes (`pipeline.batch_worker`) or on a Dask cluster,
and returns a `BatchReport` (also written as `report.json` and `report.csv` in the out dir).

- One bad row fails alone with its reason; the rest go on.
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

import csv
import dataclasses
import functools
import hashlib
import io
import json
import logging
import os
import queue
import time
import uuid
from collections import deque
from collections.abc import Callable, Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pipeline import __version__
from pipeline.batch_worker import (
    DaskPool,
    LocalPool,
    RowResult,
    TranscribeOutcome,
    WorkerSetup,
    run_row,
    transcribe_clip,
)
from pipeline.config import Settings
from pipeline.errors import ConfigError, InputError, OutputError
from pipeline.manifest import Manifest, ManifestRow, path_key

log = logging.getLogger(__name__)

STATE_NAME = ".sossut-batch.json"
LOCK_NAME = ".sossut-batch.lock"
REPORT_JSON = "report.json"
REPORT_CSV = "report.csv"
REPORT_FIELDS = ("row", "status", "clip", "output", "seconds", "error", "warnings")
_STATE_VERSION = 1
_EDGE_BYTES = 1 << 20  # the clip fingerprint reads its first and last MB


@dataclass(frozen=True, slots=True)
class BatchOptions:
    """How to run a batch (the CLI's options)."""

    jobs: int | None = None  # worker processes; None: config batch.jobs, 0 there = `default_jobs()`
    resume: bool = False
    skip_invalid: bool = False
    executor: Literal["local", "dask"] = "local"
    scheduler: str | None = None  # Dask scheduler address; None: start a LocalCluster
    engine: str | None = None  # speech options for captions = auto; None: config
    model: str | None = None
    language: str | None = None
    vocabulary_file: Path | None = None
    sidecar: bool = False  # also write OUTPUT.srt / OUTPUT.vtt
    cache_transcripts: bool = True
    debug: bool = False


@dataclass(frozen=True, slots=True)
class BatchEvent:
    """What the batch tells its caller while it runs.

    kind: "plan" (rows decided: `to_run`, `skipped`), "stage" (a task began a stage),
    "progress" (encode fraction of a row), "transcribed" (a shared recording, `label`),
    "finished" (a row's `result`).
    Row 0 is the transcription of a shared recording (`label` is its name).
    """

    kind: str
    row: int = 0
    label: str = ""
    stage: str = ""
    fraction: float = 0.0
    result: RowResult | None = None
    to_run: int = 0
    skipped: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class BatchReport:
    results: tuple[RowResult, ...]
    out_dir: Path
    seconds: float
    jobs: int

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[RowResult]:
        return [r for r in self.results if r.status == "failed"]


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def available_memory() -> int | None:
    """Bytes of RAM free for new work (Linux MemAvailable), None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def default_jobs(memory_per_job_gb: float = 1.5) -> int:
    """What the machine affords: max(1, min(cores // 2, free RAM / memory per job))."""
    cores = available_cores()
    free = available_memory()
    by_memory = int(free / (memory_per_job_gb * 2**30)) if free else cores
    return max(1, min(cores // 2, by_memory))


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
            first captions=auto row; default `pipeline.transcribe.get_transcriber`. Must be
            picklable (a module-level function) to reach the worker processes.

    Returns:
        Every row's result, in row order. `report.json`/`report.csv` are in the out dir.

    Raises:
        InputError: the manifest has invalid rows and `skip_invalid` is off.
        OutputError: the out dir cannot be written or another batch is writing to it.
        PipelineError: the executor cannot start (Dask missing or unreachable).
    """
    from pipeline.transcribe import get_transcriber, options_from_settings

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
    with _out_dir_lock(out_dir):
        _remove_partials(out_dir, manifest.rows)
        state = _read_state(out_dir)
        fingerprints = _fingerprints(manifest.rows, settings, speech, options)
        skipped = [r for r in manifest.rows if options.resume and _already_done(r, fingerprints[r.row], state)]
        skipped_rows = {r.row for r in skipped}
        to_run = [r for r in manifest.rows if r.row not in skipped_rows]
        results = [RowResult(p.row, "invalid", p.clip, "", error=p.reason) for p in manifest.invalid]
        results += [RowResult(r.row, "skipped", str(r.clip), r.output_name, error="") for r in skipped]
        emit(BatchEvent("plan", to_run=len(to_run), skipped=tuple(r.row for r in skipped)))
        setup = WorkerSetup(settings=settings, transcribe_options=speech, threads=threads,
                            transcriber_factory=transcriber_factory or get_transcriber,
                            cache_transcripts=options.cache_transcripts, sidecar=options.sidecar,
                            debug=options.debug, topic=f"sossut-batch-{uuid.uuid4().hex}")
        try:
            if to_run:
                by_number = {r.row: r for r in to_run}
                # closing(): an interrupt ends the workers before the partial files are removed.
                with closing(_run(to_run, setup, options, jobs, settings, emit)) as finished:
                    for result in finished:
                        row = by_number[result.row]
                        _record(out_dir, state, row, result, fingerprints[row.row])
                        results.append(result)
                        emit(BatchEvent("finished", row=result.row, label=row.clip.name, result=result))
        finally:
            _remove_partials(out_dir, to_run)
        report = BatchReport(tuple(sorted(results, key=lambda r: r.row)), out_dir, time.monotonic() - started, jobs)
        write_report(report, manifest)
    return report


def _run(rows: list[ManifestRow], setup: WorkerSetup, options: BatchOptions, jobs: int, settings: Settings,
         emit: Callable[[BatchEvent], None]) -> Generator[RowResult, None, None]:
    pool: LocalPool | DaskPool
    if options.executor == "dask":
        pool = DaskPool(options.scheduler, setup, jobs)
    else:
        pool = LocalPool(jobs, dataclasses.replace(setup, topic=""), settings.batch.max_tasks_per_child)
    clean = False
    try:
        yield from _schedule(rows, pool, emit)
        clean = True
    finally:
        # Interrupted (Ctrl-C, SIGTERM) or failed: end the workers and their ffmpeg now.
        pool.close(kill=not clean)


def _schedule(rows: list[ManifestRow], pool: LocalPool | DaskPool,
              emit: Callable[[BatchEvent], None]) -> Iterator[RowResult]:
    """Hand tasks to the pool, at most `pool.window` at a time; yield results as they come.

    A recording cut by several captions=auto rows is transcribed first (one task); its rows
    are handed out with the transcript when it arrives.
    """
    by_clip: dict[str, list[ManifestRow]] = {}
    for row in rows:
        if row.captions == "auto":
            by_clip.setdefault(path_key(row.clip), []).append(row)
    shared = {key: group for key, group in by_clip.items() if len(group) > 1}
    ready: deque[tuple[Any, ...]] = deque(("transcribe", group[0].clip, key) for key, group in shared.items())
    shared_rows = {r.row for group in shared.values() for r in group}
    ready.extend(("row", r, None) for r in rows if r.row not in shared_rows)
    done: queue.SimpleQueue[int] = queue.SimpleQueue()
    inflight: dict[int, tuple[tuple[Any, ...], Any]] = {}
    ids = iter(range(1, 1 << 62))

    def forward_events() -> None:
        for kind, row, label, stage, fraction in pool.events():
            emit(BatchEvent(kind, row=row, label=label, stage=stage, fraction=fraction))

    while ready or inflight:
        while ready and len(inflight) < pool.window:
            task = ready.popleft()
            task_id = next(ids)
            if task[0] == "transcribe":
                future = pool.submit(transcribe_clip, task[1])
            else:
                future = pool.submit(run_row, task[1], task[2])
            inflight[task_id] = (task, future)
            future.add_done_callback(functools.partial(_put, done, task_id))
        forward_events()
        try:
            task_id = done.get(timeout=0.1)
        except queue.Empty:
            continue
        task, future = inflight.pop(task_id)
        forward_events()
        try:
            value = future.result()
        except BaseException as exc:  # the worker died, or Dask lost the task
            if isinstance(exc, KeyboardInterrupt):
                raise
            pool.lost(exc)
            value = _lost(task, exc)
        if task[0] == "transcribe":
            emit(BatchEvent("transcribed", label=task[1].name, fraction=value.seconds))
            ready.extendleft(("row", r, value) for r in reversed(shared[task[2]]))
        else:
            yield value


def _put(done: queue.SimpleQueue[int], task_id: int, future: Any) -> None:
    done.put(task_id)


def _lost(task: tuple[Any, ...], exc: BaseException) -> RowResult | TranscribeOutcome:
    reason = f"the worker stopped unexpectedly ({type(exc).__name__}: {exc})".replace(" ()", "")
    hint = "the machine may be out of memory: try fewer --jobs, then run again with --resume"
    if task[0] == "transcribe":
        return TranscribeOutcome(task[1], None, reason, hint)
    row: ManifestRow = task[1]
    return RowResult(row.row, "failed", str(row.clip), row.output_name, error=reason, hint=hint)


# --- out dir: lock, partial files, resume state ---------------------------------------------


@contextmanager
def _out_dir_lock(out_dir: Path) -> Iterator[None]:
    """One batch at a time per out dir (the lock goes with the process, even on SIGKILL)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fh = open(out_dir / LOCK_NAME, "a+b")
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write to the out dir ({exc.strerror})",
                          hint="choose a folder you can write to") from None
    with fh:
        try:
            import fcntl

            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # Windows: no lock
            pass
        except OSError:
            raise OutputError(f"{out_dir}: another sossut batch is writing to this folder",
                              hint="wait for it to finish, or choose another --out-dir") from None
        yield


def _remove_partials(out_dir: Path, rows: Any) -> None:
    """Delete temp files a killed run left: `.NAME.*partial*` of our outputs, our state temp."""
    folders: dict[Path, set[str]] = {out_dir: {Path(name).stem for name in (STATE_NAME, REPORT_JSON, REPORT_CSV)}}
    for row in rows:
        folders.setdefault(row.output.parent, set()).add(row.output.stem)
    for folder, stems in folders.items():
        if not folder.is_dir():
            continue
        for path in folder.glob(".*partial*"):
            if any(path.name.startswith(f".{stem}.") for stem in stems) and path.is_file():
                log.info("removing a partial file of an interrupted run: %s", path)
                path.unlink(missing_ok=True)


def _read_state(out_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((out_dir / STATE_NAME).read_text(encoding="utf-8"))
        if data.get("version") == _STATE_VERSION and isinstance(data.get("rows"), dict):
            return data  # type: ignore[no-any-return]
    except FileNotFoundError:
        pass
    except (OSError, ValueError, AttributeError) as exc:
        log.warning("ignoring unreadable batch state %s: %s", out_dir / STATE_NAME, exc)
    return {"version": _STATE_VERSION, "rows": {}}


def _already_done(row: ManifestRow, fingerprint: str, state: dict[str, Any]) -> bool:
    entry = state["rows"].get(row.output_name)
    if not entry or entry.get("fingerprint") != fingerprint:
        return False
    try:
        return bool(row.output.stat().st_size == entry.get("size"))
    except OSError:
        return False


def _record(out_dir: Path, state: dict[str, Any], row: ManifestRow, result: RowResult, fingerprint: str) -> None:
    """Remember a finished row (or forget a failed one) at once, atomically."""
    if result.status == "done":
        try:
            size = row.output.stat().st_size
        except OSError:
            size = -1
        state["rows"][row.output_name] = {
            "fingerprint": fingerprint, "row": row.row, "size": size, "seconds": round(result.seconds, 2),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    elif state["rows"].pop(row.output_name, None) is None:
        return
    _atomic_write(out_dir / STATE_NAME, json.dumps(state, ensure_ascii=False, indent=1))


def _atomic_write(path: Path, text: str, encoding: str = "utf-8") -> None:
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")
    try:
        with open(tmp, "w", encoding=encoding, newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _fingerprints(rows: tuple[ManifestRow, ...], settings: Settings, speech: Any,
                  options: BatchOptions) -> dict[int, str]:
    """sha256 over everything that makes a row's video, so a changed row is made again."""
    settings_dict = {k: v for k, v in settings.to_dict().items() if k != "batch"}
    speech_dict = {k: v for k, v in dataclasses.asdict(speech).items() if k != "threads"}
    common = {"sossut": __version__, "settings": settings_dict, "sidecar": options.sidecar}
    files: dict[Path, str] = {}

    def file_id(path: Path | None) -> str | None:
        if path is None:
            return None
        if path not in files:
            files[path] = _file_fingerprint(path)
        return files[path]

    result = {}
    for row in rows:
        caption_file = None if row.captions in ("auto", "none") else Path(row.captions)
        data = {
            **common,
            "clip": file_id(row.clip), "comment": row.comment, "user": row.user, "avatar": file_id(row.avatar),
            "span": [row.start, row.end], "captions": row.captions if caption_file is None else "file",
            "captions_file": file_id(caption_file), "show_user": row.show_user, "output": row.output_name,
            "speech": speech_dict if row.captions == "auto" else None,
        }
        result[row.row] = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
    return result


def _file_fingerprint(path: Path) -> str:
    """Size + sha256 of the first and last MB: cheap on long recordings, survives copying."""
    try:
        size = path.stat().st_size
        digest = hashlib.sha256(str(size).encode())
        with open(path, "rb") as fh:
            digest.update(fh.read(_EDGE_BYTES))
            if size > _EDGE_BYTES:
                fh.seek(max(_EDGE_BYTES, size - _EDGE_BYTES))
                digest.update(fh.read(_EDGE_BYTES))
        return digest.hexdigest()
    except OSError:
        return "unreadable"


# --- report ---------------------------------------------------------------------------------


def report_rows(report: BatchReport) -> list[dict[str, Any]]:
    """The report's rows as plain values (as in report.json)."""
    return [
        {"row": r.row, "status": r.status, "clip": r.clip, "output": r.output, "seconds": round(r.seconds, 2),
         "error": r.error + (f" (hint: {r.hint})" if r.hint else ""), "warnings": list(r.warnings),
         "video_seconds": r.video_seconds}
        for r in report.results
    ]


def write_report(report: BatchReport, manifest: Manifest) -> tuple[Path, Path]:
    """`report.json` and `report.csv` (semicolon + BOM, for Excel in a Finnish locale)."""
    rows = report_rows(report)
    counts = {s: report.count(s) for s in ("done", "failed", "skipped", "invalid")}
    data = {"manifest": str(manifest.path.resolve()), "out_dir": str(report.out_dir), "sossut": __version__,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(report.seconds, 2), "jobs": report.jobs, "counts": counts, "rows": rows}
    json_path = report.out_dir / REPORT_JSON
    csv_path = report.out_dir / REPORT_CSV
    _atomic_write(json_path, json.dumps(data, ensure_ascii=False, indent=1))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=REPORT_FIELDS, delimiter=";", extrasaction="ignore",
                            lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "seconds": f"{row['seconds']:.2f}".replace(".", ","),
                         "warnings": " | ".join(row["warnings"])})
    _atomic_write(csv_path, buffer.getvalue(), encoding="utf-8-sig")
    return json_path, csv_path
