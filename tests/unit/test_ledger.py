"""The answered ledger: keyed hashes only, one file per worker, merged when read."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pipeline.cli.render as render_cli
from pipeline.cli.comments import comments
from pipeline.comments import build_inbox, comment_hash, read_ledger, record_answer
from pipeline.comments.ledger import KEY_NAME, worker_file
from pipeline.config import Settings, load_settings
from pipeline.errors import RenderError

COMMENT = "Voiko lastensuojeluilmoituksen tehdä nimettömänä? 😟 @salainen_nimi"


def settings_for(folder: Path, worker: str = "") -> Settings:
    return load_settings().with_values(ledger={"folder": str(folder), "worker": worker})


def ledger_text(folder: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()))


def test_a_line_has_hash_date_worker_and_file_name_only(tmp_path: Path) -> None:
    entry = record_answer(COMMENT, tmp_path / "videot" / "vastaus1.mp4", settings_for(tmp_path, "Liisa"),
                          date=dt.date(2025, 3, 1))
    lines = worker_file(tmp_path, "Liisa").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [entry.to_json()]
    assert set(entry.to_json()) == {"hash", "date", "worker", "output", "key"}
    assert re.fullmatch(r"[0-9a-f]{64}", entry.hash)
    assert (entry.date, entry.worker, entry.output) == ("2025-03-01", "Liisa", "vastaus1.mp4")
    text = ledger_text(tmp_path)
    for secret in ("lastensuojelu", "nimettömänä", "salainen_nimi", "videot"):
        assert secret not in text.lower()


def test_the_key_is_made_once_per_folder(tmp_path: Path) -> None:
    record_answer("eka", "a.mp4", settings_for(tmp_path, "Liisa"))
    key = (tmp_path / KEY_NAME).read_text()
    record_answer("toka", "b.mp4", settings_for(tmp_path, "Pekka"))
    assert (tmp_path / KEY_NAME).read_text() == key
    other = tmp_path.parent / (tmp_path.name + "-toinen")
    record_answer("eka", "a.mp4", settings_for(other, "Liisa"))
    # Another folder, another key: the same comment hashes differently.
    assert read_ledger(tmp_path).entries[0].hash != read_ledger(other).entries[0].hash


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=80), user=st.from_regex(r"[a-z][a-z0-9_.]{5,15}", fullmatch=True))
def test_no_comment_text_or_user_name_in_the_ledger(tmp_path: Path, text: str, user: str) -> None:
    folder = tmp_path / "ledger"
    comment = f"@{user} {text}"
    record_answer(comment, "vastaus.mp4", settings_for(folder, "Liisa"))
    content = ledger_text(folder)
    assert user not in content
    words = [w for w in re.findall(r"\w{6,}", text)]
    for word in words:  # shorter pieces could appear by chance in a hex hash
        assert word not in content
    assert read_ledger(folder).answers(comment)


def test_two_workers_merge_and_both_see_the_answer(tmp_path: Path) -> None:
    record_answer(COMMENT, "liisan.mp4", settings_for(tmp_path, "Liisa"), date=dt.date(2025, 1, 2))
    record_answer("Mikä on sijaisperhe?", "pekan.mp4", settings_for(tmp_path, "Pekka K."), date=dt.date(2025, 1, 3))
    files = sorted(p.name for p in tmp_path.glob("answered-*.jsonl"))
    assert len(files) == 2 and files[0] == "answered-liisa.jsonl" and files[1].startswith("answered-pekka-k-")
    ledger = read_ledger(tmp_path)
    assert ledger.workers == ["Liisa", "Pekka K."]
    # The same comment typed a little differently (case, punctuation, emoji) is answered.
    assert [e.output for e in ledger.answers("voiko lastensuojeluilmoituksen tehdä nimettömänä @salainen_nimi")] \
        == ["liisan.mp4"]
    inbox = build_inbox([COMMENT, "mikä on sijaisperhe", "miten huostaanotto toimii"], ledger=ledger)
    answered = {i.number: [e.worker for e in i.answered] for i in inbox.items}
    assert answered == {1: ["Liisa"], 2: ["Pekka K."], 3: []}


def test_comments_check_marks_answered_for_both_workers(tmp_path: Path) -> None:
    shared = tmp_path / "jaettu"
    record_answer("Miten huostaanotto toimii?", "vastaus7.mp4", settings_for(shared, "Liisa"))
    comments_file = tmp_path / "c.txt"
    comments_file.write_text("miten huostaanotto toimii\nmikä on jälkihuolto\n", encoding="utf-8")
    for worker in ("Liisa", "Pekka"):
        config = tmp_path / f"{worker}.toml"
        config.write_text(f'[ledger]\nfolder = "{shared.as_posix()}"\nworker = "{worker}"\n', encoding="utf-8")
        result = CliRunner(env={"COLUMNS": "200"}).invoke(comments, ["check", str(comments_file), "--config",
                                                                     str(config)], catch_exceptions=False)
        assert result.exit_code == 0
        assert "✓" in result.output and "Liisa (vastaus7.mp4)" in result.output
        assert "1 already answered" in result.output
        data = json.loads(CliRunner().invoke(comments, ["check", str(comments_file), "--json", "--config",
                                                        str(config)]).output)
        assert [bool(i["answered"]) for i in sorted(data["items"], key=lambda i: i["number"])] == [True, False]


def test_comments_ledger_lists_every_worker(tmp_path: Path) -> None:
    record_answer("eka kysymys?", "a.mp4", settings_for(tmp_path, "Liisa"), date=dt.date(2025, 1, 1))
    record_answer("toka kysymys?", "b.mp4", settings_for(tmp_path, "Pekka"), date=dt.date(2025, 1, 2))
    result = CliRunner(env={"COLUMNS": "200"}).invoke(comments, ["ledger", "--ledger", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "2 answers by 2 workers" in result.output and "a.mp4" in result.output and "Pekka" in result.output
    assert "kysymys" not in result.output
    lines = CliRunner().invoke(comments, ["ledger", "--ledger", str(tmp_path), "--json"]).output.splitlines()
    assert [json.loads(line)["worker"] for line in lines] == ["Liisa", "Pekka"]


def test_empty_or_missing_ledger(tmp_path: Path) -> None:
    assert read_ledger(tmp_path / "ei").entries == ()
    result = CliRunner().invoke(comments, ["ledger", "--ledger", str(tmp_path / "ei")])
    assert result.exit_code == 0 and "no answered comments" in result.output
    assert not (tmp_path / "ei").exists()  # reading makes nothing


def test_damaged_lines_and_other_keys_are_skipped(tmp_path: Path) -> None:
    record_answer("moi?", "a.mp4", settings_for(tmp_path, "Liisa"))
    with worker_file(tmp_path, "Liisa").open("a", encoding="utf-8") as fh:
        fh.write("{ei json\n")
        fh.write(json.dumps({"hash": "00", "date": "2025-01-01", "worker": "x", "output": "b.mp4",
                             "key": "toinenavain"}) + "\n")
    ledger = read_ledger(tmp_path)
    assert len(ledger.entries) == 1 and ledger.skipped == 2


def test_hash_ignores_case_punctuation_emoji_and_masked_personal_data() -> None:
    key = b"k" * 32
    assert comment_hash("Voiko?? 😟 soita 040 123 4567", key) == comment_hash("voiko soita 050 765 4321", key)
    assert comment_hash("voiko", key) != comment_hash("saako", key)


def test_render_records_the_answer_only_after_a_successful_render(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    clip = tmp_path / "klippi.mp4"
    clip.write_bytes(b"")
    folder = tmp_path / "l"
    config = tmp_path / "c.toml"
    config.write_text(f'[ledger]\nfolder = "{folder.as_posix()}"\n', encoding="utf-8")
    args = [str(clip), "-o", str(tmp_path / "vastaus.mp4"), "--comment", "Mikä on sijaisperhe?",
            "--user", "nimimerkki", "--captions", "none", "--worker", "Liisa", "--config", str(config)]

    def fail(*a: object, **k: object) -> None:
        raise RenderError("ffmpeg failed")

    monkeypatch.setattr(render_cli, "_run", fail)  # the render itself is not under test here
    assert CliRunner().invoke(render_cli.render, args).exit_code == 1
    assert read_ledger(folder).entries == ()
    monkeypatch.setattr(render_cli, "_run", lambda *a, **k: None)
    result = CliRunner().invoke(render_cli.render, args)
    assert result.exit_code == 0, result.output
    (entry,) = read_ledger(folder).entries
    assert (entry.worker, entry.output) == ("Liisa", "vastaus.mp4")
    assert "nimimerkki" not in ledger_text(folder) and "sijaisperhe" not in ledger_text(folder)
