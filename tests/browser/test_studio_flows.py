"""What a person does in the studio, in Chromium, against the real server: one reply from clip to
downloaded video, the jobs list, a file that is not a video. Asserts on what the page shows and
on the files the server wrote."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `chromium` fixture skips (or fails under CI) with the reason
    expect = None

from tests.browser.conftest import ARTIFACTS, Browser, Studio
from tests.conftest import REPO, poll_until, probe_output, run

pytestmark = pytest.mark.browser
SPEECH = REPO / "tests" / "fixtures" / "speech" / "suunnitelma.flac"  # 7.4 s of Finnish speech (festival)
README_SHOT = REPO / "assets" / "screenshots" / "studio.png"


def speech_clip(folder: Path) -> Path:
    """A small landscape clip with the fixture's speech as its sound."""
    path = folder / "puhe klippi.mp4"
    run("-f", "lavfi", "-i", "testsrc2=s=640x360:r=25", "-i", str(SPEECH), "-shortest", "-c:v", "libx264",
        "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", str(path))
    return path


def cues_on_disk(job: Path) -> list[dict[str, object]]:
    cues: list[dict[str, object]] = json.loads((job / "captions.json").read_text(encoding="utf-8"))["cues"]
    return cues


def test_one_reply_from_clip_to_downloaded_video(browser: Browser, studio: Studio, tmp_path: Path) -> None:
    page = browser.page
    page.click("#nav-new")
    page.wait_for_selector("#view-job:not([hidden])")
    browser.shot("1-new-job")

    # Clip: pick a file; it is uploaded with a progress bar and probed.
    page.set_input_files("#clip-file", str(speech_clip(tmp_path)))
    page.wait_for_selector("#clip-current:not([hidden])")
    assert "puhe klippi.mp4" in page.inner_text("#clip-name")
    [job] = studio.job_folders()
    assert (job / "clip.mp4").is_file()

    # Comment with a phone number: the card masks it and the page says so in Finnish.
    page.fill("#comment-text", "Mitä tapahtuu kun teen ilmoituksen? Soita 040 123 4567")
    page.wait_for_selector("#card-img:not([hidden])")
    page.wait_for_selector("#comment-notes li.personal_data")
    assert "puhelinnumero" in page.inner_text("#comment-notes")
    assert "040" not in page.inner_text("#comment-notes")
    assert (job / "card.png").is_file()
    page.check("input[name=caption_size][value=large]")
    page.wait_for_selector("#save-state[data-state=saved]")
    browser.shot("2-comment-card")

    # Captions: transcribe with the real bundled model, then correct a word.
    page.click("#transcribe")
    page.wait_for_selector("#editor:not([hidden])", timeout=90_000)
    cues = cues_on_disk(job)
    assert len(cues) >= 2
    first = page.locator("#cue-list li").nth(0).locator("textarea")
    original = first.input_value()
    old_word = original.split()[0]
    old_time = cues[0]["words"][0]["start"]  # type: ignore[index]
    first.fill(original.replace(old_word, "Korjattusana", 1))

    # Move the first cue's end, split the second at its cursor, undo the split.
    page.locator("#cue-list li").nth(0).locator(".cue-time").click()
    before_end = cues[0]["end"]
    page.click("[data-act=end-minus]")
    second = page.locator("#cue-list li").nth(1).locator("textarea")
    second.click()
    second.press("Home")
    for _ in range(max(1, len(second.input_value().split()[0]))):
        second.press("ArrowRight")
    count = page.locator("#cue-list li").count()
    page.click("[data-act=split]")
    assert page.locator("#cue-list li").count() == count + 1
    page.click("[data-act=undo]")
    assert page.locator("#cue-list li").count() == count
    browser.shot("3-caption-editor")

    # Reload mid-edit: nothing typed is lost.
    first = page.locator("#cue-list li").nth(0).locator("textarea")
    first.fill(first.input_value() + " lisäys")
    page.reload()
    page.wait_for_selector("#editor:not([hidden])")
    assert page.locator("#cue-list li").nth(0).locator("textarea").input_value().startswith("Korjattusana")
    assert page.locator("#cue-list li").nth(0).locator("textarea").input_value().endswith("lisäys")
    assert "040 123 4567" in page.input_value("#comment-text")
    assert page.is_checked("input[name=caption_size][value=large]")
    saved = cues_on_disk(job)
    assert saved[0]["words"][0] == {**saved[0]["words"][0], "word": "Korjattusana"}  # type: ignore[index]
    assert abs(saved[0]["words"][0]["start"] - old_time) < 1e-6  # type: ignore[index]  # kept its time
    assert abs(saved[0]["end"] - (before_end - 0.1)) < 0.01  # type: ignore[operator]
    assert len(saved) == count

    # Render: progress, then the video plays in the page and can be downloaded.
    page.click("#render")
    page.wait_for_selector("#result:not([hidden])", timeout=120_000)
    wait_until_playable(page.locator("#result-video"))
    assert page.inner_text("#result-state") == "Video on valmis. Se on myös studiokansiossa."
    browser.shot("4-finished-video")
    if os.environ.get("SOSSUT_DOCS_SCREENSHOT"):
        save_readme_shot(browser)
    with page.expect_download() as download_info:
        page.click("#download")
    downloaded = tmp_path / "ladattu.mp4"
    download_info.value.save_as(str(downloaded))
    info = probe_output(downloaded)
    assert (info["width"], info["height"], info["codec"], info["pix_fmt"]) == (1080, 1920, "h264", "yuv420p")
    assert info["profile"] == "High" and info["audio_codec"] == "aac" and info["audio_rate"] == 48000
    assert abs(info["duration"] - 7.38) < 0.15
    burned = (job / "vastaus.srt").read_text(encoding="utf-8")
    assert "Korjattusana" in burned and "lisäys" in burned
    assert (job / "render.toml").read_text(encoding="utf-8").count("font_size") == 1

    # The jobs list shows it as finished; reopening it does not make it a draft again.
    page.click("#nav-jobs")
    expect(page.locator("#job-list li.job .badge")).to_have_text("valmis")
    page.click("#job-list li.job button[data-act=open]")
    page.wait_for_selector("#card-img:not([hidden])")
    page.click("#nav-jobs")
    expect(page.locator("#job-list li.job .badge")).to_have_text("valmis")
    browser.shot("5-jobs-list")

    # Everything the page loaded came from the studio itself.
    hosts = {urlsplit(url).netloc for url in browser.requests if not url.startswith(("data:", "blob:"))}
    assert hosts == {urlsplit(studio.url).netloc}


