"""Several clips and duets through the studio's routes (TestClient) on generated clips: the sync
task finds a known offset, a headphone pair asks for it by hand, the waveform route gives an
envelope, and "Tee video" makes a joined and a duet video of the right length."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from PIL import Image
from starlette.testclient import TestClient

from pipeline.captions import read_caption_source, write_json
from pipeline.config import load_settings
from pipeline.studio import create_app
from pipeline.studio.jobs import JobStore
from pipeline.types import Cue, Segment, Transcript, Word
from tests.conftest import make_clip, poll_until, probe_output
from tests.media.test_duet import A_SECONDS, B_SECONDS, LEAD, NOISE, _pair
from tests.unit.test_studio_security import ORIGIN, logged_in, new_job

pytestmark = pytest.mark.media

HOST = "127.0.0.1:8765"
TOKEN = "test-token-123"
H = {"Origin": ORIGIN}


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two phones in one room: both hear one noise track, B starts LEAD (0.7 s) later."""
    folder = tmp_path_factory.mktemp("studio-duet-room")
    return _pair(folder, f"{NOISE},atrim=0:{A_SECONDS}",
                 f"{NOISE},atrim={LEAD}:{LEAD + B_SECONDS},asetpts=PTS-STARTPTS")


@pytest.fixture()
def studio(tmp_path: Path) -> tuple[TestClient, JobStore]:
    settings = load_settings().with_values(encoder={"preset": "ultrafast"})
    guard, state = create_app(tmp_path / "studio", settings, token=TOKEN, hosts=(HOST,))
    return logged_in(TestClient(guard, base_url=ORIGIN)), state.store


