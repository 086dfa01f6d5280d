"""Caption layout: words -> cues within every limit of [captions] (pipeline/captions_layout.py)."""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ImageFont

from pipeline.captions.layout import MIN_CUE, ends_sentence
from pipeline.captions.text import find_font_file, usable_width
from pipeline.captions.write import layout_cues
from pipeline.config import DEFAULT_CONFIG, CaptionSettings, SafeZone
from pipeline.types import Cue, Segment, Transcript, Word

with open(DEFAULT_CONFIG, "rb") as _fh:
    _DEFAULTS = tomllib.load(_fh)
STYLE = CaptionSettings(**_DEFAULTS["captions"])
SAFE = SafeZone(**_DEFAULTS["safe_zone"])
# A big font with a high minimum scale: long words must be hyphenated, not just shrunk.
BIG = dataclasses.replace(STYLE, font_size=96, min_font_scale=0.9)
EPS = 1e-6


def transcript(words: Sequence[Word], duration: float | None = None) -> Transcript:
    end = words[-1].end if words else 0.0
    text = " ".join(w.word for w in words)
    return Transcript("fi", end + 1.0 if duration is None else duration, (Segment(0.0, end, text, tuple(words)),))


def speak(text: str, start: float = 0.0, per_char: float = 0.06, gap: float = 0.05, pauses: dict[int, float] | None = None) -> list[Word]:
    """Words of `text` with plausible times; pauses[k] is the silence after word k."""
    words = []
    t = start
    for k, w in enumerate(text.split()):
        d = 0.1 + per_char * len(w)
        words.append(Word(w, round(t, 3), round(t + d, 3)))
        t += d + (pauses or {}).get(k, gap)
    return words


def line_px(line: str, style: CaptionSettings) -> float:
    """Width of a whole line measured in one go (kerning across spaces included), at scale 1."""
    path = find_font_file(style.font, style.bold)
    ascent, descent = ImageFont.truetype(str(path), 1000).getmetrics()
    font = ImageFont.truetype(str(path), style.font_size * 1000 / (ascent + descent))
    return float(font.getlength(line))


def rebuild_words(cues: Sequence[Cue]) -> list[str]:
    """The input words from the cues' words, joining hyphenated pieces again."""
    out: list[str] = []
    pending = ""
    for w in (w for c in cues for w in c.words):
        if w.word.endswith("-") and w.word not in INPUT_WORDS:
            pending += w.word[:-1]
        else:
            out.append(pending + w.word)
            pending = ""
    assert pending == ""
    return out


INPUT_WORDS: set[str] = set()


def check_cues(words: Sequence[Word], cues: list[Cue], style: CaptionSettings, time_limit: float) -> None:
    """Every rule of the layout, for cues made from `words`."""
    global INPUT_WORDS
    INPUT_WORDS = {w.word for w in words}
    max_px = usable_width(style, 1080, SAFE)
    assert [w.word for w in words] == rebuild_words(cues), "all words present, in order"
    for k, cue in enumerate(cues):
        following = cues[k + 1] if k + 1 < len(cues) else None
        assert cue.start < cue.end
        if following is not None:
            assert cue.end <= following.start + EPS, "no overlap, sorted"
        assert style.min_font_scale - EPS <= cue.font_scale <= 1.0
        assert 1 <= len(cue.lines) <= style.max_lines
        tokens = [t for line in cue.lines for t in line.split(" ")]
        assert tokens == [w.word for w in cue.words], "lines show exactly the cue's words"
        for line in cue.lines:
            assert line_px(line, style) * cue.font_scale <= max_px + 0.5, f"{line!r} overflows"
            if len(line) > style.max_chars_per_line:
                assert " " not in line and cue.font_scale < 1.0, f"{line!r} too long"
        for w in cue.words:
            if w.word.endswith("-") and w.word not in INPUT_WORDS:  # an inserted hyphen
                assert any(line.endswith(w.word) for line in cue.lines), "a line ends after a hyphen"
        if k == 0 or cue.start - cues[k - 1].start > MIN_CUE + EPS:
            assert cue.start == pytest.approx(cue.words[0].start), "a cue starts with its first word"
        else:  # word times closer than ASS can show (pieces of a very short word) are spread
            assert cue.start >= cue.words[0].start - EPS
        # Pauses longer than pause_break end a cue.
        for a, b in zip(cue.words, cue.words[1:]):
            assert b.start - a.end <= style.pause_break + EPS
        duration = cue.end - cue.start
        assert duration <= style.max_duration + EPS
        blocked = (following is not None and abs(cue.end - following.start) < EPS) or (
            following is None and cue.end >= time_limit - EPS
        )
        if not blocked:
            assert duration >= style.min_duration - EPS, "short cue although silence follows"
            chars = sum(len(line) for line in cue.lines)
            assert chars / duration <= style.max_cps + EPS or duration >= style.max_duration - EPS, "too fast"
        if duration < style.max_duration - EPS:
            assert cue.end >= cue.words[-1].end - EPS, "a cue stays until its last word is spoken"


