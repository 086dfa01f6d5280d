"""The batch's files in the out dir: a lock, the resume state, row fingerprints, the report.

- `.sossut-batch.lock`: one batch at a time per out dir (`filelock`: an OS lock, released even
  on SIGKILL); removed when the batch ends.
- `.sossut-batch.json`: each finished row's fingerprint (sha256 over everything that makes its
  video) and output size, rewritten atomically after every row; `--resume` trusts a row only
  when both still match.
- `report.json` and `report.csv` (semicolon + BOM for Excel in a Finnish locale): every row's
  status, output, seconds, error and warnings.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import filelock

from pipeline import __version__
from pipeline.batch.manifest import Manifest, ManifestRow
from pipeline.batch.pool import Executor
from pipeline.batch.worker import ROW_STATUSES, RowResult, RowStatus
from pipeline.config import Settings
from pipeline.errors import OutputError
from pipeline.files import atomic_write, remove_stale_partials

log = logging.getLogger(__name__)

STATE_NAME = ".sossut-batch.json"
LOCK_NAME = ".sossut-batch.lock"
REPORT_JSON = "report.json"
REPORT_CSV = "report.csv"
SIDECAR_SUFFIXES = (".srt", ".vtt")
REPORT_FIELDS = ("row", "status", "clip", "output", "seconds", "error", "warnings", "offset", "confidence")
_STATE_VERSION = 1
_EDGE_BYTES = 1 << 20  # the clip fingerprint reads its first and last MB


@dataclass(frozen=True, slots=True)
class BatchReport:
    results: tuple[RowResult, ...]
    out_dir: Path
    seconds: float
    jobs: int  # worker processes (local), or Dask workers started here
    executor: Executor = "local"
    address: str = ""  # the Dask scheduler's address ("" for local)

    def count(self, status: RowStatus) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[RowResult]:
        return [r for r in self.results if r.status == "failed"]


@contextmanager
def out_dir_lock(out_dir: Path) -> Iterator[None]:
    """One batch at a time per out dir; the lock file is removed when the batch ends.

    Raises:
        OutputError: the out dir cannot be written, or another batch holds it.
    """
    path = out_dir / LOCK_NAME
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(path, timeout=0)
        lock.acquire()
    except filelock.Timeout:
        raise OutputError(f"{out_dir}: another sossut batch is writing to this folder",
                          hint="wait for it to finish, or choose another --out-dir") from None
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write to the out dir ({exc.strerror or exc})",
                          hint="choose a folder you can write to") from None
    try:
        yield
    finally:
        # Removed while still held, so a batch starting now locks a new file, never this one.
        # Windows cannot remove an open file; filelock removes it there on release.
        with suppress(OSError):
            path.unlink()
        lock.release()


def remove_partials(out_dir: Path, rows: Iterable[ManifestRow]) -> None:
    """Delete the temp files a killed run left of our outputs (videos, sidecars) and of the
    state and report; temp files of a process still running are kept."""
    paths = [out_dir / name for name in (STATE_NAME, REPORT_JSON, REPORT_CSV)]
    for row in rows:
        paths += [row.output, *(row.output.with_suffix(s) for s in SIDECAR_SUFFIXES)]
    for path in paths:
        remove_stale_partials(path)


def read_state(out_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((out_dir / STATE_NAME).read_text(encoding="utf-8"))
        if data.get("version") == _STATE_VERSION and isinstance(data.get("rows"), dict):
            return data  # type: ignore[no-any-return]
    except FileNotFoundError:
        pass
    except (OSError, ValueError, AttributeError) as exc:
        log.warning("ignoring unreadable batch state %s: %s", out_dir / STATE_NAME, exc)
    return {"version": _STATE_VERSION, "rows": {}}


def already_done(row: ManifestRow, fingerprint: str, state: dict[str, Any]) -> bool:
    entry = state["rows"].get(row.output_name)
    if not entry or entry.get("fingerprint") != fingerprint:
        return False
    try:
        return bool(row.output.stat().st_size == entry.get("size"))
    except OSError:
        return False


def record_row(out_dir: Path, state: dict[str, Any], row: ManifestRow, result: RowResult, fingerprint: str) -> None:
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
    atomic_write(out_dir / STATE_NAME, json.dumps(state, ensure_ascii=False, indent=1))


def fingerprints(rows: tuple[ManifestRow, ...], settings: Settings, speech: Any, *,
                 sidecar: bool) -> dict[int, str]:
    """sha256 over everything that makes a row's video, so a changed row is made again."""
    # [join] only makes rows of several clips: other rows (and states written before it) keep their keys
    settings_dict = {k: v for k, v in settings.to_dict().items() if k not in ("batch", "join")}
    speech_dict = {k: v for k, v in dataclasses.asdict(speech).items() if k != "threads"}
    common = {"sossut": __version__, "settings": settings_dict, "sidecar": sidecar}
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
            # only when set: states written before the column existed keep their keys
            **({"end_card": row.end_card} if row.end_card else {}),
            **({"more_clips": [file_id(c) for c in row.more_clips], "join": settings.to_dict()["join"]}
               if row.more_clips and not row.duet else {}),
            **({"more_spans": [list(s) for s in row.more_spans]} if row.more_spans else {}),
            **({"duet": {"b": file_id(row.more_clips[0]) if row.more_clips else None, "offset": row.offset,
                         "layout": row.layout or settings.duet.layout}} if row.duet else {}),
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
         "video_seconds": r.video_seconds,
         # duet rows only: the offset used and how sure the sound made it (None: the row gave it)
         **({"offset": r.offset, "confidence": r.confidence} if r.offset is not None else {})}
        for r in report.results
    ]


def write_report(report: BatchReport, manifest: Manifest) -> tuple[Path, Path]:
    """`report.json` and `report.csv` (semicolon + BOM, for Excel in a Finnish locale)."""
    rows = report_rows(report)
    counts = {s: report.count(s) for s in ROW_STATUSES}
    data = {"manifest": str(manifest.path.resolve()), "out_dir": str(report.out_dir), "sossut": __version__,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(report.seconds, 2), "jobs": report.jobs, "executor": report.executor,
            "scheduler": report.address or None, "counts": counts, "rows": rows}
    json_path = report.out_dir / REPORT_JSON
    csv_path = report.out_dir / REPORT_CSV
    atomic_write(json_path, json.dumps(data, ensure_ascii=False, indent=1))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=REPORT_FIELDS, delimiter=";", extrasaction="ignore",
                            lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "seconds": f"{row['seconds']:.2f}".replace(".", ","),
                         "warnings": " | ".join(row["warnings"]), **_offset_cells(row)})
    atomic_write(csv_path, buffer.getvalue(), encoding="utf-8-sig")
    return json_path, csv_path


def _offset_cells(row: dict[str, Any]) -> dict[str, str]:
    """A duet row's offset and confidence as Excel in a Finnish locale reads them; "given" if the row gave it."""
    if row.get("offset") is None:
        return {"offset": "", "confidence": ""}
    confidence = row["confidence"]
    return {"offset": f"{row['offset']:+.3f}".replace(".", ","),
            "confidence": "given" if confidence is None else f"{confidence:.1f}".replace(".", ",")}
