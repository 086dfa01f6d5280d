"""The help-resources end card and the checks after render, in Chromium against the real server:
a self-harm comment with the switch on "automaattinen" gets the card (the video grows by its
length), "ei koskaan" leaves it out with a warning; the checks are listed in Finnish beside the video."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_settings
from tests.browser.conftest import Browser, Studio
from tests.conftest import make_clip, probe_output

pytestmark = pytest.mark.browser
CLIP_SECONDS = 2.0


def test_end_card_switch_and_checks_beside_the_video(browser: Browser, studio: Studio, tmp_path: Path) -> None:
    end_card_seconds = load_settings().end_card.duration
    page = browser.page
    page.click("#nav-new")
    page.wait_for_selector("#view-job:not([hidden])")
    page.set_input_files("#clip-file", str(make_clip(tmp_path / "lyhyt.mp4", size=(640, 360), seconds=CLIP_SECONDS)))
    page.wait_for_selector("#clip-current:not([hidden])")
    [job] = studio.job_folders()

    page.fill("#comment-text", "en jaksa enää elää")
    page.wait_for_selector("#comment-notes li.self_harm")
    assert page.is_checked("input[name=end_card][value=auto]")  # the config's mode until chosen
    assert "Loppukortti" in page.inner_text("#step-look")

    # Automaattinen: the card is added, the page says why, the video is longer by the card.
    page.click("#render")
    page.wait_for_selector("#result:not([hidden])", timeout=120_000)
    added = page.locator('#result-report li[data-key="end_card.added"]')
    assert "Videon loppuun lisättiin apua-kortti" in added.inner_text()
    assert "kommentissa tunnistettiin: itsetuhoisuus" in added.inner_text()
    assert "warning" in (added.get_attribute("class") or "")
    with_card = probe_output(job / "vastaus.mp4")["duration"]
    assert abs(with_card - (CLIP_SECONDS + end_card_seconds)) < 0.15, with_card
    report = page.inner_text("#result-report")
    assert "check" not in report.lower() and "Tarkistukset" in page.inner_text(".report-box")
    browser.shot("end-card-added")

    # Ei koskaan: saved at once, no card, and a warning that a flagged comment has none.
    page.check("input[name=end_card][value=never]")
    page.wait_for_selector("#save-state[data-state=saved]")
    assert '"end_card": "never"' in (job / "job.json").read_text(encoding="utf-8")
    page.click("#render")
    left_out = page.locator('#result-report li[data-key="end_card.left_out"]')
    left_out.wait_for(timeout=120_000)
    assert "Videossa ei ole apua-korttia" in left_out.inner_text()
    without = probe_output(job / "vastaus.mp4")["duration"]
    assert abs(without - CLIP_SECONDS) < 0.15, without
    assert page.locator('#result-report li[data-key="end_card.added"]').count() == 0
    page.reload()
    page.wait_for_selector("#result:not([hidden])")
    assert page.is_checked("input[name=end_card][value=never]")
    page.locator("#step-render").scroll_into_view_if_needed()
    browser.shot("end-card-never")
