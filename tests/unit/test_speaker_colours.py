"""Duet captions in a colour per speaker: `[duet] speaker_colors` checked, and written into the
ASS file as one style per speaker (the events name the style; no colour or text in markup)."""

from __future__ import annotations

from pathlib import Path

import pysubs2
import pytest

from pipeline.captions import write_ass
from pipeline.config import load_settings
from pipeline.errors import ConfigError
from pipeline.types import Cue, Word


def _cue(start: float, text: str, speaker: int | None) -> Cue:
    words = tuple(Word(w, start + 0.3 * k, start + 0.3 * (k + 1)) for k, w in enumerate(text.split()))
    return Cue(start, start + 2.0, (text,), words, speaker=speaker)


@pytest.mark.parametrize("highlight", ["color", "box", "none"])
def test_each_speaker_has_its_own_style_and_colour(tmp_path: Path, highlight: str) -> None:
    settings = load_settings().with_values(captions={"highlight": highlight},
                                           duet={"speaker_colors": ["#ffffff", "#7fe0ff"]})
    path = tmp_path / "captions.ass"
    cues = [_cue(0.0, "Hei kaikki", 0), _cue(2.0, "Moi {\\an8} ä ö å", 1), _cue(4.0, "Kiitos", 0)]
    write_ass(cues, path, settings.captions, (1080, 1920), settings.safe_zone,
              speaker_colors=settings.duet.speaker_colors)
    subs = pysubs2.load(str(path))
    b = subs.styles["Caption1"].primarycolor
    assert (b.r, b.g, b.b) == (0x7F, 0xE0, 0xFF)
    text_events = [e for e in subs.events if e.style != "CaptionBox"]
    assert {e.style for e in text_events if e.start < 2000} == {"Caption0"}
    assert {e.style for e in text_events if 2000 <= e.start < 4000} == {"Caption1"}
    assert all("\\an8" not in e.text for e in subs.events)  # the text stays inert
    if highlight == "color":  # the word after the highlighted one goes back to the speaker's colour
        assert any("\\1c&HFFE07F&" in e.text for e in subs.events if e.style == "Caption1")
        assert not any("\\1c&HFFE07F&" in e.text for e in subs.events if e.style == "Caption0")


def test_without_speaker_colours_every_cue_has_the_one_style(tmp_path: Path) -> None:
    settings = load_settings()
    path = tmp_path / "captions.ass"
    write_ass([_cue(0.0, "Hei", 0), _cue(2.0, "Moi", 1)], path, settings.captions, (1080, 1920), settings.safe_zone)
    subs = pysubs2.load(str(path))
    assert {e.style for e in subs.events} == {"Caption"} and "Caption1" not in subs.styles


@pytest.mark.parametrize("colors", [["#ffffff"], ["#ffffff", "yellow"], ["#ffffff", "#ffe14d&H00&"],
                                    ["#fff", "#ffe14d"], ["#ffffff", "#ffe14d", "#000000"]])
def test_speaker_colours_must_be_two_plain_colours(colors: list[str]) -> None:
    with pytest.raises(ConfigError, match="duet.speaker_colors"):
        load_settings().with_values(duet={"speaker_colors": colors})


@pytest.mark.parametrize(("key", "value"), [("layout", "side"), ("sound", "both"), ("min_shot", -1.0),
                                            ("sound_ramp", 2.0)])
def test_duet_settings_are_checked(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"duet.{key}"):
        load_settings().with_values(duet={key: value})
