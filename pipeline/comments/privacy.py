"""Personal data in comment and caption text: find it, mask it, say what was masked.

In: a comment (or caption cues). Out: `MaskResult`, the masked text and the `Finding`s (kind,
character span, certain or only possible). A `Finding` never carries the value: warnings and
logs name the kind and the position only, because the commenters are often minors.

Also `clean_display_text()`, which drops bidi controls and invisible characters from names and
comments before they are drawn or printed. Clean first, then mask:
`mask_personal_data(clean_display_text(comment, keep_newlines=True))`.

Kinds and placeholders: identity_code [henkilötunnus], iban [tilinumero], email [sähköposti],
url [linkki], phone [puhelinnumero], address [osoite], mention [käyttäjä]. Spans are 0-based
character offsets into the text given, end exclusive.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum.fi import hetu as stdnum_hetu

from pipeline.types import Cue, Word

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal data: its kind and span, never its value."""

    kind: str  # a key of KINDS
    start: int
    end: int
    certain: bool  # False: looks like one (e.g. an identity code with a wrong checksum)


@dataclass(frozen=True, slots=True)
class MaskResult:
    """The masked text and what was masked (spans refer to the text before masking)."""

    text: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class CueFinding:
    """Personal data in one caption cue; the span refers to `cue.text` (lines joined by "\\n")."""

    cue_index: int
    cue_start: float  # seconds
    cue_end: float
    finding: Finding


# kind -> (English name for warnings, Finnish placeholder on the card). When two findings
# overlap, a certain one wins, then the earlier kind here: "tiktok.com/@nimi" is a link.
KINDS: dict[str, tuple[str, str]] = {
    "identity_code": ("identity code", "[henkilötunnus]"),
    "iban": ("bank account", "[tilinumero]"),
    "email": ("e-mail", "[sähköposti]"),
    "url": ("link", "[linkki]"),
    "phone": ("phone number", "[puhelinnumero]"),
    "address": ("street address", "[osoite]"),
    "mention": ("@mention", "[käyttäjä]"),
}
_PRIORITY = {kind: rank for rank, kind in enumerate(KINDS)}


def find_personal_data(text: str) -> list[Finding]:
    """Find identity codes, bank accounts, e-mails, links, phone numbers, addresses, @mentions.

    Args:
        text: a comment or caption text.

    Returns:
        Non-overlapping findings in text order.
    """
    candidates = [
        *_identity_codes(text),
        *_ibans(text),
        *_emails(text),
        *_urls(text),
        *_phones(text),
        *_addresses(text),
        *_mentions(text),
    ]
    chosen: list[Finding] = []
    for f in sorted(candidates, key=lambda f: (not f.certain, _PRIORITY[f.kind], f.start - f.end, f.start)):
        if all(f.end <= c.start or f.start >= c.end for c in chosen):
            chosen.append(f)
    return sorted(chosen, key=lambda f: f.start)


def mask_personal_data(text: str, *, include_possible: bool = True, keep_personal_data: bool = False) -> MaskResult:
    """Replace each piece of personal data with a Finnish placeholder such as "[puhelinnumero]".

    Args:
        text: the comment (cleaned with `clean_display_text` first).
        include_possible: also mask near-misses (on by default: the card is public).
        keep_personal_data: mask nothing (`--keep-personal-data`); the findings are still
            returned, so a warning can say what was kept.

    Returns:
        The text (masked unless kept) and the findings (spans in the original text).
    """
    findings = tuple(f for f in find_personal_data(text) if f.certain or include_possible)
    if keep_personal_data:
        if findings:
            log.debug("kept personal data: %s", describe_findings(findings))
        return MaskResult(text=text, findings=findings)
    masked = _replace_spans(text, findings)
    if findings:
        log.debug("masked personal data: %s", describe_findings(findings))
    return MaskResult(text=masked, findings=findings)


