"""Triage of single comments (negation, reported speech, reasons) and the inbox order and groups."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli.comments import comments
from pipeline.comments import Inbox, build_inbox, load_lists, triage_comment
from pipeline.comments.moderation import check_comment, needs_personal_response


def test_the_issue_example_is_a_disclosure_and_a_question() -> None:
    triage = triage_comment("mun isä lyö mua kun se juo, mitä mä teen")
    assert triage.categories == ["disclosure", "question"]
    hit = triage.hit("disclosure")
    assert hit and not hit.weak and "isä lyö" in hit.matched[0]
    assert "lastensuojeluilmoitus" in hit.explanation and "ei lähetä" in hit.explanation
    assert needs_personal_response(check_comment("mun isä lyö mua kun se juo"))


def test_negation_cancels_and_reported_speech_weakens() -> None:
    assert not triage_comment("isä ei ikinä lyö").has("disclosure")
    assert not triage_comment("en haluu kuolla").has("self_harm")
    assert not triage_comment("sä et oo tyhmä").has("insult")
    weak = triage_comment("joku sano et sen isä lyö sitä").hit("disclosure")
    assert weak and weak.weak and "heikko: sano" in weak.reasons
    assert "Heikko" in weak.explanation
    # A reported story that happens to the writer stays strong.
    strong = triage_comment("jos mä kerron et isä lyö mua niin viekö sossu mut").hit("disclosure")
    assert strong and not strong.weak


def test_every_hit_says_why() -> None:
    for text in ("tapan sut", "voiks ilmoituksen tehä nimettömänä", "f4f", "soita 040 123 4567"):
        for hit in triage_comment(text).hits:
            assert hit.reasons, (text, hit)


def test_personal_data_is_masked_and_never_quoted() -> None:
    triage = triage_comment("soita mulle 040 123 4567 kiitos")
    assert "4567" not in triage.text and "[puhelinnumero]" in triage.text
    assert all("4567" not in m for h in triage.hits for m in h.matched)


def test_user_rules_extend_the_built_in_ones(tmp_path: Path) -> None:
    (tmp_path / "rules.toml").write_text('[question]\nwords = ["=kumman"]\n', encoding="utf-8")
    assert not triage_comment("kumman kanssa asun").has("question")
    assert triage_comment("kumman kanssa asun", load_lists([tmp_path])).has("question")


COMMENTS = [
    "Hyvä video, kiitos!",  # 1 other
    "vitun idiootit",  # 2 hate
    "Voiko lastensuojeluilmoituksen tehdä nimettömänä?",  # 3 question, group A
    "mun kaveri sano et sen isä lyö sitä",  # 4 personal, weak
    "tapan sut",  # 5 hate
    "voiks ilmotuksen tehä nimettömänä",  # 6 question, group A
    "miks sossut on nii tyhmiä?",  # 7 question with an insult: kept with the questions
    "en uskalla mennä kotiin",  # 8 personal, strong
    "f4f follow for follow",  # 9 spam
    "voiko ilmoituksen tehdä nimettömästi",  # 10 question, group A
    "mikä on sijaisperhe",  # 11 question, alone
]


def test_inbox_order_sections_and_groups() -> None:
    inbox = build_inbox(COMMENTS)
    order = [i.number for i in inbox.shown()]
    assert order[:2] == [8, 4]  # strong personal response first, then the weak one
    assert order[2:5] == [3, 6, 10]  # the largest question group first, in the order asked
    assert set(order[5:7]) == {7, 11}
    assert order[7:] == [1, 9]  # the rest, spam last
    assert inbox.hidden == 2 and {i.number for i in inbox.items if i.section == "hate"} == {2, 5}
    assert [i.number for i in inbox.shown(include_hate=True)][-2:] == [2, 5]
    group = next(g for g in inbox.groups if 3 in g.items)
    assert group.items == (3, 6, 10)


def test_inbox_json_round_trip_and_hate_left_out() -> None:
    inbox = build_inbox(COMMENTS)
    data = json.loads(json.dumps(inbox.to_json()))
    assert data["hidden"] == 2 and all(i["section"] != "hate" for i in data["items"])
    assert "vitun" not in json.dumps(data) and "tapan" not in json.dumps(data)
    explanation = data["items"][0]["categories"][0]["explanation"]
    assert "henkilökohtaisesti" in explanation
    full = inbox.to_json(include_hate=True)
    assert Inbox.from_json(full) == inbox


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(comments, ["check", *args], input=stdin, catch_exceptions=False)
    return result.exit_code, result.output


def test_cli_reads_stdin_and_hides_hate(tmp_path: Path) -> None:
    code, output = run("-", "--ledger", str(tmp_path), stdin="\n".join(COMMENTS) + "\n")
    assert code == 0
    assert output.index("en uskalla mennä kotiin") < output.index("Voiko lastensuojeluilmoituksen")
    assert "tapan sut" not in output and "vitun idiootit" not in output
    assert "2 hate comments hidden (insult 1, threat 1); show them with --all" in output
    code, output = run("-", "--all", "--ledger", str(tmp_path), stdin="\n".join(COMMENTS))
    assert "tapan sut" in output and "Viha ja uhkaukset" in output


def test_cli_json(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(COMMENTS, ensure_ascii=False), encoding="utf-8")
    code, output = run(str(path), "--json", "--ledger", str(tmp_path / "ledger"))
    assert code == 0
    data = json.loads(output)
    assert data["items"][0]["number"] == 8 and data["counts"]["hate"] == 2