# --- random word streams -------------------------------------------------------------------

LETTERS = "abdefghijklmnoprstuvyäöABDEHIJKLMNOPRSTUVYÄÖ"


@st.composite
def word_streams(draw: st.DrawFn, max_letters: int = 30) -> list[Word]:
    n = draw(st.integers(1, 60))
    words = []
    t = draw(st.floats(0.0, 2.0))
    for _ in range(n):
        text = draw(st.text(alphabet=LETTERS, min_size=1, max_size=max_letters))
        text += draw(st.sampled_from(["", "", "", "", ",", ".", "!", "?"]))
        length = draw(st.floats(0.05, 1.0))
        words.append(Word(text, round(t, 3), round(t + length, 3)))
        gap = draw(st.one_of(st.floats(0.0, 0.12), st.floats(0.0, 1.5)))
        t += length + gap
    return words


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(word_streams(), st.floats(0.0, 3.0))
def test_random_speech_obeys_every_limit(words: list[Word], tail: float) -> None:
    duration = words[-1].end + tail
    cues = layout_cues(transcript(words, duration), STYLE, 1080, SAFE)
    check_cues(words, cues, STYLE, duration)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(word_streams())
def test_random_speech_with_big_font_hyphenates_and_fits(words: list[Word]) -> None:
    duration = words[-1].end + 1.0
    cues = layout_cues(transcript(words, duration), BIG, 1080, SAFE)
    check_cues(words, cues, BIG, duration)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(word_streams(max_letters=80))
def test_words_longer_than_any_line_are_hyphenated(words: list[Word]) -> None:
    duration = words[-1].end + 1.0
    cues = layout_cues(transcript(words, duration), STYLE, 1080, SAFE)
    check_cues(words, cues, STYLE, duration)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(word_streams(), st.integers(1, 3), st.integers(12, 42))
def test_other_line_limits(words: list[Word], max_lines: int, max_chars: int) -> None:
    style = dataclasses.replace(STYLE, max_lines=max_lines, max_chars_per_line=max_chars)
    duration = words[-1].end + 1.0
    cues = layout_cues(transcript(words, duration), style, 1080, SAFE)
    check_cues(words, cues, style, duration)


# --- breaks ---------------------------------------------------------------------------------


def texts(cues: list[Cue]) -> list[str]:
    return [" ".join(c.lines) for c in cues]


def test_sentence_ends_end_cues() -> None:
    words = speak("Hei kaikki. Tänään puhutaan kiusaamisesta koulussa. Mitä te ajattelette?")
    cues = layout_cues(transcript(words), STYLE, 1080, SAFE)
    assert texts(cues) == ["Hei kaikki.", "Tänään puhutaan kiusaamisesta koulussa.", "Mitä te ajattelette?"]


def test_pause_ends_a_cue_even_mid_sentence() -> None:
    words = speak("ja sitten me mentiin sinne kauppaan", pauses={2: 0.6})
    cues = layout_cues(transcript(words), STYLE, 1080, SAFE)
    assert texts(cues) == ["ja sitten me", "mentiin sinne kauppaan"]
    assert cues[0].end <= cues[1].start


def test_short_pause_does_not_split() -> None:
    words = speak("ja sitten me mentiin sinne kauppaan", pauses={2: 0.3})
    cues = layout_cues(transcript(words), STYLE, 1080, SAFE)
    assert texts(cues) == ["ja sitten me mentiin sinne kauppaan"]


def test_comma_is_the_preferred_break_in_a_long_sentence() -> None:
    text = ("No, jos sulla on sellanen olo että kukaan ei kuuntele sua kotona, "
            "niin voit aina soittaa tai kirjoittaa meidän chattiin ihan nimettömästi")
    cues = layout_cues(transcript(speak(text, gap=0.03)), STYLE, 1080, SAFE)
    assert any(c.lines[-1].endswith("kotona,") for c in cues), texts(cues)
    # A clause starter begins a cue rather than ending one.
    assert not any(c.lines[-1].endswith((" että", " ja", " jos", " niin")) for c in cues), texts(cues)


def test_comma_stays_on_its_word() -> None:
    cues = layout_cues(transcript(speak("no, tota, siis joo")), STYLE, 1080, SAFE)
    tokens = [t for c in cues for line in c.lines for t in line.split()]
    assert tokens == ["no,", "tota,", "siis", "joo"]


def test_two_lines_are_balanced() -> None:
    text = "Tänään puhutaan siitä miten lastensuojeluilmoitus tehdään käytännössä"
    cues = layout_cues(transcript(speak(text, gap=0.02)), STYLE, 1080, SAFE)
    for cue in cues:
        if len(cue.lines) == 2:
            a, b = (line_px(x, STYLE) for x in cue.lines)
            # Moving the break one word either way would not make the lines more even.
            tokens = [w.word for w in cue.words]
            cut = len(cue.lines[0].split())
            for other in (cut - 1, cut + 1):
                if 0 < other < len(tokens):
                    x, y = (line_px(" ".join(part), STYLE) for part in (tokens[:other], tokens[other:]))
                    fits = max(x, y) <= usable_width(STYLE, 1080, SAFE)
                    fits = fits and max(len(" ".join(tokens[:other])), len(" ".join(tokens[other:]))) <= 32
                    assert not fits or abs(x - y) >= abs(a - b) - 1


