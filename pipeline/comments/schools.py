"""Schools and school classes: "Kalevan koulusta", "hervannan lukiossa", "7B", "9c-luokalla".

In: a comment or caption text. Out: `Finding`s of kind "school" (a name in the genitive before a
school word, in any case form: "Kalevan koulu", "Tesoman yläasteelta", "Puolalan ala-astetta") and
"class" (a grade and a letter: "7B", "8a:lta", "9c-luokka").

"koulu" alone, "mun koulu", "tän koulun", "9 luokalla" and "7 päivää" are not masked. Voikko
tells a name ("hervannan") from an ordinary word ("uuden"); without it, only a capitalised name
("Hervannan lukio") or an abbreviation ("SYK:n") counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.comments import morphology
from pipeline.comments.findings import Finding

_SCHOOL_WORD = r"[^\W\d_]*(?:koulu|lukio|ala-?aste|ylä-?aste|ami(?:s|ks)|opisto|lyse|norssi)[^\W\d_]*"
_SCHOOL = re.compile(
    rf"(?<![\w-])(?P<owner>(?:[^\W\d_]+-)?[^\W\d_]+n|[A-ZÄÖÅ]{{2,6}}:n)\s+(?P<school>{_SCHOOL_WORD})(?![\w-])"
)
# Genitives that are not a school's name: pronouns, spoken forms, adjectives, time words.
_NOT_OWNERS = {
    "mun", "sun", "sen", "hänen", "meidän", "meiän", "teidän", "teiän", "heidän", "heiän", "tän", "tämän",
    "ton", "tuon", "näiden", "noiden", "niiden", "jonkun", "jonku", "kenen", "minkä", "oman", "toisen",
    "saman", "uuden", "vanhan", "eri", "ensi", "viime", "kaikkien", "muiden", "ainoan", "lähimmän", "kunnan",
    "kaupungin", "isomman", "pienen", "ison", "hyvän", "paremman", "huonon", "on", "oon", "en", "kun", "ku",
    "haluun", "meen", "tuun", "saan", "pääsin", "pääsen", "menin", "olin", "olen", "kävin", "aloitin",
    "vaihdoin", "inhoon", "vihaan", "rakastan", "sillon", "silloin", "jälkeen", "ennen", "kesken", "alun",
    "lopun", "koulun", "lukion", "yläasteen", "ala-asteen", "ekan", "tokan", "vikan", "viimisen", "uuen",
}
_NOT_OWNER_CLASSES = {"asemosana", "laatusana", "teonsana", "seikkasana", "suhdesana", "sidesana", "lukusana"}

# A grade 1-9 and a class letter: "7B", "9c:llä", "8C-luokalla", "6b luokalla".
_CLASS = re.compile(
    r"(?<![\w.,:/+#-])(?P<code>[1-9][a-hA-H])(?P<tail>-?luok\w*|:[^\W\d_]+|\s+luok\w*)?(?![\w@#-])"
)


def schools(text: str) -> Iterable[Finding]:
    """School names: a name in the genitive and a school word."""
    for m in _SCHOOL.finditer(text):
        before = text[: m.start()].rstrip()
        sentence_start = not before or before[-1] in ".!?…\n"
        if _is_owner(m.group("owner"), sentence_start):
            yield Finding("school", m.start(), m.end(), True)


def _is_owner(word: str, sentence_start: bool) -> bool:
    if word.lower() in _NOT_OWNERS:
        return False
    if word.endswith(":n"):
        return True
    found = morphology.readings(word)
    if found is None:  # no Voikko: only a capitalised name counts
        return word[0].isupper() and not sentence_start
    classes = {r.word_class for r in found}
    if classes & morphology.PROPER or not found:
        return True
    if word[0].isupper():
        return not sentence_start or not classes & _NOT_OWNER_CLASSES
    return False


def classes(text: str) -> Iterable[Finding]:
    """School classes: "7B", "9c-luokka", "8a:lta"; "5e" (euros), "3d" and "2h" only with "luokka"."""
    for m in _CLASS.finditer(text):
        code, tail = m.group("code"), m.group("tail")
        if not tail and code[1] in "eEhH" or not tail and code.lower() in ("2d", "3d"):
            continue
        yield Finding("class", m.start(), m.end(), True)
