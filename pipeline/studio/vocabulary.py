"""The studio's vocabulary file: the terms a person taught it ("Opeta sana"), one a line.

In: the file (`sossut studio --vocabulary FILE`, else `sanasto.txt` in the studio folder) and terms
the page sends. Out: the same file, written atomically, in the format `read_vocabulary` reads (one
term a line, `#` starts a comment), so `sossut render --vocabulary FILE` and later transcriptions
in the studio use it. Lines a person wrote by hand (comments included) are kept as they are.
"""

from __future__ import annotations

import threading
from pathlib import Path

from pipeline.files import atomic_write

DEFAULT_NAME = "sanasto.txt"
MAX_TERM_CHARS = 60
MAX_TERMS = 500
HEADER = ("# Sossut-studion sanasto: yksi sana tai nimi riville. Tekstitys käyttää näitä.\n"
          "# Sama tiedosto käy komennolle: sossut render ... --vocabulary tämä-tiedosto\n")

_lock = threading.Lock()


def clean_term(text: str) -> str:
    """A term as it is stored: spaces collapsed, the punctuation around a word removed.

    Raises:
        ValueError: empty, too long, or holding a `#` or a control character.
    """
    term = " ".join(text.split()).strip(".,;:!?…\"'()[]{}«»”“’")
    if not term or len(term) > MAX_TERM_CHARS or "#" in term or not term.isprintable():
        raise ValueError("not a term")
    return term


def _term_of(line: str) -> str:
    return line.split("#", 1)[0].strip()


def read_terms(path: Path) -> list[str]:
    """The terms of the file (none when it does not exist yet)."""
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8-sig")
    return [t for t in (_term_of(line) for line in text.splitlines()) if t]


def add_term(path: Path, text: str) -> list[str]:
    """Add a term (no duplicate, ignoring case); the file is made when missing.

    Raises:
        ValueError: not a term, or the file is full.
    """
    term = clean_term(text)
    with _lock:
        lines = path.read_text(encoding="utf-8-sig").splitlines() if path.is_file() else HEADER.splitlines()
        terms = [t for t in (_term_of(line) for line in lines) if t]
        if term.lower() not in {t.lower() for t in terms}:
            if len(terms) >= MAX_TERMS:
                raise ValueError("too many terms")
            lines.append(term)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, "\n".join(lines) + "\n", mode=0o600)
    return read_terms(path)


def remove_term(path: Path, text: str) -> list[str]:
    """Remove the lines holding this term (exactly as listed); other lines stay as they are."""
    with _lock:
        if path.is_file():
            lines = path.read_text(encoding="utf-8-sig").splitlines()
            kept = [line for line in lines if _term_of(line) != text.strip()]
            if len(kept) != len(lines):
                atomic_write(path, "\n".join(kept) + "\n", mode=0o600)
    return read_terms(path)
