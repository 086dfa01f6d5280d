"""Job folders and edited captions of the studio (no server, no ffmpeg)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.captions import read_captions
from pipeline.config import load_settings
from pipeline.studio.jobs import JobStore, NotFound
from pipeline.studio.work import job_settings, parse_cues, save_cues, write_render_config


def test_state_follows_edits_after_a_render(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    job = store.update(store.create().id, {"comment": "Hei ä ö å"})
    store.output(job.id).write_bytes(b"video")
    job = store.save(replace(store.load(job.id), rendered=job.updated + 1), touched=False)
    assert store.summary(job)["state"] == "rendered"
    assert store.update(job.id, {"comment": "Hei ä ö å"}).state(True) == "rendered"  # unchanged: still fine
    assert store.update(job.id, {"comment": "Hei taas"}).state(True) == "draft"


def test_duplicate_and_delete(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    job = store.update(store.create().id, {"comment": "Kysymys", "reframe": "fit"})
    (store.folder(job.id) / "clip.mp4").write_bytes(b"clip")
    store.set_clip(job.id, clip_file="clip.mp4", clip_name="oma.mp4")
    copy = store.duplicate(job.id)
    assert copy.id != job.id and copy.comment == "Kysymys" and copy.reframe == "fit"
    assert (store.folder(copy.id) / "clip.mp4").read_bytes() == b"clip"
    store.delete(job.id)
    with pytest.raises(NotFound):
        store.folder(job.id)
    assert [j.id for j in store.all()] == [copy.id]


@pytest.mark.parametrize("values", [{"reframe": "zoom"}, {"caption_size": "huge"}, {"show_user": "yes"},
                                    {"comment": 5}, {"clip_file": "../../etc/passwd"}, {"rendered": 1e12}])
def test_only_known_fields_with_valid_values_can_be_set(tmp_path: Path, values: dict[str, object]) -> None:
    store = JobStore(tmp_path)
    with pytest.raises(ValueError):
        store.update(store.create().id, values)


@pytest.mark.parametrize("cues", [
    None, {}, [{"start": 1, "end": 0.5, "lines": ["x"]}], [{"start": "0", "end": 1, "lines": ["x"]}],
    [{"start": float("nan"), "end": 1, "lines": ["x"]}], [{"start": 0, "end": 1, "lines": "x"}],
    [{"start": 0, "end": 1, "lines": ["x" * 600]}], [{"start": 0, "end": 1, "lines": ["x"], "words": [{"w": 1}]}],
])
def test_bad_cues_are_refused(cues: object) -> None:
    with pytest.raises(ValueError):
        parse_cues(cues)


def test_saved_captions_are_what_render_reads(tmp_path: Path) -> None:
    """`sossut render --captions job/captions.json --config job/render.toml` burns the edited cues as they are."""
    settings = load_settings()
    store = JobStore(tmp_path)
    job = store.update(store.create().id, {"caption_size": "large", "reframe": "crop"})
    page_cues = [
        {"start": 0.2, "end": 1.4, "lines": ["Korjattu sana"],
         "words": [{"word": "Korjattu", "start": 0.2, "end": 0.7}, {"word": "sana", "start": 0.7, "end": 1.4}]},
        {"start": 1.5, "end": 3.0, "lines": ["huostaanotto on", "viimeinen keino"], "words": []},
    ]
    assert save_cues(store, job.id, page_cues) == 2
    styled = job_settings(settings, store.load(job.id))
    cues = read_captions(store.file(job.id, "captions.json"), styled.captions, styled.canvas.width, styled.safe_zone)
    assert [c.lines for c in cues] == [("Korjattu sana",), ("huostaanotto on", "viimeinen keino")]
    assert [(c.start, c.end) for c in cues] == [(0.2, 1.4), (1.5, 3.0)]
    assert cues[0].words[0].word == "Korjattu" and cues[0].words[0].start == 0.2
    config = write_render_config(store, store.load(job.id), settings)
    cli_settings = load_settings(config)
    assert cli_settings.captions.font_size == styled.captions.font_size > settings.captions.font_size
    assert cli_settings.reframe.mode == "crop"
