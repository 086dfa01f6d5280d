"""Inbox: a pile of comments -> sorted, categorised, near-duplicate questions grouped, answered
ones marked. The API the CLI (`sossut comments check`) and the studio's "Kommentit" view share.

In: comment texts, word lists, and optionally the answered `Ledger`. Out: `Inbox`, whose items
come in the order the workers should read them:

1. `personal`: disclosure or self-harm (strong before weak): a personal, private response;
2. `question`: questions, near-duplicates next to each other, the most asked group first;
3. `other`: the rest (flagged first);
4. `spam`;
5. `hate`: a strong threat, slur or (outside a question) insult, and nothing personal:
   counted, and shown only on request (`Inbox.shown(include_hate=True)`).

Near-duplicates: questions whose words (Snowball stems, so inflection does not matter) are
alike by `rapidfuzz`'s token sort ratio at or above `GROUP_SCORE`, which also forgives typos.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from rapidfuzz import fuzz

from pipeline.comments.findings import MaskOptions
from pipeline.comments.ledger import Ledger, LedgerEntry
from pipeline.comments.moderation import PERSONAL_RESPONSE, ModerationLists, load_lists
from pipeline.comments.triage import HATE, QUESTION, SPAM, CategoryHit, Triage, triage_comment
from pipeline.comments.words import tokens

Section = Literal["personal", "question", "other", "spam", "hate"]
SECTIONS: tuple[Section, ...] = get_args(Section)
SECTION_TITLES: dict[Section, str] = {
    "personal": "Vaatii henkilökohtaisen vastauksen",
    "question": "Kysymykset",
    "other": "Muut",
    "spam": "Roskaposti",
    "hate": "Viha ja uhkaukset (piilotettu)",
}
GROUP_SCORE = 72.0  # 0-100; lower groups more loosely
# Words too common to tell two questions apart.
_STOP = frozenset(["mä", "sä", "mun", "sun", "mulle", "sulle", "te", "teil", "teillä", "teidän", "teiän", "on", "oo",
                   "ja", "et", "että", "se", "ne", "jos", "kun", "ku", "niin", "nii", "vaan", "vain", "hei", "moi",
                   "no", "mut", "mutta"])


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One comment in the inbox."""

    number: int  # 1-based position in the input
    text: str  # cleaned, personal data masked
    hits: tuple[CategoryHit, ...]
    section: Section
    group: int | None = None  # question group number (1-based), None if not a question
    answered: tuple[LedgerEntry, ...] = ()

    @property
    def categories(self) -> list[str]:
        return [h.category for h in self.hits]

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "text": self.text, "section": self.section, "group": self.group,
                "categories": [h.to_json() for h in self.hits],
                "answered": [e.to_json() for e in self.answered]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InboxItem:
        section = data["section"]
        if section not in SECTIONS:
            raise ValueError(f"unknown section {section!r}")
        return cls(int(data["number"]), str(data["text"]), tuple(CategoryHit.from_json(h) for h in data["categories"]),
                   section, data.get("group"), tuple(LedgerEntry.from_json(e) for e in data.get("answered", [])))


@dataclass(frozen=True, slots=True)
class QuestionGroup:
    """Questions that ask the same thing: one video can answer them all."""

    number: int
    items: tuple[int, ...]  # item numbers, first asked first

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "items": list(self.items)}


@dataclass(frozen=True, slots=True)
class Inbox:
    """Every comment, sorted by section; hate is in `items` but left out of `shown()`."""

    items: tuple[InboxItem, ...]
    groups: tuple[QuestionGroup, ...]

    @property
    def hidden(self) -> int:
        """How many comments are hate, collapsed by default."""
        return sum(1 for i in self.items if i.section == "hate")

    def shown(self, include_hate: bool = False) -> list[InboxItem]:
        return [i for i in self.items if include_hate or i.section != "hate"]

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for i in self.items if i.section == s) for s in SECTIONS}

    def to_json(self, include_hate: bool = False) -> dict[str, Any]:
        """The inbox for scripts and the studio; hate items only with `include_hate` (counted always)."""
        return {"items": [i.to_json() for i in self.shown(include_hate)],
                "groups": [g.to_json() for g in self.groups], "counts": self.counts(), "hidden": self.hidden,
                "hate_included": include_hate}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Inbox:
        return cls(tuple(InboxItem.from_json(i) for i in data["items"]),
                   tuple(QuestionGroup(int(g["number"]), tuple(g["items"])) for g in data["groups"]))


