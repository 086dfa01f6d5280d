"""The grammar rules of `config/moderation/rules.toml`: clauses, negation, reported speech,
question forms and spam signs.

In: the TOML file (and a user's own `rules.toml` in a `--lists` folder, whose lists are added).
Out: `Rules`, with entries parsed in the word-list syntax, and two checks on a hit:
`negated()` (the hit does not count) and `reported()` (the hit is weaker).
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.comments.words import Entry, Match, Token, find_any, normalize_word, parse_entry
from pipeline.config import CONFIG_DIR
from pipeline.errors import InputError

RULES_FILE = CONFIG_DIR / "moderation" / "rules.toml"


@dataclass(frozen=True, slots=True)
class Rules:
    """Parsed rules; see the comments in rules.toml for what each one does."""

    clause_starts: frozenset[str]
    negatable: frozenset[str]
    negation_before: int
    negations: tuple[Entry, ...]
    negation_after: int
    negations_after: tuple[Entry, ...]
    negation_after_categories: frozenset[str]
    self_directed: tuple[Entry, ...]
    self_directed_categories: frozenset[str]
    reported: tuple[Entry, ...]
    first_person: tuple[Entry, ...]
    first_person_categories: frozenset[str]
    question_words: tuple[Entry, ...]
    question_endings: tuple[str, ...]
    not_questions: tuple[Entry, ...]
    question_leaders: tuple[Entry, ...]
    not_after_question: tuple[Entry, ...]
    exclamations: tuple[Entry, ...]
    requests: tuple[Entry, ...]
    spam_repeats: int
    spam_alone: tuple[Entry, ...]


@functools.lru_cache(maxsize=8)
def load_rules(extra: tuple[Path, ...] = ()) -> Rules:
    """The built-in rules, with the lists of any `rules.toml` in `extra` folders added.

    Raises:
        InputError: a rules file is not valid TOML or misses a key.
    """
    data = _read(RULES_FILE)
    for folder in extra:
        path = folder / "rules.toml" if folder.is_dir() else None
        if path and path.is_file():
            for section, values in _read(path).items():
                for key, value in values.items():
                    if isinstance(value, list):
                        data.setdefault(section, {}).setdefault(key, []).extend(value)
                    else:
                        data.setdefault(section, {})[key] = value
    try:
        return _build(data)
    except (KeyError, TypeError) as exc:
        raise InputError(f"{RULES_FILE.name}: missing or wrong key {exc}") from None


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise InputError(f"cannot read {path} ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None


def _entries(values: Iterable[str], name: str, *, adjacent: bool = False) -> tuple[Entry, ...]:
    out = []
    for number, line in enumerate(values, 1):
        entry = parse_entry(line, name, f"rules.toml {name} #{number}")
        if entry:
            out.append(dataclasses.replace(entry, gaps=(0,) * len(entry.gaps)) if adjacent else entry)
    return tuple(out)


def _build(d: dict[str, Any]) -> Rules:
    neg, rep, q, spam = d["negation"], d["reported"], d["question"], d["spam"]
    return Rules(
        clause_starts=frozenset(normalize_word(w) for w in d["clauses"]["starts"]),
        negatable=frozenset(neg["categories"]),
        negation_before=int(neg["before"]),
        negations=_entries(neg["words"], "negation", adjacent=True),
        negation_after=int(neg["after"]),
        negations_after=_entries(neg["after_words"], "negation", adjacent=True),
        negation_after_categories=frozenset(neg["after_categories"]),
        self_directed=_entries(d["self_directed"]["words"], "self_directed", adjacent=True),
        self_directed_categories=frozenset(d["self_directed"]["categories"]),
        reported=_entries(rep["words"], "reported"),
        first_person=_entries(rep["first_person"], "first_person"),
        first_person_categories=frozenset(rep["first_person_categories"]),
        question_words=_entries(q["words"], "question"),
        question_endings=tuple(sorted((normalize_word(e) for e in q["endings"]), key=len, reverse=True)),
        not_questions=_entries(q["not_questions"], "not_questions"),
        question_leaders=_entries(q["leaders"], "leaders"),
        not_after_question=_entries(q["not_after"], "not_after"),
        exclamations=_entries(q["exclamations"], "exclamations"),
        requests=_entries(q["requests"], "requests"),
        spam_repeats=int(spam["repeats"]),
        spam_alone=_entries(spam["alone"], "alone"),
    )


def negated(hit: Match, words: Sequence[Token], rules: Rules) -> str:
    """The negation that cancels a hit ("ei"), or "" if none: a negation among the hit's words
    or in the `negation_before` words before it, in the same clause, that is not one of the
    entry's own words."""
    if hit.entry.category not in rules.negatable:
        return ""
    clause = words[hit.first].clause
    low = hit.first
    while low > 0 and hit.first - low < rules.negation_before and words[low - 1].clause == clause:
        low -= 1
    high = hit.last
    if hit.entry.category in rules.negation_after_categories:
        while high + 1 < len(words) and high - hit.last < rules.negation_after and words[high + 1].clause == clause:
            high += 1
    own = set(hit.words)
    for neg in find_any(rules.negations, words):
        taken = [k for k in neg.words if low <= k <= hit.last and k not in own]
        if taken and all(words[k].clause == clause for k in taken):
            return " ".join(words[k].norm for k in neg.words)
    for neg in find_any(rules.negations_after, words):
        if hit.last < neg.first and neg.last <= high:
            return " ".join(words[k].norm for k in neg.words)
    return ""


def self_directed(hit: Match, words: Sequence[Token], rules: Rules) -> str:
    """The words that make a hit about the writer ("mä olin"), or "": for `self_directed`
    categories, one of its phrases in the hit's clause, before the hit."""
    if hit.entry.category not in rules.self_directed_categories:
        return ""
    clause = words[hit.first].clause
    for m in find_any(rules.self_directed, words):
        if m.last < hit.first and words[m.first].clause == clause:
            return " ".join(words[k].norm for k in m.words)
    return ""


def reported(hit: Match, words: Sequence[Token], rules: Rules) -> str:
    """The marker that makes a hit weaker ("kaveri", "jos"), or "": one of the `reported` words
    before the hit in its sentence, unless (for disclosure and self-harm) the hit's clause is
    in the first person ("mua", "mut", "mä")."""
    sentence = words[hit.first].sentence
    markers = [m for m in find_any(rules.reported, words)
               if m.last < hit.first and words[m.first].sentence == sentence and not set(m.words) & set(hit.words)]
    if not markers:
        return ""
    if hit.entry.category in rules.first_person_categories:
        clause = words[hit.first].clause
        for person in find_any(rules.first_person, words):
            if words[person.first].clause == clause and person.first >= markers[-1].last:
                return ""
    marker = markers[-1]
    return " ".join(words[k].norm for k in marker.words)
