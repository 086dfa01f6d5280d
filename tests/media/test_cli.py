"""The `sossut` command as a user meets it: one-line errors, exit codes, nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO, make_clip, poll_until, probe_output

pytestmark = pytest.mark.media


def sossut(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True,
                          cwd=cwd or REPO, timeout=300)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return errors[0]


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("broken")
    good = make_clip(folder / "good.mp4", size=(320, 240), seconds=3, faststart=False)
    fast = make_clip(folder / "fast.mp4", size=(320, 240), seconds=3, faststart=True)
    data = good.read_bytes()
    (folder / "truncated.mp4").write_bytes(data[: len(data) // 2])  # index at the end: lost
    fdata = fast.read_bytes()
    (folder / "truncated_fs.mp4").write_bytes(fdata[: len(fdata) // 2])  # index first, data cut
    (folder / "notes.mp4").write_text("tämä on tekstitiedosto, ei video\n", encoding="utf-8")
    subprocess.run([sys.executable, "-c", "from tests.conftest import run; import sys; "
                    f"run('-f', 'lavfi', '-i', 'sine=d=1', r'{folder / 'audio.m4a'}')"], check=True, cwd=REPO)
    (folder / "empty.mp4").write_bytes(b"")
    return {p.stem: p for p in folder.iterdir()}


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("missing", "file not found"),
        ("notes", "not a readable media file"),
        ("truncated", "not a readable media file"),
        ("truncated_fs", "truncated"),
        ("audio", "no video stream"),
        ("empty", "empty"),
    ],
)
def test_bad_clips_fail_with_one_clear_line(broken: dict[str, Path], tmp_path: Path, name: str, needle: str) -> None:
    clip = broken.get(name, tmp_path / "missing.mp4")
    out = tmp_path / "out.mp4"
    result = sossut("render", str(clip), "-o", str(out), "--comment", "moi")
    assert result.returncode == 1
    line = one_error_line(result)
    assert needle in line and clip.name in line
    assert not out.exists() and not list(tmp_path.glob(".*partial*"))


def test_unwritable_output_and_output_equal_to_input(broken: dict[str, Path], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = sossut("render", str(broken["good"]), "-o", str(blocker / "out.mp4"), "--comment", "moi")
    assert result.returncode == 1 and "cannot create the folder" in one_error_line(result)
    # found before the probe: a clip that is not a video does not get that far
    result = sossut("render", str(broken["notes"]), "-o", str(blocker / "out.mp4"), "--comment", "moi")
    assert result.returncode == 1 and "cannot create the folder" in one_error_line(result)
    before = broken["good"].read_bytes()
    result = sossut("render", str(broken["good"]), "-o", str(broken["good"]), "--comment", "moi")
    assert result.returncode == 1 and "overwrite the input" in one_error_line(result)
    assert broken["good"].read_bytes() == before


def test_usage_errors_exit_2(broken: dict[str, Path], tmp_path: Path) -> None:
    out = str(tmp_path / "o.mp4")
    assert sossut("render", str(broken["good"]), "-o", out, "--comment", "x", "--reframe", "zoom").returncode == 2
    assert sossut("render", str(broken["good"]), "-o", out).returncode == 2  # no --comment
    assert sossut("frobnicate").returncode == 2


@pytest.mark.parametrize(("extra", "option"), [
    (["--language", "xx"], "--language"),
    (["--captions", "{notes}"], "--captions"),
    (["--avatar", "{missing}"], "--avatar"),
    (["--vocabulary", "{missing}"], "--vocabulary"),
    (["--config", "{missing}"], "--config"),
    (["--config", "{folder}"], "--config"),
])
def test_option_errors_come_before_the_probe(broken: dict[str, Path], tmp_path: Path, extra: list[str],
                                             option: str) -> None:
    # notes.mp4 is text: had it been probed, the error would be "not a readable media file".
    notes = tmp_path / "notes.txt"
    notes.write_text("1\n00:00:00,000 --> 00:00:01,000\nmoi\n", encoding="utf-8")
    paths = {"notes": notes, "missing": tmp_path / "puuttuu.txt", "folder": tmp_path}
    out = tmp_path / "o.mp4"
    result = sossut("render", str(broken["notes"]), "-o", str(out), "--comment", "x",
                    *(a.format(**paths) for a in extra))
    assert result.returncode == 2, result.stderr
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and f"'{option}'" in errors[0], result.stderr
    assert "readable media" not in result.stderr and "Traceback" not in result.stderr
    assert not out.exists() and not list(tmp_path.glob(".*partial*"))


def test_transcribe_output_format_comes_before_the_clip(broken: dict[str, Path], tmp_path: Path) -> None:
    result = sossut("transcribe", str(broken["notes"]), "-o", str(tmp_path / "out.txt"))
    assert result.returncode == 2
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and "'--output'" in errors[0] and ".json, .srt, .vtt or .ass" in errors[0]
    assert not (tmp_path / "out.txt").exists()


def test_bad_config_is_one_line(broken: dict[str, Path], tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[card]\nmax_linez = 3\n", encoding="utf-8")
    result = sossut("render", str(broken["good"]), "-o", str(tmp_path / "o.mp4"), "--comment", "x", "--config", str(cfg))
    assert result.returncode == 1 and "card.max_linez" in one_error_line(result)


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = sossut("render", str(tmp_path / "nope.mp4"), "-o", str(tmp_path / "o.mp4"), "--comment", "x", "--debug")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_render_and_card_commands(broken: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "sub dir" / "reply.mp4"
    result = sossut("render", str(broken["good"]), "-o", str(out), "--comment", "Moi! 👋", "--user", "liisa",
                    "--reframe", "fit", "--captions", "none")
    assert result.returncode == 0, result.stderr
    assert probe_output(out)["width"] == 1080
    card = tmp_path / "card.png"
    result = sossut("card", "--comment", "Onko huostaanotto aina pysyvä? 🤔", "--user", "liisa", "-o", str(card))
    assert result.returncode == 0, result.stderr
    from PIL import Image

    with Image.open(card) as image:
        assert image.mode == "RGBA" and 820 <= image.width <= 1000


def test_demo_renders_the_bundled_sample(tmp_path: Path) -> None:
    out = tmp_path / "demo.mp4"
    result = sossut("demo", "-o", str(out))
    assert result.returncode == 0, result.stderr
    info = probe_output(out)
    assert (info["width"], info["height"]) == (1080, 1920) and info["audio_codec"] == "aac"
    assert (REPO / "assets" / "demo" / "demo.mp4").stat().st_size < 2_000_000


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupted_render_leaves_nothing(tmp_path: Path, how: str) -> None:
    clip = make_clip(tmp_path / "long.mp4", size=(1920, 1080), seconds=40, fps="30")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "reply.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "render", str(clip), "-o", str(out), "--comment", "x",
                             "--captions", "none"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    children: list[psutil.Process] = []

    def writing() -> bool:  # ffmpeg runs and writes the temp file
        children[:] = [c for c in psutil.Process(proc.pid).children(recursive=True) if "ffmpeg" in c.name()]
        return bool(children and list(out_dir.glob(".*partial*")))

    poll_until(writing, "ffmpeg writing the temp file", polls=1200)
    assert children, "ffmpeg never started"
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)  # the terminal sends SIGINT to the whole group
    else:
        proc.send_signal(signal.SIGTERM)  # `kill PID` reaches sossut only
    proc.wait(timeout=60)
    assert proc.returncode != 0
    time.sleep(0.5)
    assert not out.exists()
    assert not list(out_dir.iterdir()), list(out_dir.iterdir())
    assert not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children), "ffmpeg left running"


def test_sossut_ffmpeg_chooses_the_binary(broken: dict[str, Path], tmp_path: Path) -> None:
    from pipeline.video.ffmpeg import ffmpeg_path

    base = [sys.executable, "-m", "pipeline", "render", str(broken["good"]), "--comment", "x", "--captions", "none"]
    env = {**os.environ, "SOSSUT_FFMPEG": str(tmp_path / "no-such-ffmpeg")}
    result = subprocess.run([*base, "-o", str(tmp_path / "a.mp4")], env=env, cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 1 and "SOSSUT_FFMPEG" in one_error_line(result)
    # a wrapper script that records it was used, then runs the real ffmpeg
    marker = tmp_path / "used"
    wrapper = tmp_path / "my-ffmpeg"
    wrapper.write_text(f'#!/bin/sh\ntouch "{marker}"\nexec "{ffmpeg_path()}" "$@"\n')
    wrapper.chmod(0o755)
    env["SOSSUT_FFMPEG"] = str(wrapper)
    result = subprocess.run([*base, "-o", str(tmp_path / "b.mp4")], env=env, cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert marker.exists() and (tmp_path / "b.mp4").is_file()
