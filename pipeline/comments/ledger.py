"""Answered ledger: which comments already have a reply video, without keeping the comments.

In: a comment's text, the video made from it, the worker's name and the ledger folder
(`[ledger]` in the config). Out: one line in the worker's own file, and `Ledger`, all workers'
lines merged, which says whether a comment was answered.

A line holds a keyed hash (HMAC-SHA256) of the normalised comment, never the text and never the
commenter's name; the date; the worker; the video's file name (not its folder). The key is made
once per folder (`ledger.key`, random): without it the hashes cannot be tested against guessed
comments, so keep the folder among the workers. Each worker writes only
`answered-<worker>.jsonl`, so a synced folder (Nextcloud, OneDrive) never has two writers on one
file; reading merges every `answered-*.jsonl`.

Normalising: cleaned, personal data masked, lower case, words only (no punctuation, emoji,
repeated letters), so "Voiko ilmoituksen tehdä?? 😟" and "voiko ilmoituksen tehdä" are one.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from pipeline.comments.privacy import clean_display_text, mask_personal_data
from pipeline.comments.words import tokens
from pipeline.config import Settings
from pipeline.errors import InputError, OutputError

log = logging.getLogger(__name__)

KEY_NAME = "ledger.key"
FILE_PREFIX = "answered-"
FILE_SUFFIX = ".jsonl"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One answered comment: its keyed hash, when, by whom, and the video's file name."""

    hash: str
    date: str  # ISO date, YYYY-MM-DD
    worker: str
    output: str  # the file name only
    key_id: str  # which folder key made the hash

    def to_json(self) -> dict[str, Any]:
        return {"hash": self.hash, "date": self.date, "worker": self.worker, "output": self.output,
                "key": self.key_id}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LedgerEntry:
        return cls(str(data["hash"]), str(data["date"]), str(data["worker"]), str(data["output"]),
                   str(data["key"]))


@dataclass(frozen=True, slots=True)
class Ledger:
    """Every worker's answers in one folder, merged."""

    folder: Path
    key: bytes | None  # None: nothing was recorded here yet
    entries: tuple[LedgerEntry, ...]
    skipped: int = 0  # lines that could not be read or were made with another key

    def answers(self, comment: str) -> list[LedgerEntry]:
        """The entries of this comment (empty if it was not answered)."""
        if self.key is None:
            return []
        digest = comment_hash(comment, self.key)
        return [e for e in self.entries if e.hash == digest]

    @property
    def workers(self) -> list[str]:
        return sorted({e.worker for e in self.entries})


def normalize_comment(text: str) -> str:
    """The comment as it is hashed: masked, lower case, its words joined by single spaces."""
    masked = mask_personal_data(clean_display_text(text, keep_newlines=True)).text
    return " ".join(t.norm for t in tokens(masked))


def comment_hash(text: str, key: bytes) -> str:
    """HMAC-SHA256 of the normalised comment, hex."""
    return hmac.new(key, normalize_comment(text).encode("utf-8"), hashlib.sha256).hexdigest()


def ledger_folder(settings: Settings) -> Path:
    """The configured folder, or `ledger` under the user data folder."""
    if settings.ledger.folder:
        return Path(settings.ledger.folder).expanduser()
    return Path(platformdirs.user_data_dir("sossut", appauthor=False)) / "ledger"


def worker_name(settings: Settings, worker: str | None = None) -> str:
    """`worker` if given, else the config's, else the computer's user name."""
    name = (worker or settings.ledger.worker or _login_name()).strip()
    if not name or any(c in name for c in "\n\r\t"):
        raise InputError(f"worker name {name!r} cannot be used", hint="set [ledger] worker or pass --worker NAME")
    return name


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user database entry (some containers)
        return "worker"


def worker_file(folder: Path, worker: str) -> Path:
    """`answered-<worker>.jsonl`, the name made safe for any file system: "Liisa K." ->
    answered-liisa-k-<6 hex>.jsonl (a name that had to change gets a short hash of itself)."""
    ascii_name = unicodedata.normalize("NFKD", worker).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-") or "worker"
    if slug != worker.lower():  # two names that fold to one slug keep apart
        slug += "-" + hashlib.sha256(worker.encode("utf-8")).hexdigest()[:6]
    return folder / f"{FILE_PREFIX}{slug}{FILE_SUFFIX}"


def _key_id(key: bytes) -> str:
    return hmac.new(key, b"sossut ledger key id", hashlib.sha256).hexdigest()[:12]


def _read_key(folder: Path) -> bytes | None:
    path = folder / KEY_NAME
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the ledger key {path}: {exc}") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise InputError(f"the ledger key {path} is damaged",
                         hint="restore it from the other worker's copy of the folder") from None
    if len(key) < 16:
        raise InputError(f"the ledger key {path} is too short", hint="restore it from the other worker's copy")
    return key


def _make_key(folder: Path) -> bytes:
    """The folder's key, made now if there is none (O_EXCL: two processes never make two)."""
    key = _read_key(folder)
    if key is not None:
        return key
    key = secrets.token_bytes(32)
    try:
        fd = os.open(folder / KEY_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(folder) or key
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex() + "\n")
    log.info("made a new ledger key in %s", folder)
    return key


def record_answer(comment_text: str, output: Path | str, settings: Settings, *, worker: str | None = None,
                  date: dt.date | None = None) -> LedgerEntry:
    """Add "this comment is answered by `output`" to the worker's file in the ledger folder.

    Args:
        comment_text: the comment the video answers (as typed or as masked: both hash alike).
        output: the video; only its file name is written.
        settings: `[ledger]` folder and worker.
        worker: the worker's name (`--worker`); default the config's, then the user name.
        date: default today.

    Returns:
        The entry written.

    Raises:
        OutputError: the folder or the worker's file cannot be written.
        InputError: the folder's key is damaged.
    """
    folder = ledger_folder(settings)
    name = worker_name(settings, worker)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        key = _make_key(folder)
    except OSError as exc:
        raise OutputError(f"cannot write the ledger folder {folder} ({exc.strerror})",
                          hint="check [ledger] folder in the config") from None
    entry = LedgerEntry(comment_hash(comment_text, key), (date or dt.date.today()).isoformat(), name,
                        Path(output).name, _key_id(key))
    line = json.dumps(entry.to_json(), ensure_ascii=False) + "\n"
    path = worker_file(folder, name)
    try:
        # One write with O_APPEND: lines from two processes of one worker never interleave.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot write the ledger file {path} ({exc.strerror})") from None
    log.info("recorded an answer in %s", path.name)
    return entry


def read_ledger(folder: Path) -> Ledger:
    """Every worker's file in the folder, merged, oldest first. A missing folder is empty.

    Raises:
        InputError: the folder's key is damaged.
    """
    key = _read_key(folder) if folder.is_dir() else None
    if key is None:
        return Ledger(folder, None, ())
    key_id = _key_id(key)
    entries: list[LedgerEntry] = []
    skipped = 0
    for path in sorted(folder.glob(f"{FILE_PREFIX}*{FILE_SUFFIX}")):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("cannot read %s: %s", path.name, exc)
            continue
        for line in lines:
            if not line.strip():
                continue
            try:
                entry = LedgerEntry.from_json(json.loads(line))
            except (ValueError, KeyError, TypeError):
                skipped += 1
                continue
            if entry.key_id != key_id:
                skipped += 1
                continue
            entries.append(entry)
    if skipped:
        log.warning("%d ledger lines in %s could not be used (damaged, or made with another key)", skipped, folder)
    return Ledger(folder, key, tuple(sorted(entries, key=lambda e: (e.date, e.worker))), skipped)
