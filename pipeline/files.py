"""Shared file plumbing: atomic writes, text decoding, CSV delimiters, path containment.

One home for what every stage needs when it touches files, so each is done one way:

- `atomic_path(path)` / `atomic_write(path, data)`: a hidden temp file beside the target,
  renamed over it only when complete (never a half-written output), removed on any failure.
  The temp name carries the writer's pid (`.NAME.<pid>.<random>.partial.EXT`), so the next run
  can tell a stale partial (its process is gone) from one being written (`remove_stale_partials`).
- `read_text_file(path)` / `decode_text(data)`: text as people save it on any OS: UTF-8 with or
  without a BOM, UTF-16 with a BOM (Excel's "Unicode text"), or Windows-1252 (Excel's plain
  "CSV" in a Finnish locale).
- `csv_delimiter(text)`: comma, semicolon (Finnish Excel) or tab, guessed from the header line.
- `is_inside(path, root)`: containment after resolving links and `..`.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import InputError, OutputError

log = logging.getLogger(__name__)

PARTIAL = ".partial"
_PARTIAL_NAME = re.compile(r"^\.(?P<stem>.*)\.(?P<pid>\d+)\.[^.]+\.partial(?P<suffix>\.[^.]*)?$")


def output_mode() -> int:
    """The mode a new file gets under the current umask (mkstemp makes 0600)."""
    return 0o666 & ~_umask()


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    # Linux shows the umask without changing it; elsewhere it can only be read by setting it,
    # so threads (the studio's workers) take turns.
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def partial_prefix(path: Path) -> str:
    """The start of every temp name `atomic_path` uses for `path` in this process."""
    return f".{path.stem}.{os.getpid()}."


@contextmanager
def atomic_path(path: Path, *, mode: int | None = None) -> Iterator[Path]:
    """A temp path beside `path`; renamed onto `path` when the block ends without an error.

    The temp file is created empty (so the name is ours), in the same folder (so the rename is
    atomic). On any exception, KeyboardInterrupt included, it is removed and `path` is untouched.

    Args:
        path: the final file.
        mode: its permission bits; default the usual mode under the umask.

    Raises:
        OutputError: the folder does not exist or cannot be written.
    """
    folder = path.parent
    try:
        fd, name = tempfile.mkstemp(prefix=partial_prefix(path), suffix=PARTIAL + path.suffix, dir=folder)
        os.close(fd)
    except FileNotFoundError:
        raise OutputError(f"{path}: the folder {folder} does not exist",
                          hint="create the folder first or choose another output path") from None
    except OSError as exc:
        raise OutputError(f"{path}: cannot write here ({exc.strerror})",
                          hint="choose a folder you can write to") from None
    tmp = Path(name)
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        os.chmod(tmp, output_mode() if mode is None else mode)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None


def atomic_write(path: Path, data: str | bytes, *, encoding: str = "utf-8", mode: int | None = None) -> None:
    """Write `data` to `path` all at once (temp file, fsync, rename). Text is written as given
    (no newline translation), in `encoding` ("utf-8-sig" adds the BOM Excel wants)."""
    raw = data.encode(encoding) if isinstance(data, str) else data
    with atomic_path(path, mode=mode) as tmp, open(tmp, "wb") as fh:
        fh.write(raw)
        fh.flush()
        os.fsync(fh.fileno())


def remove_stale_partials(path: Path) -> list[Path]:
    """Delete the temp files of `path` left by a process that no longer runs (a `kill -9`).

    Temp files of a live process (another render of the same output going on) are kept.
    Returns the files removed.
    """
    removed = []
    try:
        candidates = list(path.parent.glob(f".{glob_escape(path.stem)}.*{PARTIAL}{glob_escape(path.suffix)}"))
    except OSError:
        return []
    for candidate in candidates:
        match = _PARTIAL_NAME.match(candidate.name)
        if not match or match["stem"] != path.stem:
            continue
        pid = int(match["pid"])
        if pid != os.getpid() and process_alive(pid):
            continue
        try:
            candidate.unlink()
            removed.append(candidate)
            log.info("removed %s, left by an interrupted run", candidate.name)
        except OSError:
            pass
    return removed


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists (on this machine)."""
    if pid <= 0:
        return False
    try:
        import psutil

        return bool(psutil.pid_exists(pid)) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except ImportError:  # pragma: no cover - psutil is a dependency
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    except Exception:  # psutil.NoSuchProcess between the two calls
        return False


def glob_escape(text: str) -> str:
    """`text` with glob's special characters made literal."""
    return re.sub(r"([*?\[])", r"[\1]", text)


# --- text files -------------------------------------------------------------------------------


def decode_text(data: bytes, name: str = "the file") -> tuple[str, str]:
    """Bytes of a text file -> (text, encoding name).

    Order: a UTF-16 BOM, UTF-8 (BOM or not), then Windows-1252, which is what Excel's plain
    "CSV" and Notepad's "ANSI" save in a Finnish locale.

    Raises:
        InputError: the bytes are not text (NUL bytes without a UTF-16 BOM, or bytes that no
            encoding above accepts).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            raise InputError(f"{name}: broken UTF-16 text", hint="save it as UTF-8") from None
    if b"\x00" in data:
        raise InputError(f"{name}: not a text file", hint="save it as UTF-8 text")
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        raise InputError(f"{name}: not UTF-8 text", hint="save it as UTF-8") from None


def read_bytes(path: Path, what: str = "file") -> bytes:
    """The bytes of `path`, or an `InputError` that says why not."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a {what}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None


def read_text_file(path: Path, what: str = "file") -> tuple[str, str]:
    """(text, encoding name) of a text file people saved; see `decode_text`.

    Raises:
        InputError: missing, a folder, unreadable, or not text.
    """
    return decode_text(read_bytes(path, what), path.name)


def csv_delimiter(text: str) -> str:
    """The delimiter of CSV `text`: the most frequent of `;`, `,` and tab in its first non-empty
    line, outside quotes; `;` wins a tie (what Excel saves in a Finnish locale).

    Kept instead of `csv.Sniffer`: the sniffer guesses from character frequencies over many
    lines and picks letters or spaces as delimiters on short files with one column.
    """
    first = next((line for line in text.splitlines() if line.strip()), "")
    bare = re.sub(r'"[^"]*"', "", first)
    counts = {d: bare.count(d) for d in (";", ",", "\t")}
    best = max(counts.values())
    if best == 0:
        return ","
    return next(d for d in (";", "\t", ",") if counts[d] == best)


# --- paths ------------------------------------------------------------------------------------


def is_inside(path: Path, root: Path) -> bool:
    """Whether `path` lies inside folder `root` once links and `..` are resolved."""
    real = os.path.realpath(path)
    base = os.path.realpath(root).rstrip(os.sep) + os.sep
    return real.startswith(base)


def cache_root() -> Path:
    """The root of sossut's caches: `$SOSSUT_CACHE_DIR`, else the user cache directory
    (platformdirs); callers use a subfolder named for what they keep."""
    env = os.environ.get("SOSSUT_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("sossut"))
