"""Find and run ffmpeg: one child process, its stderr kept, its `-progress` read, ended on Ctrl-C
and ended with us when we are killed (`lifetime.start_tied`).

The binary is the static build inside `imageio-ffmpeg` unless `SOSSUT_FFMPEG` names another.
"""

from __future__ import annotations

import collections
import functools
import importlib.util
import logging
import os
import shlex
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline.errors import RenderError
from pipeline.video.lifetime import start_tied

log = logging.getLogger(__name__)

# ffmpeg messages we can explain; the first match adds its hint to the RenderError.
_HINTS = (
    ("Unknown encoder 'libx264'", "install an ffmpeg build with libx264 (the one in imageio-ffmpeg has it)"),
    ("No such filter: 'zscale'", "HDR clips need an ffmpeg built with libzimg (imageio-ffmpeg's has it)"),
    ("No such filter: 'subtitles'", "captions need an ffmpeg built with libass (imageio-ffmpeg's has it)"),
    ("No such filter: 'ass'", "captions need an ffmpeg built with libass (imageio-ffmpeg's has it)"),
    ("No space left on device", "free some disk space where the output goes"),
    ("Permission denied", "check that the output folder is writable"),
    ("moov atom not found", "the clip looks truncated (an interrupted recording or copy)"),
    ("partial file", "the clip looks truncated (an interrupted recording or copy)"),
    ("Invalid data found when processing input", "the clip is damaged or not a video file"),
)


@functools.cache
def ffmpeg_path() -> str:
    """The ffmpeg binary to run: `$SOSSUT_FFMPEG`, else imageio-ffmpeg's bundled static build.

    Raises:
        RenderError: `SOSSUT_FFMPEG` names nothing runnable, or no ffmpeg can be found.
    """
    override = os.environ.get("SOSSUT_FFMPEG")
    if override:
        found = shutil.which(override)
        if not found:
            raise RenderError(
                f"SOSSUT_FFMPEG={override} is not an executable ffmpeg",
                hint="unset SOSSUT_FFMPEG to use the bundled ffmpeg",
            )
        return found
    bundled = _bundled_ffmpeg()
    if bundled:
        return bundled
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception as exc:  # imageio-ffmpeg raises RuntimeError when its binary is missing
        raise RenderError(
            f"no ffmpeg found ({exc})", hint="pip install imageio-ffmpeg, or set SOSSUT_FFMPEG"
        ) from None


def _bundled_ffmpeg() -> str | None:
    """imageio-ffmpeg's static build, found without running it: its own lookup runs
    `ffmpeg -version` first, which costs every render's start 0.03-0.2 s. None: not this one
    binary in the wheel's `binaries/` (another install, or $IMAGEIO_FFMPEG_EXE), so ask it."""
    if os.environ.get("IMAGEIO_FFMPEG_EXE"):
        return None
    spec = importlib.util.find_spec("imageio_ffmpeg")
    if spec is None or spec.origin is None:
        return None
    found = [p for p in (Path(spec.origin).parent / "binaries").glob("ffmpeg-*")
             if p.is_file() and os.access(p, os.X_OK)]
    return str(found[0]) if len(found) == 1 else None


def run_ffmpeg(
    argv: Sequence[str],
    *,
    duration: float | None = None,
    on_progress: Callable[[float], None] | None = None,
    cwd: Path | None = None,
    what: str = "ffmpeg",
) -> str:
    """Run one ffmpeg command to the end and return its stderr.

    `argv` must contain `-progress pipe:1` for `on_progress` to be called (fraction 0..1 of
    `duration`). Ctrl-C or SIGTERM (as KeyboardInterrupt) ends the child before re-raising; a
    `kill -9` of this process ends it too (see `pipeline.video.lifetime`).

    Raises:
        RenderError: ffmpeg exited with an error; holds argv and the tail of stderr.
    """
    argv = list(argv)
    log.debug("ffmpeg %s", shlex.join(argv))
    stderr_tail: collections.deque[str] = collections.deque(maxlen=60)
    proc, release = start_tied(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        text=True,
        encoding="utf-8",
        errors="replace",
    )

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            stderr_tail.append(line.rstrip())

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if on_progress and duration and line.startswith("out_time_us="):
                value = line.split("=", 1)[1].strip()
                if value.isdigit():
                    on_progress(min(1.0, int(value) / 1e6 / duration))
        # ffmpeg closes its progress output as it exits: from here it no longer needs a watcher.
        release()
        returncode = proc.wait()
    except BaseException:
        _stop(proc)
        release()
        raise
    finally:
        reader.join(timeout=5)
    stderr = "\n".join(stderr_tail)
    if returncode != 0:
        raise RenderError(
            f"{what} failed: {_last_error_line(stderr)}",
            hint=_hint_for(stderr),
            argv=argv,
            stderr=stderr,
        )
    if on_progress:
        on_progress(1.0)
    return stderr


def _stop(proc: subprocess.Popen[str]) -> None:
    """End ffmpeg: SIGTERM (it finishes cleanly), then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _last_error_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for line in reversed(lines):
        lower = line.lower()
        if any(word in lower for word in ("error", "invalid", "no such", "failed", "denied", "unknown")):
            return line
    return lines[-1] if lines else "no message"


def _hint_for(stderr: str) -> str:
    for needle, hint in _HINTS:
        if needle in stderr:
            return hint
    return "run again with --debug to see the ffmpeg command"