def add(client: TestClient, job_id: str, clip: Path, *, first: bool = False) -> dict[str, Any]:
    url = f"/api/jobs/{job_id}/clip" + ("" if first else "?add=1")
    r = client.put(url, content=clip.read_bytes(), headers={**H, "X-File-Name": quote(clip.name)})
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def wait_task(client: TestClient, job_id: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def ended() -> bool:
        seen.update(client.get(f"/api/jobs/{job_id}").json())
        return bool(seen["task"]) and seen["task"]["state"] in ("done", "error", "cancelled")

    poll_until(ended, "the task to end", interval=0.25, polls=1200)
    return seen


def test_sync_route_finds_the_offset_within_10_ms(studio: tuple[TestClient, JobStore], room: tuple[Path, Path]) -> None:
    client, _ = studio
    job_id = new_job(client)
    add(client, job_id, room[0], first=True)
    add(client, job_id, room[1])
    client.put(f"/api/jobs/{job_id}", json={"kind": "duet"}, headers=H)
    r = client.post(f"/api/jobs/{job_id}/sync", headers=H)
    assert r.status_code == 202 and r.json()["kind"] == "sync"
    job = wait_task(client, job_id)
    assert job["task"]["state"] == "done", job["task"]
    assert job["duet_sync"] == "found"
    assert abs(job["duet_offset"] - LEAD) < 0.01, job["duet_offset"]
    assert job["duet_confidence"] >= load_settings().sync.min_confidence


def test_headphone_pair_asks_for_the_offset_by_hand(studio: tuple[TestClient, JobStore], tmp_path: Path) -> None:
    client, store = studio
    a, b = _pair(tmp_path, f"anoisesrc=d={A_SECONDS}:c=pink:r=48000:seed=1:a=0.3",
                 f"anoisesrc=d={B_SECONDS}:c=brown:r=48000:seed=99:a=0.3")
    job_id = new_job(client)
    add(client, job_id, a, first=True)
    add(client, job_id, b)
    client.put(f"/api/jobs/{job_id}", json={"kind": "duet"}, headers=H)
    client.post(f"/api/jobs/{job_id}/sync", headers=H)
    job = wait_task(client, job_id)
    assert job["task"]["state"] == "done"  # not an error: the page asks for the offset instead
    assert job["duet_sync"] == "low" and job["duet_offset"] == 0.0
    # the page's words for it are Finnish and say what to do
    messages = client.get("/static/messages.fi.json").json()
    assert "käsin" in messages["duet.sync_low"]
    client.post(f"/api/jobs/{job_id}/render", headers=H)  # never from a guessed offset
    job = wait_task(client, job_id)
    assert job["task"]["state"] == "error" and job["task"]["error"]["kind"] == "InputError"
    assert not store.output(job_id).exists()
    r = client.put(f"/api/jobs/{job_id}", json={"duet_offset": 0.7}, headers=H)
    assert r.json()["duet_sync"] == "manual" and r.json()["duet_offset"] == 0.7


def test_waveform_route_gives_an_envelope(studio: tuple[TestClient, JobStore], room: tuple[Path, Path]) -> None:
    client, _ = studio
    job_id = new_job(client)
    job = add(client, job_id, room[0], first=True)
    key = job["clips"][0]["key"]
    data = client.get(f"/api/jobs/{job_id}/clips/{key}/waveform").json()
    assert data["rate"] == 200 and abs(data["duration"] - A_SECONDS) < 0.1
    assert abs(len(data["peaks"]) - A_SECONDS * 200) <= 2
    assert max(data["peaks"]) == 1.0 and min(data["peaks"]) >= 0.0
    assert sum(data["peaks"]) / len(data["peaks"]) > 0.1  # noise all along, not silence


def test_long_clip_waveform_has_at_most_4000_points(studio: tuple[TestClient, JobStore], tmp_path: Path) -> None:
    client, _ = studio
    clip = make_clip(tmp_path / "pitkä.mp4", size=(64, 64), seconds=30, fps="5")
    job_id = new_job(client)
    key = add(client, job_id, clip, first=True)["clips"][0]["key"]
    data = client.get(f"/api/jobs/{job_id}/clips/{key}/waveform").json()
    assert 3800 <= len(data["peaks"]) <= 4000  # whole samples a point: a little under the cap
    assert abs(len(data["peaks"]) / data["rate"] - 30) < 0.2  # the points still span the clip


def test_render_of_two_joined_clips_and_of_a_duet(studio: tuple[TestClient, JobStore], room: tuple[Path, Path],
                                                  tmp_path: Path) -> None:
    client, store = studio
    first = make_clip(tmp_path / "eka.mp4", size=(360, 640), seconds=2.0)
    second = make_clip(tmp_path / "toka.mp4", size=(640, 360), seconds=3.0)
    job_id = new_job(client)
    client.put(f"/api/jobs/{job_id}", json={"comment": "Kaksi pätkää yhteen"}, headers=H)
    add(client, job_id, first, first=True)
    job = add(client, job_id, second)
    client.put(f"/api/jobs/{job_id}/clips/{job['clips'][1]['key']}", json={"start": 0.5, "end": 2.5}, headers=H)
    started = time.time()
    assert client.post(f"/api/jobs/{job_id}/render", headers=H).status_code == 202
    job = wait_task(client, job_id)
    assert job["task"]["state"] == "done", job["task"]
    crossfade = load_settings().join.crossfade
    info = probe_output(store.output(job_id))
    assert (info["width"], info["height"]) == (1080, 1920)
    assert abs(info["duration"] - (2.0 + 2.0 - crossfade)) < 0.1, info["duration"]
    assert job["rendered"] >= started - 1

    duet = new_job(client)
    add(client, duet, room[0], first=True)
    add(client, duet, room[1])
    client.put(f"/api/jobs/{duet}", json={"kind": "duet", "duet_layout": "stack", "duet_offset": LEAD,
                                          "comment": "Kaksi puhelinta"}, headers=H)
    write_json([Cue(0.2, 1.2, ("Hei siellä",), (Word("Hei", 0.2, 0.6), Word("siellä", 0.6, 1.2)))],
               store.file(duet, "captions.json"))
    assert client.post(f"/api/jobs/{duet}/render", headers=H).status_code == 202
    job = wait_task(client, duet)
    assert job["task"]["state"] == "done", job["task"]
    info = probe_output(store.output(duet))
    assert (info["width"], info["height"]) == (1080, 1920)
    assert abs(info["duration"] - (A_SECONDS - LEAD)) < 0.1, info["duration"]  # the time both cover
    assert "[duet]" in store.file(duet, "render.toml").read_text(encoding="utf-8")
    # the captions burned in are beside the video, as for any job: the report reads them there
    burned = read_caption_source(store.output(duet).with_suffix(".srt"))
    assert isinstance(burned, list) and [(c.text, c.start) for c in burned] == [("Hei siellä", 0.2)]


def _said(text: str, duration: float) -> Transcript:
    """What a fake engine heard in a clip: one word a second, the clip's name in it."""
    words = tuple(Word(f"{text}{i}", i + 0.1, i + 0.6) for i in range(int(duration)))
    return Transcript("fi", duration, (Segment(words[0].start, words[-1].end, " ".join(w.word for w in words),
                                               words),))


def test_captions_of_joined_clips_are_on_the_joined_clock(studio: tuple[TestClient, JobStore], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """"Tekstitä" on two clips: each clip's words, the second's moved to where it starts in the video
    (after the first's cut, less the crossfade); the file is what render reads back."""
    client, store = studio
    first = make_clip(tmp_path / "eka.mp4", size=(320, 240), seconds=3.0)
    second = make_clip(tmp_path / "toka.mp4", size=(320, 240), seconds=4.0)

    def fake(path: Path, options: Any, **kwargs: Any) -> Transcript:
        return _said("eka" if path.name == "clip.mp4" else "toka", 4.0)  # the first upload is clip.mp4

    monkeypatch.setattr("pipeline.speech.transcribe_file", fake)
    job_id = new_job(client)
    add(client, job_id, first, first=True)
    job = add(client, job_id, second)
    client.put(f"/api/jobs/{job_id}/clips/{job['clips'][0]['key']}", json={"start": 1.0}, headers=H)
    client.post(f"/api/jobs/{job_id}/transcribe", headers=H)
    job = wait_task(client, job_id)
    assert job["task"]["state"] == "done", job["task"]
    cues = client.get(f"/api/jobs/{job_id}/captions").json()["cues"]
    words = [(w["word"], round(w["start"], 2)) for c in cues for w in c["words"]]
    fade = load_settings().join.crossfade
    # clip 1 from 1.0 s: its words 1 and 2 at 0.1 and 1.1; clip 2 starts at 2.0 - fade
    assert words[:2] == [("eka1", 0.1), ("eka2", 1.1)], words
    assert ("toka0", round(2.0 - fade + 0.1, 2)) in words, words
    assert not job["captions_stale"]
    client.post(f"/api/jobs/{job_id}/clips/order", json={"order": [c["key"] for c in reversed(job["clips"])]},
                headers=H)
    assert client.get(f"/api/jobs/{job_id}").json()["captions_stale"] is True


def test_preview_at_a_time_in_the_second_clip_shows_the_second_clip(studio: tuple[TestClient, JobStore],
                                                                     tmp_path: Path) -> None:
    client, store = studio
    red = make_clip(tmp_path / "punainen.mp4", size=(360, 640), seconds=2.0, source="color=c=0xc00000:")
    blue = make_clip(tmp_path / "sininen.mp4", size=(360, 640), seconds=2.0, source="color=c=0x0000c0:")
    job_id = new_job(client)
    add(client, job_id, red, first=True)
    add(client, job_id, blue)
    for at, colour in ((0.5, (192, 0, 0)), (3.0, (0, 0, 192))):
        r = client.post(f"/api/jobs/{job_id}/preview", json={"at": at}, headers=H)
        assert r.status_code == 200, r.text
        with Image.open(store.file(job_id, "preview.png")) as image:
            pixel = image.convert("RGB").getpixel((20, image.height - 20))
        assert max(abs(p - c) for p, c in zip(pixel, colour)) < 40, (at, pixel)


def _colour_at(store: JobStore, job_id: str, x: int, y: int) -> tuple[int, int, int]:
    with Image.open(store.file(job_id, "preview.png")) as image:
        pixel: tuple[int, int, int] = image.convert("RGB").getpixel((x, y))
    return pixel


def _near(pixel: tuple[int, int, int], colour: tuple[int, int, int]) -> bool:
    return max(abs(p - c) for p, c in zip(pixel, colour)) < 40


def test_preview_of_a_duet_shows_its_layout(studio: tuple[TestClient, JobStore], room: tuple[Path, Path],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Lined up, a duet's preview is the frame `make_duet` makes: A (red) above B (blue) in
    `stack`; in `switch` the whole frame is whoever speaks then; before the offset is known, the
    first recording as it is."""
    from pipeline.types import Shot

    red, blue = (192, 0, 0), (0, 0, 192)
    client, store = studio
    job_id = new_job(client)
    add(client, job_id, room[0], first=True)
    add(client, job_id, room[1])
    client.put(f"/api/jobs/{job_id}", json={"kind": "duet", "duet_layout": "stack", "comment": "Hei"}, headers=H)
    store.save(replace(store.load(job_id), duet_offset=None, duet_sync=""), touched=False)  # not lined up yet
    assert client.post(f"/api/jobs/{job_id}/preview", json={"at": 1.0}, headers=H).status_code == 200
    assert _near(_colour_at(store, job_id, 20, 900), red)  # A alone, filling the frame
    client.put(f"/api/jobs/{job_id}", json={"duet_offset": LEAD}, headers=H)
    r = client.post(f"/api/jobs/{job_id}/preview", json={"at": 1.0}, headers=H)
    assert r.status_code == 200, r.text
    top, bottom = _colour_at(store, job_id, 270, 400), _colour_at(store, job_id, 270, 900)
    assert _near(top, red) and _near(bottom, blue), (top, bottom)
    # switch: A speaks until 1.0 s, then B
    monkeypatch.setattr("pipeline.studio.joined.duet_shots",
                        lambda *args: [Shot(0.0, 1.0, 0), Shot(1.0, A_SECONDS - LEAD, 1)])
    client.put(f"/api/jobs/{job_id}", json={"duet_layout": "switch"}, headers=H)
    for at, colour in ((0.5, red), (1.5, blue)):
        assert client.post(f"/api/jobs/{job_id}/preview", json={"at": at}, headers=H).status_code == 200
        for y in (400, 900):
            assert _near(_colour_at(store, job_id, 270, y), colour), (at, y)


def test_captions_of_a_duet_are_on_the_duets_clock(tmp_path: Path, room: tuple[Path, Path],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A duet's "Tekstitä" with `[duet] sound = "a"`: the first recording's words (its sound is
    used) over the time both cover, so a word 1.1 s into A is at 0.4 s when B started 0.7 s after
    A; the offset is found first when not known yet. (The speaker's sound, the default:
    tests/media/test_studio_duet_speaker.py.)"""
    settings = load_settings().with_values(encoder={"preset": "ultrafast"}, duet={"sound": "a"})
    guard, _ = create_app(tmp_path / "studio", settings, token=TOKEN, hosts=(HOST,))
    client = logged_in(TestClient(guard, base_url=ORIGIN))
    heard: list[str] = []

    def fake(path: Path, options: Any, **kwargs: Any) -> Transcript:
        heard.append(path.name)
        return _said("sana", A_SECONDS)

    monkeypatch.setattr("pipeline.speech.transcribe_file", fake)
    job_id = new_job(client)
    add(client, job_id, room[0], first=True)
    add(client, job_id, room[1])
    client.put(f"/api/jobs/{job_id}", json={"kind": "duet"}, headers=H)
    client.post(f"/api/jobs/{job_id}/transcribe", headers=H)
    job = wait_task(client, job_id)
    assert job["task"]["state"] == "done", job["task"]
    assert heard == ["clip.mp4"] and abs(job["duet_offset"] - LEAD) < 0.01 and job["duet_sync"] == "found"
    cues = client.get(f"/api/jobs/{job_id}/captions").json()["cues"]
    words = [(w["word"], round(w["start"], 2)) for c in cues for w in c["words"]]
    assert words[0] == ("sana1", round(1.1 - job["duet_offset"], 2)), words
    assert "sana0" not in [w for w, _ in words]  # said before B started: not in the duet
    assert not job["captions_stale"]


def test_a_studio_folder_clip_can_be_added_after_an_upload(studio: tuple[TestClient, JobStore], tmp_path: Path) -> None:
    client, store = studio
    make_clip(store.root / "kansiossa ä.mp4", size=(320, 240), seconds=1.5)
    job_id = new_job(client)
    add(client, job_id, make_clip(tmp_path / "eka.mp4", size=(320, 240), seconds=1.0), first=True)
    r = client.post(f"/api/jobs/{job_id}/clip-ref", json={"name": "kansiossa ä.mp4", "add": True}, headers=H)
    assert r.status_code == 200, r.text
    clips = r.json()["clips"]
    assert [c["name"] for c in clips] == ["eka.mp4", "kansiossa ä.mp4"]
    assert clips[1]["ref"] == "kansiossa ä.mp4" and clips[1]["file"] == "" and abs(clips[1]["duration"] - 1.5) < 0.1
    assert client.get(f"/api/jobs/{job_id}/clips/{clips[1]['key']}").content == (store.root / "kansiossa ä.mp4").read_bytes()
    # without "add" it takes the first clip's place, as before
    r = client.post(f"/api/jobs/{job_id}/clip-ref", json={"name": "kansiossa ä.mp4"}, headers=H)
    assert [c["name"] for c in r.json()["clips"]] == ["kansiossa ä.mp4", "kansiossa ä.mp4"]
    assert not (store.folder(job_id) / "clip.mp4").exists()  # the replaced upload is gone


def test_an_old_job_files_clip_gets_its_length_when_opened(studio: tuple[TestClient, JobStore], tmp_path: Path) -> None:
    import json

    client, store = studio
    job_id = new_job(client)
    make_clip(store.folder(job_id) / "clip.mp4", size=(320, 240), seconds=2.0)
    old = {"id": job_id, "created": 1.0, "updated": 2.0, "rendered": 3.0, "clip_name": "vanha.mp4",
           "clip_file": "clip.mp4"}
    (store.folder(job_id) / "job.json").write_text(json.dumps(old), encoding="utf-8")
    job = client.get(f"/api/jobs/{job_id}").json()
    assert abs(job["clips"][0]["duration"] - 2.0) < 0.1 and job["clips"][0]["name"] == "vanha.mp4"
    assert store.load(job_id).updated == 2.0  # not a change a person made