def wait_until_playable(video: Any, seconds: float = 20.0) -> None:
    """The <video> has loaded the file's metadata (no page.wait_for_function: the page's CSP
    forbids evaluating strings in it, as it should)."""
    poll_until(lambda: video.evaluate("v => v.readyState") >= 1, "the finished video loads in the page",
               interval=0.2, polls=int(seconds / 0.2))
    assert video.evaluate("v => v.duration") > 7


def save_readme_shot(browser: Browser) -> None:
    """assets/screenshots/studio.png for the README: the caption step and the finished video, small."""
    from PIL import Image

    page = browser.page
    page.set_viewport_size({"width": 1200, "height": 860})
    page.locator("#step-captions").scroll_into_view_if_needed()
    raw = ARTIFACTS / "readme-raw.png"
    page.screenshot(path=str(raw))
    with Image.open(raw) as image:
        small = image.convert("RGB").resize((900, 645), Image.Resampling.LANCZOS)
        small.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(README_SHOT, optimize=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_jobs_list_reopen_duplicate_delete(browser: Browser, studio: Studio) -> None:
    page = browser.page
    page.click("#nav-new")
    page.wait_for_selector("#view-job:not([hidden])")
    page.fill("#comment-text", "Saako sijaisperheeseen viedä oman lemmikin?")
    page.wait_for_selector("#save-state[data-state=saved]")
    page.click("#nav-jobs")
    page.wait_for_selector("#job-list li.job")
    assert page.inner_text("#job-list li.job .badge") == "luonnos"
    assert "lemmikin" in page.inner_text("#job-list li.job")

    page.click("#job-list li.job button[data-act=duplicate]")
    expect(page.locator("#job-list li.job")).to_have_count(2)

    page.once("dialog", lambda dialog: dialog.dismiss())  # "no": nothing is deleted
    page.locator("#job-list li.job").nth(0).locator("button[data-act=delete]").click()
    assert page.locator("#job-list li.job").count() == 2
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#job-list li.job").nth(0).locator("button[data-act=delete]").click()
    expect(page.locator("#job-list li.job")).to_have_count(1)
    assert len(studio.job_folders()) == 1

    page.click("#job-list li.job button[data-act=open]")
    page.wait_for_selector("#view-job:not([hidden])")
    assert page.input_value("#comment-text") == "Saako sijaisperheeseen viedä oman lemmikin?"


def test_a_text_file_named_mp4_is_refused_in_finnish(browser: Browser, studio: Studio, tmp_path: Path) -> None:
    page = browser.page
    fake = tmp_path / "loma.mp4"
    fake.write_text("tämä ei ole video\n" * 100, encoding="utf-8")
    page.click("#nav-new")
    page.wait_for_selector("#view-job:not([hidden])")
    page.set_input_files("#clip-file", str(fake))
    page.wait_for_selector("#clip-error:not([hidden])")
    assert "Tiedosto ei ole luettava video" in page.inner_text("#clip-error")
    assert page.is_hidden("#clip-current")
    browser.shot("6-not-a-video")
