"""Precision and recall of each category on the comment lists in tests/fixtures/comments/.

The lists were written as young people write, before the rules; the figures are printed
(`pytest -s`) and must stay above a floor. A failure lists the comments that went wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.comments.triage import triage_comment
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "comments"
CATEGORIES = sorted(p.stem for p in FIXTURES.glob("*.yaml"))
RECALL_FLOOR = 0.9
PRECISION_FLOOR = 0.9


def load(category: str) -> dict[str, list[str]]:
    data = yaml.safe_load((FIXTURES / f"{category}.yaml").read_text(encoding="utf-8"))
    return {key: list(data.get(key) or []) for key in ("true", "weak", "false")}


def test_every_category_has_its_list() -> None:
    expected = {"disclosure", "self_harm", "threat", "insult", "slur", "sexual", "personal_data", "spam", "question"}
    assert expected <= set(CATEGORIES)
    for category in CATEGORIES:
        lists = load(category)
        assert len(lists["true"]) >= 30 and len(lists["false"]) >= 30, category


@pytest.mark.parametrize("category", CATEGORIES)
def test_precision_and_recall(category: str) -> None:
    lists = load(category)
    positives = lists["true"] + lists["weak"]
    missed = [t for t in positives if not triage_comment(t).has(category)]
    wrong = [t for t in lists["false"] if triage_comment(t).has(category)]
    found = len(positives) - len(missed)
    recall = found / len(positives)
    precision = found / (found + len(wrong))
    print(f"\n{category:14} recall {recall:.2f} ({found}/{len(positives)})  "
          f"precision {precision:.2f} ({found}/{found + len(wrong)})")
    assert recall >= RECALL_FLOOR, f"missed: {missed}"
    assert precision >= PRECISION_FLOOR, f"wrongly flagged: {wrong}"


@pytest.mark.parametrize("category", [c for c in CATEGORIES if load(c)["weak"]])
def test_reported_speech_is_weak(category: str) -> None:
    strong = [t for t in load(category)["weak"] if (hit := triage_comment(t).hit(category)) and not hit.weak]
    assert strong == []


def test_lists_are_read_as_written(tmp_path: Path) -> None:
    # YAML 1.1 reads a bare `true:` key as a boolean; the files quote it.
    for category in CATEGORIES:
        assert set(yaml.safe_load((FIXTURES / f"{category}.yaml").read_text(encoding="utf-8"))) <= {"true", "weak", "false"}
