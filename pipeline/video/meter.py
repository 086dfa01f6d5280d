"""Integrated loudness (EBU R128, LUFS) of a clip's span, measured by ffmpeg's `ebur128` meter
in a child process: started before the card is drawn, read before the render is planned.

Takes a clip path and the span used; gives back a `PendingLoudness` whose `result()` is the
LUFS, or None when the clip has no sound. The meter runs on another core while Python draws the
card and lays out the captions, decodes only the span (input seeking) and spares a render
importing numpy: a short clip's render starts ~0.15 s sooner than with `decode_audio` +
`integrated_loudness`. The audio is converted as `decode_audio(path, 48000, "stereo")` converts
it, so both give the same value (within 0.01 LU measured; `tests/media/test_loudness.py`).
"""

from __future__ import annotations

import logging
import re
import subprocess
import tempfile
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import IO

from pipeline.errors import InputError
from pipeline.video.ffmpeg import ffmpeg_path

log = logging.getLogger(__name__)

# Measured on what the render's audio chain hears: 48 kHz stereo (a mono clip counts twice, as
# it plays from both speakers). The meter's integrated value after each 100 ms goes to stdout.
_FILTER = ("aresample=48000,aformat=sample_fmts=dbl:channel_layouts=stereo,"
           r"ebur128=metadata=1,ametadata=mode=print:key=lavfi.r128.I:file='pipe\:1'")
_VALUE = re.compile(rb"lavfi\.r128\.I=(-?[0-9.]+|-?inf)")


class PendingLoudness:
    """A loudness measure under way; `result()` waits for it. Use it in a `with` block (or call
    `close()`): leaving early (an error while the card is drawn) ends the meter."""

    def __init__(self, path: Path, proc: subprocess.Popen[bytes] | None, out: IO[bytes] | None,
                 err: IO[bytes] | None) -> None:
        self._path = path
        self._proc = proc
        self._out = out
        self._err = err

    def result(self) -> float | None:
        """Integrated loudness in LUFS (-70 or below: silence); None: no sound to measure.

        Raises:
            InputError: the clip's audio cannot be decoded.
        """
        if self._proc is None or self._out is None or self._err is None:
            return None
        returncode = self._proc.wait()
        self._out.seek(0)
        self._err.seek(0)
        values = _VALUE.findall(self._out.read())
        message = self._err.read().decode("utf-8", "replace").strip()
        self.close()
        if returncode != 0:
            reason = message.splitlines()[-1] if message else f"ffmpeg exit code {returncode}"
            raise InputError(f"cannot decode the audio of {self._path.name}: {reason}")
        if not values:
            return None
        lufs = float(values[-1])
        log.debug("loudness of %s: %.2f LUFS", self._path.name, lufs)
        return lufs

    def close(self) -> None:
        """End the meter if it still runs and free its files; calling it again does nothing."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        for stream in (self._out, self._err):
            if stream is not None:
                stream.close()
        self._proc = None

    def __enter__(self) -> PendingLoudness:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def start_loudness(path: Path, has_audio: bool, start: float = 0.0, duration: float | None = None
                   ) -> PendingLoudness:
    """Start measuring the integrated loudness of `path` from `start` for `duration` seconds
    (None: to its end). A clip without sound gives a measure whose result is None.

    Raises:
        RenderError: no ffmpeg can be found.
    """
    if not has_audio:
        return PendingLoudness(path, None, None, None)
    argv = [ffmpeg_path(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error"]
    if start > 0:
        argv += ["-ss", f"{start:.3f}"]
    if duration is not None:
        argv += ["-t", f"{duration:.3f}"]
    # Absolute, as the render passes it: a relative name like "concat:x" is not read as a protocol.
    argv += ["-i", str(path.resolve()), "-map", "0:a:0", "-vn", "-sn", "-dn", "-af", _FILTER, "-f", "null", "-"]
    # Files, not pipes: nothing is read until `result()`, and a long span's output must not
    # fill a pipe and stall the meter meanwhile.
    with ExitStack() as files:  # closed here only if the meter cannot start
        out = files.enter_context(tempfile.TemporaryFile())
        err = files.enter_context(tempfile.TemporaryFile())
        # Not tied to us (`lifetime.start_tied`): the tie's preexec hook makes Python fork
        # instead of vfork, ~20 ms more. A meter orphaned by a `kill -9` only reads the span
        # and ends by itself; `close()` ends it on any error or Ctrl-C.
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        files.pop_all()
    return PendingLoudness(path, proc, out, err)
