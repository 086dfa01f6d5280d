"""The studio's vocabulary file, cancelling its tasks and what its jobs list shows (no browser)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import load_settings
from pipeline.studio import vocabulary, work
from pipeline.studio.jobs import JobStore
from pipeline.studio.tasks import Tasks
from pipeline.types import Segment, Transcript, Word


def test_vocabulary_add_keeps_hand_written_lines_and_skips_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "sanasto.txt"
    path.write_text("# omat\nlastensuojelu  # tärkeä\nSossu\n", encoding="utf-8")
    assert vocabulary.add_term(path, " nuoret, ") == ["lastensuojelu", "Sossu", "nuoret"]
    assert vocabulary.add_term(path, "sossu") == ["lastensuojelu", "Sossu", "nuoret"]
    assert path.read_text(encoding="utf-8") == "# omat\nlastensuojelu  # tärkeä\nSossu\nnuoret\n"
    assert vocabulary.remove_term(path, "lastensuojelu") == ["Sossu", "nuoret"]
    assert "# omat" in path.read_text(encoding="utf-8")
    for bad in ("", "   ", "a#b", "x" * 61, "rivi\x00"):
        with pytest.raises(ValueError):
            vocabulary.add_term(path, bad)


def test_a_new_vocabulary_file_says_what_it_is(tmp_path: Path) -> None:
    path = tmp_path / "uusi" / "sanasto.txt"
    assert vocabulary.add_term(path, "Kela") == ["Kela"]
    from pipeline.speech.transcribe import read_vocabulary

    assert read_vocabulary(path) == ["Kela"]  # what `sossut render --vocabulary` reads


def test_later_transcriptions_get_the_learned_terms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = JobStore(tmp_path / "studio")
    job = store.create()
    (store.folder(job.id) / "clip.mp4").write_bytes(b"x")
    job = store.set_clip(job.id, clip_file="clip.mp4", clip_name="clip.mp4")
    terms = tmp_path / "studio" / "sanasto.txt"
    vocabulary.add_term(terms, "Sosiaalipäivystys")
    seen: dict[str, Any] = {}

    def fake_transcribe_file(path: Path, options: Any, **kwargs: Any) -> Transcript:
        seen["vocabulary"] = options.vocabulary
        words = (Word("Hei", 0.0, 0.4, 0.9),)
        return Transcript("fi", 1.0, (Segment(0.0, 0.4, "Hei", words),), "base", "faster-whisper")

    monkeypatch.setattr("pipeline.speech.transcribe_file", fake_transcribe_file)
    work.transcribe(store, job, load_settings(), lambda f: None, vocabulary_file=terms)
    assert seen["vocabulary"][0] == "Sosiaalipäivystys"


def test_a_cancelled_task_ends_at_its_next_progress_report() -> None:
    tasks = Tasks()
    started = threading.Event()
    cleaned = threading.Event()

    def slow(on_progress: Any) -> None:
        try:
            started.set()
            for i in range(1000):
                on_progress(i / 1000)
                time.sleep(0.01)
        finally:
            cleaned.set()

    task = tasks.start("a" * 16, "render", slow)
    assert task is not None
    assert started.wait(5)
    assert tasks.cancel("a" * 16) is task
    assert task.ended.wait(5) and cleaned.is_set()
    assert task.state == "cancelled" and task.error == {}
    assert tasks.cancel("a" * 16) is None  # nothing running any more


def test_cancel_all_waits_for_every_task() -> None:
    tasks = Tasks()

    def slow(on_progress: Any) -> None:
        while True:
            on_progress(0.5)
            time.sleep(0.01)

    first = tasks.start("a" * 16, "render", slow)
    second = tasks.start("b" * 16, "transcribe", slow)  # waits for its turn
    assert first is not None and second is not None
    time.sleep(0.1)
    assert tasks.cancel_all(timeout=5)
    assert (first.state, second.state) == ("cancelled", "cancelled")


def test_jobs_list_shows_the_comment_masked(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "studio")
    job = store.update(store.create().id, {"comment": "Soita mulle 040 123 4567 illalla"})
    summary = store.summary(job)
    assert "040" not in summary["comment_masked"] and "Soita mulle" in summary["comment_masked"]
    assert summary["comment"] == "Soita mulle 040 123 4567 illalla"  # the editor shows what was typed
