"""The studio in a real browser: the real server (`sossut studio` in a subprocess, free loopback
port) and Debian's Chromium driven by Playwright.

`playwright install` cannot download browsers here, so the system Chromium is launched as the
executable. Without it (or without Playwright) the tests skip with the reason, except under
`CI=true`, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import REPO

CHROMIUM = Path(os.environ.get("SOSSUT_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]

pytestmark = pytest.mark.browser


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run under CI: {reason}")
    pytest.skip(reason)


@dataclass
class Studio:
    """A running `sossut studio`."""

    url: str  # with the token
    folder: Path
    process: subprocess.Popen[str]
    stderr: str | None = None

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def job_folders(self) -> list[Path]:
        return sorted(p for p in (self.folder / "jobs").iterdir() if p.is_dir())

    def stop(self) -> str:
        """Ctrl-C (SIGINT) and wait: it must exit 0 and say so. Returns its stderr."""
        if self.stderr is None:
            self.process.send_signal(signal.SIGINT)
            try:
                _, self.stderr = self.process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                pytest.fail("studio did not stop on Ctrl-C")
            assert self.process.returncode == 0, self.stderr
            assert "Studio suljettu" in self.stderr
        return self.stderr


@dataclass
class Browser:
    page: Any
    requests: list[str] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture()
def studio(tmp_path: Path) -> Iterator[Studio]:
    """`sossut studio --no-browser` on a free port, stopped with Ctrl-C (SIGINT) at the end."""
    folder = tmp_path / "studio"
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    # A fresh transcript cache (the model files are shared, not copied), so the model really runs.
    from pipeline.speech.weights import cache_dir

    cache = tmp_path / "cache"
    cache.mkdir()
    if (cache_dir() / "models").is_dir():
        (cache / "models").symlink_to(cache_dir() / "models")
    env["SOSSUT_CACHE_DIR"] = str(cache)
    running = start_studio(folder, env, tmp_path)
    yield running
    running.stop()


def start_studio(folder: Path, env: dict[str, str], cwd: Path, *options: str) -> Studio:
    """Start `sossut studio --no-browser --folder FOLDER [OPTIONS]` and read the address it prints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "studio", "--no-browser", "--folder", str(folder), *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+/\?token=\S+)", line)
    if not match:
        process.kill()
        pytest.fail(f"studio did not start: {line!r} {process.stderr.read() if process.stderr else ''}")
    return Studio(match.group(1), folder, process)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def browser(chromium: Any, studio: Studio, tmp_path: Path) -> Iterator[Browser]:
    """A fresh browser context on the studio's page, logging the address of every request."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="fi-FI",
                                   accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    seen = Browser(page)
    page.on("request", lambda request: seen.requests.append(request.url))
    page.goto(studio.url)
    page.wait_for_selector("#view-jobs:not([hidden])")
    yield seen
    context.close()
