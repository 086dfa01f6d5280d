"""Moderation: flag insults, slurs, threats, sexual content and self-harm signals in comments.

In: comment text, and word lists (`config/moderation/*.txt` plus the user's own). Out: `Flag`s,
each a category and the words of the comment that matched, plus one "personal_data" flag per
piece of personal data (its kind and position, never its value).

Finnish is inflected, so words are compared by their Snowball stems ("idiootti", "idiootiksi"
and "idiootit" all stem to "idioot"); prefixes, compound endings and exact words are there for
where the stemmer is too coarse. See `config/moderation/README.md` for the list format.

Also `read_comments_file()`: the comments of a TXT, CSV or JSON file.

`Flag.matched` quotes the comment's own words, to show the worker in `sossut comments check`.
Render and batch warnings should print `describe_flags()`, which names categories only.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import snowballstemmer

from pipeline.comments.privacy import clean_display_text, describe_findings, mask_personal_data
from pipeline.config import CONFIG_DIR
from pipeline.errors import InputError
from pipeline.files import csv_delimiter, read_text_file

log = logging.getLogger(__name__)

LISTS_DIR = CONFIG_DIR / "moderation"
ALLOW = "allow"  # allow.txt: phrases that cancel a match they overlap
PERSONAL_DATA = "personal_data"
SELF_HARM = "self_harm"
CATEGORY_NAMES: dict[str, str] = {
    "insult": "insult",
    "slur": "slur",
    "threat": "threat",
    "sexual": "sexual content",
    SELF_HARM: "self-harm signal",
    PERSONAL_DATA: "personal data",
}
SELF_HARM_HINT = (
    "Tämä kommentti voi vaatia henkilökohtaisen, ei julkisen, vastauksen. "
    "This comment may need a personal, not a public, response."
)
MAX_GAP = 1  # other words allowed between the words of a phrase: "en (enää) jaksa elää"
_MIN_STEM = 4  # shorter stems collide with ordinary words ("tapa": a way, "tapan": I kill)

_stemmer = snowballstemmer.stemmer("finnish")


@dataclass(frozen=True, slots=True)
class Flag:
    """One reason to look at a comment: a category and the comment's words that matched."""

    category: str
    matched: str


@dataclass(frozen=True, slots=True)
class Term:
    """One word of a list entry and how it is compared."""

    kind: Literal["stem", "prefix", "suffix", "exact"]
    value: str  # a stem for "stem" and "suffix"; the normalised word otherwise


@dataclass(frozen=True, slots=True)
class Entry:
    """A word or phrase of a list."""

    category: str
    terms: tuple[Term, ...]
    source: str  # "insult.txt:12", for messages


@dataclass(frozen=True, slots=True)
class ModerationLists:
    """All entries by category, and the allow-list phrases."""

    entries: tuple[Entry, ...]
    allow: tuple[Entry, ...] = ()

    @property
    def categories(self) -> list[str]:
        return list(dict.fromkeys(e.category for e in self.entries))


# --- lists -------------------------------------------------------------------------------------


def load_lists(extra_dirs: Iterable[Path | str] = ()) -> ModerationLists:
    """The built-in lists plus the user's.

    Args:
        extra_dirs: directories of `*.txt` lists, or single `.txt` files; a file's name is its
            category (`insult.txt` adds insults, `bullying.txt` makes a new category).

    Raises:
        InputError: a list is missing, unreadable or has an empty entry.
    """
    extra = tuple(Path(p) for p in extra_dirs)
    if not extra:
        return _builtin_lists()
    base = _builtin_lists()
    entries, allow = list(base.entries), list(base.allow)
    for path in extra:
        more = _read_lists(path)
        entries += more.entries
        allow += more.allow
    return ModerationLists(tuple(entries), tuple(allow))


@functools.lru_cache(maxsize=1)
def _builtin_lists() -> ModerationLists:
    return _read_lists(LISTS_DIR)


