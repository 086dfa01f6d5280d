"""Triage: one comment -> its categories, each with the words that matched, why, and a short
Finnish explanation of what to do.

In: a comment's text and the word lists (`moderation.load_lists()`). Out: `Triage`, the
comment cleaned and with its personal data masked, and its `CategoryHit`s:

- word-list categories (`config/moderation/*.txt`): disclosure, self_harm, threat, insult,
  slur, sexual, spam, and any list a user adds; negated hits dropped, reported ones weak;
- personal_data: what `privacy` masks (kinds and positions, never values);
- spam also from rules: a link, one word repeated, or only "eka!!!";
- question: a question mark, or a Finnish question form (`rules.toml [question]`).

Every hit says why (`reasons`): the list line, or the rule in plain words, so a person can see
why a comment was put where it was.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.comments.findings import MaskOptions
from pipeline.comments.moderation import PERSONAL_DATA, Flag, ModerationLists, find_flags, load_lists
from pipeline.comments.privacy import clean_display_text, describe_findings, mask_personal_data
from pipeline.comments.rules import Rules
from pipeline.comments.words import Token, find_any, tokens

QUESTION = "question"
SPAM = "spam"
HATE = ("threat", "insult", "slur")

# Shown to the workers with each category: what it is and what to do about it.
EXPLANATIONS: dict[str, str] = {
    "disclosure": (
        "Nuori voi kertoa väkivallasta, hyväksikäytöstä, laiminlyönnistä tai pelosta kotona. Vastaa "
        "henkilökohtaisesti ja yksityisesti, ei julkisella videolla, äläkä toista kommenttia. Harkitse "
        "lastensuojeluilmoitusta. (Työkalu vain muistuttaa; se ei lähetä mitään minnekään.)"
    ),
    "self_harm": "Merkkejä itsetuhoisuudesta. Vastaa henkilökohtaisesti, ei julkisesti, ja kerro mistä saa apua heti.",
    "threat": "Uhkaus. Piilotettu: sitä ei tarvitse lukea. Harkitse ilmoitusta alustalle tai poliisille.",
    "insult": "Loukkaus tai kiroilu.",
    "slur": "Halventava nimitys (syntyperä, seksuaalisuus, vamma). Piilotettu.",
    "sexual": "Seksuaalista sisältöä tai aihe: voi olla aito kysymys, mutta ehkä ei julkiseen vastaukseen.",
    "personal_data": "Henkilötietoja: ne peitetään kortilla; älä toista niitä videolla.",
    "spam": "Roskapostia: linkki, mainos, seuraa-pyyntö tai toistoa.",
    "question": "Kysymys, johon voi vastata videolla.",
}
WEAK_NOTE = "Heikko: ennen sitä on “{note}” (toisen kertomaa tai jos-kysymys)."


@dataclass(frozen=True, slots=True)
class CategoryHit:
    """One category of a comment: the comment's own words that matched and why."""

    category: str
    matched: tuple[str, ...]  # the comment's words; for personal_data kinds and positions only
    weak: bool = False  # every match was reported speech or a "what if"
    reasons: tuple[str, ...] = ()  # "disclosure.txt:12", "kysymysmerkki", "heikko: kaveri"

    @property
    def explanation(self) -> str:
        """The Finnish explanation shown with the category (and why it is weak, if it is)."""
        text = EXPLANATIONS.get(self.category, f"Oma lista: {self.category}.")
        notes = [r.split(": ", 1)[1] for r in self.reasons if r.startswith("heikko: ")]
        return f"{text} {WEAK_NOTE.format(note=notes[0])}" if self.weak and notes else text

    def to_json(self) -> dict[str, Any]:
        return {"category": self.category, "matched": list(self.matched), "weak": self.weak,
                "reasons": list(self.reasons), "explanation": self.explanation}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CategoryHit:
        return cls(data["category"], tuple(data["matched"]), bool(data["weak"]), tuple(data["reasons"]))


@dataclass(frozen=True, slots=True)
class Triage:
    """A comment as shown (cleaned, personal data masked) and its categories, strongest first."""

    text: str
    hits: tuple[CategoryHit, ...]

    @property
    def categories(self) -> list[str]:
        return [h.category for h in self.hits]

    def hit(self, category: str) -> CategoryHit | None:
        return next((h for h in self.hits if h.category == category), None)

    def has(self, category: str, *, strong: bool = False) -> bool:
        found = self.hit(category)
        return found is not None and not (strong and found.weak)


