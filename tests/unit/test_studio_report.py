"""The studio's end card switch (saved, passed to the render, bad values refused) and the Finnish
rendering of the end card and the checks after render (no server, no ffmpeg)."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import Settings, load_settings
from pipeline.reply import ReplyJob, ReplyResult
from pipeline.studio import work
from pipeline.studio.jobs import JobStore
from pipeline.studio.report import CHECK_KEYS, check_note, end_card_notes
from pipeline.types import Cue, MediaInfo
from pipeline.video.check import caption_checks

MESSAGES: dict[str, str] = json.loads(
    (Path(work.__file__).parent / "static" / "messages.fi.json").read_text(encoding="utf-8"))
SELF_HARM = "en jaksa enää elää"


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings()


def finnish(note: dict[str, Any]) -> str:
    """The note as the page shows it (app.js `showReport` + `reportValues`)."""
    values = dict(note["values"])
    if "kinds" in values:
        values["kinds"] = ", ".join(MESSAGES[f"kind.{k}"] for k in values["kinds"])
    if "categories" in values:
        values["categories"] = ", ".join(MESSAGES[f"category.{c}"] for c in values["categories"])
    if "where" in values:
        values["where"] = MESSAGES[f"where.{values['where']}"]
    if "check" in values:
        values["check"] = MESSAGES[f"checkname.{values['check']}"]
    text = MESSAGES[note["key"]]
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    assert f"report.level.{note['level']}" in MESSAGES
    assert "{" not in text, text  # every placeholder filled
    return text


def media(path: Path, **changes: Any) -> MediaInfo:
    values: dict[str, Any] = dict(path=path, duration=12.5, width=1080, height=1920, rotation=0, fps=Fraction(30),
                                  has_audio=True, video_codec="h264")
    values.update(changes)
    return MediaInfo(**values)


# --- the job field ---------------------------------------------------------------------------


def test_end_card_is_saved_with_the_job_and_goes_to_render_toml(tmp_path: Path, settings: Settings) -> None:
    store = JobStore(tmp_path)
    job = store.create()
    assert job.end_card == "" and work.job_settings(settings, job).end_card.mode == settings.end_card.mode
    job = store.update(job.id, {"end_card": "never"})
    on_disk = json.loads(store.file(job.id, "job.json").read_text(encoding="utf-8"))
    assert on_disk["end_card"] == "never"
    assert store.load(job.id).end_card == "never" and store.summary(job)["end_card"] == "never"
    assert store.duplicate(job.id).end_card == "never"
    assert work.job_settings(settings, job).end_card.mode == "never"
    assert load_settings(work.write_render_config(store, job, settings)).end_card.mode == "never"


@pytest.mark.parametrize("value", ["sometimes", "", "AUTO", True, None, 1, ["auto"]])
def test_bad_end_card_values_are_refused(tmp_path: Path, value: object) -> None:
    store = JobStore(tmp_path)
    job = store.create()
    with pytest.raises(ValueError):
        store.update(job.id, {"end_card": value})
    assert store.load(job.id).end_card == ""


@pytest.mark.parametrize(("chosen", "expected"), [("always", "always"), ("never", "never"), ("", None)])
def test_render_passes_the_end_card_to_the_reply_job(tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                                     chosen: str, expected: str | None) -> None:
    """The pipeline is faked (no ffmpeg here); what the studio hands it is under test."""
    import pipeline.reply

    store = JobStore(tmp_path)
    job = store.create()
    (store.folder(job.id) / "clip.mp4").write_bytes(b"clip")
    store.set_clip(job.id, clip_file="clip.mp4", clip_name="oma.mp4")
    job = store.update(job.id, {"comment": "Mitä sossu tekee?", **({"end_card": chosen} if chosen else {})})
    seen: list[tuple[ReplyJob, Settings]] = []

    def fake_make_reply(reply: ReplyJob, styled: Settings, **_: Any) -> ReplyResult:
        seen.append((reply, styled))
        return ReplyResult(output=reply.output, media=media(reply.clip), card=None, warnings=("check: x: y",))

    monkeypatch.setattr(pipeline.reply, "make_reply", fake_make_reply)
    work.render(store, store.load(job.id), settings, lambda _: None)
    [(reply, styled)] = seen
    assert reply.end_card == expected
    assert styled.end_card.mode == (expected or settings.end_card.mode)
    saved = store.load(job.id)
    # There is no video (the pipeline was faked): the page is told the checks could not run.
    assert [n["key"] for n in saved.report][-1] == "check.failed"
    assert ("end_card.always" in [n["key"] for n in saved.report]) == (expected == "always")
    assert saved.notes == ["check: x: y"]


# --- the end card in Finnish -----------------------------------------------------------------


def test_auto_adds_the_end_card_for_self_harm_and_says_why(settings: Settings) -> None:
    [note] = end_card_notes("auto", SELF_HARM, [], settings)
    assert (note["key"], note["level"]) == ("end_card.added", "warning")
    assert note["values"]["where"] == "comment" and note["values"]["categories"] == ["self_harm"]
    text = finnish(note)
    assert "apua-kortti (4,0 s)" in text and "kommentissa tunnistettiin: itsetuhoisuus" in text


def test_spoken_self_harm_counts_too(settings: Settings) -> None:
    cues = [Cue(0.0, 2.0, ("hän sanoi että", "en jaksa enää elää"))]
    [note] = end_card_notes("auto", "Mitä teen?", cues, settings)
    assert note["key"] == "end_card.added" and "puheessa tunnistettiin" in finnish(note)


def test_never_leaves_it_out_with_a_warning_and_a_plain_question_gets_nothing(settings: Settings) -> None:
    [note] = end_card_notes("never", SELF_HARM, [], settings)
    assert (note["key"], note["level"]) == ("end_card.left_out", "warning")
    assert "ei ole apua-korttia" in finnish(note) and "”ei koskaan”" in finnish(note)
    assert end_card_notes("auto", "Miten lastensuojeluilmoitus tehdään?", [], settings) == []
    assert end_card_notes("never", "Miten lastensuojeluilmoitus tehdään?", [], settings) == []
    [always] = end_card_notes("always", "Miten lastensuojeluilmoitus tehdään?", [], settings)
    assert (always["key"], always["level"]) == ("end_card.always", "info")


# --- the checks in Finnish -------------------------------------------------------------------


def test_every_check_has_finnish_texts() -> None:
    for key in CHECK_KEYS.values():
        assert f"checkname.{key}" in MESSAGES
        assert f"check.{key}" in MESSAGES or key == "audio"
    assert {"check.audio_missing", "check.audio_codec", "check.all_ok", "check.failed", "check.other"} <= set(MESSAGES)


def test_caption_checks_read_as_finnish_with_their_numbers(settings: Settings, tmp_path: Path) -> None:
    """Details written by check.py itself: a drift in its wording shows up here, not as English in the page."""
    fast = Cue(1.5, 1.9, ("Huostaanottopäätöksen valitusaika",))
    long = Cue(3.0, 7.0, ("tämä rivi on aivan liian pitkä tekstitysriviksi",))
    rude = Cue(8.0, 10.0, ("sä oot ihan idiootti",))
    checks = {c.name: c for c in caption_checks([fast, long, rude], settings)}
    shown = {}
    for name in ("reading speed", "line length", "moderation words"):
        check = checks[name]
        assert check.status == "warn", (name, check.detail)
        note = check_note(check.name, check.status, check.detail, media(tmp_path / "v.mp4"), settings)
        assert note["level"] == "warning" and note["key"] == f"check.{CHECK_KEYS[name]}", note
        shown[name] = finnish(note)
    assert shown["reading speed"].startswith("1 tekstitystä vaihtuu liian nopeasti")
    assert "kohdassa 0:01,5" in shown["reading speed"] and "enintään 17" in shown["reading speed"]
    assert shown["line length"] == "2 tekstityksessä on liian pitkä rivi (yli 32 merkkiä; ensimmäinen kohdassa 0:01,5)."
    assert "loukkaus" in shown["moderation words"] and "0:08,0" in shown["moderation words"]


@pytest.mark.parametrize(("name", "status", "changes", "expected"), [
    ("aspect ratio", "fail", {"width": 640, "height": 480}, "Video ei ole pystykuva 9:16 (640×480)"),
    ("width", "fail", {"width": 360, "height": 640}, "Video on kapea (360 px, vähintään 720 px)"),
    ("frame rate", "fail", {"fps": Fraction(120)}, "liian suuri (120 kuvaa sekunnissa, enintään 60)"),
    ("duration", "fail", {"duration": 725.0}, "liian pitkä (12:05,0, enintään 10:00,0)"),
    ("audio", "fail", {"has_audio": False}, "Videossa ei ole ääntä"),
    ("audio", "fail", {}, "Ääni ei ole AAC-muodossa"),
    ("SDR", "warn", {}, "HDR-muodossa"),
    ("faststart", "fail", {}, "rakenne voi hidastaa"),
])
def test_upload_checks_read_as_finnish(settings: Settings, tmp_path: Path, name: str, status: str,
                                       changes: dict[str, Any], expected: str) -> None:
    note = check_note(name, status, "an English detail", media(tmp_path / "v.mp4", **changes), settings)
    assert note["level"] == ("problem" if status == "fail" else "warning")
    assert expected in finnish(note)


def test_file_size_and_an_unknown_detail(settings: Settings, tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"\0" * 1_500_000)
    assert "(1,5 Mt, enintään 287 Mt)" in finnish(check_note("file size", "fail", "", media(video), settings))
    # A detail this studio cannot read: a Finnish headline, the English only under "Lisätiedot".
    odd = check_note("reading speed", "warn", "something new", media(video), settings)
    assert odd["key"] == "check.other" and finnish(odd) == "Tarkistus ”lukunopeus” ei mennyt läpi."
    assert finnish(check_note("a new rule", "fail", "x", media(video), settings)) == "Tarkistus ”tarkistus” ei mennyt läpi."


def test_no_english_in_the_report_messages() -> None:
    english = re.compile(r"\b(the|and|check|caption|warning|failed|added)\b", re.IGNORECASE)
    for key, text in MESSAGES.items():
        if key.split(".")[0] in ("check", "checkname", "end_card", "report", "where", "look"):
            assert not english.search(re.sub(r"\[end_card\]|\{\w+\}", "", text)), (key, text)


def test_the_job_list_masks_with_the_config_privacy_choices(tmp_path: Path) -> None:
    from pipeline.comments import MaskOptions

    text = "mun kaveri jenna sanoi että sossu vie sen"
    default = JobStore(tmp_path / "a")
    kept = JobStore(tmp_path / "b", MaskOptions(mask_first_names=False))
    assert "jenna" not in default.summary(default.update(default.create().id, {"comment": text}))["comment_masked"]
    assert "jenna" in kept.summary(kept.update(kept.create().id, {"comment": text}))["comment_masked"]


@pytest.mark.parametrize(("text", "keys"), [
    (SELF_HARM, ["self_harm"]),  # not "offensive": its own note only
    ("isä lyö mua kotona", ["disclosure"]),
    ("sä oot idiootti", ["flagged"]),
    ("Mitä sossu tekee?", []),
])
def test_card_notes_keep_self_harm_apart_from_offensive(settings: Settings, text: str, keys: list[str]) -> None:
    from pipeline.studio.app import comment_notes

    notes = comment_notes(text, settings)
    assert [n["key"] for n in notes] == keys
    assert all(f"note.{k}" in MESSAGES for k in keys)


def test_checks_that_cannot_run_never_hide_the_end_card(settings: Settings, tmp_path: Path) -> None:
    from pipeline.studio.report import render_report

    video = tmp_path / "vastaus.mp4"
    video.write_bytes(b"not a video")
    video.with_suffix(".srt").write_bytes(b"\xff\xfe garbage -->")
    notes = render_report(video, settings, mode="auto", comment=SELF_HARM)
    assert [n["key"] for n in notes] == ["end_card.added", "check.failed"]
