"""The studio's guard and its file rules, through Starlette's TestClient (no browser, no ffmpeg
except the probe of an uploaded text file)."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pipeline.config import load_settings
from pipeline.studio import create_app

HOST = "127.0.0.1:8765"
ORIGIN = f"http://{HOST}"
TOKEN = "test-token-123"


@pytest.fixture()
def studio(tmp_path: Path) -> tuple[TestClient, object]:
    settings = load_settings().with_values(studio={"max_upload_mb": 1})
    guard, state = create_app(tmp_path / "studio", settings, token=TOKEN, hosts=(HOST,))
    client = TestClient(guard, base_url=ORIGIN)
    return client, state


def logged_in(client: TestClient) -> TestClient:
    r = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=Strict" in r.headers["set-cookie"]
    client.cookies.set(r.headers["set-cookie"].split("=")[0], TOKEN)
    return client


def new_job(client: TestClient) -> str:
    r = client.post("/api/jobs", headers={"Origin": ORIGIN})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_page_needs_the_token(studio: tuple[TestClient, object]) -> None:
    client, _ = studio
    assert client.get("/").status_code == 403
    assert client.get("/api/jobs").status_code == 403
    assert client.get("/static/app.js").status_code == 403
    assert client.get("/?token=wrong").status_code == 403
    logged_in(client)
    page = client.get("/")
    assert page.status_code == 200 and "Sossut-studio" in page.text


def test_wrong_host_is_refused_even_with_the_token(studio: tuple[TestClient, object]) -> None:
    client, _ = studio
    logged_in(client)
    # DNS rebinding: a name that resolves to 127.0.0.1 but is not the studio's address
    assert client.get("/api/jobs", headers={"Host": "evil.example:8765"}).status_code == 403
    assert client.get(f"/?token={TOKEN}", headers={"Host": "evil.example"}).status_code == 403


@pytest.mark.parametrize("origin", [None, "", "http://evil.example", "null", "http://127.0.0.1:9999",
                                    "https://127.0.0.1:8765"])
def test_state_changes_need_a_same_origin_origin(studio: tuple[TestClient, object], origin: str | None) -> None:
    client, state = studio
    logged_in(client)
    job = new_job(client)
    headers = {} if origin is None else {"Origin": origin}
    assert client.post("/api/jobs", headers=headers).status_code == 403
    assert client.put(f"/api/jobs/{job}", json={"comment": "x"}, headers=headers).status_code == 403
    assert client.delete(f"/api/jobs/{job}", headers=headers).status_code == 403
    assert client.put(f"/api/jobs/{job}/clip", content=b"x", headers=headers).status_code == 403
    assert len(client.get("/api/jobs").json()["jobs"]) == 1


def test_headers_on_every_answer(studio: tuple[TestClient, object]) -> None:
    client, _ = studio
    for r in (client.get("/"), logged_in(client).get("/"), client.get("/static/app.js"), client.get("/api/jobs")):
        assert r.headers["cache-control"] == "no-store"
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"


# Browsers and httpx resolve a literal "../" before sending; the encoded forms reach the server.
@pytest.mark.parametrize("bad", ["..", "..%2Fjobs", "..%2F..%2Fetc", "0123456789abcdeg", "0123456789ABCDEF",
                                 "%2e%2e", "%2e%2e%2fjobs", "0123456789abcdef%2F..%2F.."])
def test_dot_dot_and_foreign_ids_are_not_found(studio: tuple[TestClient, object], bad: str) -> None:
    client, _ = studio
    logged_in(client)
    h = {"Origin": ORIGIN}
    assert client.get(f"/api/jobs/{bad}").status_code == 404
    assert client.get(f"/api/jobs/{bad}/video").status_code == 404
    assert client.put(f"/api/jobs/{bad}", json={"comment": "x"}, headers=h).status_code == 404
    assert client.delete(f"/api/jobs/{bad}", headers=h).status_code == 404


@pytest.mark.parametrize("bad", ["%2e%2e/app.py", "..%2Fapp.py", "%2e%2e%2fsecurity.py", "..%5Capp.py"])
def test_static_files_stay_in_their_folder(studio: tuple[TestClient, object], bad: str) -> None:
    client, _ = studio
    logged_in(client)
    r = client.get(f"/static/{bad}")
    assert r.status_code == 404
    assert "import" not in r.text


def test_clip_names_cannot_leave_the_studio_folder(studio: tuple[TestClient, object], tmp_path: Path) -> None:
    client, _ = studio
    logged_in(client)
    job = new_job(client)
    (tmp_path / "outside.mp4").write_bytes(b"x")
    for name in ["../outside.mp4", "/etc/passwd", "jobs", "..", str(tmp_path / "outside.mp4")]:
        r = client.post(f"/api/jobs/{job}/clip-ref", json={"name": name}, headers={"Origin": ORIGIN})
        assert r.status_code == 404, name


def test_job_folders_are_private_and_ids_are_the_servers(studio: tuple[TestClient, object]) -> None:
    client, state = studio
    logged_in(client)
    job = new_job(client)
    folder = state.store.folder(job)  # type: ignore[attr-defined]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    # a value for "id" in the body is not a field a person may set
    r = client.put(f"/api/jobs/{job}", json={"id": "../../x"}, headers={"Origin": ORIGIN})
    assert r.status_code == 400


def test_upload_over_the_limit_is_413_and_leaves_nothing(studio: tuple[TestClient, object]) -> None:
    client, state = studio
    logged_in(client)
    job = new_job(client)
    big = b"\0" * (1024 * 1024 + 1)
    r = client.put(f"/api/jobs/{job}/clip", content=big, headers={"Origin": ORIGIN})
    assert r.status_code == 413 and r.json()["error"]["key"] == "too_large"

    def chunks():  # no Content-Length: the limit is enforced while streaming
        for _ in range(3):
            yield b"\0" * (512 * 1024)

    r = client.put(f"/api/jobs/{job}/clip", content=chunks(), headers={"Origin": ORIGIN})
    assert r.status_code == 413
    folder = state.store.folder(job)  # type: ignore[attr-defined]
    assert sorted(p.name for p in folder.iterdir()) == ["job.json"]


def test_text_file_named_mp4_is_refused_clearly(studio: tuple[TestClient, object]) -> None:
    client, state = studio
    logged_in(client)
    job = new_job(client)
    r = client.put(f"/api/jobs/{job}/clip", content=b"hello, not a video\n" * 50,
                   headers={"Origin": ORIGIN, "X-File-Name": "video.mp4"})
    assert r.status_code == 400
    assert r.json()["error"]["key"] == "not_video"
    messages = json.loads((Path("pipeline/studio/static/messages.fi.json")).read_text(encoding="utf-8"))
    assert "ei ole luettava video" in messages["error.not_video"]
    folder = state.store.folder(job)  # type: ignore[attr-defined]
    assert sorted(p.name for p in folder.iterdir()) == ["job.json"]
    assert client.get(f"/api/jobs/{job}").json()["has_clip"] is False


def test_comment_text_is_never_logged(studio: tuple[TestClient, object], caplog: pytest.LogCaptureFixture) -> None:
    client, _ = studio
    logged_in(client)
    job = new_job(client)
    secret = "Soita minulle 040 123 4567 Matti Meikäläinen"
    with caplog.at_level(logging.DEBUG):
        r = client.post(f"/api/jobs/{job}/card", json={"comment": secret}, headers={"Origin": ORIGIN})
        assert r.status_code == 200
        assert r.json()["notes"][0] == {"key": "personal_data", "kinds": ["phone", "name"]}  # the full name too (Voikko)
        client.put(f"/api/jobs/{job}/captions", headers={"Origin": ORIGIN},
                   json={"cues": [{"start": 0, "end": 1, "lines": [secret], "words": []}]})
    assert "040" not in caplog.text and "Meikäläinen" not in caplog.text


def test_messages_cover_every_key_the_page_uses() -> None:
    static = Path("pipeline/studio/static")
    messages = json.loads((static / "messages.fi.json").read_text(encoding="utf-8"))
    import re

    used = set(re.findall(r'data-(?:t|ph)="([^"]+)"', (static / "index.html").read_text(encoding="utf-8")))
    used |= set(re.findall(r'\bt\("([a-z_.]+)"', (static / "app.js").read_text(encoding="utf-8")))
    assert used - messages.keys() == set()
