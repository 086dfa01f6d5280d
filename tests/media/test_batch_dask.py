"""`--executor dask`: the same rows, statuses and videos as the local pool, on a Dask cluster."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline.batch.manifest import load_manifest
from pipeline.batch.pool import DaskPool
from pipeline.batch.run import BatchOptions, run_batch
from pipeline.batch.worker import WorkerSetup
from pipeline.config import load_settings
from pipeline.errors import PipelineError
from tests.conftest import make_clip, probe_output

pytestmark = pytest.mark.media

SRT = "1\n00:00:00,800 --> 00:00:01,700\nVastaus alkaa\n"


@pytest.fixture(scope="module")
def cluster() -> Any:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster:
        yield cluster


def outcome(out: Path) -> list[tuple[Any, ...]]:
    rows = json.loads((out / "report.json").read_text(encoding="utf-8"))["rows"]
    result = []
    for r in rows:
        video = out / r["output"]
        duration = round(probe_output(video)["duration"], 2) if r["status"] == "done" else None
        srt = video.with_suffix(".srt").read_text(encoding="utf-8") if r["status"] == "done" else None
        result.append((r["row"], r["status"], r["output"], r["video_seconds"], duration, srt, r["error"]))
    return result


def test_dask_makes_what_the_local_pool_makes(cluster: Any, tmp_path: Path) -> None:
    make_clip(tmp_path / "a.mp4", size=(320, 240), seconds=1.5)
    make_clip(tmp_path / "rec.mp4", size=(320, 240), seconds=4)
    (tmp_path / "rec.srt").write_text(SRT, encoding="utf-8")
    (tmp_path / "rikki.mp4").write_bytes(b"\x00" * 100)
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps([
        {"clip": "a.mp4", "comment": "Koko klippi"},
        {"clip": "rec.mp4", "comment": "Pätkä", "start": "0,5", "end": "00:02", "captions": "rec.srt"},
        {"clip": "rikki.mp4", "comment": "Rikki"},
    ]), encoding="utf-8")
    settings = load_settings()
    events: list[str] = []
    results = {}
    for executor, scheduler in (("local", None), ("dask", cluster.scheduler_address)):
        out = tmp_path / executor
        report = run_batch(load_manifest(manifest, out), settings,
                           BatchOptions(jobs=1, executor=executor, scheduler=scheduler, sidecar=True),  # type: ignore[arg-type]
                           on_event=lambda e, executor=executor: events.append(f"{executor}:{e.kind}"))
        assert [r.status for r in report.results] == ["done", "done", "failed"]
        assert (report.executor, report.address) == (executor, scheduler or "")
        results[executor] = outcome(out)
    assert results["dask"] == results["local"]
    assert [r[4] for r in results["local"]] == [1.5, 1.5, None]
    assert "dask:stage" in events and "dask:progress" in events  # stages come back from the workers


def test_resume_works_the_same_on_dask(cluster: Any, tmp_path: Path) -> None:
    make_clip(tmp_path / "a.mp4", size=(320, 240), seconds=1)
    (tmp_path / "m.csv").write_text("clip;comment\na.mp4;moi\n", encoding="utf-8")
    out = tmp_path / "out"
    options = BatchOptions(executor="dask", scheduler=cluster.scheduler_address)
    assert run_batch(load_manifest(tmp_path / "m.csv", out), load_settings(), options).results[0].status == "done"
    options = BatchOptions(executor="dask", scheduler=cluster.scheduler_address, resume=True)
    assert run_batch(load_manifest(tmp_path / "m.csv", out), load_settings(), options).results[0].status == "skipped"


def test_without_dask_installed_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    setup = WorkerSetup(load_settings(), None, None, lambda o: None)
    with pytest.raises(PipelineError) as info:
        DaskPool(None, setup, 1)
    assert "sossut[dask]" in info.value.hint


def test_an_unreachable_scheduler_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr("pipeline.batch.pool.DASK_CONNECT_TIMEOUT", "1s")
    setup = WorkerSetup(load_settings(), None, None, lambda o: None, topic="t")
    with pytest.raises(PipelineError, match="cannot reach the Dask scheduler tcp://127.0.0.1:9"):
        DaskPool("tcp://127.0.0.1:9", setup, 1)