def test_long_compound_gets_smaller_font_not_split() -> None:
    words = speak("tein lastensuojeluilmoituksesta valituksen")
    cues = layout_cues(transcript(words), dataclasses.replace(STYLE, font_size=90), 1080, SAFE)
    compound = next(c for c in cues if any(w.word == "lastensuojeluilmoituksesta" for w in c.words))
    assert compound.font_scale < 1.0
    assert "lastensuojeluilmoituksesta" in compound.lines


def test_compound_too_long_even_when_small_is_hyphenated_finnish_style() -> None:
    style = dataclasses.replace(STYLE, font_size=110, min_font_scale=0.95)
    words = speak("lastensuojeluilmoituksesta")
    cues = layout_cues(transcript(words), style, 1080, SAFE)
    pieces = [line for c in cues for line in c.lines]
    assert len(pieces) >= 2
    assert "".join(p.removesuffix("-") for p in pieces) == "lastensuojeluilmoituksesta"
    assert all(p.endswith("-") for p in pieces[:-1])
    breaks = set(["las", "ten", "suo", "je", "lu", "il", "moi", "tuk", "ses", "ta"])
    joined = ""
    for p in pieces[:-1]:  # every break is at a syllable boundary
        joined += p.removesuffix("-")
        assert any(joined.endswith(s) for s in breaks)
    # The pieces share the word's time and stay in order.
    all_words = [w for c in cues for w in c.words]
    assert all_words[0].start == words[0].start and all_words[-1].end == pytest.approx(words[0].end)
    assert all(a.end <= b.start + EPS for a, b in zip(all_words, all_words[1:]))


def test_min_duration_extends_into_silence_not_over_next_cue() -> None:
    words = [Word("Joo.", 1.0, 1.2), Word("Ei.", 3.0, 3.2), Word("Okei.", 3.25, 3.5)]
    cues = layout_cues(transcript(words, 10.0), STYLE, 1080, SAFE)
    assert cues[0].end - cues[0].start == pytest.approx(STYLE.min_duration)
    assert cues[-1].end - cues[-1].start >= STYLE.min_duration
    for a, b in zip(cues, cues[1:]):
        assert a.end <= b.start


def test_fast_speech_is_held_longer_when_silence_follows() -> None:
    words = speak("Mä en oikeesti tiennyt yhtään mitä mun pitäis tehdä.", per_char=0.02, gap=0.0)
    cues = layout_cues(transcript(words, 20.0), STYLE, 1080, SAFE)
    assert len(cues) == 1
    chars = sum(len(x) for x in cues[0].lines)
    assert chars / (cues[0].end - cues[0].start) <= STYLE.max_cps + EPS
    assert cues[0].end > words[-1].end


def test_max_duration_splits_slow_speech() -> None:
    words = speak("aaa bee cee dee eee eff gee hoo", per_char=0.3, gap=0.3)
    cues = layout_cues(transcript(words), STYLE, 1080, SAFE)
    assert len(cues) > 1
    assert all(c.end - c.start <= STYLE.max_duration + EPS for c in cues)


def test_words_are_kept_with_their_times() -> None:
    words = speak("Moi! Tässä vastaus sun kysymykseen.")
    cues = layout_cues(transcript(words), STYLE, 1080, SAFE)
    assert [w for c in cues for w in c.words] == words


def test_messy_engine_output_is_cleaned() -> None:
    words = [Word(" Hei", 0.5, 0.9), Word("", 0.9, 1.0), Word("kaikki\n!", 0.8, 1.3), Word("  ", 1.3, 1.4)]
    cues = layout_cues(transcript(words), STYLE, 1080, SAFE)
    assert [w.word for c in cues for w in c.words] == ["Hei", "kaikki !"]
    assert cues[0].words[0].end <= cues[0].words[1].start  # overlap clipped
    assert layout_cues(transcript([]), STYLE, 1080, SAFE) == []


@pytest.mark.parametrize(
    ("word", "expected"),
    [("kotona.", True), ("Miksi?", True), ("Oikeesti!", True), ("esim.", False), ("3.", False), ("sanoi.\"", True), ("no,", False)],
)
def test_sentence_end_detection(word: str, expected: bool) -> None:
    assert ends_sentence(word) is expected


def test_segments_without_word_times_share_the_segment_time() -> None:
    tr = Transcript("fi", 6.0, (Segment(1.0, 3.0, " Hei kaikki!", ()), Segment(3.5, 5.0, "Mitä kuuluu?", ())))
    cues = layout_cues(tr, STYLE, 1080, SAFE)
    assert [c.lines for c in cues] == [("Hei kaikki!",), ("Mitä kuuluu?",)]
    assert cues[0].words[0].start == 1.0 and cues[0].words[-1].end == 3.0
    assert cues[1].start == 3.5
