"""A batch killed with SIGKILL in the middle, then `--resume`: every row done exactly once, no
partial files, nothing finished made again, no worker or ffmpeg left running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from pipeline.batch.run import STATE_NAME
from tests.conftest import REPO, make_clip, probe_output

pytestmark = pytest.mark.media

ROWS = 4


def sossut_batch(*args: str) -> list[str]:
    """`python -m pipeline batch ...`."""
    return [sys.executable, "-m", "pipeline", "batch", *args]


def recorded(out: Path) -> dict[str, dict[str, object]]:
    try:
        return json.loads((out / STATE_NAME).read_text(encoding="utf-8"))["rows"]  # type: ignore[no-any-return]
    except (FileNotFoundError, ValueError):
        return {}


def test_resume_after_sigkill(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "klippi.mp4", size=(320, 240), seconds=2)
    lines = ["clip;comment;output"] + [f"klippi.mp4;Kysymys numero {i};vastaus{i}.mp4" for i in range(1, ROWS + 1)]
    manifest = tmp_path / "m.csv"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    out = tmp_path / "out"
    argv = sossut_batch(str(manifest), "--out-dir", str(out), "--jobs", "1", "--captions", "none")

    proc = psutil.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(2400):  # poll up to ~2 minutes for the first finished row
        if recorded(out):
            break
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        time.sleep(0.05)
    else:
        pytest.fail("no row finished")
    # Kill while the next row renders, if it has started.
    tree = proc.children(recursive=True)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert tree, "the batch ran no worker process"
    _, alive = psutil.wait_procs(tree, timeout=10)
    assert not alive, f"left running after the batch was killed: {[p.info for p in alive]}"  # type: ignore[attr-defined]

    partials = [p.name for p in out.iterdir() if "partial" in p.name]  # usually one: the next row's
    done_before = recorded(out)
    assert 1 <= len(done_before) < ROWS
    mtimes = {name: (out / name).stat().st_mtime_ns for name in done_before}

    resumed = subprocess.run(sossut_batch(str(manifest), "--out-dir", str(out), "--resume", "--captions", "none"), cwd=REPO,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))["rows"]
    assert sorted(r["row"] for r in report) == list(range(2, ROWS + 2))  # each row once
    for r in report:
        assert r["status"] == ("skipped" if r["output"] in done_before else "done"), r
    assert sorted(recorded(out)) == sorted(f"vastaus{i}.mp4" for i in range(1, ROWS + 1))
    assert {name: (out / name).stat().st_mtime_ns for name in done_before} == mtimes  # not made again
    assert not [p.name for p in out.iterdir() if "partial" in p.name], partials
    assert sorted(p.name for p in out.glob("*.mp4")) == sorted(f"vastaus{i}.mp4" for i in range(1, ROWS + 1))
    for i in range(1, ROWS + 1):
        assert probe_output(out / f"vastaus{i}.mp4")["duration"] == pytest.approx(2.0, abs=0.1)
    assert clip.exists()
