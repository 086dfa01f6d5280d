"""`sossut comments check FILE` through Click's test runner."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.cli.comments import comments
from pipeline.comments.moderation import SELF_HARM_HINT

COMMENTS = [
    "Hyvä video, kiitos!",
    "olet idiootti",
    "en enää jaksa elää",
    "soita mulle 040 123 4567 tai liisa@posti.fi",
    "[bold red]ei markuppia[/] @kaveri",
]
SECRETS = ["040 123 4567", "liisa@posti.fi", "@kaveri"]


def run(*args: str) -> tuple[int, str]:
    # A wide terminal, so that rich does not wrap the cells the asserts look for.
    result = CliRunner(env={"COLUMNS": "200"}).invoke(comments, ["check", *args], catch_exceptions=False)
    return result.exit_code, result.output


def assert_report(code: int, output: str) -> None:
    """The report with --all: the insult is hate, hidden without it."""
    assert code == 0, output
    assert "insult" in output and "idiootti" in output
    assert "self-harm signal" in output
    assert "personal data" in output and "phone number at 12-24" in output
    assert "[puhelinnumero]" in output and "[sähköposti]" in output
    assert "[bold red]ei markuppia[/]" in output  # shown as typed, not as rich markup
    assert "4 of 5 comments flagged" in output
    assert "#3: " + SELF_HARM_HINT[:40] in output.replace("\n", " ")
    assert "henkilökohtaisen" in output and "personal, not a public" in output.replace("\n", " ")
    for value in SECRETS:
        assert value not in output


def test_reached_through_the_sossut_command(tmp_path: Path) -> None:
    # As users type it: the top-level group finds the command by name in its lazy registry.
    path = tmp_path / "comments.txt"
    path.write_text("\n".join(COMMENTS) + "\n", encoding="utf-8")
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["comments", "check", str(path), "--all"],
                                                          catch_exceptions=False)
    assert_report(result.exit_code, result.output)
    listed = CliRunner().invoke(cli, ["--help"]).output
    assert re.search(r"^ +comments +Check viewer comments before answering them", listed, re.MULTILINE), listed


def test_txt(tmp_path: Path) -> None:
    path = tmp_path / "comments.txt"
    path.write_text("\n".join(COMMENTS) + "\n", encoding="utf-8")
    assert_report(*run(str(path), "--all"))


def test_csv_semicolon_bom(tmp_path: Path) -> None:
    path = tmp_path / "comments.csv"
    rows = ["user;comment", *(f'nimi{i};"{c}"' for i, c in enumerate(COMMENTS))]
    path.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8"))
    assert_report(*run(str(path), "--all"))


def test_json(tmp_path: Path) -> None:
    path = tmp_path / "comments.json"
    items = [COMMENTS[0], *({"comment": c, "user": "x"} for c in COMMENTS[1:])]
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    assert_report(*run(str(path), "--all"))


def test_flagged_only(tmp_path: Path) -> None:
    path = tmp_path / "comments.txt"
    path.write_text("\n".join(COMMENTS), encoding="utf-8")
    code, output = run(str(path), "--flagged-only", "--all")
    assert code == 0
    assert "Hyvä video" not in output
    assert "idiootti" in output


def test_extra_lists_option_and_config(tmp_path: Path) -> None:
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "kiusaaminen.txt").write_text("=nörtti\n", encoding="utf-8")
    path = tmp_path / "comments.txt"
    path.write_text("sä oot nörtti\n", encoding="utf-8")
    code, output = run(str(path), "--lists", str(lists))
    assert code == 0 and "kiusaaminen" in output and "1 of 1 comments flagged" in output
    config = tmp_path / "my.toml"
    config.write_text(f'[privacy]\nmoderation_lists = "{lists.as_posix()}"\n', encoding="utf-8")
    code, output = run(str(path), "--config", str(config))
    assert code == 0 and "kiusaaminen" in output


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "comments.txt"
    path.write_text("\n\n", encoding="utf-8")
    code, output = run(str(path))
    assert code == 0
    assert "no comments" in output


def test_missing_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(comments, ["check", str(tmp_path / "puuttuu.csv")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"error: {tmp_path / 'puuttuu.csv'}: comments file not found"]


def test_bad_csv_is_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "comments.csv"
    path.write_text("user;text\nx;y\n", encoding="utf-8")
    result = CliRunner().invoke(comments, ["check", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith("error: comments.csv: no 'comment' column")
    assert len(result.output.strip().splitlines()) == 1


def test_missing_list_dir_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "comments.txt"
    path.write_text("moi\n", encoding="utf-8")
    result = CliRunner().invoke(comments, ["check", str(path), "--lists", str(tmp_path / "ei")])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "'--lists'" in errors[0] and "does not exist" in errors[0]
    assert "moi" not in result.output  # no report: the check came first