def describe_findings(findings: Iterable[Finding]) -> str:
    """Say what was found without the values, e.g. "phone number at 12-25, e-mail at 30-45"."""
    parts = []
    for f in findings:
        name = KINDS[f.kind][0] if f.kind in KINDS else f.kind
        parts.append(f"{'' if f.certain else 'possible '}{name} at {f.start}-{f.end}")
    return ", ".join(parts)


def _replace_spans(text: str, findings: Sequence[Finding]) -> str:
    for f in sorted(findings, key=lambda f: f.start, reverse=True):
        text = text[: f.start] + KINDS[f.kind][1] + text[f.end :]
    return text


# --- identity codes (henkilötunnus) ------------------------------------------------------------

# DDMMYY, century sign, individual number, check character. The check character is optional in
# the pattern so that a code missing it is still flagged as possible. A valid code counts even
# glued to a word ("131052-308Tmoi"); a near-miss needs spaces or punctuation around it.
_HETU = re.compile(r"(?<!\d)(\d\d)(\d\d)(\d\d)([-+A-FU-Y])(\d{3})([0-9A-Z])?(?!\d)", re.IGNORECASE)
# The 2023 signs (B-F, U-Y) mean the same century as A and -. python-stdnum 2.2 knows them;
# mapping them to A / - keeps the check working with releases from before the reform.
_CANONICAL_SIGN = {s: "-" for s in "-YXWVU"} | {s: "A" for s in "ABCDEF"} | {"+": "+"}


def _identity_codes(text: str) -> Iterable[Finding]:
    for m in _HETU.finditer(text):
        day, month = int(m.group(1)), int(m.group(2))
        code = m.group(0).upper()
        canonical = code[:6] + _CANONICAL_SIGN[code[6]] + code[7:]
        # 900-999 are temporary codes: still a person's identifier.
        certain = len(code) == 11 and stdnum_hetu.is_valid(canonical, allow_temporary=True)
        if certain:
            yield Finding("identity_code", m.start(), m.end(), True)
            continue
        apart = (m.start() == 0 or not text[m.start() - 1].isalnum()) and (
            m.end() == len(text) or not (text[m.end()].isalnum() or text[m.end()] in "+-")
        )
        if apart and 1 <= day <= 31 and 1 <= month <= 12:
            yield Finding("identity_code", m.start(), m.end(), False)


# --- bank accounts -----------------------------------------------------------------------------

_IBAN = re.compile(r"(?<!\w)[A-Z]{2}\d\d(?: ?[A-Z0-9]){10,30}(?!\w)", re.IGNORECASE)


def _ibans(text: str) -> Iterable[Finding]:
    for m in _IBAN.finditer(text):
        # The pattern may run into a following word ("FI21 1234 ... 85 ok"): take the longest
        # prefix that ends at a space (or the match end) and validates.
        spaces = [i for i in range(m.start() + 15, m.end()) if text[i] == " "]
        for end in [m.end(), *reversed(spaces)]:
            if stdnum_iban.is_valid(text[m.start() : end].upper()):
                yield Finding("iban", m.start(), end, True)
                break
        else:
            # A Finnish account with a typo: FI + 16 digits.
            fi = re.match(r"FI(?: ?\d){16}(?!\w)", text[m.start() : m.end()], re.IGNORECASE)
            if fi:
                yield Finding("iban", m.start(), m.start() + fi.end(), False)


