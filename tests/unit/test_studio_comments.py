"""The studio's "Kommentit" view through Starlette's TestClient: paste or open a file, the sorted
inbox (disclosure first, hate hidden until asked, questions grouped, answered marked), "Vastaa"
opening a job, the pile kept in the studio folder, the guard on every change, and the render's
answer in the ledger (a ledger that cannot be written is a warning, never a failed render)."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from pipeline.comments import read_ledger
from pipeline.config import Settings, load_settings
from pipeline.studio import create_app
from pipeline.studio.security import cookie_name
from pipeline.studio.work import record_answers

HOST = "127.0.0.1:8765"
ORIGIN = f"http://{HOST}"
TOKEN = "test-token-123"
SAME = {"Origin": ORIGIN}

DISCLOSURE = "mun isä lyö mua kun se juo mitä mä teen"
PILE = "\n".join([
    "moi! tosi hyvä video 😊",
    "voiko sossu viedä mut kotoa pois jos mä kerron et meil on riitaa?",
    "turpa kiinni idiootti",
    DISCLOSURE,
    "",
    "voiko sossu viedä mut pois kotoa jos kerron että meillä riidellään",
    "miten lastensuojeluilmoitus tehdään? soita 040 123 4567",
    "tapan sut huomenna",
])


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return load_settings().with_values(ledger={"folder": str(tmp_path / "ledger"), "worker": "Liisa"})


@pytest.fixture()
def client(tmp_path: Path, settings: Settings) -> tuple[TestClient, Any]:
    guard, state = create_app(tmp_path / "studio", settings, token=TOKEN, hosts=(HOST,))
    client = TestClient(guard, base_url=ORIGIN)
    r = client.get(f"/?token={TOKEN}", follow_redirects=False)
    client.cookies.set(r.headers["set-cookie"].split("=")[0], TOKEN)
    return client, state


def paste(client: TestClient, text: str = PILE) -> dict[str, Any]:
    r = client.post("/api/comments", json={"text": text}, headers=SAME)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def texts(data: dict[str, Any]) -> list[str]:
    return [i["text"] for i in data["inbox"]["items"]]


def test_empty_view_names_the_worker_and_the_ledger(client: tuple[TestClient, Any], tmp_path: Path) -> None:
    c, _ = client
    data = c.get("/api/comments").json()
    assert data["total"] == 0 and data["inbox"]["items"] == []
    assert data["worker"] == "Liisa" and data["worker_configured"] is True
    assert data["ledger_folder"] == str(tmp_path / "ledger")
    assert data["warnings"] == []


def test_pasted_pile_is_sorted_disclosure_first_hate_hidden(client: tuple[TestClient, Any]) -> None:
    c, _ = client
    data = paste(c)
    assert data["total"] == 7  # the blank line is skipped
    items = data["inbox"]["items"]
    assert items[0]["text"] == DISCLOSURE and items[0]["section"] == "personal"
    assert "disclosure" in [h["category"] for h in items[0]["categories"]]
    assert "lastensuojeluilmoitus" in items[0]["categories"][0]["explanation"]
    # Hate is counted, by category, and not sent at all until asked for.
    assert data["inbox"]["hidden"] == 2
    assert data["hate_categories"] == {"insult": 1, "threat": 1}
    assert "tapan sut huomenna" not in texts(data) and "turpa kiinni idiootti" not in texts(data)
    shown = c.get("/api/comments?hate=1").json()
    assert "tapan sut huomenna" in texts(shown)
    # The two near-duplicate questions are one group, side by side.
    questions = [i for i in items if i["section"] == "question"]
    assert questions[0]["group"] == questions[1]["group"]
    assert {questions[0]["number"], questions[1]["number"]} == {2, 5}
    # Personal data is masked in the list, as on the card.
    assert not any("040 123 4567" in t for t in texts(data))


def test_the_pile_is_kept_in_the_studio_folder_privately(client: tuple[TestClient, Any], tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    c, state = client
    caplog.set_level(logging.DEBUG)
    paste(c)
    c.put("/api/comments/draft", json={"text": "vielä yks kysymys?"}, headers=SAME)
    folder = tmp_path / "studio" / "comments"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "pile.json").stat().st_mode) == 0o600
    # A new server on the same folder (a reload, a restart) shows the same list and the draft.
    guard, _ = create_app(tmp_path / "studio", state.settings, token=TOKEN, hosts=(HOST,))
    again = TestClient(guard, base_url=ORIGIN)
    again.cookies.set(cookie_name(HOST), TOKEN)
    data = again.get("/api/comments").json()
    assert data["total"] == 7 and data["inbox"]["items"][0]["text"] == DISCLOSURE
    assert data["draft"] == "vielä yks kysymys?"
    # Nothing of a comment reaches the log.
    logged = caplog.text
    for word in ("lyö", "idiootti", "lastensuojeluilmoitus", "040", "vielä yks"):
        assert word not in logged


def test_more_comments_are_added_and_clear_removes_them(client: tuple[TestClient, Any], tmp_path: Path) -> None:
    c, _ = client
    first = paste(c, "eka kysymys: miten tää toimii")
    second = paste(c, "toinen kommentti\nkolmas?")
    assert second["total"] == 3 and second["version"] != first["version"]
    assert second["draft"] == ""
    cleared = c.delete("/api/comments", headers=SAME).json()
    assert cleared["total"] == 0
    assert not (tmp_path / "studio" / "comments" / "pile.json").exists()


def test_a_comments_file_is_read_as_the_cli_reads_it(client: tuple[TestClient, Any]) -> None:
    c, _ = client
    csv_text = "user;comment\nanna;Saako sossu kattoo mun puhelinta?\nmatti;\"kiitos, tää auttoi\"\n"
    r = c.post("/api/comments/file", content=csv_text.encode("utf-8-sig"),
               headers={**SAME, "X-File-Name": "kommentit%20touko.csv"})
    assert r.status_code == 200, r.text
    assert sorted(texts(r.json())) == ["Saako sossu kattoo mun puhelinta?", "kiitos, tää auttoi"]
    r = c.post("/api/comments/file", content=json.dumps(["onks tää totta?"]).encode(),
               headers={**SAME, "X-File-Name": "lista.json"})
    assert r.json()["total"] == 3
    # A spreadsheet is refused with the reader's message; nothing is added, no temp file stays.
    r = c.post("/api/comments/file", content=b"PK\x03\x04", headers={**SAME, "X-File-Name": "taulukko.xlsx"})
    assert r.status_code == 400 and r.json()["error"]["key"] == "input_error"
    assert "CSV" in r.json()["error"]["message"]
    assert c.get("/api/comments").json()["total"] == 3
    assert [p.name for p in (client[1].store.root / "comments").iterdir()] == ["pile.json"]


def test_answer_opens_a_new_job_with_the_comment_and_its_group(client: tuple[TestClient, Any]) -> None:
    c, state = client
    data = paste(c)
    question = next(i for i in data["inbox"]["items"] if i["number"] == 6)
    r = c.post("/api/comments/answer", json={"number": 6, "version": data["version"]}, headers=SAME)
    assert r.status_code == 201, r.text
    job = r.json()
    # The job has the comment as written; the card and the list mask it as usual.
    assert job["comment"] == "miten lastensuojeluilmoitus tehdään? soita 040 123 4567"
    assert "040 123 4567" not in job["comment_masked"] and question["section"] == "question"
    assert job["answers"] == [job["comment"]]
    grouped = c.post("/api/comments/answer", json={"number": 2, "version": data["version"]}, headers=SAME).json()
    assert len(grouped["answers"]) == 2 and grouped["answers"][1].startswith("voiko sossu viedä mut pois")
    assert len(state.store.all()) == 2


def test_answer_refuses_a_disclosure_a_stale_list_and_a_bad_number(client: tuple[TestClient, Any]) -> None:
    c, state = client
    data = paste(c)
    version = data["version"]
    r = c.post("/api/comments/answer", json={"number": 4, "version": version}, headers=SAME)
    assert r.status_code == 400 and r.json()["error"]["key"] == "not_answerable"
    r = c.post("/api/comments/answer", json={"number": 2, "version": "old"}, headers=SAME)
    assert r.status_code == 409 and r.json()["error"]["key"] == "comments_changed"
    assert c.post("/api/comments/answer", json={"number": 99, "version": version}, headers=SAME).status_code == 404
    assert c.post("/api/comments/answer", json={"number": "2", "version": version}, headers=SAME).status_code == 400
    assert c.post("/api/comments", json={"text": 5}, headers=SAME).status_code == 400
    assert state.store.all() == []


@pytest.mark.parametrize("origin", [None, "http://evil.example", "null"])
def test_changes_need_the_studios_origin(client: tuple[TestClient, Any], origin: str | None) -> None:
    c, state = client
    version = paste(c)["version"]
    headers = {} if origin is None else {"Origin": origin}
    assert c.post("/api/comments", json={"text": "uus"}, headers=headers).status_code == 403
    assert c.post("/api/comments/file", content=b"uus", headers=headers).status_code == 403
    assert c.put("/api/comments/draft", json={"text": "uus"}, headers=headers).status_code == 403
    assert c.delete("/api/comments", headers=headers).status_code == 403
    assert c.post("/api/comments/answer", json={"number": 2, "version": version}, headers=headers).status_code == 403
    data = c.get("/api/comments").json()
    assert data["total"] == 7 and data["draft"] == "" and state.store.all() == []
    r = c.get("/api/comments")
    assert r.headers["cache-control"] == "no-store" and "default-src 'self'" in r.headers["content-security-policy"]


def test_reading_needs_the_token(tmp_path: Path, settings: Settings) -> None:
    guard, _ = create_app(tmp_path / "studio", settings, token=TOKEN, hosts=(HOST,))
    anonymous = TestClient(guard, base_url=ORIGIN)
    assert anonymous.get("/api/comments").status_code == 403


def test_a_rendered_answer_is_marked_in_the_list(client: tuple[TestClient, Any], settings: Settings,
                                                 tmp_path: Path) -> None:
    c, state = client
    data = paste(c)
    job_data = c.post("/api/comments/answer", json={"number": 2, "version": data["version"]}, headers=SAME).json()
    # The card's text shortened by the worker: the inbox comments are still marked.
    job = state.store.update(job_data["id"], {"comment": "Voiko sossu viedä kotoa?"})
    assert record_answers(job, settings) == ("Liisa", "")
    assert record_answers(job, settings) == ("Liisa", "")  # a second render the same day adds nothing
    book = read_ledger(tmp_path / "ledger")
    assert len(book.entries) == 3 and {e.output for e in book.entries} == {f"vastaus-{job.id[:6]}.mp4"}
    ledger_text = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "ledger").iterdir())
    assert "sossu" not in ledger_text and "viedä" not in ledger_text
    items = {i["number"]: i for i in c.get("/api/comments").json()["inbox"]["items"]}
    for number in (2, 5):
        [mark] = items[number]["answered"]
        assert mark["worker"] == "Liisa" and mark["output"] == f"vastaus-{job.id[:6]}.mp4"
    assert items[6]["answered"] == []


def test_a_ledger_that_cannot_be_written_is_a_warning(client: tuple[TestClient, Any], tmp_path: Path) -> None:
    c, state = client
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("x", encoding="utf-8")
    settings = load_settings().with_values(ledger={"folder": str(blocked / "ledger"), "worker": "Liisa"})
    job = state.store.create_reply("miten ilmoitus tehdään?", ["miten ilmoitus tehdään?"])
    worker, warning = record_answers(job, settings)
    assert worker == "" and "cannot write the ledger folder" in warning
    # A damaged key in the view is a warning too; the list still shows.
    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "ledger.key").write_text("zz", encoding="utf-8")
    paste(c, "miten ilmoitus tehdään?")
    data = c.get("/api/comments").json()
    assert [w["key"] for w in data["warnings"]] == ["ledger_unreadable"] and data["total"] == 1
