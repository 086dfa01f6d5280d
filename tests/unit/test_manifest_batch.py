"""Batch decisions without ffmpeg: scheduling, shared transcription, fingerprints, resume, report."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pipeline.batch import run as batch
from pipeline.batch.manifest import Manifest, ManifestRow, load_manifest
from pipeline.batch.pool import TaskFuture
from pipeline.batch.run import BatchOptions, default_jobs, run_batch
from pipeline.batch.schedule import schedule
from pipeline.batch.state import (
    BatchReport,
    already_done,
    fingerprints,
    out_dir_lock,
    remove_partials,
    write_report,
)
from pipeline.batch.worker import RowResult, RowTask, Task, TranscribeTask, WorkerEvent, WorkerSetup, run_task
from pipeline.config import load_settings
from pipeline.errors import InputError, OutputError
from pipeline.speech.transcribe import TranscribeOptions
from pipeline.types import Transcript

SETTINGS = load_settings()


def row(n: int, clip: str = "/clips/live.mp4", captions: str = "auto", **kw: Any) -> ManifestRow:
    return ManifestRow(row=n, clip=Path(clip), comment=f"kommentti {n}", output=Path(f"/out/{n}.mp4"),
                       captions=captions, output_name=f"{n}.mp4", **kw)


def no_model(options: Any) -> object:
    return object()


class InlinePool:
    """A `Pool` that runs each task with the real `run_task`, at once, in this process: it
    stands in for the worker processes only. What it was given is in `tasks`."""

    def __init__(self, window: int = 2) -> None:
        self.window = window
        self.address = ""
        self.tasks: list[Task] = []
        self.setup = WorkerSetup(SETTINGS, TranscribeOptions(), None, no_model)

    def submit(self, task: Task) -> TaskFuture:
        from concurrent.futures import Future

        self.tasks.append(task)
        future: Future[Any] = Future()
        future.set_result(run_task(task, self.setup))
        return future

    def worker_lost(self, exc: BaseException) -> bool:
        return False

    def events(self) -> list[WorkerEvent]:
        return []

    def close(self, *, kill: bool = False) -> None:
        pass


@pytest.fixture
def stages(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Stand-ins for the stages a row runs (ffmpeg, the model), so the real `run_row` runs here.

    `made` maps each made output to the transcript its captions came from; `transcribed`
    lists the clips given to the model; clips named in `no_audio` cannot be transcribed.
    """
    seen: dict[str, Any] = {"made": {}, "transcribed": [], "no_audio": set()}

    def transcribe_file(clip: Path, options: Any, *, transcriber: Any = None, cache: bool = True) -> Transcript:
        seen["transcribed"].append(clip.name)
        if clip.name in seen["no_audio"]:
            raise InputError(f"{clip.name} has no audio track")
        return Transcript("fi", 60.0)

    def make_reply(job: Any, settings: Any, *, transcribe: Any, **kw: Any) -> Any:
        media = SimpleNamespace(path=job.clip, duration=60.0)
        seen["made"][job.output.name] = transcribe(media) if job.captions == "auto" else None
        return SimpleNamespace(warnings=(), media=media, duration=60.0)

    monkeypatch.setattr("pipeline.speech.transcribe_file", transcribe_file)
    monkeypatch.setattr("pipeline.reply.make_reply", make_reply)
    return seen


def test_a_shared_recording_is_transcribed_once_before_its_rows(stages: dict[str, Any]) -> None:
    rows = [row(2), row(3, "/clips/other.mp4"), row(4), row(5, captions="none"), row(6)]
    pool = InlinePool()
    results = list(schedule(rows, pool, lambda e: None))
    assert pool.tasks[0] == TranscribeTask(Path("/clips/live.mp4"))
    assert [t for t in pool.tasks if isinstance(t, TranscribeTask)] == [pool.tasks[0]]
    given = {t.row.row: t.shared for t in pool.tasks if isinstance(t, RowTask)}
    assert given[3] is None and given[5] is None  # a single clip transcribes in its own task
    assert given[2] is given[4] is given[6] and given[2] is not None and given[2].transcript is not None
    assert stages["transcribed"] == ["live.mp4", "other.mp4"]
    made = stages["made"]
    assert made["2.mp4"] is made["4.mp4"] is made["6.mp4"] is given[2].transcript and made["5.mp4"] is None
    assert sorted(r.row for r in results) == [2, 3, 4, 5, 6] and all(r.status == "done" for r in results)


