"""The burn-in ASS file: escaping of untrusted text, word highlight, placement (pipeline/captions/write.py)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pysubs2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.captions.write import ass_text, layout_cues, write_ass
from pipeline.types import Cue, Word
from tests.unit.test_captions_layout import SAFE, STYLE, speak, transcript, word_streams

CANVAS = (1080, 1920)
HIGHLIGHT_ON = re.compile(r"\{\\1c&H00D4FF&\}")
HIGHLIGHT_OFF = "{\\1c&HFFFFFF&}"
# The only override blocks write_ass may produce.
OUR_TAGS = re.compile(r"\{(\\1c&H[0-9A-F]{6}&|\\3a&H(00|FF)&|\\fscx[0-9.]+\\fscy[0-9.]+)\}")
ZW = "\u200b"  # ZERO WIDTH SPACE
# Untrusted text -> what write_ass must draw, worked out by hand from the rules in
# pipeline/captions/write.py: a backslash gets a zero-width space after it, braces become
# brackets, newlines, tabs and line separators become one space.
NASTY_SHOWN = {
    "{\\pos(1,1)}": "(\\" + ZW + "pos(1,1))",
    "\\N": "\\" + ZW + "N",
    "\\n": "\\" + ZW + "n",
    "\\h": "\\" + ZW + "h",
    "{": "(",
    "}": ")",
    "\\": "\\" + ZW,
    "a\nb": "a b",
    "tab\there": "tab here",
    "{\\fs200}iso": "(\\" + ZW + "fs200)iso",
    "}{": ")(",
    "\\{x\\}": "\\" + ZW + "(x\\" + ZW + ")",
    "a\r\nb\u2028c": "a b c",
}
NASTY = list(NASTY_SHOWN)


def write_and_load(cues: list[Cue], tmp_path: Path, style=STYLE, top_limit_px: int = 0) -> pysubs2.SSAFile:
    path = tmp_path / "captions.ass"
    write_ass(cues, path, style, CANVAS, SAFE, top_limit_px)
    return pysubs2.load(str(path))


def visible(event_text: str) -> str:
    """What libass shows: our own tags removed; any other brace block would be a parsed tag."""
    stripped = OUR_TAGS.sub("", event_text)
    assert "{" not in stripped and "}" not in stripped, f"override block left in {event_text!r}"
    return stripped


def assert_inert(text: str) -> None:
    """No ASS markup: no braces, and every backslash followed by the zero-width space."""
    assert "{" not in text and "}" not in text
    assert re.search(r"\\(?!\u200b)", text) is None


def assert_shows(shown: str, source: str) -> None:
    """`shown` is inert and a viewer reads `source` in it: with the (invisible) zero-width spaces
    left out, the same characters in the same places, but for a brace drawn as a bracket."""
    assert_inert(shown)
    read = shown.replace(ZW, "")
    assert len(read) == len(source), (shown, source)
    for seen, meant in zip(read, source):
        assert seen == meant or (meant, seen) in (("{", "("), ("}", ")")), (shown, source)


# --- escaping --------------------------------------------------------------------------------


@pytest.mark.parametrize("nasty", NASTY)
def test_ass_text_makes_markup_inert(nasty: str) -> None:
    out = ass_text(nasty)
    assert_inert(out)
    assert "\n" not in out and "\r" not in out and "\u2028" not in out
    assert out == NASTY_SHOWN[nasty]


@pytest.mark.parametrize("highlight", ["none", "color", "box"])
def test_untrusted_words_show_literally_and_add_no_events_or_lines(tmp_path: Path, highlight: str) -> None:
    style = dataclasses.replace(STYLE, highlight=highlight)
    words = [Word(text, 0.5 + k * 0.6, 0.5 + k * 0.6 + 0.5) for k, text in enumerate(["Moi", *NASTY, "loppu."])]
    cues = layout_cues(transcript(words), style, 1080, SAFE)
    subs = write_and_load(cues, tmp_path, style)
    expected_events = {"none": len(cues), "color": len(words), "box": len(words) + len(cues)}[highlight]
    assert len(subs.events) == expected_events
    for event in subs.events:
        cue = cues[int(event.name.removeprefix("cue"))]
        text = visible(event.text)
        # Lines break only where the layout broke them: user "\N" is "\<ZWSP>N".
        assert text.count("\\N") == len(cue.lines) - 1
        lines = text.split("\\N")
        assert len(lines) == len(cue.lines)
        for line, source in zip(lines, cue.lines):
            assert_shows(line, source)
        # pysubs2 sees the same: no tags are left once ours are gone, the literal text stays.
        assert pysubs2.SSAEvent(text=text).plaintext.split("\n") == lines
    shown = " ".join(visible(e.text).replace("\\N", " ") for e in subs.events if e.layer == (1 if highlight == "box" else 0))
    for nasty in ["(\\\u200bpos(1,1))", "\\\u200bN", "\\\u200bh", "(\\\u200bfs200)iso", ")(", "a b", "tab here"]:
        assert nasty in shown


def test_bidi_overrides_are_dropped() -> None:
    assert ass_text("abc\u202edef\u2066g\u2069") == "abcdefg"


def test_raw_newlines_in_lines_of_hand_made_cues_become_spaces(tmp_path: Path) -> None:
    cue = Cue(1.0, 2.0, ("eka\nrivi {x}", "toka\\Nrivi"), (), 1.0)
    subs = write_and_load([cue], tmp_path)
    assert len(subs.events) == 1
    assert visible(subs.events[0].text) == "eka rivi (x)\\N" + "toka\\\u200bNrivi"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet="{}\\Nnh\n\r\t ()xä,.", min_size=1, max_size=8), min_size=1, max_size=12))
def test_any_text_round_trips_without_tags(tmp_path: Path, texts: list[str]) -> None:
    words = [Word(t, k * 0.5, k * 0.5 + 0.4) for k, t in enumerate(texts)]
    cues = layout_cues(transcript(words), STYLE, 1080, SAFE)
    subs = write_and_load(cues, tmp_path)
    assert len(subs.events) == sum(len(c.words) for c in cues)
    for event in subs.events:
        cue = cues[int(event.name.removeprefix("cue"))]
        lines = visible(event.text).split("\\N")
        assert len(lines) == len(cue.lines)
        for line, source in zip(lines, cue.lines):
            assert_shows(line, source)


# --- highlight -------------------------------------------------------------------------------


def event_at(subs: pysubs2.SSAFile, t: float, layer: int = 0) -> list[pysubs2.SSAEvent]:
    ms = t * 1000
    return [e for e in subs.events if e.start <= ms < e.end and e.layer == layer]


def highlighted(event_text: str, on: re.Pattern[str], off: str) -> list[int]:
    """Indexes (among the event's words) of the words drawn highlighted."""
    tokens = [t for line in event_text.split("\\N") for t in line.split(" ")]
    return [k for k, tok in enumerate(tokens) if on.search(tok) and tok.endswith(off)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(word_streams())
def test_color_highlight_follows_each_word(tmp_path: Path, words: list[Word]) -> None:
    cues = layout_cues(transcript(words), STYLE, 1080, SAFE)
    subs = write_and_load(cues, tmp_path)
    for cue in cues:
        for index, word in enumerate(cue.words):
            active = event_at(subs, (word.start + word.end) / 2)
            assert len(active) == 1, "exactly one caption event on screen"
            tokens = highlighted(active[0].text, HIGHLIGHT_ON, HIGHLIGHT_OFF)
            assert tokens == [index]
            plain = OUR_TAGS.sub("", active[0].text).replace("\\N", " ").split(" ")
            assert_shows(plain[index], word.word)
        # The cue stays on screen without a gap from its start to its end.
        events = sorted((e for e in subs.events if e.name == f"cue{cues.index(cue)}"), key=lambda e: e.start)
        assert abs(events[0].start - cue.start * 1000) <= 5.001  # ASS keeps centiseconds
        assert abs(events[-1].end - cue.end * 1000) <= 5.001
        assert all(a.end == b.start for a, b in zip(events, events[1:]))


def test_box_highlight_draws_one_box_behind_the_spoken_word(tmp_path: Path) -> None:
    style = dataclasses.replace(STYLE, highlight="box")
    words = speak("Moi kaikki, tänään puhutaan kiusaamisesta.")
    cues = layout_cues(transcript(words), style, 1080, SAFE)
    subs = write_and_load(cues, tmp_path, style)
    assert subs.styles["CaptionBox"].borderstyle == 3
    assert subs.styles["CaptionBox"].primarycolor.a == 255  # its text is invisible
    on = re.compile(r"\{\\3a&H00&\}")
    for cue in cues:
        for index, word in enumerate(cue.words):
            t = (word.start + word.end) / 2
            boxes = event_at(subs, t, layer=0)
            assert len(boxes) == 1 and boxes[0].style == "CaptionBox"
            assert highlighted(boxes[0].text, on, "{\\3a&HFF&}") == [index]
            texts = event_at(subs, t, layer=1)
            assert len(texts) == 1 and OUR_TAGS.sub("", texts[0].text) == texts[0].text  # plain text on top


def test_no_highlight_is_one_plain_event_per_cue(tmp_path: Path) -> None:
    style = dataclasses.replace(STYLE, highlight="none")
    cues = layout_cues(transcript(speak("Moi kaikki. Tänään puhutaan kiusaamisesta.")), style, 1080, SAFE)
    subs = write_and_load(cues, tmp_path, style)
    assert [(e.start, e.end) for e in subs.events] == [(round(c.start * 1000), round(c.end * 1000)) for c in cues]
    assert all("{" not in e.text for e in subs.events)


def test_cue_whose_words_do_not_match_its_text_is_shown_plain(tmp_path: Path) -> None:
    cue = Cue(0.0, 2.0, ("korjattu teksti tähän",), (Word("väärä", 0.0, 1.0), Word("sana", 1.0, 2.0)))
    subs = write_and_load([cue], tmp_path)
    assert len(subs.events) == 1 and visible(subs.events[0].text) == "korjattu teksti tähän"


# --- style and placement ---------------------------------------------------------------------


def test_style_and_margins_follow_settings(tmp_path: Path) -> None:
    subs = write_and_load(layout_cues(transcript(speak("Moi kaikki")), STYLE, 1080, SAFE), tmp_path)
    assert subs.info["PlayResX"] == "1080" and subs.info["PlayResY"] == "1920"
    assert subs.info["WrapStyle"] == "2"  # libass never re-wraps our lines
    caption = subs.styles["Caption"]
    assert caption.fontname == "Noto Sans" and caption.bold and caption.fontsize == 64
    assert caption.alignment == pysubs2.Alignment.BOTTOM_CENTER
    assert caption.marginv >= SAFE.bottom and caption.marginv == SAFE.bottom + STYLE.bottom
    assert caption.marginl == SAFE.left and caption.marginr == SAFE.right
    assert (caption.primarycolor.r, caption.primarycolor.g, caption.primarycolor.b) == (255, 255, 255)
    assert (caption.outlinecolor.r, caption.outlinecolor.g, caption.outlinecolor.b) == (0, 0, 0)
    assert caption.outline == STYLE.outline and caption.shadow == STYLE.shadow


def block_top(event: pysubs2.SSAEvent, style: pysubs2.SSAStyle) -> float:
    scale = re.search(r"\\fscy([0-9.]+)", event.text)
    factor = float(scale.group(1)) / 100 if scale else 1.0
    lines = event.text.count("\\N") + 1
    return CANVAS[1] - style.marginv - lines * style.fontsize * factor - 2 * style.outline


@pytest.mark.parametrize("top_limit", [0, 900, 1300, 1380])
def test_caption_block_stays_below_the_card(tmp_path: Path, top_limit: int) -> None:
    text = "Tänään puhutaan siitä, miten lastensuojeluilmoitus tehdään ja mitä sen jälkeen tapahtuu kotona."
    cues = layout_cues(transcript(speak(text)), STYLE, 1080, SAFE)
    assert any(len(c.lines) == 2 for c in cues)
    subs = write_and_load(cues, tmp_path, top_limit_px=top_limit)
    for event in subs.events:
        top = block_top(event, subs.styles["Caption"])
        assert top >= top_limit - 0.5
        if top_limit == 0:
            assert "\\fscy" not in event.text  # nothing shrinks without a reason


def test_font_scale_of_a_cue_is_written(tmp_path: Path) -> None:
    cue = Cue(0.0, 2.0, ("lastensuojeluilmoituksesta",), (Word("lastensuojeluilmoituksesta", 0.0, 2.0),), 0.8)
    subs = write_and_load([cue], tmp_path)
    assert subs.events[0].text.startswith("{\\fscx80\\fscy80}")


def test_too_wide_hand_made_line_is_drawn_smaller(tmp_path: Path) -> None:
    cue = Cue(0.0, 2.0, ("tämä rivi on aivan liian pitkä mahtuakseen ruudulle",), ())
    subs = write_and_load([cue], tmp_path)
    scale = re.search(r"\\fscx([0-9.]+)", subs.events[0].text)
    assert scale is not None and float(scale.group(1)) < 100