def _read_lists(path: Path) -> ModerationLists:
    if path.is_dir():
        files = sorted(path.glob("*.txt"))
    elif path.is_file():
        files = [path]
    else:
        raise InputError(f"moderation list {path} not found")
    entries: list[Entry] = []
    allow: list[Entry] = []
    for file in files:
        category = file.stem.lower()
        lines = read_text_file(file, "word list")[0].splitlines()
        for number, line in enumerate(lines, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            source = f"{file.name}:{number}"
            terms = tuple(_parse_term(w, source) for w in words)
            (allow if category == ALLOW else entries).append(Entry(category, terms, source))
    return ModerationLists(tuple(entries), tuple(allow))


def _parse_term(word: str, source: str) -> Term:
    if word.startswith("="):
        kind, core = "exact", word[1:]
    elif word.endswith("*"):
        kind, core = "prefix", word[:-1]
    elif word.startswith("*"):
        kind, core = "suffix", word[1:]
    else:
        kind, core = "stem", word
    core = _normalize(core)
    if not core or "*" in core or "=" in core:
        raise InputError(f"moderation list {source}: cannot read the entry {word!r}")
    if kind == "prefix":
        return Term("prefix", core)
    if kind == "exact":
        return Term("exact", core)
    if kind == "stem" and core.endswith("nen") and len(core) >= _MIN_STEM + 3:
        # The stemmer keeps "hölmöläinen" apart from "hölmöläisiä" (-nen / -se- / -s-).
        return Term("prefix", core[:-3])
    stem = _stemmer.stemWord(core)
    if kind == "stem" and len(stem) < _MIN_STEM:
        return Term("exact", core)
    return Term("suffix" if kind == "suffix" else "stem", stem)


# --- matching ----------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+")
_LEET = str.maketrans("013457", "oieast")
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")


def _normalize(word: str) -> str:
    """Lower case; "id1ootti" -> "idiootti"; "tyhmääää" -> "tyhmää" (Finnish never triples)."""
    word = unicodedata.normalize("NFC", word).lower()
    if any(c.isdigit() for c in word) and any(c.isalpha() for c in word):
        word = word.translate(_LEET)
    return _REPEATS.sub(r"\1\1", word)


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    norm: str
    stem: str


def _tokens(text: str) -> list[_Token]:
    spans = [(m.start(), m.end(), _normalize(m.group(0))) for m in _TOKEN.finditer(text)]
    stems = _stemmer.stemWords([norm for _, _, norm in spans])
    return [_Token(s, e, n, st) for (s, e, n), st in zip(spans, stems)]


def _matches(term: Term, token: _Token) -> bool:
    if term.kind == "stem":
        return token.stem == term.value
    if term.kind == "prefix":
        return token.norm.startswith(term.value)
    if term.kind == "suffix":
        return token.stem.endswith(term.value) or token.norm.endswith(term.value)
    return token.norm == term.value


def _find(entry: Entry, tokens: Sequence[_Token]) -> Iterable[tuple[int, int]]:
    """(first, last) token index of each place the entry matches."""
    first_term, *rest = entry.terms
    for i, token in enumerate(tokens):
        if not _matches(first_term, token):
            continue
        last = i
        for term in rest:
            nxt = next(
                (k for k in range(last + 1, min(len(tokens), last + 2 + MAX_GAP)) if _matches(term, tokens[k])),
                None,
            )
            if nxt is None:
                break
            last = nxt
        else:
            yield i, last


def find_flags(text: str, lists: ModerationLists | None = None) -> list[Flag]:
    """Moderation flags of a text as it is (no cleaning, no personal data), in text order."""
    lists = lists or load_lists()
    tokens = _tokens(text)
    allowed = [span for entry in lists.allow for span in _find(entry, tokens)]
    hits: list[tuple[int, int, str]] = []
    for entry in lists.entries:
        for first, last in _find(entry, tokens):
            if any(first <= a_last and a_first <= last for a_first, a_last in allowed):
                continue
            hits.append((first, last, entry.category))
    # Overlapping hits of one category become one: "haluan kuolla" + "haluan kuolla pois".
    merged: list[list[Any]] = []
    for first, last, category in sorted(hits):
        same = next((m for m in merged if m[2] == category and first <= m[1] and m[0] <= last), None)
        if same:
            same[0], same[1] = min(same[0], first), max(same[1], last)
        else:
            merged.append([first, last, category])
    flags: dict[tuple[str, str], Flag] = {}
    for first, last, category in sorted(merged):
        matched = text[tokens[first].start : tokens[last].end]
        flags.setdefault((category, matched.lower()), Flag(category, matched))
    return list(flags.values())


def check_comment(text: str, lists: ModerationLists | None = None) -> list[Flag]:
    """Flags for one comment: moderation categories, then one per piece of personal data.

    The comment is cleaned (`clean_display_text`) and its personal data masked before the
    words are matched, so `matched` never quotes a phone number or an address. Personal data
    flags read e.g. `Flag("personal_data", "phone number at 6-18")`: positions refer to the
    cleaned comment.

    Args:
        text: the comment.
        lists: word lists from `load_lists()`; the built-in ones if None.
    """
    masked = mask_personal_data(clean_display_text(text, keep_newlines=True))
    flags = find_flags(masked.text, lists)
    flags += [Flag(PERSONAL_DATA, describe_findings([f])) for f in masked.findings]
    return flags


def flag_categories(flags: Iterable[Flag]) -> list[str]:
    """The categories of the flags, each once, in order."""
    return list(dict.fromkeys(f.category for f in flags))


def describe_flags(flags: Iterable[Flag]) -> str:
    """Categories only, for render and batch warnings: "insult, self-harm signal"."""
    return ", ".join(CATEGORY_NAMES.get(c, c) for c in flag_categories(flags))


def needs_personal_response(flags: Iterable[Flag]) -> bool:
    """True if the comment has a self-harm signal (show `SELF_HARM_HINT`)."""
    return any(f.category == SELF_HARM for f in flags)


# --- comment files -----------------------------------------------------------------------------

_COMMENT_COLUMNS = ("comment", "kommentti")


def read_comments_file(path: Path) -> list[str]:
    """The comments of a file: TXT (one a line), CSV (a `comment` column) or JSON.

    CSV may use commas or semicolons and be UTF-8 with or without a BOM (what spreadsheet
    programs save in a Finnish locale). JSON is a list of strings or of objects with
    "comment". Empty comments are skipped.

    Raises:
        InputError: the file is missing, unreadable, or not in one of these shapes.
    """
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls", ".ods"):
        raise InputError(f"{path.name}: a spreadsheet; save it as CSV (UTF-8) first")
    text = _read_text(path)
    if suffix == ".csv":
        comments = _csv_comments(path, text)
    elif suffix == ".json":
        comments = _json_comments(path, text)
    else:
        comments = text.splitlines()
    return [c.strip() for c in comments if c.strip()]


def _read_text(path: Path) -> str:
    text, encoding = read_text_file(path, "comments file")
    if encoding == "Windows-1252":
        log.warning("%s is not UTF-8; read it as Windows-1252", path.name)
    return text


def _csv_comments(path: Path, text: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=csv_delimiter(text)))
    if not rows:
        return []
    header = [h.strip().lstrip("\ufeff").lower() for h in rows[0]]
    column = next((header.index(name) for name in _COMMENT_COLUMNS if name in header), None)
    if column is None:
        raise InputError(f"{path.name}: no 'comment' column (columns: {', '.join(rows[0]) or 'none'})")
    return [row[column] for row in rows[1:] if len(row) > column]


def _json_comments(path: Path, text: str) -> list[str]:
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path.name}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, list):
        raise InputError(f'{path.name}: expected a JSON list of comments or of {{"comment": ...}} objects')
    comments = []
    for number, item in enumerate(data, 1):
        if isinstance(item, dict):
            item = item.get("comment")
        if not isinstance(item, str):
            raise InputError(f'{path.name}: item {number} is not a comment (a string or {{"comment": "..."}})')
        comments.append(item)
    return comments
