"""Contacts in disguise: e-mails written with " at " or "piste", user names after "snäppi on".

In: a comment or caption text. Out: `Finding`s of kind "email" ("matti.v at gmail piste com",
"jenna(at)hotmail.com", "liisa ät outlook dot fi") and "handle" ("mun snäppi on matti_v2010",
"ig jennak09", "discord: nelli_k"; "@jenna" is a mention found by its shape).

A handle needs something that makes it a user name rather than a word: a digit, "_", ".", "#",
an "@", or a word that Finnish does not have ("mun insta on rikki" is not a user name). Without
Voikko only the first kinds are taken.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.comments import morphology
from pipeline.comments.findings import Finding

_AT = r"(?:\s*[(\[{<]\s*(?:at|ät|@|miukumauku)\s*[)\]}>]\s*|\s+(?:at|ät|æt|@|miukumauku)\s+|\s*@\s+|\s+@\s*)"
_DOT = r"(?:\s*[(\[{<]\s*(?:dot|piste|pist|\.)\s*[)\]}>]\s*|\s+(?:dot|piste|pist)\s+|\s*\.\s*)"
# A domain needs a top-level domain or a known mail provider: "kato at home" is no address.
_TLD = r"(?:com|fi|net|org|eu|info|io|me|se|de|uk|co|nu)"
_PROVIDERS = r"(?:gmail|hotmail|outlook|live|yahoo|icloud|me|luukku|suomi24|protonmail|proton)"
_DISGUISED_EMAIL = re.compile(rf"(?<![\w.+-])[\w.+-]*\w{_AT}[\w-]+(?:{_DOT}[\w-]+)*", re.IGNORECASE)
_AT_RE = re.compile(_AT, re.IGNORECASE)
_DOT_RE = re.compile(_DOT, re.IGNORECASE)

# "snäppi", "snäpis", "snapchat", "insta", "instaan", "ig", "igssä", "tiktok", "discord", "dc" ...
_SERVICE = (
    r"(?:snäp+i\w*|snäpis|snäpissä|snap(?:chat)?\w*|sc|insta(?:gram)?\w*|ig(?::?\w{0,4})|tiktok\w*|tt"
    r"|discord\w*|dc|dissi\w*|telegram\w*|kik|whatsapp\w*|wa|twitter\w*|threads)"
)
_HANDLE = re.compile(
    rf"(?<![\w@])(?P<service>{_SERVICE})(?:\s*(?:on|:|=|->|-|>|nimellä)\s*|\s+)@?(?P<handle>[\w.#-]*\w)",
    re.IGNORECASE,
)
_TOLD_APART = re.compile(r"[\d_.#]")
# Words that follow "mun snäppi on ..." and are not a user name (Voikko knows the rest).
_NOT_HANDLES = {"on", "ei", "oo", "mun", "sun", "se", "tää", "ja", "tai", "ku", "kun", "nii", "niin", "vaan", "vaa"}


def disguised_emails(text: str) -> Iterable[Finding]:
    """E-mail addresses with the "@" or "." said in words."""
    for m in _DISGUISED_EMAIL.finditer(text):
        at = _AT_RE.search(m.group(0))
        assert at is not None
        domain_start = m.start() + at.end()
        # Label ends: the domain may run on into the next sentence ("gmail. Sit ..."), so take
        # the longest prefix that ends in a top-level domain, else a known provider alone.
        cuts = list(_DOT_RE.finditer(text, domain_start, m.end()))
        edges = [domain_start, *[c.start() for c in cuts], m.end()]
        starts = [domain_start, *[c.end() for c in cuts]]
        labels = [text[s:e] for s, e in zip(starts, edges[1:])]
        end = None
        for k in range(len(labels) - 1, 0, -1):
            if re.fullmatch(_TLD, labels[k], re.IGNORECASE):
                end = edges[k + 1]
                break
        if end is None and re.fullmatch(_PROVIDERS, labels[0], re.IGNORECASE):
            end = edges[1]
        if end is not None:
            yield Finding("email", m.start(), end, True)


def handles(text: str) -> Iterable[Finding]:
    """User names introduced by a service: "mun snäppi on matti_v2010", "ig jennak09"."""
    for m in _HANDLE.finditer(text):
        handle = m.group("handle")
        start = m.start("handle")
        if text[start - 1] == "@":
            continue  # a mention, found by its shape
        if handle.lower() in _NOT_HANDLES or handle.lower() == m.group("service").lower():
            continue
        if _TOLD_APART.search(handle) or _unknown_word(handle):
            yield Finding("handle", start, m.end("handle"), True)


def _unknown_word(word: str) -> bool:
    found = morphology.readings(word)
    if found is None:
        return False
    proper = {r.word_class for r in found} & {morphology.FIRST_NAME, morphology.SURNAME}
    return not found or bool(proper)
