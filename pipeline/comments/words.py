"""The word-list syntax and how its entries are found in a comment.

In: list entries as people write them (`config/moderation/README.md`) and a comment's text.
Out: `Entry`s, the comment's `Token`s (with sentence and clause numbers) and the places an
entry matches.

Finnish is inflected, so words are compared by their Snowball stems ("idiootti", "idiootiksi"
and "idiootit" all stem to "idioot"); prefixes, compound endings and exact words are there for
where the stemmer is too coarse. `isä|äiti` lets one entry word be any of several, and `..`
between two words lets up to `WIDE_GAP` other words come between them ("isä ei oo lyöny").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import snowballstemmer

from pipeline.errors import InputError

MAX_GAP = 1  # other words allowed between the words of a phrase: "en (enää) jaksa elää"
WIDE_GAP = 3  # with ".." between two words: "isä (ei oo ikinä) lyöny"
MIN_STEM = 4  # shorter stems collide with ordinary words ("tapa": a way, "tapan": I kill)

_stemmer = snowballstemmer.stemmer("finnish")


@dataclass(frozen=True, slots=True)
class Term:
    """One way a comment's word can match an entry word."""

    kind: Literal["stem", "prefix", "suffix", "exact"]
    value: str  # a stem for "stem" and "suffix"; the normalised word otherwise


@dataclass(frozen=True, slots=True)
class Entry:
    """A word or phrase of a list: per word, the terms any of which may match."""

    category: str
    slots: tuple[tuple[Term, ...], ...]
    gaps: tuple[int, ...]  # other words allowed before each slot after the first
    source: str  # "insult.txt:12", for messages and explanations


@dataclass(frozen=True, slots=True)
class Token:
    """A word of a comment: its span, normalised form, stem, sentence and clause."""

    start: int
    end: int
    norm: str
    stem: str
    sentence: int
    clause: int


@dataclass(frozen=True, slots=True)
class Match:
    """Where an entry matched: first and last token, and the tokens its words took."""

    entry: Entry
    first: int
    last: int
    words: tuple[int, ...]


def parse_entry(line: str, category: str, source: str) -> Entry | None:
    """One line of a list (comments after "#" dropped); None for an empty line.

    Raises:
        InputError: a word cannot be read (e.g. a lone "*"), naming `source`.
    """
    words = line.split("#", 1)[0].split()
    slots: list[tuple[Term, ...]] = []
    gaps: list[int] = []
    gap = MAX_GAP
    for word in words:
        if word == "..":
            if not slots:
                raise InputError(f"word list {source}: '..' must come between two words")
            gap = WIDE_GAP
            continue
        alternatives = word.split("|")
        if word.startswith("="):  # "=lyö|löi": every alternative exact, unless it says otherwise
            alternatives = [a if a.startswith("=") or "*" in a else "=" + a for a in alternatives]
        slots.append(tuple(parse_term(alt, source) for alt in alternatives))
        gaps.append(gap)
        gap = MAX_GAP
    if not slots:
        return None
    if gap == WIDE_GAP:
        raise InputError(f"word list {source}: '..' must come between two words")
    return Entry(category, tuple(slots), tuple(gaps[1:]), source)


def parse_term(word: str, source: str) -> Term:
    """One alternative of an entry word: `=exact`, `prefix*`, `*suffix` or a stem."""
    if word.startswith("="):
        kind, core = "exact", word[1:]
    elif word.endswith("*"):
        kind, core = "prefix", word[:-1]
    elif word.startswith("*"):
        kind, core = "suffix", word[1:]
    else:
        kind, core = "stem", word
    core = normalize_word(core)
    if not core or "*" in core or "=" in core:
        raise InputError(f"word list {source}: cannot read the entry {word!r}")
    if kind == "prefix":
        return Term("prefix", core)
    if kind == "exact":
        return Term("exact", core)
    if kind == "stem" and core.endswith("nen") and len(core) >= MIN_STEM + 3:
        # The stemmer keeps "hölmöläinen" apart from "hölmöläisiä" (-nen / -se- / -s-).
        return Term("prefix", core[:-3])
    stem = _stemmer.stemWord(core)
    if kind == "stem" and len(stem) < MIN_STEM:
        return Term("exact", core)
    return Term("suffix" if kind == "suffix" else "stem", stem)


_TOKEN = re.compile(r"[^\W_]+")
_LEET = str.maketrans("013457", "oieast")
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
_SENTENCE_END = re.compile(r"[.!?\n]|[^\w\s,;:'\"()\[\]/@#&%€$+*=<>-]")  # emoji end a sentence too
_CLAUSE_END = re.compile(r"[,;:]")


def normalize_word(word: str) -> str:
    """Lower case; "id1ootti" -> "idiootti"; "tyhmääää" -> "tyhmää" (Finnish never triples)."""
    word = unicodedata.normalize("NFC", word).lower()
    if any(c.isdigit() for c in word) and any(c.isalpha() for c in word):
        word = word.translate(_LEET)
    return _REPEATS.sub(r"\1\1", word)


def tokens(text: str, clause_words: Iterable[str] = ()) -> list[Token]:
    """The words of a text. Sentences end at . ! ? a line break or an emoji; clauses also at
    , ; : and before each of `clause_words` (conjunctions such as "mut", "kun", "et")."""
    starters = set(clause_words)
    spans = [(m.start(), m.end(), normalize_word(m.group(0))) for m in _TOKEN.finditer(text)]
    stems = _stemmer.stemWords([norm for _, _, norm in spans])
    out: list[Token] = []
    sentence = clause = 0
    previous_end = 0
    for (start, end, norm), stem in zip(spans, stems):
        between = text[previous_end:start]
        if out and _SENTENCE_END.search(between):
            sentence += 1
            clause += 1
        elif out and (_CLAUSE_END.search(between) or norm in starters):
            clause += 1
        out.append(Token(start, end, norm, stem, sentence, clause))
        previous_end = end
    return out


def term_matches(term: Term, token: Token) -> bool:
    if term.kind == "stem":
        return token.stem == term.value
    if term.kind == "prefix":
        return token.norm.startswith(term.value)
    if term.kind == "suffix":
        return token.stem.endswith(term.value) or token.norm.endswith(term.value)
    return token.norm == term.value


def slot_matches(slot: Sequence[Term], token: Token) -> bool:
    return any(term_matches(term, token) for term in slot)


def find_entry(entry: Entry, words: Sequence[Token]) -> Iterable[Match]:
    """Each place the entry matches: its words in order, each within its gap of the one before."""
    first_slot, *rest = entry.slots
    for i, token in enumerate(words):
        if not slot_matches(first_slot, token):
            continue
        taken = [i]
        for slot, gap in zip(rest, entry.gaps):
            last = taken[-1]
            nxt = next((k for k in range(last + 1, min(len(words), last + 2 + gap)) if slot_matches(slot, words[k])),
                       None)
            if nxt is None:
                break
            taken.append(nxt)
        else:
            yield Match(entry, i, taken[-1], tuple(taken))


def find_any(entries: Iterable[Entry], words: Sequence[Token]) -> list[Match]:
    """Every match of every entry, in text order."""
    return sorted((m for e in entries for m in find_entry(e, words)), key=lambda m: (m.first, m.last))
