"""Batch stage: a manifest -> many `ReplyJob`s in a worker pool or on Dask -> outputs + report.

- `manifest`: CSV/JSON/YAML rows checked before any work; `run`: `run_batch` and its events;
- `worker`: one row in a worker process; `state`: out-dir lock, resume state, report;
- `session`: spans of a long LIVE recording proposed for a manifest.
"""

from pipeline.batch.manifest import COLUMNS, load_manifest
from pipeline.batch.run import BatchEvent, BatchOptions, BatchReport, default_jobs, run_batch
from pipeline.batch.session import suggest_session
from pipeline.batch.worker import RowResult

__all__ = ["BatchEvent", "BatchOptions", "BatchReport", "COLUMNS", "RowResult", "default_jobs", "load_manifest", "run_batch", "suggest_session"]
