"""Several clips in one studio job: job.json keeps them in order with their cuts, old single-clip
job files still open, and the routes reorder, cut and remove (TestClient, no ffmpeg)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pipeline.config import load_settings
from pipeline.studio import create_app
from pipeline.studio.cliplist import FIRST_KEY, JobClip, reorder, timeline
from pipeline.studio.jobs import JobStore
from tests.unit.test_studio_security import ORIGIN, logged_in, new_job

HOST = "127.0.0.1:8765"
TOKEN = "test-token-123"
H = {"Origin": ORIGIN}


@pytest.fixture()
def studio(tmp_path: Path) -> tuple[TestClient, JobStore]:
    guard, state = create_app(tmp_path / "studio", load_settings(), token=TOKEN, hosts=(HOST,))
    return logged_in(TestClient(guard, base_url=ORIGIN)), state.store


def three_clips(store: JobStore, job_id: str) -> list[str]:
    """Three clips in the job (files in its folder, as uploads leave them); their keys in order."""
    keys = []
    for n, name in enumerate(["eka.mp4", "toka ä.mp4", "kolmas.mov"]):
        clip = JobClip(key=f"{n:08x}", name=name, file=f"clip-{n:08x}.mp4", duration=4.0 + n)
        (store.folder(job_id) / clip.file).write_bytes(b"clip %d" % n)
        store.add_clip(job_id, clip)
        keys.append(clip.key)
    return keys


def test_job_json_round_trip_keeps_several_clips_their_order_and_cuts(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    job_id = store.create().id
    keys = three_clips(store, job_id)
    store.update(job_id, {"kind": "duet", "duet_layout": "stack", "duet_offset": 0.7})
    data = json.loads((store.folder(job_id) / "job.json").read_text(encoding="utf-8"))
    assert [c["key"] for c in data["clips"]] == keys
    assert data["clips"][1]["name"] == "toka ä.mp4"
    assert data["clip_file"] == "clip-00000000.mp4"  # the first clip, mirrored for older readers
    job = store.load(job_id)
    assert [c.name for c in job.clips] == ["eka.mp4", "toka ä.mp4", "kolmas.mov"]
    assert (job.kind, job.duet_layout, job.duet_offset, job.duet_sync) == ("duet", "stack", 0.7, "manual")
    assert store.summary(job)["clips"][2]["duration"] == 6.0


def test_an_old_job_json_with_one_clip_still_opens(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    job_id = store.create().id
    path = store.folder(job_id) / "job.json"
    old = {"id": job_id, "created": 1.0, "updated": 2.0, "comment": "Hei", "clip_name": "oma.mp4",
           "clip_file": "clip.mp4", "clip_ref": ""}
    path.write_text(json.dumps(old), encoding="utf-8")
    (store.folder(job_id) / "clip.mp4").write_bytes(b"clip")
    job = store.load(job_id)
    assert len(job.clips) == 1 and job.clips[0].key == FIRST_KEY and job.clips[0].name == "oma.mp4"
    assert job.kind == "join" and store.clip_path(job) == store.folder(job_id) / "clip.mp4"
    assert store.load(job_id).clips == job.clips  # the same key every time it is read


def test_reorder_route_saves_the_new_order(studio: tuple[TestClient, JobStore]) -> None:
    client, store = studio
    job_id = new_job(client)
    a, b, c = three_clips(store, job_id)
    r = client.post(f"/api/jobs/{job_id}/clips/order", json={"order": [c, a, b]}, headers=H)
    assert r.status_code == 200, r.text
    assert [x["key"] for x in r.json()["clips"]] == [c, a, b]
    assert r.json()["clip_name"] == "kolmas.mov"
    assert [x.key for x in store.load(job_id).clips] == [c, a, b]
    for bad in ([a, b], [a, b, c, c], [a, b, "ffffffff"], "abc"):
        assert client.post(f"/api/jobs/{job_id}/clips/order", json={"order": bad}, headers=H).status_code == 400
    assert [x.key for x in store.load(job_id).clips] == [c, a, b]
    # a change needs the same-origin Origin, as every other change
    assert client.post(f"/api/jobs/{job_id}/clips/order", json={"order": [a, b, c]}).status_code == 403


def test_cut_and_remove_routes(studio: tuple[TestClient, JobStore]) -> None:
    client, store = studio
    job_id = new_job(client)
    a, b, c = three_clips(store, job_id)
    r = client.put(f"/api/jobs/{job_id}/clips/{b}", json={"start": 0.5, "end": 3.25}, headers=H)
    assert r.status_code == 200, r.text
    clip = store.load(job_id).clips[1]
    assert (clip.start, clip.end) == (0.5, 3.25)
    for bad in ({"start": 3, "end": 2}, {"start": -1}, {"start": "0"}, {"start": 9.0}, {"start": True}):
        assert client.put(f"/api/jobs/{job_id}/clips/{b}", json=bad, headers=H).status_code == 400, bad
    assert client.put(f"/api/jobs/{job_id}/clips/{b}", json={"start": 0, "end": None}, headers=H).status_code == 200
    assert store.load(job_id).clips[1].end is None
    r = client.delete(f"/api/jobs/{job_id}/clips/{a}", headers=H)
    assert r.status_code == 200 and [x["key"] for x in r.json()["clips"]] == [b, c]
    assert not (store.folder(job_id) / "clip-00000000.mp4").exists()
    assert client.delete(f"/api/jobs/{job_id}/clips/{a}", headers=H).status_code == 404


@pytest.mark.parametrize("key", ["%2e%2e", "..%2Fjob.json", "ABCDEF12", "0000000g", "000000001"])
def test_clip_keys_are_the_servers(studio: tuple[TestClient, JobStore], key: str) -> None:
    client, store = studio
    job_id = new_job(client)
    three_clips(store, job_id)
    assert client.get(f"/api/jobs/{job_id}/clips/{key}").status_code == 404
    assert client.get(f"/api/jobs/{job_id}/clips/{key}/waveform").status_code == 404
    assert client.delete(f"/api/jobs/{job_id}/clips/{key}", headers=H).status_code == 404


def test_changing_the_clips_marks_the_captions_out_of_date(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    job_id = store.create().id
    a, b, c = three_clips(store, job_id)
    store.file(job_id, "captions.json").write_text('{"cues": []}', encoding="utf-8")
    job = store.load(job_id)
    store.save(replace(job, captions_timeline=timeline(job)))
    assert store.summary(store.load(job_id))["captions_stale"] is False
    store.change_clips(job_id, lambda j: j)  # no change, still fine
    assert store.summary(store.load(job_id))["captions_stale"] is False
    store.change_clips(job_id, lambda j: reorder(j, [b, a, c]))
    assert store.summary(store.load(job_id))["captions_stale"] is True


def test_kind_layout_and_offset_are_checked(studio: tuple[TestClient, JobStore]) -> None:
    client, _ = studio
    job_id = new_job(client)
    for bad in ({"kind": "mix"}, {"duet_layout": "side"}, {"duet_offset": "1"}, {"duet_offset": float("inf")},
                {"duet_offset": 1e9}, {"duet_sync": "found"}, {"clips": []}):
        body = json.dumps(bad).replace("Infinity", "1e999")
        r = client.put(f"/api/jobs/{job_id}", content=body, headers={**H, "Content-Type": "application/json"})
        assert r.status_code == 400, bad
    r = client.put(f"/api/jobs/{job_id}", json={"kind": "duet", "duet_offset": -1.234}, headers=H)
    assert r.status_code == 200 and r.json()["duet_offset"] == -1.234 and r.json()["duet_sync"] == "manual"
    info = client.get("/api/info").json()
    assert "stack" in info["duet_layouts"] and info["sync_min_confidence"] > 0


def test_sync_needs_exactly_two_clips(studio: tuple[TestClient, JobStore]) -> None:
    client, store = studio
    job_id = new_job(client)
    three_clips(store, job_id)
    r = client.post(f"/api/jobs/{job_id}/sync", headers=H)
    assert r.status_code == 400 and r.json()["error"]["key"] == "duet_two_clips"


def test_swapping_a_duets_two_clips_turns_the_offset_round(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    job_id = store.create().id
    a, b, c = three_clips(store, job_id)
    store.remove_clip(job_id, c)
    store.update(job_id, {"kind": "duet", "duet_offset": 0.7})
    job = store.change_clips(job_id, lambda j: reorder(j, [b, a]))
    assert (job.duet_offset, job.duet_sync) == (-0.7, "manual")
    assert timeline(job) != timeline(store.change_clips(job_id, lambda j: reorder(j, [a, b])))


def test_an_added_clips_half_upload_is_removed_at_the_next_start(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    folder = store.folder(store.create().id)
    stale = folder / ".clip-0a1b2c3d.999999999.x1y2.partial.mp4"  # pid 999999999: no such process
    kept = folder / "clip-0a1b2c3d.mp4"
    stale.write_bytes(b"half")
    kept.write_bytes(b"whole")
    JobStore(tmp_path).remove_stale_partials()
    assert not stale.exists() and kept.exists()
