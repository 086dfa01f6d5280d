"""People's names and towns in a comment, in any inflected form and in lower case too.

In: a comment or caption text, `MaskOptions`, and the spans of schools and addresses already
found. Out: `Finding`s of kind "name" ("Matille", "mun kaveri jenna", "Eetu Mäkinen") and "place"
("Tampereelta" right after a school; every town only with `mask_towns`).

Voikko says which readings a word has (first name, surname, place, ordinary word). A word that
is only a name is masked anywhere; one that is also an ordinary word ("Onni", "Ilta", "Toivo",
"Kari" in "karille") only when written with a capital inside a sentence, next to another name
("Eetu Mäkinen"), after a word that introduces a person ("kaveri", "sisko", "ope"), or when it is
in `config/privacy/names.txt`. Without Voikko no names or towns are found (a warning says so).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.comments import morphology
from pipeline.comments.findings import Finding, MaskOptions
from pipeline.config import CONFIG_DIR

NAMES_FILE = CONFIG_DIR / "privacy" / "names.txt"

# Words after which a lower-case word that is also an ordinary word is a person's name.
_INTRODUCE = {
    "kaveri", "kaverini", "kamu", "bestis", "bestikseni", "sisko", "siskoni", "veli", "veljeni",
    "serkku", "serkkuni", "ope", "opettaja", "rehtori", "poikaystävä", "tyttöystävä", "poikkis", "tyttis",
    "nimi", "nimeltä", "nimeltään", "tyyppi", "jätkä", "tyttö", "poika", "isäpuoli", "äitipuoli",
}
_CASE_ENDINGS = ("", "n", "a", "lle", "lla", "lta", "ll", "lt", "ssa", "sta", "ss", "st", "ks", "ksi", "na", "han", "aa")
_WORD = re.compile(r"(?<![\w@#.'])[^\W\d_]+(?:-[^\W\d_]+)*(?![\w@#'-]|[.:]\w)")
_PERSON_NAMES = frozenset({morphology.FIRST_NAME, morphology.SURNAME})


@dataclass(frozen=True, slots=True)
class _Word:
    start: int
    end: int
    text: str
    first: bool  # Voikko (or names.txt) reads it as a first name
    surname: bool
    place: bool
    other_name: bool  # other proper names ("Kaleva")
    ordinary: bool  # also an ordinary word ("onni", "kari")
    known: bool  # Voikko knows the word at all
    capital: bool
    sentence_start: bool
    listed: bool  # in names.txt


@functools.cache
def listed_names() -> frozenset[str]:
    """The names of `config/privacy/names.txt`, lower case."""
    if not NAMES_FILE.is_file():
        return frozenset()
    lines = NAMES_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _in_list(word: str, bases: Iterable[str]) -> bool:
    names = listed_names()
    lower = word.lower()
    if any(b.lower() in names for b in bases):
        return True
    return any(lower.endswith(e) and lower[: len(lower) - len(e)] in names for e in _CASE_ENDINGS)


def _words(text: str) -> list[_Word] | None:
    out = []
    for m in _WORD.finditer(text):
        word = m.group(0)
        found = morphology.readings(word)
        if found is None:
            return None
        if not found and "-" in word:  # "Anna-Liisa": read the last part
            found = morphology.readings(word.rsplit("-", 1)[1]) or ()
        classes = {r.word_class for r in found}
        listed = _in_list(word, [r.baseform for r in found if r.word_class in morphology.PROPER | {"nimisana"}])
        before = text[: m.start()].rstrip()
        sentence_start = not before or before[-1] in ".!?…\n" or unicodedata.category(before[-1]) == "So"
        out.append(_Word(
            start=m.start(), end=m.end(), text=word,
            first=morphology.FIRST_NAME in classes or listed,
            surname=morphology.SURNAME in classes,
            place=morphology.PLACE in classes,
            other_name=morphology.OTHER_NAME in classes,
            ordinary=bool(classes - morphology.PROPER) and not listed,
            known=bool(found) or listed,
            capital=word[0].isupper(),
            sentence_start=sentence_start,
            listed=listed,
        ))
    return out


def _is_worker(word: _Word, workers: frozenset[str]) -> bool:
    if not workers:
        return False
    found = morphology.readings(word.text) or ()
    return word.text.lower() in workers or any(r.baseform.lower() in workers for r in found)


def _adjacent(text: str, a: _Word, b: _Word) -> bool:
    return a.end < b.start and text[a.end : b.start].strip() == ""


def _introduced(text: str, words: list[_Word], i: int) -> bool:
    return i > 0 and words[i - 1].text.lower() in _INTRODUCE and _adjacent(text, words[i - 1], words[i])


def names(text: str, options: MaskOptions) -> Iterable[Finding]:
    """People's first names and surnames (see the module docstring for when a word counts)."""
    words = _words(text)
    if not words:
        return
    workers = frozenset(w.lower() for name in options.worker_names for w in name.split())
    person = [w.first or w.surname for w in words]
    strong = [p and not w.ordinary for p, w in zip(person, words)]
    found: dict[int, bool] = {}  # word index -> certain
    full: set[int] = set()
    for i, w in enumerate(words):
        if not person[i]:
            continue
        if strong[i]:
            found[i] = True
        elif (w.capital and not w.sentence_start) or _introduced(text, words, i):
            found[i] = False
    # Full names: a first name next to a surname (or a capitalised place or unknown word).
    for i in range(len(words) - 1):
        a, b = words[i], words[i + 1]
        if not _adjacent(text, a, b):
            continue
        for x, y in ((a, b), (b, a)):
            # a capitalised word after a first name inside a sentence is a surname: "Matti Meikäläinen"
            unknown = not y.known or (y is b and not y.sentence_start)
            other = y.surname or y.first or (y.capital and (y.place or y.other_name or unknown))
            plain = [not w.capital and w.ordinary for w in (x, y)]  # "mun veli eemeli": "veli" is a word
            if x.first and other and not any(plain) and (i in found or i + 1 in found or x.capital and y.capital):
                found[i] = found[i + 1] = True
                full |= {i, i + 1}
    # "Iida Lehtonen ja Saana": a capitalised proper noun listed with names.
    for i in range(2, len(words)):
        w, between = words[i], text[words[i - 1].end : words[i].start].strip().lower()
        if i - 1 in found and between in ("ja", "&", ",", "tai") and w.capital and (w.place or w.other_name):
            found.setdefault(i, False)
    for i, certain in sorted(found.items()):
        w = words[i]
        if _is_worker(w, workers):
            continue
        lone_first = i not in full and w.first and not w.surname
        if lone_first and not options.mask_first_names:
            continue
        yield Finding("name", w.start, w.end, certain)


def places(text: str, options: MaskOptions, anchors: Sequence[Finding]) -> Iterable[Finding]:
    """Towns: right before or after a school or a street address, or all with `mask_towns`."""
    words = _words(text)
    if not words:
        return
    for w in words:
        if not w.place:
            continue
        if options.mask_towns and (not w.ordinary or w.capital):
            yield Finding("place", w.start, w.end, True)
            continue
        for a in anchors:
            gap = text[a.end : w.start] if a.end <= w.start else text[w.end : a.start] if w.end <= a.start else "x"
            if gap.strip(" ,") == "" and a.start != w.start:
                yield Finding("place", w.start, w.end, True)
                break