# --- e-mail, links, mentions -------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?!\w)")
_SCHEME_URL = re.compile(r"(?<![\w@])(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
# Bare domains need a known top-level domain, so "klo 14.30" or "esim.joo" are not links.
_TLDS = ["com", "fi", "net", "org", "io", "eu", "info", "app", "dev", "gg", "tv", "ly", "ee", "de", "uk", "ru", "co", "xyz", "link", "shop", "online", "site", "ax", "biz", "live", "store", "page", "nu", "se", "me", "no", "to", "it", "is", "at", "ai"]
# Top-level domains that are also Finnish words ("no.se oli kivaa"): only with a path.
_WORD_TLDS = {"se", "me", "no", "to", "it", "is", "at", "ai", "nu"}
_BARE_URL = re.compile(
    r"(?<![\w@./-])(?:[a-z0-9äöå](?:[a-z0-9äöå-]*[a-z0-9äöå])?\.)+(" + "|".join(_TLDS) + r")(?![\w-])(/[^\s<>\"']*)?",
    re.IGNORECASE,
)
_MENTION = re.compile(r"(?<![\w@./])@[\w.]*\w")
_TRAILING = ".,;:!?)]}'\"…"


def _emails(text: str) -> Iterable[Finding]:
    for m in _EMAIL.finditer(text):
        yield Finding("email", m.start(), m.end(), True)


def _urls(text: str) -> Iterable[Finding]:
    for m in _SCHEME_URL.finditer(text):
        end = m.start() + len(m.group(0).rstrip(_TRAILING))
        if end - m.start() > len("www."):
            yield Finding("url", m.start(), end, True)
    for m in _BARE_URL.finditer(text):
        if m.group(1).lower() in _WORD_TLDS and len(m.group(2) or "") < 2:
            continue
        end = m.start() + len(m.group(0).rstrip(_TRAILING))
        yield Finding("url", m.start(), end, True)


def _mentions(text: str) -> Iterable[Finding]:
    for m in _MENTION.finditer(text):
        yield Finding("mention", m.start(), m.end(), True)


# --- phone numbers -----------------------------------------------------------------------------


def _phones(text: str) -> Iterable[Finding]:
    # Leniency VALID checks the number against Finland's numbering plan, so years, prices,
    # times and dates ("12.3.2024", "1 000 000") are not taken; POSSIBLE takes them.
    for m in phonenumbers.PhoneNumberMatcher(text, "FI", leniency=phonenumbers.Leniency.VALID):
        yield Finding("phone", m.start, m.end, True)


# --- street addresses --------------------------------------------------------------------------

# Street-name endings: nominative, partitive, illative, and the stem the other cases build on.
_STREETS = {
    "tie": ("tie", "tietä", "tiehen", "tie"),
    "katu": ("katu", "katua", "katuun", "kadu"),
    "kuja": ("kuja", "kujaa", "kujaan", "kuja"),
    "polku": ("polku", "polkua", "polkuun", "polu"),
    "tanhua": ("tanhua", "tanhuaa", "tanhuaan", "tanhua"),
    "raitti": ("raitti", "raittia", "raittiin", "raiti"),
    "väylä": ("väylä", "väylää", "väylään", "väylä"),
    "kaari": ("kaari", "kaarta", "kaareen", "kaare"),
    "kaarre": ("kaarre", "kaarretta", "kaarteeseen", "kaartee"),
    "rinne": ("rinne", "rinnettä", "rinteeseen", "rintee"),
    "mäki": ("mäki", "mäkeä", "mäkeen", "mäe"),
    "ranta": ("ranta", "rantaa", "rantaan", "ranna"),
    "puisto": ("puisto", "puistoa", "puistoon", "puisto"),
    "aukio": ("aukio", "aukiota", "aukioon", "aukio"),
    "tori": ("tori", "toria", "toriin", "tori"),
    "vägen": ("vägen", "väg", "vägen", "väg"),
    "gatan": ("gatan", "gata", "gatan", "gata"),
    "gränd": ("gränd", "gränden", "gränd", "gränd"),
}


def _street_endings() -> tuple[str, ...]:
    endings: set[str] = set()
    for nominative, partitive, illative, stem in _STREETS.values():
        endings |= {nominative, partitive, illative}
        a = "a" if re.search("[aou]", stem) else "ä"
        endings |= {stem + case for case in ("n", f"ll{a}", "lle", f"lt{a}", f"ss{a}", f"st{a}", f"n{a}", "ksi")}
    return tuple(sorted(endings, key=len, reverse=True))


_STREET_ENDINGS = _street_endings()
_ADDRESS = re.compile(
    r"(?<![\w-])(?P<street>[^\W\d_]+(?:-[^\W\d_]+)*)\s+"
    r"(?P<num>\d{1,3}(?:[a-h]\b)?)(?![\w])(?![.,:/]\d)"
    r"(?:(?:\s+(?:[a-h]|as\.?|asunto)\s*\d{1,3}|\s+[a-h])(?!\w))?"  # stair and flat: "B 12", "as 3"
    r"(?:,?\s+\d{5}(?:\s+[A-ZÄÖÅ][a-zäöå]+)?(?!\w))?",  # postcode and town
    re.IGNORECASE,
)
# A number followed by one of these is an amount, not a house: "hiihtomäellä 3 tuntia".
_UNITS = set(
    ["kertaa", "kerran", "tuntia", "tunnin", "h", "min", "minuuttia", "sekuntia", "s", "päivää", "päivän", "viikkoa", "kuukautta", "vuotta", "v", "km", "m", "metriä", "kilometriä", "kg", "kiloa", "euroa", "e", "€", "%", "prosenttia", "astetta", "kpl", "kappaletta", "lasta", "ihmistä", "henkeä", "hengen", "sataa", "tuhatta", "miljoonaa"]
)
_NOT_A_SQUARE = re.compile(r"[hikt]tor(?:i|in|ia|iin|ill|ilt|iss|ist|ina|iksi)\w*$")


def _addresses(text: str) -> Iterable[Finding]:
    for m in _ADDRESS.finditer(text):
        street = m.group("street")
        lower = street.lower()
        if not any(lower.endswith(e) and len(lower) - len(e) >= 2 for e in _STREET_ENDINGS):
            continue
        if _NOT_A_SQUARE.search(lower):  # "monitori 2", "moottorilla 3": -tori words, no square
            continue
        after = text[m.end("num") :].split(maxsplit=1)
        if after and after[0].lower().strip(_TRAILING) in _UNITS:
            continue
        # "Kotikatu 5" is surely an address; a lower-case "hiekkarannalla 2" only may be.
        yield Finding("address", m.start(), m.end(), street[0].isupper())


# --- captions ----------------------------------------------------------------------------------


def find_personal_data_in_cues(cues: Sequence[Cue]) -> list[CueFinding]:
    """Personal data a speaker said aloud, cue by cue (a number split over two cues is missed).

    Returns:
        One `CueFinding` per finding; spans refer to `cue.text`.
    """
    found = []
    for index, cue in enumerate(cues):
        for f in find_personal_data(cue.text.replace("\n", " ")):
            found.append(CueFinding(index, cue.start, cue.end, f))
    return found


def mask_cues(cues: Sequence[Cue], *, include_possible: bool = True) -> tuple[list[Cue], list[CueFinding]]:
    """Mask personal data in caption cues: both the lines and the timed words.

    Words inside a masked span become one word that carries the placeholder and spans their
    times, so karaoke highlighting stays in step. A span across a line break joins the lines;
    lines may then run a little longer than the caption limit.

    Returns:
        The cues (unchanged ones are the same objects) and what was masked.
    """
    masked: list[Cue] = []
    found: list[CueFinding] = []
    for index, cue in enumerate(cues):
        findings = [
            f for f in find_personal_data(cue.text.replace("\n", " ")) if f.certain or include_possible
        ]
        words = _mask_words(cue.words, include_possible)
        if not findings and words == cue.words:
            masked.append(cue)
            continue
        found += [CueFinding(index, cue.start, cue.end, f) for f in findings]
        lines = tuple(line for line in _replace_spans(cue.text, findings).split("\n") if line.strip())
        masked.append(dataclasses.replace(cue, lines=lines, words=words))
    if found:
        log.debug("masked personal data in captions: %d item(s)", len(found))
    return masked, found


def _mask_words(words: tuple[Word, ...], include_possible: bool) -> tuple[Word, ...]:
    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w.word) + 1
    joined = " ".join(w.word for w in words)
    findings = [f for f in find_personal_data(joined) if f.certain or include_possible]
    out = list(words)
    for f in sorted(findings, key=lambda f: f.start, reverse=True):
        hit = [i for i, s in enumerate(starts) if s < f.end and s + len(words[i].word) > f.start]
        first, last = hit[0], hit[-1]
        head = words[first].word[: max(0, f.start - starts[first])]
        tail = words[last].word[max(0, f.end - starts[last]) :]
        merged = Word(
            word=head + KINDS[f.kind][1] + tail,
            start=words[first].start,
            end=words[last].end,
            probability=min(words[i].probability for i in hit),
        )
        out[first : last + 1] = [merged]
    return tuple(out)


