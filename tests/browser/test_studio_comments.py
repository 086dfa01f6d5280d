"""The "Kommentit" view in Chromium, against the real server: a pile of 20 young people's comments
pasted, the disclosure on top with its reminder, hate hidden until asked, near-duplicate
questions as one row, "Vastaa" opening a reply job with that comment, the render recording the
answer in the ledger folder of the config, and the question marked answered back in the list.

The clip is a short generated one and has no captions (nothing is transcribed), so the render
is quick."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `chromium` fixture skips (or fails under CI) with the reason
    expect = None

from tests.browser.conftest import Browser, Studio, start_studio
from tests.conftest import REPO, make_clip

pytestmark = pytest.mark.browser

DISCLOSURE = "mun isä lyö mua kun se juo mitä mä teen"
QUESTION = "miten lastensuojeluilmoitus tehään?"
COMMENTS = [
    "moi tosi hyvä video 😊",
    "voiko sossu viedä mut kotoa pois jos mä kerron et meil on riitaa",
    DISCLOSURE,
    "turpa kiinni idiootti",
    QUESTION,
    "voiko sossu viedä mut pois kotoa jos kerron että meil riidellään",
    "saako sossu kattoo mun puhelinta",
    "mä tapan sut jos nään sut",
    "kiitti tää auttoi oikeesti",
    "onks sijaisperheessä pakko mennä kouluun",
    "paljonko taskurahaa saa jos asuu laitoksessa?",
    "follow for follow 🔥🔥 www.example.com",
    "te ootte ihan vitun paskoja",
    "milloin mä saan nähä mun pikkusiskoo",
    "hyvä et joku puhuu näistä",
    "kuka päättää missä mä asun",
    "eka!!!",
    "mitä jos mä en haluu puhuu sossulle",
    "saanko mä pitää puhelimen sijaisperheessä",
    "mitä tapahtuu jos mä myöhästyn kotiintuloajasta",
]
HATE = ["turpa kiinni idiootti", "mä tapan sut jos nään sut", "te ootte ihan vitun paskoja"]


@pytest.fixture()
def studio(tmp_path: Path) -> Iterator[Studio]:
    """`sossut studio` as in conftest, with a config whose [ledger] is a folder of this test and
    the worker "Liisa"."""
    folder = tmp_path / "studio"
    config = tmp_path / "asetukset.toml"
    config.write_text(f'[ledger]\nfolder = "{tmp_path / "ledger"}"\nworker = "Liisa"\n', encoding="utf-8")
    cache = tmp_path / "cache"
    cache.mkdir()
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", SOSSUT_CACHE_DIR=str(cache))
    running = start_studio(folder, env, tmp_path, "--config", str(config))
    yield running
    stderr = running.stop()
    for comment in COMMENTS:  # nothing of a comment is logged
        assert comment not in stderr


def row(page: Any, text: str) -> Any:
    """The inbox row whose (first) comment has `text`."""
    return page.locator("#inbox li.comment", has=page.locator(".c-text", has_text=text))


def test_paste_sort_answer_render_marked(browser: Browser, studio: Studio, tmp_path: Path) -> None:
    page = browser.page
    page.click("#nav-comments")
    page.wait_for_selector("#view-comments:not([hidden])")
    expect(page.locator("#comments-worker")).to_contain_text("Vastaaja: Liisa")
    page.fill("#comments-text", "\n".join(COMMENTS))
    page.click("#comments-sort")
    expect(page.locator("#comments-total")).to_have_text("20 kommenttia tallessa")

    # The disclosure is on top, with the reminder of a private response and a notification.
    first = page.locator("#inbox li.comment").first
    expect(first.locator(".c-text")).to_have_text(DISCLOSURE)
    expect(first.locator(".chip").first).to_have_text("kertoo vaarasta tai kaltoinkohtelusta")
    assert first.locator("button[data-act=answer]").count() == 0  # no public video for it
    hint = page.inner_text("#inbox .inbox-section.personal .care-hint")
    assert "yksityisesti" in hint and "lastensuojeluilmoitus" in hint and "ei lähetä mitään" in hint

    # Hate is hidden behind its count until asked for, then shown, then hidden again.
    toggle = page.locator("#hate-toggle")
    expect(toggle).to_have_text("Näytä piilotetut (3)")
    body = page.inner_text("#inbox")
    assert not any(h in body for h in HATE)
    assert "uhkaus 1" in body and "loukkaus 2" in body
    toggle.click()
    expect(page.locator("#inbox .inbox-section.hate li.comment")).to_have_count(3)
    browser.shot("comments-hate-shown")
    page.click("#hate-toggle")
    expect(page.locator("#hate-toggle")).to_have_text("Näytä piilotetut (3)")
    assert not any(h in page.inner_text("#inbox") for h in HATE)

    # The two near-duplicate questions are one row with the count; the list says how many.
    grouped = row(page, "voiko sossu viedä mut kotoa pois")
    expect(grouped.locator(".chip.group")).to_have_text("Kysytty 2 kertaa")
    assert page.locator("#inbox li.comment", has_text="meil riidellään").count() == 1  # inside the group row
    expect(page.locator("#comments-summary")).to_contain_text("11 kysymystä (10 erilaista)")
    expect(page.locator("#comments-summary")).to_contain_text("3 piilotettu")

    # A reload loses nothing.
    page.reload()
    page.wait_for_selector("#view-comments:not([hidden]) #inbox li.comment")
    expect(page.locator("#inbox li.comment").first.locator(".c-text")).to_have_text(DISCLOSURE)
    page.set_viewport_size({"width": 1280, "height": 1400})
    browser.shot("comments-view")
    page.set_viewport_size({"width": 1280, "height": 900})

    # "Vastaa" on a question: a new job with that comment, the card drawn from it.
    row(page, QUESTION).locator("button[data-act=answer]").click()
    page.wait_for_selector("#view-job:not([hidden])")
    assert page.input_value("#comment-text") == QUESTION
    page.wait_for_selector("#card-img:not([hidden])")
    [job] = studio.job_folders()
    page.set_input_files("#clip-file", str(make_clip(tmp_path / "pätkä.mp4", size=(640, 360), seconds=1.5)))
    page.wait_for_selector("#clip-current:not([hidden])")
    page.click("#render")
    page.wait_for_selector("#result:not([hidden])", timeout=120_000)
    expect(page.locator("#result-ledger")).to_have_text("✓ Merkitty vastatuksi (Liisa). Kommentit-näkymä näyttää sen.")
    assert (job / "vastaus.mp4").is_file()
    page.locator("#step-render").scroll_into_view_if_needed()
    browser.shot("comments-job-rendered")

    # The ledger has the answer, never the comment's text.
    ledger = tmp_path / "ledger"
    lines = "".join(p.read_text(encoding="utf-8") for p in ledger.glob("answered-*.jsonl"))
    assert f"vastaus-{job.name[:6]}.mp4" in lines and "lastensuojelu" not in lines and "Liisa" in lines

    # Back in Kommentit the question is marked answered; the others are not.
    page.click("#nav-comments")
    answered = row(page, QUESTION).locator(".answered-mark")
    expect(answered).to_contain_text("✓ Vastattu")
    expect(answered).to_contain_text(f"Liisa · vastaus-{job.name[:6]}.mp4")
    expect(row(page, QUESTION).locator("button[data-act=answer]")).to_have_text("Vastaa uudelleen")
    assert page.locator("#inbox .answered-mark").count() == 1
    expect(page.locator("#comments-summary")).to_contain_text("1 vastattu")
    row(page, QUESTION).scroll_into_view_if_needed()
    browser.shot("comments-answered")

    # "Vastaa" on the grouped question: the job says the video answers the other one too.
    grouped = row(page, "voiko sossu viedä mut kotoa pois")
    grouped.locator("button[data-act=answer]").click()
    page.wait_for_selector("#view-job:not([hidden])")
    expect(page.locator("#comment-answers")).to_have_text("Tämä vastaus merkitään myös 1 samaa kysyvälle kommentille.")
    assert len(studio.job_folders()) == 2
