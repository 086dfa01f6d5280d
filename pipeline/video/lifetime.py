"""Child processes that end with us: a `kill -9` of sossut must not leave ffmpeg encoding alone.

Takes an argv and `Popen` options; gives back the started process and a `release` callable.
ffmpeg does not notice on its own that its parent is gone: it ignores SIGPIPE and never checks
its `-progress pipe:1` writes (an orphaned ffmpeg encodes to the end, writing to a dead pipe),
and with `-nostdin` it never reads stdin (without it, EOF on stdin does not stop it either).
So the tie is made outside ffmpeg, one way per platform:

- Linux: the kernel sends the child SIGKILL when its parent dies (`prctl(PR_SET_PDEATHSIG)`,
  set in the child between fork and exec). See prctl(2).
- other POSIX (macOS, BSD): a small `sh` watcher reads a pipe whose only writer is this
  process. We write "done" when ffmpeg has ended; if the pipe closes without it, we died, and
  the watcher kills ffmpeg.
- Windows: the child joins a job object that kills its processes when its last handle closes;
  that handle is ours, so Windows closes it when we end, however we end.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any, Literal

log = logging.getLogger(__name__)

Mechanism = Literal["pdeathsig", "watcher", "job", "none"]

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# The watcher: "$1" is ffmpeg's pid. EOF (our end of the pipe closed by our death) or anything
# but "done" means we are gone.
_WATCHER = 'read -r line; [ "$line" = done ] || kill -KILL "$1" 2>/dev/null'


def mechanism() -> Mechanism:
    """How children are tied to this process on this platform (see the module docstring)."""
    if sys.platform == "win32":
        return "job"
    if sys.platform.startswith("linux") and _prctl() is not None:
        return "pdeathsig"
    if os.path.exists("/bin/sh"):
        return "watcher"
    return "none"


def start_tied(argv: Sequence[str], **popen_options: Any) -> tuple[subprocess.Popen[str], Callable[[], None]]:
    """`subprocess.Popen(argv, **popen_options)` for a child that dies when this process dies.

    Call `release()` once the child has ended (or is ending: its output closed): it lets a
    watcher go without killing anything; calling it again does nothing. On Linux the tie is to
    the calling *thread* (prctl(2)), so call this from the thread that waits for the child, as
    `run_ffmpeg` does.

    Raises:
        OSError: the child cannot be started (as `Popen` raises).
    """
    how = mechanism()
    if how == "pdeathsig":
        popen_options["preexec_fn"] = _die_with_parent()
    proc: subprocess.Popen[str] = subprocess.Popen(list(argv), **popen_options)
    if how == "watcher":
        return proc, _watch(proc)
    if how == "job":
        _join_kill_on_close_job(proc.pid)
    return proc, _nothing


def _nothing() -> None:
    pass


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up once before any fork (the child only calls it)."""
    for name in (None, ctypes.util.find_library("c")):
        try:
            prctl = ctypes.CDLL(name, use_errno=True).prctl
        except (OSError, AttributeError):
            continue
        prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        prctl.restype = ctypes.c_int
        return prctl
    return None


def _die_with_parent() -> Callable[[], None]:
    """A `preexec_fn` that asks for SIGKILL when the parent dies (runs in the forked child)."""
    prctl = _prctl()
    assert prctl is not None
    parent = os.getpid()
    kill = 9  # SIGKILL on Linux (named by number: there is no signal.SIGKILL on Windows)

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, kill, 0, 0, 0)
        # The parent may have died between fork and prctl: then the signal will never come.
        if os.getppid() != parent:
            os.kill(os.getpid(), kill)

    return preexec


def _watch(proc: subprocess.Popen[str]) -> Callable[[], None]:
    """Start the `sh` watcher of `proc`; returns `release`, which tells it all went well."""
    read_end, write_end = os.pipe()  # not inheritable: no other child holds our end open
    try:
        watcher = subprocess.Popen(
            ["/bin/sh", "-c", _WATCHER, "sossut-watcher", str(proc.pid)],
            stdin=read_end, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C for us is not for it: it must see how we end
        )
    except OSError as exc:
        os.close(write_end)
        log.debug("no watcher for ffmpeg (%s): it may outlive a killed sossut", exc)
        return _nothing
    finally:
        os.close(read_end)

    released = False

    def release() -> None:
        nonlocal released
        if released:
            return
        released = True
        try:
            os.write(write_end, b"done\n")
        except OSError:
            pass
        finally:
            os.close(write_end)
        watcher.wait()

    return release


def _join_kill_on_close_job(pid: int) -> None:
    """Put process `pid` in our kill-on-close job (Windows); log and go on if that fails."""
    if sys.platform != "win32":
        return
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.OpenProcess.restype = wintypes.HANDLE
    kernel32.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    kernel32.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]
    kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
    job = _kill_on_close_job()
    if job is None:
        return
    process_set_quota, process_terminate = 0x0100, 0x0001
    handle = kernel32.OpenProcess(process_set_quota | process_terminate, False, pid)
    if not handle:
        log.debug("OpenProcess(%d) failed: %d", pid, ctypes.get_last_error())
        return
    try:
        if not kernel32.AssignProcessToJobObject(job, handle):
            log.debug("AssignProcessToJobObject failed: %d", ctypes.get_last_error())
    finally:
        kernel32.CloseHandle(handle)


@functools.cache
def _kill_on_close_job() -> int | None:
    """One job object for all our ffmpeg children; its handle lives as long as we do."""
    if sys.platform != "win32":
        return None
    from ctypes import wintypes

    class BasicLimits(ctypes.Structure):
        _fields_ = [
            ("PerProcessUserTimeLimit", ctypes.c_int64), ("PerJobUserTimeLimit", ctypes.c_int64),
            ("LimitFlags", wintypes.DWORD), ("MinimumWorkingSetSize", ctypes.c_size_t),
            ("MaximumWorkingSetSize", ctypes.c_size_t), ("ActiveProcessLimit", wintypes.DWORD),
            ("Affinity", ctypes.c_size_t), ("PriorityClass", wintypes.DWORD), ("SchedulingClass", wintypes.DWORD),
        ]

    class IoCounters(ctypes.Structure):
        _fields_ = [(name, ctypes.c_uint64) for name in (
            "ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
            "ReadTransferCount", "WriteTransferCount", "OtherTransferCount")]

    class ExtendedLimits(ctypes.Structure):
        _fields_ = [
            ("BasicLimitInformation", BasicLimits), ("IoInfo", IoCounters),
            ("ProcessMemoryLimit", ctypes.c_size_t), ("JobMemoryLimit", ctypes.c_size_t),
            ("PeakProcessMemoryUsed", ctypes.c_size_t), ("PeakJobMemoryUsed", ctypes.c_size_t),
        ]

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateJobObjectW.restype = wintypes.HANDLE
    kernel32.CreateJobObjectW.argtypes = [ctypes.c_void_p, wintypes.LPCWSTR]
    kernel32.SetInformationJobObject.argtypes = [wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p, wintypes.DWORD]
    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        log.debug("CreateJobObject failed: %d", ctypes.get_last_error())
        return None
    limits = ExtendedLimits()
    limits.BasicLimitInformation.LimitFlags = 0x2000  # JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    job_object_extended_limit_information = 9
    if not kernel32.SetInformationJobObject(job, job_object_extended_limit_information, ctypes.byref(limits),
                                            ctypes.sizeof(limits)):
        log.debug("SetInformationJobObject failed: %d", ctypes.get_last_error())
        return None
    return int(job)
