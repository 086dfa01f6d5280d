"""Phone numbers and identity codes written or spoken as Finnish number words.

In: a comment or caption text ("mun numero on nolla neljä nolla yks kaks kolme..."; Whisper
writes a number a worker says aloud the same way). Out: `Finding`s of kind "phone" or
"identity_code" covering the words.

Number words in standard and spoken forms (yksi/yks, seitsemän/seittemän, kahdeksan/kaheksan,
kasi, ysi), tens and teens ("nelkytkaks", "kakskymmentä", "yksitoista") and digits ("040") may be
mixed. A run of seven or more digits with at least one word is a phone number (certain when it is
a valid Finnish number, possible otherwise); so is a mobile prefix alone ("nolla neljä nolla").
Six digits, a century sign ("viiva", "miinus", "plus", "A"), three digits and a check character
are an identity code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.comments.findings import Finding

_UNITS = {
    "nolla": "0", "yks": "1", "yksi": "1", "kaks": "2", "kaksi": "2", "kolme": "3", "neljä": "4",
    "nelijä": "4", "viis": "5", "viisi": "5", "kuus": "6", "kuusi": "6", "seitsemän": "7",
    "seittemän": "7", "seitsämän": "7", "kahdeksan": "8", "kaheksan": "8", "kahdeksen": "8",
    "yhdeksän": "9", "yheksän": "9",
}
# Spoken digit names that are only read as digits inside a longer run ("kasi" is also a grade).
_COLLOQUIAL = {"kasi": "8", "ysi": "9", "seiska": "7"}
_TENS_STEMS = {**{k: v for k, v in _UNITS.items() if v not in "01"}, "nel": "4", "kol": "3"}
_UNIT_RE = "|".join(sorted(_UNITS, key=len, reverse=True))
_NUMBER_WORD = re.compile(
    rf"(?P<tens>{'|'.join(sorted(_TENS_STEMS, key=len, reverse=True))})(?:kymmentä|kyt)(?P<tu>{_UNIT_RE})?"
    rf"|(?P<teen>{_UNIT_RE})toista|(?P<ten>kymmenen|kymppi)|(?P<unit>{_UNIT_RE}|kasi|ysi|seiska)"
)
_DIGITS = re.compile(r"\+?\d+(?:-\d+)*")
_SIGNS = {"viiva": "-", "väliviiva": "-", "miinus": "-", "plus": "+", "a": "A", "aa": "A"}
_LETTER_NAMES = {
    "aa": "A", "bee": "B", "see": "C", "dee": "D", "ee": "E", "äf": "F", "äffä": "F", "hoo": "H", "jii": "J",
    "koo": "K", "äl": "L", "äm": "M", "än": "N", "pee": "P", "är": "R", "äs": "S", "tee": "T", "uu": "U",
    "vee": "V", "äks": "X", "yy": "Y",
}
_EDGE = ",;:()\"'"
_SENTENCE_END = ".!?…"
_MOBILE_PREFIX = re.compile(r"0(?:4\d|50)")


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    word: str  # lower case, punctuation stripped
    digits: str | None  # what a number token says, digits only
    is_word: bool  # a number word, not digits
    ends_sentence: bool


def number_word_digits(word: str) -> str | None:
    """The digits a Finnish number word says: "kaks" -> "2", "nelkytkaks" -> "42"; None if not one."""
    m = _NUMBER_WORD.fullmatch(word.lower())
    if m is None:
        return None
    if m.group("tens"):
        return _TENS_STEMS[m.group("tens")] + (_UNITS[m.group("tu")] if m.group("tu") else "0")
    if m.group("teen"):
        return "1" + _UNITS[m.group("teen")]
    if m.group("ten"):
        return "10"
    unit = m.group("unit")
    return _UNITS.get(unit) or _COLLOQUIAL[unit]


def _tokens(text: str) -> list[_Token]:
    out = []
    for m in re.finditer(r"\S+", text):
        raw = m.group(0)
        core = raw.strip(_EDGE + _SENTENCE_END)
        if not core:
            out.append(_Token(m.start(), m.end(), "", None, False, raw[-1] in _SENTENCE_END))
            continue
        start = m.start() + raw.index(core)
        word = core.lower()
        digits = number_word_digits(word)
        is_word = digits is not None
        if digits is None and _DIGITS.fullmatch(word):
            digits = re.sub(r"\D", "", word)
        out.append(_Token(start, start + len(core), word, digits, is_word, raw.rstrip(_EDGE)[-1] in _SENTENCE_END))
    return out


def spoken_numbers(text: str) -> Iterable[Finding]:
    """Phone numbers and identity codes with at least one number word in them."""
    tokens = _tokens(text)
    i = 0
    while i < len(tokens):
        if tokens[i].digits is None:
            i += 1
            continue
        found = _identity_code(tokens, i) or _phone(tokens, i)
        if found is None:
            i += 1
            continue
        finding, i = found
        yield finding


def _identity_code(tokens: list[_Token], i: int) -> tuple[Finding, int] | None:
    digits, j, words = "", i, 0
    while j < len(tokens) and tokens[j].digits is not None and len(digits) < 6:
        digits, words = digits + (tokens[j].digits or ""), words + tokens[j].is_word
        if tokens[j].ends_sentence:
            return None
        j += 1
    if len(digits) != 6 or j >= len(tokens):
        return None
    sign = _SIGNS.get(tokens[j].word) or (tokens[j].word.upper() if re.fullmatch(r"[-+a-fu-y]", tokens[j].word) else None)
    if sign is None:
        return None
    j += 1
    individual = ""
    while j < len(tokens) and tokens[j].digits is not None and len(individual) < 3:
        individual, words = individual + (tokens[j].digits or ""), words + tokens[j].is_word
        j += 1
    if len(individual) != 3 or not words:
        return None
    end = tokens[j - 1].end
    check = ""
    if j < len(tokens) and not tokens[j - 1].ends_sentence:
        word = tokens[j].word
        check = _LETTER_NAMES.get(word, word.upper() if re.fullmatch(r"[a-z0-9]", word) else "")
        check = check or (tokens[j].digits or "" if len(tokens[j].digits or "") == 1 else "")
        if check:
            end = tokens[j].end
            j += 1
    canonical = digits + ("A" if sign in "ABCDEF" else "-" if sign in "-UVWXY" else sign) + individual + check
    from stdnum.fi import hetu as stdnum_hetu  # only for a candidate (see shapes.identity_codes)

    certain = bool(check) and stdnum_hetu.is_valid(canonical, allow_temporary=True)
    return Finding("identity_code", tokens[i].start, end, certain), j


def _phone(tokens: list[_Token], i: int) -> tuple[Finding, int] | None:
    digits, j, words = "", i, 0
    while j < len(tokens) and tokens[j].digits is not None:
        digits, words = digits + (tokens[j].digits or ""), words + tokens[j].is_word
        j += 1
        if tokens[j - 1].ends_sentence:
            break
        # "040 viiva 123 ...": a dash said aloud inside the number
        if j + 1 < len(tokens) and tokens[j].word in ("viiva", "väliviiva") and tokens[j + 1].digits is not None:
            j += 1
    if not words:
        return None
    finding_end = tokens[j - 1].end
    if 7 <= len(digits) <= 13:
        return Finding("phone", tokens[i].start, finding_end, _valid_phone(digits)), j
    if _MOBILE_PREFIX.fullmatch(digits) and words == j - i:
        return Finding("phone", tokens[i].start, finding_end, False), j
    return None


def _valid_phone(digits: str) -> bool:
    import phonenumbers  # only for a candidate (see shapes.phones)

    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(digits, "FI")))
    except phonenumbers.NumberParseException:
        return False
