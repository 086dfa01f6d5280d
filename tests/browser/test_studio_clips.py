"""Several clips and a duet in the studio, in Chromium against the real server: a second clip is
added and dragged above the first (the order is saved), then the pair is made a duet: the server
finds the offset from the sound, the page draws two waveforms and says the offset, a nudge is
saved in job.json, and the switch layout ("Vuorotellen") is chosen, saved and rendered."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `chromium` fixture skips (or fails under CI) with the reason
    expect = None

from tests.browser.conftest import Browser, Studio
from tests.conftest import REPO, make_clip, poll_until, probe_output
from tests.media.test_duet import A_SECONDS, B_SECONDS, LEAD, NOISE, _pair
from tests.media.test_duet_switch import LEAD as SWITCH_LEAD
from tests.media.test_duet_switch import Pair
from tests.media.test_duet_switch import pair as pair  # the module's fixture: a pair taking turns

pytestmark = pytest.mark.browser
SCREENSHOT = REPO / "assets" / "screenshots" / "studio-duet.png"
# The room's noise in bursts, as speech comes: the two waveforms show where they line up.
BURSTS = f"{NOISE},volume='0.05+0.95*lt(mod(t,0.9),0.25+0.15*sin(3*t))':eval=frame"


def job_json(studio: Studio) -> dict[str, Any]:
    [folder] = studio.job_folders()
    data: dict[str, Any] = json.loads((folder / "job.json").read_text(encoding="utf-8"))
    return data


def test_add_a_clip_drag_it_first_then_make_a_duet_and_nudge_it(browser: Browser, studio: Studio,
                                                                 tmp_path: Path) -> None:
    page = browser.page
    a, b = _pair(tmp_path, f"{BURSTS},atrim=0:{A_SECONDS}",
                 f"{BURSTS},atrim={LEAD}:{LEAD + B_SECONDS},asetpts=PTS-STARTPTS")
    first, second = tmp_path / "puhelin yksi.mp4", tmp_path / "puhelin kaksi.mp4"
    shutil.copy(a, first)
    shutil.copy(b, second)
    page.click("#nav-new")
    page.wait_for_selector("#view-job:not([hidden])")
    page.set_input_files("#clip-file", str(second))  # the second phone first, by mistake
    page.wait_for_selector("#clip-current:not([hidden])")
    expect(page.locator("#clip-list li")).to_have_count(1)

    # "Lisää klippi": the chooser again, and the new clip goes to the end of the list.
    page.click("#clip-add")
    page.set_input_files("#clip-file", str(first))
    expect(page.locator("#clip-list li")).to_have_count(2)
    expect(page.locator("#clip-list li .clip-title")).to_have_text(["puhelin kaksi.mp4", "puhelin yksi.mp4"])
    expect(page.locator("#clip-name")).to_have_text("2 klippiä")
    expect(page.locator("#clip-kind")).to_be_visible()
    assert "Kesto 0:03,0" in page.inner_text("#clip-list li:nth-child(2)")

    # Drag the second tile above the first: the order is saved in job.json.
    page.drag_and_drop("#clip-list li:nth-child(2)", "#clip-list li:nth-child(1)",
                       target_position={"x": 40, "y": 5})
    expect(page.locator("#clip-list li .clip-title")).to_have_text(["puhelin yksi.mp4", "puhelin kaksi.mp4"])
    poll_until(lambda: [c["name"] for c in job_json(studio)["clips"]] == ["puhelin yksi.mp4", "puhelin kaksi.mp4"],
               "the new order in job.json")
    assert job_json(studio)["clip_name"] == "puhelin yksi.mp4"
    # The same with the keyboard-reachable buttons: down and back up.
    page.click("#clip-list li:nth-child(1) .move-down")
    expect(page.locator("#clip-list li .clip-title")).to_have_text(["puhelin kaksi.mp4", "puhelin yksi.mp4"])
    # the keyboard stays with the moved clip, and the page says where it went
    assert page.evaluate("document.activeElement.closest('li').querySelector('.clip-title').textContent") \
        == "puhelin yksi.mp4"
    expect(page.locator("#save-state")).to_have_text("Klippi siirrettiin kohtaan 2.")
    page.click("#clip-list li:nth-child(2) .move-up")
    expect(page.locator("#clip-list li .clip-title")).to_have_text(["puhelin yksi.mp4", "puhelin kaksi.mp4"])

    # Duet: the server finds the offset from the sound; two waveforms drawn, the offset said in words.
    page.check("input[name=kind][value=duet]")
    expect(page.locator("#duet")).to_be_visible()
    expect(page.locator("#duet-status")).to_have_attribute("data-state", "found", timeout=60_000)
    assert "Video 2 alkoi 0,70 s videon 1 jälkeen." in page.inner_text("#duet-status")
    assert "varma" in page.inner_text("#duet-status")
    expect(page.locator("#duet-offset")).to_have_value("0,70")
    for canvas, seconds in (("#wave-a", A_SECONDS), ("#wave-b", B_SECONDS)):  # 200 points a second
        expect(page.locator(canvas)).to_have_attribute("data-drawn", re.compile(r"\d+"))
        assert abs(int(page.get_attribute(canvas, "data-drawn") or 0) - seconds * 200) <= 5
    assert job_json(studio)["kind"] == "duet"
    assert abs(job_json(studio)["duet_offset"] - LEAD) < 0.01
    # The drawing shows both sounds: B's bars begin right of A's start, by the offset.
    colours = page.evaluate("""() => ['#wave-a', '#wave-b'].map((sel) => {
        const c = document.querySelector(sel); const g = c.getContext('2d');
        const row = g.getImageData(0, Math.floor(c.height / 2), c.width, 1).data;
        for (let x = 0; x < c.width; x += 1) { const [r, gr, b] = row.slice(4 * x, 4 * x + 3);
          if ((sel === '#wave-a' && b > 200 && r < 80) || (sel === '#wave-b' && r > 200 && b < 60)) return x / c.width; }
        return -1; })""")
    span = max(A_SECONDS, LEAD + B_SECONDS)  # the view runs from A's start to the later end
    assert colours[0] >= 0 and abs(colours[1] - LEAD / span) < 0.03, colours
    browser.shot("duet-view")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.locator("#step-clip").screenshot(path=str(SCREENSHOT))

    # Nudge: +0,1 s and +0,01 s, then the field; each saved (by hand now).
    page.click("button[data-nudge='0.1']")
    page.click("button[data-nudge='0.01']")
    expect(page.locator("#duet-offset")).to_have_value("0,81")
    poll_until(lambda: job_json(studio).get("duet_offset") == 0.81, "the nudged offset in job.json")
    assert job_json(studio)["duet_sync"] == "manual"
    assert "Siirtymä on asetettu käsin" in page.inner_text("#duet-status")
    page.fill("#duet-offset", "0,65")
    page.press("#duet-offset", "Enter")
    poll_until(lambda: job_json(studio).get("duet_offset") == 0.65, "the typed offset in job.json")
    # and it is still there when the job is opened again
    page.reload()
    page.wait_for_selector("#duet:not([hidden])")
    expect(page.locator("#duet-offset")).to_have_value("0,65")

    # "Vuorotellen": offered (the core makes it), said in Finnish, and the choice saved in job.json;
    # the page says the sound comes from the speaker's own phone (the default `[duet] sound`).
    switch = page.locator("input[name=duet_layout][value=switch]")
    expect(switch).to_be_enabled()
    expect(page.locator("label.choice", has=switch)).to_contain_text("Vuorotellen: kuvassa se, joka puhuu")
    expect(page.locator("#duet-layout-note")).to_be_hidden()
    expect(page.locator("#duet-sound-note")).to_contain_text("puhujan omasta puhelimesta")
    switch.check()
    poll_until(lambda: job_json(studio).get("duet_layout") == "switch", "the switch layout in job.json")
    page.reload()
    page.wait_for_selector("#duet:not([hidden])")
    expect(page.locator("input[name=duet_layout][value=switch]")).to_be_checked()

    # "Tee video": the duet (switch) over the time both cover, with the offset set by hand.
    page.fill("#comment-text", "Kaksi puhelinta, yksi keskustelu")
    page.click("#render")
    page.wait_for_selector("#result:not([hidden])", timeout=120_000)
    info = probe_output(studio.job_folders()[0] / "vastaus.mp4")
    assert (info["width"], info["height"]) == (1080, 1920)
    assert abs(info["duration"] - (A_SECONDS - 0.65)) < 0.1, info["duration"]


def test_caption_editor_plays_joined_clips_on_the_videos_clock(browser: Browser, studio: Studio,
                                                               tmp_path: Path) -> None:
    """Captions of two joined clips: a cue in the second clip's part seeks the player into that
    clip (its cut), and the page's playhead is on the joined video's clock."""
    from pipeline.captions import write_json
    from pipeline.types import Cue, Word

    page = browser.page
    page.click("#nav-new")
    page.wait_for_selector("#view-job:not([hidden])")
    page.set_input_files("#clip-file", str(make_clip(tmp_path / "eka.mp4", size=(320, 240), seconds=2.0)))
    page.wait_for_selector("#clip-current:not([hidden])")
    page.click("#clip-add")
    page.set_input_files("#clip-file", str(make_clip(tmp_path / "toka.mp4", size=(320, 240), seconds=4.0)))
    expect(page.locator("#clip-list li")).to_have_count(2)
    second = page.get_attribute("#clip-list li:nth-child(2)", "data-key")
    page.fill("#clip-list li:nth-child(2) .trim-start", "1")
    page.press("#clip-list li:nth-child(2) .trim-start", "Enter")
    poll_until(lambda: job_json(studio)["clips"][1]["start"] == 1.0, "the cut in job.json")
    browser.shot("join-tiles")
    # Captions on the joined clock (as "Tekstitä" writes them): the second clip's part starts at 2.0 s.
    [folder] = studio.job_folders()
    write_json([Cue(0.2, 1.5, ("Eka osa",), (Word("Eka", 0.2, 0.6), Word("osa", 0.7, 1.5))),
                Cue(2.5, 4.0, ("Toka osa",), (Word("Toka", 2.5, 3.0), Word("osa", 3.1, 4.0)))],
               folder / "captions.json")
    page.reload()
    page.wait_for_selector("#editor:not([hidden])")
    assert "peräkkäin" in page.inner_text("#player-clock")
    page.locator("#cue-list li").nth(1).locator(".cue-time").click()
    player = page.locator("#player")
    poll_until(lambda: str(player.evaluate("v => v.getAttribute('src')")).endswith(f"/clips/{second}"),
               "the player on the second clip")
    # 2.51 s of the video is 0.51 s into the second part: 1.51 s of its clip (cut from 1.0 s)
    poll_until(lambda: abs(player.evaluate("v => v.currentTime") - 1.51) < 0.05, "the seek into the cut")
    expect(page.locator("#cue-list li").nth(1)).to_have_class(re.compile(r"\bcurrent\b"))
    page.locator("#cue-list li").nth(0).locator(".cue-time").click()
    first = page.get_attribute("#clip-list li:nth-child(1)", "data-key")
    poll_until(lambda: str(player.evaluate("v => v.getAttribute('src')")).endswith(f"/clips/{first}"),
               "the player back on the first clip")
    poll_until(lambda: abs(player.evaluate("v => v.currentTime") - 0.21) < 0.05, "the seek into the first clip")
    # Playing on past the first clip's end goes on in the second clip, from its cut.
    player.evaluate("v => { v.muted = true; seekPlayer(1.8); }")
    poll_until(lambda: abs(player.evaluate("v => v.currentTime") - 1.8) < 0.05, "the seek near the first clip's end")
    player.evaluate("v => v.play()")
    poll_until(lambda: str(player.evaluate("v => v.getAttribute('src')")).endswith(f"/clips/{second}"),
               "playback into the second clip")
    poll_until(lambda: player.evaluate("v => v.currentTime") >= 1.0 and page.evaluate("playerTime()") >= 2.0,
               "the second clip playing from its cut, on the video's clock")
    # Seeks asked while the other clip loads (a cue's button seeks on focus and on click): the
    # last one holds once the clip's metadata comes, not the first.
    player.evaluate("v => { v.pause(); seekPlayer(0.5); seekPlayer(0.5); seekPlayer(1.2); }")
    poll_until(lambda: player.evaluate("v => v.readyState") >= 1
               and str(player.evaluate("v => v.getAttribute('src')")).endswith(f"/clips/{first}"),
               "the first clip loaded again")
    assert abs(player.evaluate("v => v.currentTime") - 1.2) < 0.05


def test_headphone_pair_asks_for_the_offset_by_hand_in_finnish(browser: Browser, studio: Studio,
                                                               tmp_path: Path) -> None:
    page = browser.page
    a, b = _pair(tmp_path, f"anoisesrc=d={A_SECONDS}:c=pink:r=48000:seed=1:a=0.3",
                 f"anoisesrc=d={B_SECONDS}:c=brown:r=48000:seed=99:a=0.3")
    page.click("#nav-new")
    page.wait_for_selector("#view-job:not([hidden])")
    page.set_input_files("#clip-file", str(a))
    page.wait_for_selector("#clip-current:not([hidden])")
    page.click("#clip-add")
    page.set_input_files("#clip-file", str(b))
    expect(page.locator("#clip-list li")).to_have_count(2)
    page.check("input[name=kind][value=duet]")
    expect(page.locator("#duet-status")).to_have_attribute("data-state", "low", timeout=60_000)
    text = page.inner_text("#duet-status")
    assert "kuulokkeet" in text and "Aseta siirtymä käsin" in text
    browser.shot("duet-headphones")
    expect(page.locator("#duet-offset")).to_have_value("0,00")
    assert page.is_hidden("#sync-error")  # not an error: a question
    page.click("#render")  # not from a guess: the page asks for the offset first
    expect(page.locator("#render-error")).to_contain_text("Aseta ensin")
    assert not (studio.job_folders()[0] / "vastaus.mp4").exists()
    page.fill("#duet-offset", "1.25")  # a point is understood as well as the Finnish comma
    page.press("#duet-offset", "Enter")
    poll_until(lambda: job_json(studio).get("duet_offset") == 1.25, "the offset given by hand in job.json")
    assert job_json(studio)["duet_sync"] == "manual"
    assert "Video 2 alkoi 1,25 s videon 1 jälkeen. Siirtymä on asetettu käsin." in page.inner_text("#duet-status")


def test_caption_editor_plays_the_speakers_recording_in_a_duet(browser: Browser, studio: Studio, pair: Pair) -> None:
    """A duet with the speaker's sound (the default): the editor's player follows the core's turns,
    so a cue in B's turn plays B's recording (on B's clock) and one in A's turn A's."""
    from pipeline.captions import write_json
    from pipeline.types import Cue, Word

    page = browser.page
    page.click("#nav-new")
    page.wait_for_selector("#view-job:not([hidden])")
    page.set_input_files("#clip-file", str(pair.a))
    page.wait_for_selector("#clip-current:not([hidden])")
    page.click("#clip-add")
    page.set_input_files("#clip-file", str(pair.b))
    expect(page.locator("#clip-list li")).to_have_count(2)
    page.check("input[name=kind][value=duet]")
    expect(page.locator("#duet-status")).to_have_attribute("data-state", "found", timeout=60_000)
    offset = job_json(studio)["duet_offset"]
    assert abs(offset - SWITCH_LEAD) < 0.01
    a_key = page.get_attribute("#clip-list li:nth-child(1)", "data-key")
    b_key = page.get_attribute("#clip-list li:nth-child(2)", "data-key")
    # Captions on the duet's clock (as "Tekstitä" writes them): one cue in each of the first two turns.
    middles = [round((start + end) / 2, 2) for start, end, _ in pair.turns]
    [folder] = studio.job_folders()
    write_json([Cue(middles[0], middles[0] + 1.0, ("Aloittaja",), (Word("Aloittaja", middles[0], middles[0] + 1.0),),
                    speaker=0),
                Cue(middles[1], middles[1] + 1.0, ("Vastaaja",), (Word("Vastaaja", middles[1], middles[1] + 1.0),),
                    speaker=1)], folder / "captions.json")
    page.reload()
    page.wait_for_selector("#editor:not([hidden])")
    expect(page.locator("#player-clock")).to_contain_text("puhuvan puhelimen", timeout=30_000)
    player = page.locator("#player")
    page.locator("#cue-list li").nth(1).locator(".cue-time").click()
    poll_until(lambda: str(player.evaluate("v => v.getAttribute('src')")).endswith(f"/clips/{b_key}"),
               "the player on B's recording in B's turn")
    # B started `offset` after A, so the duet's clock is B's own: the cue's time in B's recording
    poll_until(lambda: abs(player.evaluate("v => v.currentTime") - middles[1]) < 0.05, "the seek into B")
    page.locator("#cue-list li").nth(0).locator(".cue-time").click()
    poll_until(lambda: str(player.evaluate("v => v.getAttribute('src')")).endswith(f"/clips/{a_key}"),
               "the player on A's recording in A's turn")
    poll_until(lambda: abs(player.evaluate("v => v.currentTime") - (middles[0] + offset)) < 0.05, "the seek into A")
