"""Personal data found by its shape: identity codes, bank accounts, e-mails, links, phone numbers,
street addresses and @mentions, written with digits and symbols.

In: a comment or caption text. Out: `Finding`s (kind, span, certain or only possible), which may
overlap; `privacy.find_personal_data` chooses among them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.comments.findings import Finding

TRAILING = ".,;:!?)]}'\"…"  # punctuation that ends a sentence, not a link or an address

# --- identity codes (henkilötunnus) ------------------------------------------------------------

# DDMMYY, century sign, individual number, check character. The check character is optional in
# the pattern so that a code missing it is still flagged as possible. A valid code counts even
# glued to a word ("131052-308Tmoi"); a near-miss needs spaces or punctuation around it.
_HETU = re.compile(r"(?<!\d)(\d\d)(\d\d)(\d\d)([-+A-FU-Y])(\d{3})([0-9A-Z])?(?!\d)", re.IGNORECASE)
# The 2023 signs (B-F, U-Y) mean the same century as A and -. python-stdnum 2.2 knows them;
# mapping them to A / - keeps the check working with releases from before the reform.
_CANONICAL_SIGN = {s: "-" for s in "-YXWVU"} | {s: "A" for s in "ABCDEF"} | {"+": "+"}


def identity_codes(text: str) -> Iterable[Finding]:
    for m in _HETU.finditer(text):
        # python-stdnum is imported only for a candidate: its import would cost every render ~50 ms.
        from stdnum.fi import hetu as stdnum_hetu

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


def ibans(text: str) -> Iterable[Finding]:
    for m in _IBAN.finditer(text):
        from stdnum import iban as stdnum_iban  # imported only for a candidate, as above

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


def emails(text: str) -> Iterable[Finding]:
    for m in _EMAIL.finditer(text):
        yield Finding("email", m.start(), m.end(), True)


def urls(text: str) -> Iterable[Finding]:
    for m in _SCHEME_URL.finditer(text):
        end = m.start() + len(m.group(0).rstrip(TRAILING))
        if end - m.start() > len("www."):
            yield Finding("url", m.start(), end, True)
    for m in _BARE_URL.finditer(text):
        if m.group(1).lower() in _WORD_TLDS and len(m.group(2) or "") < 2:
            continue
        end = m.start() + len(m.group(0).rstrip(TRAILING))
        yield Finding("url", m.start(), end, True)


def mentions(text: str) -> Iterable[Finding]:
    for m in _MENTION.finditer(text):
        yield Finding("mention", m.start(), m.end(), True)


# --- phone numbers -----------------------------------------------------------------------------


def phones(text: str) -> Iterable[Finding]:
    # Leniency VALID checks the number against Finland's numbering plan, so years, prices,
    # times and dates ("12.3.2024", "1 000 000") are not taken; POSSIBLE takes them.
    if sum(ch.isdigit() for ch in text) < 2:  # no number to find: spare importing phonenumbers
        return
    import phonenumbers

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


def addresses(text: str) -> Iterable[Finding]:
    for m in _ADDRESS.finditer(text):
        street = m.group("street")
        lower = street.lower()
        if not any(lower.endswith(e) and len(lower) - len(e) >= 2 for e in _STREET_ENDINGS):
            continue
        if _NOT_A_SQUARE.search(lower):  # "monitori 2", "moottorilla 3": -tori words, no square
            continue
        after = text[m.end("num") :].split(maxsplit=1)
        if after and after[0].lower().strip(TRAILING) in _UNITS:
            continue
        # "Kotikatu 5" is surely an address; a lower-case "hiekkarannalla 2" only may be.
        yield Finding("address", m.start(), m.end(), street[0].isupper())

