"""Finnish word readings from Voikko: is this word (in any inflected form) a name, a place, a word?

In: one word as written ("matille", "Tampereelta"). Out: `Reading`s, one per analysis Voikko
gives (word class, base form, case), or `None` when Voikko is not installed.

Voikko is a native library (Debian `libvoikko1` + `voikko-fi`, the Python binding `libvoikko`).
Where it is missing the rest of the masking still runs; names, towns and lower-case school names
are then not checked, and a warning says so once.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

MISSING_WARNING = (
    "Voikko (libvoikko + voikko-fi) is not installed: names, towns and lower-case school names in "
    "comments are NOT masked; see README, 'Names and Voikko'"
)

# Voikko's word classes (CLASS) that mark proper names.
FIRST_NAME = "etunimi"
SURNAME = "sukunimi"
PLACE = "paikannimi"
OTHER_NAME = "nimi"  # other proper names: "Kaleva"
PROPER = frozenset({FIRST_NAME, SURNAME, PLACE, OTHER_NAME})


@dataclass(frozen=True, slots=True)
class Reading:
    """One analysis of a word."""

    word_class: str  # Voikko's CLASS: "etunimi", "nimisana", "teonsana", "asemosana", ...
    baseform: str  # "Matti" for "matille"
    case: str  # Voikko's SIJAMUOTO: "omanto" (genitive), "ulkotulento", ... or ""


_lock = threading.Lock()  # one libvoikko handle is not safe to share between threads


@functools.cache
def _voikko() -> Any | None:
    try:
        import libvoikko  # type: ignore[import-untyped,unused-ignore]

        return libvoikko.Voikko("fi")
    except Exception as exc:  # ImportError, OSError (no libvoikko.so), VoikkoException (no voikko-fi)
        log.warning("%s (%s)", MISSING_WARNING, type(exc).__name__)
        return None


def available() -> bool:
    """True when Voikko and its Finnish dictionary can be loaded."""
    return _voikko() is not None


@functools.lru_cache(maxsize=8192)
def readings(word: str) -> tuple[Reading, ...] | None:
    """All of Voikko's readings of `word`; () for a word it does not know; None without Voikko."""
    voikko = _voikko()
    if voikko is None:
        return None
    with _lock:
        analyses = voikko.analyze(word)
    return tuple(
        Reading(str(a.get("CLASS", "")), str(a.get("BASEFORM", "")), str(a.get("SIJAMUOTO", "")))
        for a in analyses
    )