# --- display cleaning --------------------------------------------------------------------------

# Invisible letters that are not format characters (blank TikTok names use them).
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u034f"}
_KEEP_SPACES = {" ", "\u00a0", "\u202f"}  # no-break spaces keep "15 000" together
_FLAG_TAGS = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")  # 🏴 + tags (Scotland ...)
_MAX_MARKS = 3  # combining marks per letter; more is "zalgo" text that spills over the card


def clean_display_text(text: str, *, keep_newlines: bool = False) -> str:
    """Drop bidi controls, invisible and control characters; NFC; tidy spaces.

    Removes U+202A-202E, U+2066-2069, U+200E/F, U+061C, zero-width characters, U+2060-2064,
    U+FEFF, soft hyphens, other format and control characters, private-use characters and
    filler letters. Keeps the zero-width joiner inside emoji sequences and the tags of flag
    emoji. Caps stacked combining marks at three.

    Args:
        text: a user name or comment.
        keep_newlines: keep line breaks (comments); otherwise they become spaces (names).

    Returns:
        The text to display, stripped; "" if nothing visible was left.
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    keep_tags = {i for m in _FLAG_TAGS.finditer(text) for i in range(m.start() + 1, m.end())}
    out: list[str] = []
    marks = 0
    for i, ch in enumerate(text):
        cat = unicodedata.category(ch)
        if ch == "\n" or ch in "\r\u2028\u2029\x85":
            out.append("\n" if keep_newlines else " ")
        elif ch in _KEEP_SPACES:
            out.append(ch)
        elif cat.startswith("Z") or ch == "\t":
            out.append(" ")
        elif ch == "\u200d" and _joins_emoji(text, i) or i in keep_tags:
            out.append(ch)
        elif cat in ("Cc", "Cf", "Co", "Cs") or ch in _BLANK_LETTERS:
            continue
        elif cat.startswith("M"):
            marks += 1
            if marks <= _MAX_MARKS:
                out.append(ch)
            continue
        else:
            out.append(ch)
        marks = 0
    cleaned = "".join(out)
    cleaned = re.sub(r"[ \t]+", " ", cleaned)
    if keep_newlines:
        cleaned = re.sub(r" *\n *", "\n", cleaned)
        cleaned = re.sub(r"\n{3,}", "\n\n", cleaned)
    return unicodedata.normalize("NFC", cleaned).strip()


def _joins_emoji(text: str, i: int) -> bool:
    """True for a zero-width joiner between two emoji (👩‍👧, 🏳️‍🌈): removing it splits them."""
    if i == 0 or i + 1 >= len(text):
        return False
    before, after = text[i - 1], text[i + 1]
    emoji_end = (
        unicodedata.category(before) == "So" or before == "\ufe0f" or "\U0001f3fb" <= before <= "\U0001f3ff"
    )
    return emoji_end and unicodedata.category(after) == "So" and after not in _BLANK_LETTERS and (
        before not in _BLANK_LETTERS
    )
