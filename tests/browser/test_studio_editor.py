"""The studio's editing tools in Chromium, against the real server: the preview still, words in
cues (click to seek, highlight), find and replace with undo, learning a corrected word, a split
that survives a reload, the clip chosen from the studio folder or dropped on the page, and a
render cancelled from the page or by Ctrl-C.

Captions are written into the job folder as `captions.json` (what transcription would write),
with known words and times, so these flows do not wait for the speech model."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest
from PIL import Image

try:
    from playwright.sync_api import expect
except ImportError:  # the `chromium` fixture skips (or fails under CI) with the reason
    expect = None

from tests.browser.conftest import Browser, Studio
from tests.browser.test_studio_flows import cues_on_disk, speech_clip
from tests.conftest import poll_until, run

pytestmark = pytest.mark.browser

CUES = [
    (0.2, 2.0, "Hei kaikki ja tervetuloa", [(0.2, 0.5), (0.6, 1.0), (1.1, 1.3), (1.4, 2.0)]),
    (2.4, 4.6, "Tänään puhutaan sossusta", [(2.4, 2.9), (3.0, 3.6), (3.7, 4.6)]),
    (5.0, 7.0, "sossusta ja lastensuojelusta", [(5.0, 5.6), (5.7, 5.9), (6.0, 7.0)]),
]


def write_captions(job: Path) -> None:
    cues = [{"start": start, "end": end, "lines": [text], "font_scale": 1.0,
             "words": [{"word": w, "start": a, "end": b, "probability": 0.9}
                       for w, (a, b) in zip(text.split(), times, strict=True)]}
            for start, end, text, times in CUES]
    (job / "captions.json").write_text(json.dumps({"cues": cues}, ensure_ascii=False), encoding="utf-8")


def new_job_with_clip(browser: Browser, studio: Studio, tmp_path: Path) -> Path:
    page = browser.page
    page.click("#nav-new")
    page.wait_for_selector("#view-job:not([hidden])")
    page.set_input_files("#clip-file", str(speech_clip(tmp_path)))
    page.wait_for_selector("#clip-current:not([hidden])")
    [job] = studio.job_folders()
    return job


def job_with_captions(browser: Browser, studio: Studio, tmp_path: Path) -> Path:
    job = new_job_with_clip(browser, studio, tmp_path)
    write_captions(job)
    browser.page.reload()
    browser.page.wait_for_selector("#editor:not([hidden])")
    return job


def cue_texts(page: Any) -> list[str]:
    return [area.input_value() for area in page.locator("#cue-list li textarea").all()]


def wait_for(check: Any, seconds: float = 10.0, what: str = "condition") -> None:
    poll_until(check, what, interval=0.1, polls=int(seconds / 0.1))


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def test_preview_still_appears_and_follows_the_reframe(browser: Browser, studio: Studio, tmp_path: Path) -> None:
    page = browser.page
    job = new_job_with_clip(browser, studio, tmp_path)
    page.fill("#comment-text", "Saako sossulle soittaa illalla?")
    page.wait_for_selector("#preview-img:not([hidden])")
    wait_for(lambda: "Saako" in (job / "job.json").read_text(encoding="utf-8"), what="the comment saved")
    page.click("#preview-refresh")  # the comment is in the frame whatever the debounce did
    wait_for(lambda: page.get_attribute("#preview-img", "data-version") is not None, what="a preview")
    version = page.get_attribute("#preview-img", "data-version")
    blur = pixels(job / "preview.png")
    assert blur.shape == (960, 540, 3)
    # The card is in the frame: its white bubble near the top of the safe zone.
    assert (blur[150:300, 60:480] > 235).all(axis=2).mean() > 0.3

    page.check("input[name=reframe][value=crop]")
    # Crop fills the frame with the picture: the blurred bands above and below the picture go.
    wait_for(lambda: np.abs(pixels(job / "preview.png")[700:900] - blur[700:900]).mean() > 20, what="a new preview")
    wait_for(lambda: page.get_attribute("#preview-img", "data-version") != version, what="the page to show it")
    assert np.abs(pixels(job / "preview.png") - blur).mean() > 10
    browser.shot("7-look-preview")


def test_word_click_seeks_and_the_spoken_word_is_highlighted(browser: Browser, studio: Studio,
                                                            tmp_path: Path) -> None:
    page = browser.page
    job_with_captions(browser, studio, tmp_path)
    word = page.locator("#cue-list li").nth(1).locator(".backdrop .w").nth(1)
    assert word.inner_text() == "puhutaan"
    word.scroll_into_view_if_needed()
    box = word.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    player = page.locator("#player")
    wait_for(lambda: abs(player.evaluate("v => v.currentTime") - 3.0) < 0.05, what="the seek to 3.0 s")
    expect(word).to_have_class("w now")
    expect(page.locator("#cue-list li").nth(1)).to_have_class("cue selected current")

    player.evaluate("v => { v.currentTime = 6.2; }")
    last = page.locator("#cue-list li").nth(2).locator(".backdrop .w").nth(2)
    expect(last).to_have_class("w now")
    expect(word).to_have_class("w")
    browser.shot("8-word-highlight")


def test_find_and_replace_then_undo(browser: Browser, studio: Studio, tmp_path: Path) -> None:
    page = browser.page
    job = job_with_captions(browser, studio, tmp_path)
    page.fill("#find-text", "sossusta")
    expect(page.locator("#find-count")).to_have_text("2 osumaa")
    page.fill("#replace-text", "sosiaalityöstä")
    page.click("#replace-all")
    assert cue_texts(page) == ["Hei kaikki ja tervetuloa", "Tänään puhutaan sosiaalityöstä",
                               "sosiaalityöstä ja lastensuojelusta"]
    expect(page.locator("#find-count")).to_contain_text("Korvattu 2 kohtaa")
    wait_for(lambda: "sosiaalityöstä" in json.dumps(cues_on_disk(job), ensure_ascii=False), what="the save")
    saved = cues_on_disk(job)
    assert saved[2]["words"][0] == {"word": "sosiaalityöstä", "start": 5.0, "end": 5.6,  # type: ignore[index]
                                    "probability": 0.9}
    # The replacement is offered to the vocabulary, like a word corrected by hand.
    expect(page.locator("#learn-offer")).to_contain_text("sosiaalityöstä")
    browser.shot("9-find-replace")

    page.click("[data-act=undo]")
    assert cue_texts(page) == [text for _, _, text, _ in CUES]
    wait_for(lambda: "sosiaalityöstä" not in json.dumps(cues_on_disk(job), ensure_ascii=False), what="undo saved")


def test_learn_a_corrected_word(browser: Browser, studio: Studio, tmp_path: Path) -> None:
    page = browser.page
    job_with_captions(browser, studio, tmp_path)
    vocabulary = studio.folder / "sanasto.txt"
    first = page.locator("#cue-list li").nth(0).locator("textarea")
    first.fill("Hei nuoret ja tervetuloa")
    page.locator("#cue-list li").nth(1).locator(".cue-time").click()  # leaves the text box
    offer = page.locator("#learn-offer")
    expect(offer).to_be_visible()
    assert "”nuoret”" in offer.inner_text() and "sanasto" in offer.inner_text()
    page.click("#learn-add")
    expect(page.locator("#learn-done")).to_have_text("”nuoret” lisättiin sanastoosi.")
    expect(offer).to_be_hidden()
    assert "nuoret" in vocabulary.read_text(encoding="utf-8").splitlines()
    page.click("#vocab summary")
    expect(page.locator("#vocab-list li")).to_have_count(1)
    expect(page.locator("#vocab-count")).to_have_text("1")
    browser.shot("10-learn-word")

    # The same word corrected again is not offered again; the list lets it be removed.
    page.locator("#vocab-list button[data-term=nuoret]").click()
    expect(page.locator("#vocab-list li")).to_have_count(0)
    assert "nuoret" not in vocabulary.read_text(encoding="utf-8").splitlines()


def test_split_survives_reload(browser: Browser, studio: Studio, tmp_path: Path) -> None:
    page = browser.page
    job = job_with_captions(browser, studio, tmp_path)
    area = page.locator("#cue-list li").nth(0).locator("textarea")
    area.click()
    area.press("Home")
    for _ in range(len("Hei kaikki ")):
        area.press("ArrowRight")
    page.click("[data-act=split]")
    assert cue_texts(page)[:2] == ["Hei kaikki", "ja tervetuloa"]
    wait_for(lambda: len(cues_on_disk(job)) == 4, what="the split saved")
    page.reload()
    page.wait_for_selector("#editor:not([hidden])")
    assert cue_texts(page) == ["Hei kaikki", "ja tervetuloa", "Tänään puhutaan sossusta",
                               "sossusta ja lastensuojelusta"]
    saved = cues_on_disk(job)
    assert (saved[0]["end"], saved[1]["start"]) == (1.1, 1.1)


def test_pick_a_clip_already_in_the_studio_folder(browser: Browser, studio: Studio, tmp_path: Path) -> None:
    page = browser.page
    clip = speech_clip(tmp_path)
    clip.rename(studio.folder / "kuvattu eilen.mp4")
    page.click("#nav-new")
    page.wait_for_selector("#view-job:not([hidden])")
    expect(page.locator("#clip-existing option")).to_have_text(["kuvattu eilen.mp4"])
    page.click("#clip-use")
    page.wait_for_selector("#clip-current:not([hidden])")
    assert "kuvattu eilen.mp4" in page.inner_text("#clip-name")
    [job] = studio.job_folders()
    data = json.loads((job / "job.json").read_text(encoding="utf-8"))
    assert data["clip_ref"] == "kuvattu eilen.mp4" and data["clip_file"] == ""
    page.wait_for_selector("#preview-img:not([hidden])")


def test_drag_and_drop_upload(browser: Browser, studio: Studio, tmp_path: Path) -> None:
    page = browser.page
    clip = speech_clip(tmp_path)
    page.click("#nav-new")
    page.wait_for_selector("#view-job:not([hidden])")
    data = base64.b64encode(clip.read_bytes()).decode()
    transfer = page.evaluate_handle(
        """b64 => {
            const raw = atob(b64);
            const bytes = new Uint8Array(raw.length);
            for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], "pudotettu video.mp4", { type: "video/mp4" }));
            return dt;
        }""", data)
    page.dispatch_event("#dropzone", "dragenter", {"dataTransfer": transfer})
    expect(page.locator("#dropzone")).to_have_class("dropzone over")
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    page.wait_for_selector("#clip-current:not([hidden])")
    assert "pudotettu video.mp4" in page.inner_text("#clip-name")
    [job] = studio.job_folders()
    assert (job / "clip.mp4").read_bytes() == clip.read_bytes()


def long_clip(folder: Path, seconds: int = 40) -> Path:
    path = folder / "pitkä.mp4"
    run("-f", "lavfi", "-i", f"testsrc2=s=1280x720:r=30:d={seconds}", "-f", "lavfi", "-i",
        f"sine=f=300:d={seconds}", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-shortest", str(path))
    return path


def ffmpeg_children(studio: Studio) -> list[psutil.Process]:
    try:
        kids = psutil.Process(studio.process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [p for p in kids if "ffmpeg" in p.name()]


def start_long_render(browser: Browser, studio: Studio, tmp_path: Path) -> Path:
    page = browser.page
    page.click("#nav-new")
    page.wait_for_selector("#view-job:not([hidden])")
    page.set_input_files("#clip-file", str(long_clip(tmp_path)))
    page.wait_for_selector("#clip-current:not([hidden])")
    [job] = studio.job_folders()
    page.click("#render")
    page.wait_for_selector("#render-cancel:not([hidden])")
    wait_for(lambda: ffmpeg_children(studio), seconds=30, what="ffmpeg to start")
    return job


def leftovers(job: Path) -> list[str]:
    return [p.name for p in job.iterdir() if "partial" in p.name or p.name.startswith("vastaus")]


def test_render_cancelled_from_the_page(browser: Browser, studio: Studio, tmp_path: Path) -> None:
    page = browser.page
    job = start_long_render(browser, studio, tmp_path)
    encoders = ffmpeg_children(studio)
    page.click("#render-cancel")
    expect(page.locator("#render-note")).to_have_text(
        "Videon tekeminen peruttiin. Keskeneräistä videota ei tallennettu.", timeout=15_000)
    browser.shot("11-render-cancelled")
    assert not page.is_visible("#render-progress") and page.is_enabled("#render")
    wait_for(lambda: not any(p.is_running() for p in encoders), what="ffmpeg to end")
    assert leftovers(job) == []
    assert page.is_hidden("#result")


def test_ctrl_c_stops_a_running_render_cleanly(browser: Browser, studio: Studio, tmp_path: Path) -> None:
    job = start_long_render(browser, studio, tmp_path)
    encoders = ffmpeg_children(studio)
    assert encoders
    studio.stop()  # Ctrl-C: exits 0 with "Studio suljettu"
    assert not [p for p in encoders if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert leftovers(job) == []
