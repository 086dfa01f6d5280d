"""Transcriptions in a child process: clips + `TranscribeOptions` -> `Transcript`s, model gone.

`transcribe_file_in_child(path, options)` runs `transcribe_file` in a new Python process and
returns when that process has ended. It is for one clip before an encode (`sossut render
--captions auto`): the model lives and dies with the child, so the render starts without it.
`transcribe_files_in_child(paths, options)` does several clips in one child that loads the
model once (a duet's two recordings, the clips of a joined reply).
Dropping the model in this process is not enough: CTranslate2, onnxruntime and glibc's
allocator keep most of it mapped (measured on a 60 s clip with the base model: 430 MB, 360 MB
after `del` and `gc.collect()`, 200 MB after `malloc_trim`; this process stays near 90 MB).
Batch workers keep one loaded model for many rows with `get_transcriber` instead.

The child is `python -c BOOTSTRAP`, not a multiprocessing process: it does not re-import the
caller's main module (which may be a script without a `__main__` guard, or stdin) and leaves
no resource tracker process behind. The parent writes two pickles to its stdin (`sys.path`,
then the job); the child sends pickled messages on its stdout, whose file descriptor it keeps
for that alone (anything else written to stdout goes to stderr): its log records, progress,
and last the transcript or the exception to raise.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pipeline.errors import TranscribeError
from pipeline.speech.options import Progress, TranscribeOptions, TranscriberFactory
from pipeline.speech.transcribe import transcribe_file
from pipeline.types import Transcript

log = logging.getLogger(__name__)

Kind = Literal["log", "progress", "transcript", "error"]

# The child's first lines: take the parent's sys.path, so it imports the same `pipeline`.
BOOTSTRAP = (
    "import pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer); "
    "from pipeline.speech.child import serve; serve()"
)


def transcribe_file_in_child(
    path: Path,
    options: TranscribeOptions,
    *,
    cache: bool = True,
    on_progress: Progress | None = None,
    transcriber_factory: TranscriberFactory | None = None,
) -> Transcript:
    """`transcribe_file` in a child process that has ended when this returns (see
    `transcribe_files_in_child`, of which this is the one-file case)."""
    return transcribe_files_in_child([path], options, cache=cache, on_progress=on_progress,
                                     transcriber_factory=transcriber_factory)[0]


def transcribe_files_in_child(
    paths: Sequence[Path],
    options: TranscribeOptions,
    *,
    cache: bool = True,
    on_progress: Progress | None = None,
    transcriber_factory: TranscriberFactory | None = None,
) -> list[Transcript]:
    """`transcribe_file` on each of `paths`, in order, in one child process (the model loaded
    once, on the first cache miss) that has ended when this returns.

    The child's log records go to this process's handlers and its progress (over all the
    files) to `on_progress`, in the calling thread. The first file that fails ends the child.

    Args:
        paths: video or audio files.
        options: engine, model, language, vocabulary.
        cache: read and write `<cache>/transcripts/`.
        on_progress: called with 0.0 .. 1.0.
        transcriber_factory: TranscribeOptions -> Transcriber, called in the child before
            transcribing; default: `get_transcriber`, only on a cache miss. A module-level
            function (it is pickled by name).

    Raises:
        InputError: the clip cannot be read or has no audio.
        TranscribeError: the engine or model failed, or the child process died.
    """
    # The child sends the records this process would show: its own and the engines' loggers.
    log_level = min(logging.getLogger().getEffectiveLevel(), logging.getLogger("pipeline").getEffectiveLevel())
    job = (tuple(paths), options, cache, on_progress is not None, transcriber_factory, log_level)
    child = subprocess.Popen([sys.executable, "-c", BOOTSTRAP], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None
    log.debug("transcribing %s in process %d", ", ".join(p.name for p in paths), child.pid)
    try:
        with child.stdin:
            pickle.dump(sys.path, child.stdin)
            pickle.dump(job, child.stdin)
        while True:
            try:
                kind, value = pickle.load(child.stdout)
            except (EOFError, pickle.UnpicklingError):  # it ended (or wrote garbage) before its answer
                child.kill()
                code = child.wait()
                raise TranscribeError(
                    f"the speech process ended before it finished (exit code {code})",
                    hint="see the messages above; it may have run out of memory (try closing other programs)",
                ) from None
            if kind == "log":
                logger = logging.getLogger(value.name)
                if logger.isEnabledFor(value.levelno):
                    logger.handle(value)
            elif kind == "progress":
                if on_progress:
                    on_progress(value)
            else:
                break
        child.stdout.close()
        child.wait()
    finally:
        if child.poll() is None:  # interrupted: the model must not go on running
            child.kill()
            child.wait()
    if kind == "error":
        raise value
    transcripts: list[Transcript] = value
    return transcripts


def serve() -> None:
    """The child's side: read the job from stdin, transcribe, send the messages, exit."""
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not break the channel

    def send(kind: Kind, value: Any) -> None:
        pickle.dump((kind, value), channel)
        channel.flush()

    try:
        paths, options, cache, report_progress, factory, log_level = pickle.load(sys.stdin.buffer)
        root = logging.getLogger()
        root.handlers[:] = [_SendLogs(send)]  # to the parent's handlers (the CLI configures those)
        root.setLevel(log_level)
        transcriber = factory(options) if factory else None
        transcripts = []
        for index, path in enumerate(paths):
            def progress(fraction: float, index: int = index) -> None:
                send("progress", (index + fraction) / len(paths))

            transcripts.append(transcribe_file(path, options, transcriber=transcriber, cache=cache,
                                               on_progress=progress if report_progress else None))
    except BaseException as exc:  # handed to the parent, which raises it
        send("error", _portable(exc))
    else:
        send("transcript", transcripts)
    channel.close()


def _portable(exc: BaseException) -> BaseException:
    """`exc` with the child's traceback as a note, or a TranscribeError if it cannot be pickled."""
    exc.add_note("in the speech process:\n" + "".join(traceback.format_exception(exc)).rstrip())
    try:
        pickle.dumps(exc)
    except Exception:  # an engine's exception that cannot cross processes
        return TranscribeError(f"speech recognition failed: {type(exc).__name__}: {exc}")
    return exc


class _SendLogs(logging.Handler):
    """Sends log records (message formatted, traceback as text) to the parent."""

    def __init__(self, send: Callable[[Kind, Any], None]) -> None:
        super().__init__()
        self.send = send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if record.exc_info:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.msg, record.args, record.exc_info = record.getMessage(), None, None
            self.send("log", record)
        except Exception:
            self.handleError(record)
