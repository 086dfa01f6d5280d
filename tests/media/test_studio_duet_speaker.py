"""The studio's duet follows the core's speaker (`[duet] sound = "speaker"`, the default) and makes
the `switch` layout, on the generated pair of tests/media/test_duet_switch.py (A speaks, B
answers, A again; A red, B blue; B starts 1.234 s after A).

Checked through the routes: "Tekstitä" takes each word from the recording of whoever speaks
(`duet_cues`, the same as `make_duet`), each cue with its speaker, kept through the editor's save;
the shots route gives the three turns; in `switch` the still at a moment of B's turn is B's
picture; "Tee video" with the switch layout is as long as the time both cover and shows B in B's
turn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient

from pipeline.studio.jobs import JobStore
from pipeline.types import Segment, Transcript, Word
from tests.conftest import probe_output
from tests.media.test_duet_switch import BLUE, LEAD, RED, Pair, _near, _pixels
from tests.media.test_duet_switch import pair as pair  # the module's fixture: the generated pair
from tests.media.test_studio_duet import H, add, wait_task
from tests.media.test_studio_duet import studio as studio  # the module's fixture: a studio on TestClient
from tests.unit.test_studio_security import new_job

pytestmark = pytest.mark.media

CHANGE_MARGIN = 0.5  # s around a true change of speaker where the turn finder may be late or early


def _heard(pair: Pair, index: int) -> Transcript:
    """What a fake engine hears in recording `index` (its own clock): its speaker's words, and the
    other person's words through the phone's speaker, marked "kaiku:" (the echo, never wanted)."""
    shift = LEAD if index == 0 else -LEAD  # the other voice's words moved to this recording's clock
    own = list(pair.words[index])
    echo = [Word(f"kaiku:{w.word}", w.start + shift, w.end + shift) for w in pair.words[1 - index]]
    words = sorted((w for w in own + echo if w.start >= 0), key=lambda w: w.start)
    return Transcript("fi", 20.0, tuple(Segment(w.start, w.end, w.word, (w,)) for w in words))


def _duet_job(client: TestClient, pair: Pair, **values: Any) -> str:
    job_id = new_job(client)
    add(client, job_id, pair.a, first=True)
    add(client, job_id, pair.b)
    client.put(f"/api/jobs/{job_id}", json={"kind": "duet", **values}, headers=H)
    return job_id


def _far_from_changes(pair: Pair, at: float) -> bool:
    return all(abs(at - change) > CHANGE_MARGIN for change in pair.changes)


def test_duet_captions_take_each_word_from_the_speakers_recording(
        studio: tuple[TestClient, JobStore], pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    client, store = studio
    heard: list[str] = []

    def fake(path: Path, options: Any, **kwargs: Any) -> Transcript:
        index = 0 if path.name == "clip.mp4" else 1  # the first upload is clip.mp4
        heard.append("AB"[index])
        return _heard(pair, index)

    monkeypatch.setattr("pipeline.speech.transcribe_file", fake)
    job_id = _duet_job(client, pair)
    client.post(f"/api/jobs/{job_id}/transcribe", headers=H)
    job = wait_task(client, job_id)
    assert job["task"]["state"] == "done", job["task"]
    assert sorted(heard) == ["A", "B"] and abs(job["duet_offset"] - LEAD) < 0.01, (heard, job["duet_offset"])
    cues = client.get(f"/api/jobs/{job_id}/captions").json()["cues"]
    got = {(w["word"], round(w["start"], 1)): c["speaker"] for c in cues for w in c["words"]}
    # Each speaker's words on the duet's clock (0 = where B started, LEAD into A).
    truth = [(w.word, round(max(w.start - LEAD, 0.0), 1), 0, (w.start + w.end) / 2 - LEAD) for w in pair.words[0]] + \
            [(w.word, round(w.start, 1), 1, (w.start + w.end) / 2) for w in pair.words[1]]
    truth = [item for item in truth if 0 <= item[3] < pair.duration and _far_from_changes(pair, item[3])]
    missing = [item for item in truth if (item[0], item[1]) not in got]
    wrong = [item for item in truth if got.get((item[0], item[1]), item[2]) != item[2]]
    assert len(truth) > 10 and not missing and not wrong, (missing, wrong, sorted(got))
    assert {0, 1} <= set(got.values())
    echoes = [key for key in got if key[0].startswith("kaiku:") and _far_from_changes(pair, key[1] + 0.2)]
    assert not echoes, echoes  # the other phone's echo of a voice is never captioned

    # The editor's save keeps each cue's speaker (its colour when speaker colours are set).
    cues[0]["lines"] = ["Muokattu rivi"]
    assert client.put(f"/api/jobs/{job_id}/captions", json={"cues": cues}, headers=H).status_code == 200
    saved = client.get(f"/api/jobs/{job_id}/captions").json()["cues"]
    assert saved[0]["lines"] == ["Muokattu rivi"]
    assert [c["speaker"] for c in saved] == [c["speaker"] for c in cues]


def test_shots_route_gives_the_turns(studio: tuple[TestClient, JobStore], pair: Pair) -> None:
    client, _ = studio
    job_id = _duet_job(client, pair, duet_offset=LEAD)
    r = client.get(f"/api/jobs/{job_id}/duet/shots")
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["follows_speaker"] is True
    assert [s["speaker"] for s in data["shots"]] == [0, 1, 0], data
    starts = [s["start"] for s in data["shots"][1:]]
    assert all(abs(s - c) < CHANGE_MARGIN for s, c in zip(starts, pair.changes)), (starts, pair.changes)
    assert abs(data["shots"][-1]["end"] - pair.duration) < 0.05


def test_the_switch_still_at_a_moment_of_bs_turn_is_bs_picture(studio: tuple[TestClient, JobStore],
                                                                pair: Pair) -> None:
    """In `switch` the preview is the whole frame on whoever speaks, from the turns the render
    uses. (`stack` shows both: tests/media/test_studio_duet.py.)"""
    client, store = studio
    job_id = _duet_job(client, pair, duet_layout="switch", duet_offset=LEAD)
    middles = [(start + end) / 2 for start, end, _ in pair.turns]
    for at, colour in ((middles[0], RED), (middles[1], BLUE), (middles[2], RED)):
        r = client.post(f"/api/jobs/{job_id}/preview", json={"at": at}, headers=H)
        assert r.status_code == 200, r.text
        with Image.open(store.file(job_id, "preview.png")) as image:
            red, _, blue = image.convert("RGB").getpixel((20, image.height // 2))  # left of the card
        # Which clip it is counts, not the exact colour: the card's scrim may dim the frame it is on.
        assert (red - blue > 60) if colour == RED else (blue - red > 60), (at, red, blue)


def test_switch_layout_renders_from_the_studio(studio: tuple[TestClient, JobStore], pair: Pair) -> None:
    client, store = studio
    job_id = _duet_job(client, pair, duet_layout="switch", duet_offset=LEAD, comment="Kuka puhuu milloinkin?")
    assert client.get(f"/api/jobs/{job_id}").json()["duet_layout"] == "switch"
    assert client.post(f"/api/jobs/{job_id}/render", headers=H).status_code == 202
    job = wait_task(client, job_id)
    assert job["task"]["state"] == "done", job["task"]
    out = store.output(job_id)
    info = probe_output(out)
    assert (info["width"], info["height"]) == (1080, 1920)
    assert abs(info["duration"] - pair.duration) < 0.1, (info["duration"], pair.duration)
    middles = [(start + end) / 2 for start, end, _ in pair.turns]
    seen = _pixels(out, middles, (1000, 40))  # left of the card, above the captions
    assert [_near(p, c) for p, c in zip(seen, (RED, BLUE, RED))] == [True, True, True], [p.tolist() for p in seen]


def test_the_still_shows_a_cue_in_its_speakers_colour(tmp_path: Path, pair: Pair) -> None:
    """With `[duet] speaker_colors`, the still draws B's cue in B's colour (green; no word
    highlight), as the render does."""
    from pipeline.captions import write_json
    from pipeline.config import load_settings
    from pipeline.studio import create_app
    from pipeline.types import Cue
    from tests.media.test_studio_duet import HOST, TOKEN
    from tests.unit.test_studio_security import ORIGIN, logged_in

    settings = load_settings().with_values(duet={"speaker_colors": ["#ffffff", "#30ff30"]},
                                           captions={"highlight": "none"})
    guard, state = create_app(tmp_path / "studio", settings, token=TOKEN, hosts=(HOST,))
    client = logged_in(TestClient(guard, base_url=ORIGIN))
    job_id = _duet_job(client, pair, duet_offset=LEAD)
    at = round(sum(pair.turns[1][:2]) / 2, 2)  # B's turn
    text = "Vastaaja puhuu nyt"
    write_json([Cue(at - 0.5, at + 0.5, (text,), (Word(text, at - 0.5, at + 0.5),), speaker=1)],
               state.store.file(job_id, "captions.json"))
    r = client.post(f"/api/jobs/{job_id}/preview", json={"at": at}, headers=H)
    assert r.status_code == 200, r.text
    with Image.open(state.store.file(job_id, "preview.png")) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=int)
    green = (pixels[..., 1] > 200) & (pixels[..., 0] < 120) & (pixels[..., 2] < 120)
    lower = slice(pixels.shape[0] // 3, None)  # below the card: the captions
    assert green[lower].sum() > 200, green[lower].sum()