def test_a_failed_transcription_fails_only_its_rows(stages: dict[str, Any]) -> None:
    stages["no_audio"].add("live.mp4")
    rows = [row(2), row(3), row(4, "/clips/other.mp4", captions="none")]
    results = {r.row: r for r in schedule(rows, InlinePool(), lambda e: None)}
    assert results[2].status == results[3].status == "failed"
    assert results[2].error == "transcribing live.mp4 failed: live.mp4 has no audio track"
    assert results[4].status == "done" and sorted(stages["made"]) == ["4.mp4"]


def test_default_jobs_are_what_the_machine_affords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "available_cores", lambda: 1)
    monkeypatch.setattr(batch, "available_memory", lambda: 20 * 2**30)
    assert default_jobs() == 1
    # two cores: two one-thread jobs, so one row's Python phases overlap the other's encode
    monkeypatch.setattr(batch, "available_cores", lambda: 2)
    assert default_jobs() == 2
    monkeypatch.setattr(batch, "available_cores", lambda: 4)
    assert default_jobs() == 2
    monkeypatch.setattr(batch, "available_cores", lambda: 16)
    assert default_jobs() == 8
    monkeypatch.setattr(batch, "available_memory", lambda: 4 * 2**30)
    assert default_jobs() == 2  # 4 GB / 1.5 GB
    monkeypatch.setattr(batch, "available_memory", lambda: 2**29)
    assert default_jobs() == 1


def test_free_memory_is_known() -> None:
    free = batch.available_memory()
    assert free is not None and free > 0


def test_fingerprints_follow_the_inputs_not_the_machine(tmp_path: Path) -> None:
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"video" * 1000)
    base = ManifestRow(row=2, clip=clip, comment="moi", output=tmp_path / "o.mp4", output_name="o.mp4")
    speech = TranscribeOptions(threads=2)

    def fp(r: ManifestRow = base, settings: Any = SETTINGS, speech: Any = speech, **kw: Any) -> str:
        return fingerprints((r,), settings, speech, sidecar=kw.get("sidecar", False))[r.row]

    first = fp()
    assert fp() == first
    assert fp(speech=TranscribeOptions(threads=8)) == first  # threads do not change the video
    assert fp(settings=SETTINGS.with_values(batch={"jobs": 4})) == first
    assert fp(dataclasses.replace(base, row=7)) == first  # moving a row does not redo it
    assert fp(dataclasses.replace(base, comment="moi!")) != first
    assert fp(dataclasses.replace(base, start=1.0)) != first
    assert fp(dataclasses.replace(base, show_user=True)) != first
    assert fp(settings=SETTINGS.with_values(card={"font_size": 40})) != first
    assert fp(sidecar=True) != first
    clip.write_bytes(b"video" * 999 + b"VIDEO")
    assert fp() != first


def test_resume_needs_the_same_fingerprint_and_the_output(tmp_path: Path) -> None:
    r = dataclasses.replace(row(2), output=tmp_path / "2.mp4")
    state = {"rows": {"2.mp4": {"fingerprint": "abc", "size": 3}}}
    assert not already_done(r, "abc", state)  # no output file
    r.output.write_bytes(b"mp4")
    assert already_done(r, "abc", state)
    assert not already_done(r, "abd", state)
    r.output.write_bytes(b"mp4 cut short by a copy")
    assert not already_done(r, "abc", state)


def test_partial_files_of_our_outputs_are_removed(tmp_path: Path) -> None:
    r = dataclasses.replace(row(2), output=tmp_path / "vastaus.mp4")
    gone, alive = 2**22 + 1, os.getppid()  # a pid past Linux's pid_max; a running process

    def partial(stem: str, pid: int, suffix: str) -> Path:  # named as `atomic_path` names them
        return tmp_path / f".{stem}.{pid}.k3j4x_9a.partial{suffix}"

    ours = [partial("vastaus", gone, ".mp4"), partial("vastaus", gone, ".srt"), partial("vastaus", gone, ".vtt"),
            partial(".sossut-batch", gone, ".json"), partial("report", gone, ".csv")]
    others = [partial("muu", gone, ".mp4"), partial("vastaus", alive, ".mp4"), tmp_path / "vastaus.mp4",
              tmp_path / "partial.txt"]
    for path in ours + others:
        path.write_bytes(b"x")
    remove_partials(tmp_path, [r])
    assert [p.name for p in ours if p.exists()] == [] and all(p.exists() for p in others)