def triage_comment(text: str, lists: ModerationLists | None = None, options: MaskOptions | None = None) -> Triage:
    """Categorise one comment.

    Args:
        text: the comment as written.
        lists: from `load_lists()`; the built-in lists if None.
        options: the masking choices of the config's [privacy] (`mask_options`).

    Returns:
        The shown (masked) text and the categories: word lists in the order of the lists,
        then personal data, spam and question.
    """
    lists = lists or load_lists()
    rules = lists.rules
    masked = mask_personal_data(clean_display_text(text, keep_newlines=True), options=options)
    shown = masked.text
    by_category: dict[str, list[Flag]] = {}
    for flag in find_flags(shown, lists):
        by_category.setdefault(flag.category, []).append(flag)
    hits = [_hit_from_flags(c, flags) for c, flags in by_category.items()]
    if masked.findings:
        hits.append(CategoryHit(PERSONAL_DATA, tuple(describe_findings([f]) for f in masked.findings),
                                reasons=("privacy",)))
    words = tokens(shown, rules.clause_starts)
    spam = _spam_signs(shown, words, rules, [f.kind for f in masked.findings])
    if spam:
        old = next((h for h in hits if h.category == SPAM), None)
        if old:
            hits.remove(old)
        hits.append(CategoryHit(SPAM, (*(old.matched if old else ()), *(m for m, _ in spam)),
                                reasons=(*(old.reasons if old else ()), *(r for _, r in spam))))
    question = find_question(shown, words, rules)
    if question:
        hits.append(CategoryHit(QUESTION, (question[0],) if question[0] else (), reasons=(question[1],)))
    return Triage(shown, tuple(hits))


def _hit_from_flags(category: str, flags: Sequence[Flag]) -> CategoryHit:
    weak = all(f.weak for f in flags)
    reasons = [f.source for f in flags if f.source]
    if weak:
        reasons += [f"heikko: {f.note}" for f in flags if f.note][:1]
    return CategoryHit(category, tuple(f.matched for f in flags), weak, tuple(dict.fromkeys(reasons)))


# --- spam ----------------------------------------------------------------------------------------


def _spam_signs(text: str, words: Sequence[Token], rules: Rules, kinds: Sequence[str]) -> list[tuple[str, str]]:
    """(matched, reason) for each rule-based sign of spam."""
    signs = []
    if "url" in kinds:
        signs.append(("[linkki]", "linkki"))
    counts = Counter(w.norm for w in words if w.norm.isalpha())
    for word, count in counts.items():
        if count >= rules.spam_repeats:
            signs.append((word, f"sama sana {count} kertaa"))
    if words and len(words) == 1 and find_any(rules.spam_alone, words):
        signs.append((text[words[0].start : words[0].end], "vain “eka”"))
    return signs


# --- questions -----------------------------------------------------------------------------------


def find_question(text: str, words: Sequence[Token], rules: Rules) -> tuple[str, str] | None:
    """(the question word or "?", the reason in Finnish) if the comment asks something.

    A question mark after a word counts. Without one, a clause must start (after one of the
    leader words, "no", "hei", "mut"...) with an interrogative word ("miten", "miks") or a word
    with the question clitic -ko/-kö/-ks ("voiko", "onks"), not followed by "vaan"/"tahansa";
    or the comment asks for an answer ("haluisin tietää"). Exclamations such as "mitä vittua"
    and "miten ihana" are not questions unless there is a question mark.
    """
    if words and "?" in text[words[0].start :]:
        return "?", "kysymysmerkki"
    if not words:
        return None
    request = find_any(rules.requests, words)
    if request:
        m = request[0]
        return text[words[m.first].start : words[m.last].end], "pyytää vastausta"
    exclamation = {m.first for m in find_any(rules.exclamations, words)}
    interrogative = {m.first for m in find_any(rules.question_words, words)}
    not_clitic = {m.first for m in find_any(rules.not_questions, words)}
    leaders = {m.first for m in find_any(rules.question_leaders, words)}
    not_after = {m.first for m in find_any(rules.not_after_question, words)}
    for i, word in enumerate(words):
        starts = i == 0 or words[i - 1].clause != word.clause
        after_leader = i > 0 and (i - 1) in leaders and (i == 1 or words[i - 2].clause != words[i - 1].clause)
        if not (starts or after_leader) or i in exclamation or (i + 1) in not_after:
            continue
        shown = text[word.start : word.end]
        if i in interrogative:
            return shown, f"alkaa kysymyssanalla “{shown}”"
        if i not in not_clitic and len(word.norm) >= 4 and word.norm.isalpha() and any(
            word.norm.endswith(e) for e in rules.question_endings
        ):
            return shown, f"kysymysmuoto “{shown}” (-ko/-kö/-ks)"
    return None
