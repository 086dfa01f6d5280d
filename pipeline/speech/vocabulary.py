"""Domain terms for the speech engine: a vocabulary file -> terms -> the prompt that primes Whisper.

`read_vocabulary(path)` reads a file (one term a line, `#` comments); `vocabulary_prompt(terms)`
gives the "term, term, term" prompt both engines are given. The built-in list is
`config/vocabulary.txt` (`DEFAULT_VOCABULARY`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pipeline.config import CONFIG_DIR
from pipeline.errors import InputError

DEFAULT_VOCABULARY = CONFIG_DIR / "vocabulary.txt"
# Finnish runs ~2.3 characters a Whisper token; 450 characters stay under the 223-token prompt.
PROMPT_MAX_CHARS = 450


def read_vocabulary(path: Path) -> list[str]:
    """Terms of a vocabulary file: one a line, `#` starts a comment, blank lines skipped.

    Raises:
        InputError: the file cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read vocabulary file {path}: {getattr(exc, 'strerror', None) or exc}",
            hint="give a UTF-8 text file with one term a line",
        ) from None
    terms = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [t for t in terms if t]


def vocabulary_prompt(terms: Iterable[str], max_chars: int = PROMPT_MAX_CHARS) -> str | None:
    """The prompt that primes the engine with domain terms: "term, term, term".

    A plain comma list, no sentence around it and no final full stop: on the fixtures a
    sentence ("Puhumme lastensuojelusta: ...") or a trailing "." made the base model slower
    (temperature fallbacks) and less accurate. Terms are kept in order (a user's file first)
    until `max_chars`, which keeps the prompt within Whisper's 223 prompt tokens.
    """
    kept: list[str] = []
    seen: set[str] = set()
    length = 0
    for term in terms:
        term = " ".join(term.split())
        if not term or term.lower() in seen:
            continue
        if length + len(term) + 2 > max_chars:
            break
        kept.append(term)
        seen.add(term.lower())
        length += len(term) + 2
    return ", ".join(kept) or None