def test_invalid_rows_stop_the_batch_unless_skipped(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("clip;comment\npuuttuu.mp4;moi\n", encoding="utf-8")
    m = load_manifest(tmp_path / "m.csv", tmp_path / "out")
    with pytest.raises(InputError, match="row 2: clip puuttuu.mp4 not found"):
        run_batch(m, SETTINGS)
    assert not (tmp_path / "out").exists()
    report = run_batch(m, SETTINGS, BatchOptions(skip_invalid=True))
    assert [(r.row, r.status) for r in report.results] == [(2, "invalid")]
    assert json.loads((tmp_path / "out" / "report.json").read_text())["counts"]["invalid"] == 1


def test_one_batch_at_a_time_per_out_dir(tmp_path: Path) -> None:
    out = tmp_path / "out"
    m = Manifest(tmp_path / "m.csv", out, ())
    with out_dir_lock(out):
        assert (out / batch.LOCK_NAME).exists()
        with pytest.raises(OutputError, match="another sossut batch is writing to this folder"):
            run_batch(m, SETTINGS)
    assert not (out / batch.LOCK_NAME).exists()  # removed when the batch ends
    assert run_batch(m, SETTINGS).results == ()
    assert not (out / batch.LOCK_NAME).exists()


def test_a_lock_file_left_by_a_killed_batch_does_not_hold(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / batch.LOCK_NAME).write_bytes(b"")  # the OS lock went with its process
    assert run_batch(Manifest(tmp_path / "m.csv", out, ()), SETTINGS).results == ()
    assert not (out / batch.LOCK_NAME).exists()


def test_report_files(tmp_path: Path) -> None:
    results = (RowResult(2, "done", "/c/a.mp4", "a.mp4", 1.25, warnings=("w1", "w2")),
               RowResult(3, "failed", "/c/b.mp4", "b.mp4", 0.5, error="rikki", hint="kopioi uudelleen"),
               RowResult(4, "skipped", "/c/c.mp4", "c.mp4"), RowResult(5, "invalid", "x.mp4", "", error="no comment"))
    report = BatchReport(results, tmp_path, 3.0, 1)
    json_path, csv_path = write_report(report, Manifest(tmp_path / "m.csv", tmp_path, ()))
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["counts"] == {"done": 1, "failed": 1, "skipped": 1, "invalid": 1}
    assert (data["jobs"], data["executor"], data["scheduler"]) == (1, "local", None)
    assert data["rows"][1] == {"row": 3, "status": "failed", "clip": "/c/b.mp4", "output": "b.mp4", "seconds": 0.5,
                               "error": "rikki (hint: kopioi uudelleen)", "warnings": [], "video_seconds": None}
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert [r["status"] for r in rows] == ["done", "failed", "skipped", "invalid"]
    assert rows[0]["seconds"] == "1,25" and rows[0]["warnings"] == "w1 | w2"


def test_the_summary_names_the_executor(tmp_path: Path) -> None:
    from pipeline.cli.batch import executor_text

    def report(jobs: int, executor: Any = "local", address: str = "") -> BatchReport:
        return BatchReport((), tmp_path, 1.0, jobs, executor, address)

    assert executor_text(report(1)) == "with 1 worker process"
    assert executor_text(report(2)) == "with 2 worker processes"
    assert executor_text(report(1, "dask", "tcp://10.0.0.5:8786")) == "on Dask (tcp://10.0.0.5:8786)"


def test_live_display_shows_counts_and_running_stages() -> None:
    from rich.console import Console

    from pipeline.batch.run import BatchEvent
    from pipeline.cli.batch import LiveDisplay

    console = Console(file=io.StringIO(), force_terminal=True, width=120, color_system=None)
    display = LiveDisplay(3, console=console)
    display.handle(BatchEvent("plan", to_run=3, skipped=(9,)))
    display.handle(BatchEvent("stage", row=0, label="live.mp4", stage="transcribe"))
    display.handle(BatchEvent("stage", row=2, label="a.mp4", stage="card"))
    display.handle(BatchEvent("progress", row=3, label="b.mp4", stage="render", fraction=0.42))
    display.handle(BatchEvent("transcribed", label="live.mp4"))
    display.handle(BatchEvent("finished", row=2, label="a.mp4", result=RowResult(2, "done", "a.mp4", "2.mp4")))
    display.handle(BatchEvent("progress", row=2, label="a.mp4", stage="render", fraction=1.0))  # late event
    console.print(display._render())
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "1 rows already done (--resume): skipped" in text
    assert "done 1 · failed 0 · left 2" in text and "1/3" in text
    assert "row 3" in text and "render  42%" in text
    assert "row 2" not in text.split("left 2")[-1] and "transcribe" not in text.split("left 2")[-1]