def section_of(triage: Triage) -> Section:
    """Where a comment goes; see the module docstring."""
    if any(triage.has(c) for c in PERSONAL_RESPONSE):
        return "personal"
    hate = triage.has("threat", strong=True) or triage.has("slur", strong=True)
    if hate or (triage.has("insult", strong=True) and not triage.has(QUESTION)):
        return "hate"
    if triage.has(SPAM):
        return "spam"
    if triage.has(QUESTION):
        return "question"
    return "other"


def build_inbox(texts: Sequence[str], lists: ModerationLists | None = None, ledger: Ledger | None = None,
                options: MaskOptions | None = None) -> Inbox:
    """Categorise, sort and group a pile of comments.

    Args:
        texts: the comments, as written (empty ones are kept as items with no categories).
        lists: from `load_lists()`; the built-in lists if None.
        ledger: answered comments (`read_ledger`); None: nothing is marked.

    Returns:
        The inbox; `items` sorted by section, then as described in the module docstring.
    """
    lists = lists or load_lists()
    triaged = [triage_comment(t, lists, options) for t in texts]
    sections = [section_of(t) for t in triaged]
    questions = [n for n, s in enumerate(sections) if s == "question"]
    groups = _group([triaged[n].text for n in questions])
    group_of: dict[int, int] = {}
    ordered_groups = sorted(groups, key=lambda g: (-len(g), g[0]))
    for number, members in enumerate(ordered_groups, 1):
        for k in members:
            group_of[questions[k]] = number
    items = [
        InboxItem(n + 1, t.text, t.hits, sections[n], group_of.get(n),
                  tuple(ledger.answers(texts[n])) if ledger else ())
        for n, t in enumerate(triaged)
    ]
    rank = {s: k for k, s in enumerate(SECTIONS)}

    def order(item: InboxItem) -> tuple[int, int, int, int]:
        if item.section == "personal":
            weak = all(h.weak for h in item.hits if h.category in PERSONAL_RESPONSE)
            return rank["personal"], int(weak), 0, item.number
        if item.section == "question" and item.group is not None:
            return rank["question"], item.group, 0, item.number
        flagged = int(not item.hits) if item.section == "other" else 0
        return rank[item.section], flagged, 0, item.number

    question_groups = tuple(
        QuestionGroup(number, tuple(questions[k] + 1 for k in members))
        for number, members in enumerate(ordered_groups, 1)
    )
    return Inbox(tuple(sorted(items, key=order)), question_groups)


def _key_words(text: str) -> str:
    return " ".join(t.stem for t in tokens(text) if t.norm not in _STOP and not t.norm.isdigit())


def _group(texts: Sequence[str]) -> list[list[int]]:
    """Indices of near-duplicate texts, each group in input order; a text joins the first group
    whose first text is alike enough (leader clustering: no chains of ever-looser matches)."""
    keys = [_key_words(t) for t in texts]
    groups: list[list[int]] = []
    for k, key in enumerate(keys):
        for group in groups:
            if key and fuzz.token_sort_ratio(key, keys[group[0]]) >= GROUP_SCORE:
                group.append(k)
                break
        else:
            groups.append([k])
    return groups


def hate_categories(hits: Iterable[CategoryHit]) -> list[str]:
    """The hate categories among the hits (for counts on the collapsed section)."""
    return [h.category for h in hits if h.category in HATE]
