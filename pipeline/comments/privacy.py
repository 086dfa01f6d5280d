"""Personal data in comment and caption text: find it, mask it, say what was masked.

In: a comment (or caption cues). Out: `MaskResult`, the masked text and the `Finding`s (kind,
character span, certain or only possible). A `Finding` never carries the value: warnings and
logs name the kind and the position only, because the commenters are often minors.

The finders, one module each: `shapes` (identity codes, IBANs, e-mails, links, phone numbers,
addresses, @mentions written with digits and symbols), `spoken_numbers` (the same numbers in
Finnish words), `contacts` (disguised e-mails, user names after "snäppi on"), `schools` (school
names and classes), `names` (people's names and towns, with Voikko). `display.clean_display_text()`
drops bidi controls and invisible characters. Clean first, then mask:
`mask_personal_data(clean_display_text(comment, keep_newlines=True))`.

Kinds and placeholders (`KINDS`): identity_code [henkilötunnus], iban [tilinumero], email
[sähköposti], url [linkki], phone [puhelinnumero], address [osoite], mention and handle
[käyttäjä], school [koulu], class [luokka], name [nimi], place [paikkakunta]. Spans are 0-based
character offsets into the text given, end exclusive.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.comments import contacts, names, schools, shapes, spoken_numbers
from pipeline.comments.display import clean_display_text
from pipeline.comments.findings import KINDS, PRIORITY, Finding, MaskOptions
from pipeline.config import PrivacySettings
from pipeline.types import Cue, Word

__all__ = [
    "KINDS", "CueFinding", "Finding", "MaskOptions", "MaskResult", "clean_display_text", "default_options",
    "describe_findings", "find_personal_data", "find_personal_data_in_cues", "mask_cues", "mask_options",
    "mask_personal_data",
]

log = logging.getLogger(__name__)


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


def mask_options(privacy: PrivacySettings) -> MaskOptions:
    """The masking choices of a config's [privacy] section."""
    return MaskOptions(
        mask_first_names=privacy.mask_first_names,
        mask_towns=privacy.mask_towns,
        worker_names=tuple(privacy.worker_names),
    )


@functools.cache
def default_options() -> MaskOptions:
    """The choices of `config/default.toml` (`MaskOptions()`; a test keeps the two equal)."""
    return MaskOptions()


def find_personal_data(text: str, options: MaskOptions | None = None) -> list[Finding]:
    """Find identity codes, bank accounts, e-mails, links, phone numbers, addresses, user names,
    schools, classes, people's names and towns.

    Args:
        text: a comment or caption text.
        options: config [privacy] choices (`mask_options(settings.privacy)`); None: the defaults.

    Returns:
        Non-overlapping findings in text order.
    """
    options = options or default_options()
    candidates = [
        *shapes.identity_codes(text),
        *shapes.ibans(text),
        *shapes.emails(text),
        *contacts.disguised_emails(text),
        *shapes.urls(text),
        *shapes.phones(text),
        *spoken_numbers.spoken_numbers(text),
        *shapes.addresses(text),
        *shapes.mentions(text),
        *contacts.handles(text),
        *schools.schools(text),
        *schools.classes(text),
    ]
    chosen = _choose(candidates)
    anchors = [f for f in chosen if f.kind in ("school", "address")]
    chosen = _choose([*chosen, *names.names(text, options), *names.places(text, options, anchors)])
    return chosen


def _choose(candidates: Iterable[Finding]) -> list[Finding]:
    chosen: list[Finding] = []
    for f in sorted(candidates, key=lambda f: (not f.certain, PRIORITY[f.kind], f.start - f.end, f.start)):
        if all(f.end <= c.start or f.start >= c.end for c in chosen):
            chosen.append(f)
    return sorted(chosen, key=lambda f: f.start)


def mask_personal_data(text: str, *, include_possible: bool = True, keep_personal_data: bool = False,
                       options: MaskOptions | None = None) -> MaskResult:
    """Replace each piece of personal data with a Finnish placeholder such as "[puhelinnumero]".

    Args:
        text: the comment (cleaned with `clean_display_text` first).
        include_possible: also mask near-misses (on by default: the card is public).
        keep_personal_data: mask nothing (`--keep-personal-data`); the findings are still
            returned, so a warning can say what was kept.
        options: config [privacy] choices (`mask_options(settings.privacy)`); None: the defaults.

    Returns:
        The text (masked unless kept) and the findings (spans in the original text).
    """
    findings = tuple(f for f in find_personal_data(text, options) if f.certain or include_possible)
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

# --- captions ----------------------------------------------------------------------------------


def find_personal_data_in_cues(cues: Sequence[Cue], options: MaskOptions | None = None) -> list[CueFinding]:
    """Personal data a speaker said aloud, cue by cue (a number split over two cues is missed).

    Returns:
        One `CueFinding` per finding; spans refer to `cue.text`.
    """
    found = []
    for index, cue in enumerate(cues):
        for f in find_personal_data(cue.text.replace("\n", " "), options):
            found.append(CueFinding(index, cue.start, cue.end, f))
    return found


def mask_cues(cues: Sequence[Cue], *, include_possible: bool = True, options: MaskOptions | None = None
              ) -> tuple[list[Cue], list[CueFinding]]:
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
            f for f in find_personal_data(cue.text.replace("\n", " "), options) if f.certain or include_possible
        ]
        words = _mask_words(cue.words, include_possible, options)
        if not findings and words == cue.words:
            masked.append(cue)
            continue
        found += [CueFinding(index, cue.start, cue.end, f) for f in findings]
        lines = tuple(line for line in _replace_spans(cue.text, findings).split("\n") if line.strip())
        masked.append(dataclasses.replace(cue, lines=lines, words=words))
    if found:
        log.debug("masked personal data in captions: %d item(s)", len(found))
    return masked, found


def _mask_words(words: tuple[Word, ...], include_possible: bool, options: MaskOptions | None
                ) -> tuple[Word, ...]:
    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w.word) + 1
    joined = " ".join(w.word for w in words)
    findings = [f for f in find_personal_data(joined, options) if f.certain or include_possible]
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
