"""Batch stage: a manifest -> many `ReplyJob`s in a worker pool or on Dask -> outputs + report.

- `manifest`: CSV/JSON/YAML rows checked before any work (`cells`: each cell's value);
  `run`: `run_batch`;
- `schedule`: tasks handed to a pool, the events a caller is told; `pool`: the `Pool` protocol,
  worker processes here (`LocalPool`) or a Dask cluster (`DaskPool`);
- `worker`: one task in a worker process; `state`: out-dir lock, resume state, report;
- `session`: spans of a long LIVE recording proposed for a manifest.
"""

from pipeline.batch.cells import parse_time
from pipeline.batch.manifest import COLUMNS, load_manifest
from pipeline.batch.pool import Executor
from pipeline.batch.run import BatchEvent, BatchOptions, BatchReport, EventKind, default_jobs, run_batch
from pipeline.batch.session import suggest_session
from pipeline.batch.worker import ROW_STATUSES, STAGES, RowResult, RowStatus, StageName

__all__ = ["COLUMNS", "ROW_STATUSES", "STAGES", "BatchEvent", "BatchOptions", "BatchReport", "EventKind", "Executor",
           "RowResult", "RowStatus", "StageName", "default_jobs", "load_manifest", "parse_time", "run_batch",
           "suggest_session"]
