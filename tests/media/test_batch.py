"""`sossut batch` on real (tiny) clips: bad rows fail alone, spans of one recording, one
transcription per recording, report files, resume in place, a worker process that dies."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest
from click.testing import CliRunner, Result

from pipeline.batch.manifest import load_manifest
from pipeline.batch.run import STATE_NAME, BatchOptions, available_cores, run_batch
from pipeline.cli.batch import batch
from pipeline.config import load_settings
from pipeline.types import Segment, Transcript, Word
from tests.conftest import make_clip, probe_output

pytestmark = pytest.mark.media

ENGINE_LOG = "SOSSUT_TEST_ENGINE_LOG"
REC_SECONDS = 6.0
# Captions of the recording, on its own clock.
REC_SRT = """1
00:00:00,600 --> 00:00:01,500
Ensimmäinen vastaus

2
00:00:02,700 --> 00:00:03,600
Toinen vastaus
"""
SPANS = {3: (0.5, 2.0), 4: (2.5, 4.0), 7: (4.5, REC_SECONDS)}


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8"))  # as Excel "CSV UTF-8" saves
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("batch")
    make_clip(folder / "a.mp4", size=(320, 240), seconds=2)
    make_clip(folder / "rec.mp4", size=(320, 240), seconds=REC_SECONDS)
    (folder / "broken.mp4").write_text("tämä ei ole video\n", encoding="utf-8")
    (folder / "rec.srt").write_text(REC_SRT, encoding="utf-8")
    return folder


def invoke(*args: str) -> Result:
    """The batch command; rows without a captions cell get none (these clips hold no speech)."""
    return CliRunner().invoke(batch, [*args, "--captions", "none"], catch_exceptions=False)


@pytest.fixture(scope="module")
def six_rows(folder: Path) -> tuple[Result, Path]:
    """Six rows: a whole clip, three spans of one recording, a broken clip, a span past the end."""
    manifest = write_csv(folder / "vastaukset.csv", [
        "clip;comment;user;start;end;output;captions;show_user",
        "a.mp4;Voiko ilmoituksen tehdä nimettömänä?;nuori_1;;;;;kyllä",
        "rec.mp4;Mitä huostaanotto tarkoittaa?;;0,5;00:02;eka.mp4;rec.srt;",
        "rec.mp4;Kuka päättää sijoituksesta?;;00:02.5;0:04;toka.mp4;rec.srt;",
        "broken.mp4;Rikki?;;;;;;",
        "rec.mp4;Liian myöhään;;10;12;ohi.mp4;;",
        "rec.mp4;Loppuun asti;;4,5;;kolmas.mp4;;",
    ])
    out = folder / "out"
    return invoke(str(manifest), "--out-dir", str(out), "--jobs", "2", "--sidecar"), out


def report(out: Path) -> dict[int, dict[str, Any]]:
    return {r["row"]: r for r in json.loads((out / "report.json").read_text(encoding="utf-8"))["rows"]}


def test_failing_rows_fail_alone_and_the_batch_exits_1(six_rows: tuple[Result, Path]) -> None:
    result, out = six_rows
    assert result.exit_code == 1, result.output
    rows = report(out)
    assert {n: r["status"] for n, r in rows.items()} == {2: "done", 3: "done", 4: "done", 5: "failed", 6: "failed",
                                                        7: "done"}
    assert "not a readable media file" in rows[5]["error"] and "after the clip ends" in rows[6]["error"]
    assert rows[2]["output"] == "002_a.mp4" and rows[5]["output"] == "005_broken.mp4"
    assert "2 of 6 failed:" in result.stderr and "row 6 ohi.mp4:" in result.stderr
    assert "4 done, 2 failed in " in result.stdout and " s with 2 worker processes; report: " in result.stdout
    assert sorted(p.name for p in out.glob("*.mp4")) == ["002_a.mp4", "eka.mp4", "kolmas.mp4", "toka.mp4"]
    assert not list(out.glob(".*partial*"))
    csv_text = (out / "report.csv").read_bytes().decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "row;status;clip;output;seconds;error;warnings;offset;confidence"
    assert re.search(r"^6;failed;.*rec\.mp4;ohi\.mp4;\d+,\d\d;rec\.mp4: the span starts", csv_text, re.MULTILINE)


def test_spans_are_cut_to_their_length(six_rows: tuple[Result, Path]) -> None:
    _, out = six_rows
    for name, seconds in [("002_a.mp4", 2.0), ("eka.mp4", 1.5), ("toka.mp4", 1.5), ("kolmas.mp4", 1.5)]:
        info = probe_output(out / name)
        assert (info["width"], info["height"]) == (1080, 1920)
        assert info["duration"] == pytest.approx(seconds, abs=0.1), name
    assert report(out)[7]["video_seconds"] == pytest.approx(1.5, abs=0.01)


def srt_cues(path: Path) -> list[tuple[float, float, str]]:
    def seconds(text: str) -> float:
        h, m, s = text.replace(",", ".").split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    cues = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        lines = block.splitlines()
        start, end = lines[1].split(" --> ")
        cues.append((seconds(start), seconds(end), " ".join(lines[2:])))
    return cues


def test_captions_of_a_span_are_shifted_to_its_clock(six_rows: tuple[Result, Path]) -> None:
    _, out = six_rows
    (first,) = srt_cues(out / "eka.srt")
    assert first[0] == pytest.approx(0.1, abs=0.05) and first[2] == "Ensimmäinen vastaus"
    (second,) = srt_cues(out / "toka.srt")
    assert second[0] == pytest.approx(0.2, abs=0.05) and second[2] == "Toinen vastaus"
    assert second[1] <= 1.5 + 1e-3


def test_state_records_finished_rows_only(six_rows: tuple[Result, Path]) -> None:
    _, out = six_rows
    state = json.loads((out / STATE_NAME).read_text(encoding="utf-8"))
    assert sorted(state["rows"]) == ["002_a.mp4", "eka.mp4", "kolmas.mp4", "toka.mp4"]
    assert state["rows"]["eka.mp4"]["row"] == 3 and len(state["rows"]["eka.mp4"]["fingerprint"]) == 64


def test_resume_skips_what_is_done_and_redoes_what_changed(six_rows: tuple[Result, Path], folder: Path) -> None:
    _, out = six_rows
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.mp4")}
    result = invoke(str(folder / "vastaukset.csv"), "--out-dir", str(out), "--resume", "--sidecar", "--quiet")
    assert result.exit_code == 1  # the broken rows fail again
    rows = report(out)
    assert [rows[n]["status"] for n in (2, 3, 4, 7)] == ["skipped"] * 4
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.mp4")} == before
    assert result.stdout.count("\n") <= 8  # --quiet: only the summary
    # A changed comment makes that row again, and only that row.
    text = (folder / "vastaukset.csv").read_bytes().decode("utf-8-sig").replace("Loppuun asti", "Loppuun asti!")
    changed = write_csv(folder / "muutettu.csv", text.splitlines())
    result = invoke(str(changed), "--out-dir", str(out), "--resume", "--sidecar", "--quiet")
    rows = report(out)
    assert rows[7]["status"] == "done" and [rows[n]["status"] for n in (2, 3, 4)] == ["skipped"] * 3
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("*.mp4")}
    assert [n for n in after if after[n] != before[n]] == ["kolmas.mp4"]


def test_invalid_rows_are_listed_and_nothing_starts(folder: Path, tmp_path: Path) -> None:
    manifest = write_csv(tmp_path / "m.csv", [
        "clip;comment;output",
        f"{folder / 'a.mp4'};moi;../ulos.mp4",
        f"{folder / 'a.mp4'};moi;/tmp/ulos.mp4",
        f"{folder / 'a.mp4'};moi;x.mp4",
        f"{folder / 'a.mp4'};moi;X.MP4",
        f"{folder / 'a.mp4'};;y.mp4",
    ])
    out = tmp_path / "out"
    result = invoke(str(manifest), "--out-dir", str(out))
    assert result.exit_code == 1
    assert "4 of 5 rows in m.csv are invalid:" in result.stderr
    for needle in ("row 2: output ../ulos.mp4 leaves the out dir", "row 3: output /tmp/ulos.mp4 is an absolute path",
                   "row 5: output X.MP4 is also written by row 4", "row 6: no comment"):
        assert needle in result.stderr
    assert "error: the batch did not start" in result.stderr and not out.exists()


# --- one transcription per recording ---------------------------------------------------------


def _log(line: str) -> None:
    with open(os.environ[ENGINE_LOG], "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def fake_words(audio_seconds: float) -> Transcript:
    if audio_seconds < 3:  # a.mp4
        words = [Word("Lyhyt", 0.2, 0.6), Word("klippi", 0.6, 1.0)]
    else:  # rec.mp4: two words in each span
        words = [Word("Hei", 0.6, 1.0), Word("kaikki", 1.0, 1.4), Word("toinen", 2.7, 3.1),
                 Word("vastaus", 3.1, 3.5), Word("kolmas", 4.6, 5.0), Word("osa", 5.0, 5.4)]
    return Transcript("fi", audio_seconds, (Segment(words[0].start, words[-1].end, "", tuple(words)),),
                      "fake", "faster-whisper")


class CountingTranscriber:
    def transcribe(self, audio: np.ndarray, options: Any, *, on_progress: Any = None) -> Transcript:
        _log(f"transcribe {len(audio) / 16000:.1f}")
        return fake_words(len(audio) / 16000)


def counting_factory(options: Any) -> CountingTranscriber:
    """A transcriber factory the worker processes import by name (spawn)."""
    _log(f"load threads={options.threads}")
    return CountingTranscriber()


def test_a_recording_is_transcribed_once_for_all_its_spans(folder: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "engine.log"
    monkeypatch.setenv(ENGINE_LOG, str(log))
    monkeypatch.setenv("SOSSUT_CACHE_DIR", str(tmp_path / "cache"))
    manifest = write_csv(tmp_path / "live.csv", [
        "clip;comment;start;end;output",
        f"{folder / 'rec.mp4'};Eka;0.5;2;eka.mp4",
        f"{folder / 'rec.mp4'};Toka;2.5;4;toka.mp4",
        f"{folder / 'a.mp4'};Oma klippi;;;oma.mp4",
        f"{folder / 'rec.mp4'};Kolmas;4.5;6;kolmas.mp4",
    ])
    out = tmp_path / "out"
    loaded = load_manifest(manifest, out, default_captions="auto")
    events: list[str] = []
    result = run_batch(loaded, load_settings(), BatchOptions(jobs=1, sidecar=True),
                       transcriber_factory=counting_factory, on_event=lambda e: events.append(e.kind))
    assert [r.status for r in result.results] == ["done"] * 4, [r.error for r in result.results]
    calls = log.read_text(encoding="utf-8").splitlines()
    assert calls.count("transcribe 6.0") == 1 and calls.count("transcribe 2.0") == 1
    assert [c for c in calls if c.startswith("load")] == [f"load threads={available_cores()}"]  # one worker, one model
    assert events.count("transcribed") == 1
    words = {name: srt_cues(out / f"{name}.srt") for name in ("eka", "toka", "kolmas", "oma")}
    assert [c[2] for c in words["eka"]] == ["Hei kaikki"] and words["eka"][0][0] == pytest.approx(0.1, abs=0.05)
    assert [c[2] for c in words["toka"]] == ["toinen vastaus"] and words["toka"][0][0] == pytest.approx(0.2, abs=0.05)
    assert [c[2] for c in words["kolmas"]] == ["kolmas osa"] and words["kolmas"][0][0] == pytest.approx(0.1, abs=0.05)
    assert [c[2] for c in words["oma"]] == ["Lyhyt klippi"]


# --- a worker process that dies --------------------------------------------------------------

DEATH_SECONDS = 3.0  # the clip whose row kills its worker


class DyingTranscriber(CountingTranscriber):
    """Kills its own worker process with SIGKILL, as the out-of-memory killer does, when it is
    given the 3-second clip."""

    def transcribe(self, audio: np.ndarray, options: Any, *, on_progress: Any = None) -> Transcript:
        if abs(len(audio) / 16000 - DEATH_SECONDS) < 0.05:
            _log("die")
            os.kill(os.getpid(), signal.SIGKILL)
        return super().transcribe(audio, options, on_progress=on_progress)


def dying_factory(options: Any) -> DyingTranscriber:
    return DyingTranscriber()


@pytest.mark.parametrize(("jobs", "deaths"), [(1, 1), (2, 2)])
def test_a_row_that_kills_its_worker_fails_alone(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 jobs: int, deaths: int) -> None:
    log = tmp_path / "engine.log"
    monkeypatch.setenv(ENGINE_LOG, str(log))
    monkeypatch.setenv("SOSSUT_CACHE_DIR", str(tmp_path / "cache"))
    make_clip(tmp_path / "kaatuu.mp4", size=(320, 240), seconds=DEATH_SECONDS)
    manifest = write_csv(tmp_path / "m.csv", [
        "clip;comment;output",
        f"{folder / 'a.mp4'};Eka;eka.mp4",
        f"{tmp_path / 'kaatuu.mp4'};Tämä kaataa workerin;kaatuu.mp4",
        f"{folder / 'a.mp4'};Toka;toka.mp4",
        f"{folder / 'a.mp4'};Kolmas;kolmas.mp4",
    ])
    out = tmp_path / "out"
    report = run_batch(load_manifest(manifest, out, default_captions="auto"), load_settings(),
                       BatchOptions(jobs=jobs), transcriber_factory=dying_factory)
    results = {r.output: r for r in report.results}
    assert {name: r.status for name, r in results.items()} == {
        "eka.mp4": "done", "kaatuu.mp4": "failed", "toka.mp4": "done", "kolmas.mp4": "done"}, \
        [r.error for r in report.results]
    dead = results["kaatuu.mp4"]
    assert dead.error == ("the worker stopped unexpectedly (BrokenProcessPool: A process in the process pool was "
                          "terminated abruptly while the future was running or pending.)")
    assert dead.hint == "the machine may be out of memory: try fewer --jobs, then run again with --resume"
    # With other rows beside it, the row ran again alone before it was given up.
    assert log.read_text(encoding="utf-8").splitlines().count("die") == deaths
    assert sorted(p.name for p in out.glob("*.mp4")) == ["eka.mp4", "kolmas.mp4", "toka.mp4"]
    assert not list(out.glob(".*partial*"))
    left = [p.info for p in psutil.process_iter(["pid", "cmdline"]) if str(out) in " ".join(p.info["cmdline"] or ())]
    assert not left, f"still running: {left}"
