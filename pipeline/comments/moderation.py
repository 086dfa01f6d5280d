"""Moderation: flag disclosures, self-harm signals, threats, insults, slurs, sexual content and
spam words in comments.

In: comment text, and word lists (`config/moderation/*.txt` plus the user's own). Out: `Flag`s,
each a category and the words of the comment that matched, plus one "personal_data" flag per
piece of personal data (its kind and position, never its value).

Words are matched as `pipeline.comments.words` says (Snowball stems, prefixes, exact words,
phrases); `config/moderation/README.md` has the list format. `rules.toml` drops negated hits
("isä ei ikinä lyö") and marks reported ones weak ("kaveri sano et...").

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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.comments.findings import MaskOptions
from pipeline.comments.privacy import clean_display_text, describe_findings, mask_personal_data
from pipeline.comments.rules import Rules, load_rules, negated, reported, self_directed
from pipeline.comments.words import Entry, find_any, parse_entry, tokens
from pipeline.config import CONFIG_DIR
from pipeline.errors import InputError
from pipeline.files import csv_delimiter, read_text_file

log = logging.getLogger(__name__)

LISTS_DIR = CONFIG_DIR / "moderation"
ALLOW = "allow"  # allow.txt: phrases that cancel a match they overlap
PERSONAL_DATA = "personal_data"
SELF_HARM = "self_harm"
DISCLOSURE = "disclosure"
CATEGORY_NAMES: dict[str, str] = {
    DISCLOSURE: "disclosure",
    "insult": "insult",
    "slur": "slur",
    "threat": "threat",
    "sexual": "sexual content",
    "spam": "spam",
    SELF_HARM: "self-harm signal",
    PERSONAL_DATA: "personal data",
}
SELF_HARM_HINT = (
    "Tämä kommentti voi vaatia henkilökohtaisen, ei julkisen, vastauksen. "
    "This comment may need a personal, not a public, response."
)
PERSONAL_RESPONSE = (DISCLOSURE, SELF_HARM)


@dataclass(frozen=True, slots=True)
class Flag:
    """One reason to look at a comment: a category and the comment's words that matched.

    `weak`: the words came after a sign of someone else's story or a "what if" (`note` names
    it: "kaveri", "jos"). `source` is the list line that matched ("disclosure.txt:12").
    """

    category: str
    matched: str
    weak: bool = False
    note: str = field(default="", compare=False)
    source: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class ModerationLists:
    """All entries by category, the allow-list phrases and the grammar rules."""

    entries: tuple[Entry, ...]
    allow: tuple[Entry, ...] = ()
    rules: Rules = field(default_factory=load_rules)

    @property
    def categories(self) -> list[str]:
        return list(dict.fromkeys(e.category for e in self.entries))


# --- lists -------------------------------------------------------------------------------------


def load_lists(extra_dirs: Iterable[Path | str] = ()) -> ModerationLists:
    """The built-in lists plus the user's.

    Args:
        extra_dirs: directories of `*.txt` lists, or single `.txt` files; a file's name is its
            category (`insult.txt` adds insults, `bullying.txt` makes a new category). A
            `rules.toml` in a directory adds to the rules' lists.

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
    return ModerationLists(tuple(entries), tuple(allow), load_rules(tuple(p for p in extra if p.is_dir())))


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
            entry = parse_entry(line, category, f"{file.name}:{number}")
            if entry:
                (allow if category == ALLOW else entries).append(entry)
    return ModerationLists(tuple(entries), tuple(allow))


# --- matching ----------------------------------------------------------------------------------


def find_flags(text: str, lists: ModerationLists | None = None) -> list[Flag]:
    """Moderation flags of a text as it is (no cleaning, no personal data), in text order.

    A hit overlapped by an allow-list phrase is dropped, and so are a negated one
    (`rules.negated`) and an insult about the writer (`rules.self_directed`); a reported one
    is weak (`rules.reported`).
    """
    lists = lists or load_lists()
    rules = lists.rules
    words = tokens(text, rules.clause_starts)
    allowed = [(m.first, m.last) for m in find_any(lists.allow, words)]
    hits: list[tuple[int, int, str, str, str]] = []  # first, last, category, reported marker, source
    for hit in find_any(lists.entries, words):
        if any(hit.first <= a_last and a_first <= hit.last for a_first, a_last in allowed):
            continue
        if negated(hit, words, rules):
            continue
        marker = reported(hit, words, rules)
        if not marker and self_directed(hit, words, rules):
            continue
        hits.append((hit.first, hit.last, hit.entry.category, marker, hit.entry.source))
    # Overlapping hits of one category become one: "haluan kuolla" + "haluan kuolla pois".
    merged: list[list[Any]] = []
    for first, last, category, marker, source in sorted(hits):
        same = next((m for m in merged if m[2] == category and first <= m[1] and m[0] <= last), None)
        if same:
            same[0], same[1] = min(same[0], first), max(same[1], last)
            same[3] = same[3] and marker  # strong if any part is
        else:
            merged.append([first, last, category, marker, source])
    flags: dict[tuple[str, str], Flag] = {}
    for first, last, category, marker, source in sorted(merged):
        matched = text[words[first].start : words[last].end]
        flags.setdefault((category, matched.lower()), Flag(category, matched, bool(marker), marker, source))
    return list(flags.values())


def check_comment(text: str, lists: ModerationLists | None = None, options: MaskOptions | None = None) -> list[Flag]:
    """Flags for one comment: moderation categories, then one per piece of personal data.

    The comment is cleaned (`clean_display_text`) and its personal data masked before the
    words are matched, so `matched` never quotes a phone number or an address. Personal data
    flags read e.g. `Flag("personal_data", "phone number at 6-18")`: positions refer to the
    cleaned comment.

    Args:
        text: the comment.
        lists: word lists from `load_lists()`; the built-in ones if None.
        options: the masking choices of the config's [privacy] (`mask_options`).
    """
    masked = mask_personal_data(clean_display_text(text, keep_newlines=True), options=options)
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
    """True if the comment has a disclosure or a self-harm signal (show `SELF_HARM_HINT`)."""
    return any(f.category in PERSONAL_RESPONSE for f in flags)


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
