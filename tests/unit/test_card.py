"""Reply card: layout limits, Unicode (emoji, RTL, Finnish), pixels, atomic writes."""

from __future__ import annotations

import dataclasses
import errno
import os
from pathlib import Path
from typing import IO, Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageColor

from pipeline.card import draw as card_mod
from pipeline.card import text as card_text
from pipeline.card.draw import avatar_color, draw_card, missing_glyphs, shadow_margin, write_card
from pipeline.config import FONTS_DIR, CardSettings, load_settings
from pipeline.errors import InputError, OutputError
from pipeline.types import CardContent

HEADER = "Vastaa käyttäjän @mikko kommenttiin"
FINNISH_400 = (
    "Mitä tapahtuu lastensuojeluilmoituksen jälkeen? Äiti sanoi että sosiaalityöntekijä tulee "
    "kotikäynnille ensi viikolla, enkä tiedä mitä sille pitäisi kertoa. Onko pakko puhua kaikesta, "
    "vai voinko kieltäytyä? Pelottaa että joudun sijaishuoltoon tai että isä suuttuu tosi paljon, "
    "koska hän ei tykkää yhtään viranomaisista. Kiitos kun teet näitä videoita, ne auttaa! 💛 "
    "Yksi kysymys vielä: kuka päättää?"
)[:400]
HARD_COMMENTS = [
    FINNISH_400,
    "Mitä tapahtuu lastensuojeluilmoituksen jälkeen? 🤔",
    "👩‍👩‍👧‍👦 👍🏽 🏳️‍🌈 ❤️ 🇫🇮",
    "مرحبا كيف حالك",
    "שלום מה נשמע",
    "مرحبا 😀 كيف حالك 👍🏽 hello שלום 123",
    "",
    "     ",
    "{\\pos(1,1)}\\N<b>x</b>",
    "abc \u202eevil override\u202c text",
    "a" * 60,
    "eka rivi\ntoka rivi\r\n\nkolmas\trivi",
    "lastensuojeluilmoituksesta " * 20,
    "\x00\x07\x1b[31m\u200b\ufeff\u2066isolate\u2069 \x85 \u200ehidden",
]
COMMON_EMOJI = ["😀", "😂", "❤️", "👍", "🙏", "😭", "🥺", "✨", "🔥", "💯", "🤔", "👩‍👩‍👧‍👦", "👍🏽"]


@pytest.fixture(scope="module")
def style() -> CardSettings:
    return load_settings().card


def _content(text: str, letter: str = "M", avatar: Path | None = None, header: str = HEADER) -> CardContent:
    return CardContent(text=text, header=header, avatar=avatar, avatar_letter=letter)


def _height_bound(style: CardSettings) -> int:
    """Generous upper bound: header row, gap, max_lines lines of 1.5x font size, paddings."""
    header_row = max(style.avatar_size, 1.5 * style.header_size)
    lines = style.max_lines * 1.5 * style.font_size
    return int(2 * shadow_margin(style) + 3 * style.padding + header_row + lines)


def _pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGBA")).astype(int)


def _text_area(style: CardSettings, img: Image.Image) -> np.ndarray:
    """Pixels of the comment lines: below an empty card's header row, inside the padding."""
    m, pad = shadow_margin(style), style.padding
    empty = draw_card(_content(""), style)
    top = empty.height - m - pad
    return _pixels(img)[top: img.height - m, m + pad: m + style.width - pad]


def _avatar_area(style: CardSettings, img: Image.Image) -> np.ndarray:
    assert round(style.header_size * card_mod.LINE_SPACING) <= style.avatar_size  # avatar fills the row
    x = y = shadow_margin(style) + style.padding
    return _pixels(img)[y: y + style.avatar_size, x: x + style.avatar_size]


def _near(px: np.ndarray, color: str, tol: int = 12) -> np.ndarray:
    rgb = np.array(ImageColor.getrgb(color)[:3])
    return (np.abs(px[..., :3] - rgb).max(axis=-1) <= tol) & (px[..., 3] > 200)


def _coloured(px: np.ndarray) -> np.ndarray:
    """Saturated, opaque pixels (emoji), as opposed to greys and black text."""
    return (px[..., :3].max(axis=-1) - px[..., :3].min(axis=-1) > 60) & (px[..., 3] > 200)


# --- limits ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", HARD_COMMENTS, ids=range(len(HARD_COMMENTS)))
def test_hard_comments_render_within_limits(style: CardSettings, text: str) -> None:
    img = draw_card(_content(text), style)
    assert img.mode == "RGBA"
    assert img.width <= style.width + 2 * shadow_margin(style)
    assert img.height <= _height_bound(style)
    assert missing_glyphs(text, style) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=120) | st.text(alphabet="aä 👍🏽\u200d\ufe0fשمa1\n\u202e", max_size=120))
def test_any_unicode_renders_within_limits(style: CardSettings, text: str) -> None:
    img = draw_card(_content(text, letter=text[:1]), style)
    assert img.width == style.width + 2 * shadow_margin(style)
    assert img.height <= _height_bound(style)


@pytest.mark.parametrize("text", HARD_COMMENTS, ids=range(len(HARD_COMMENTS)))
def test_lines_never_overflow_the_bubble(style: CardSettings, text: str) -> None:
    fonts = card_text.role_fonts(FONTS_DIR, style.font, style.font_size)
    inner = style.width - 2 * style.padding
    lines = card_text.wrap_comment(text, fonts, inner, style.max_lines, style.max_chars)
    assert len(lines) <= style.max_lines
    for line in lines:
        assert card_text.units_width(line, fonts) <= inner


def test_ink_stays_inside_the_bubble(style: CardSettings) -> None:
    m, pad = shadow_margin(style), style.padding
    for text in ("a" * 60, "lastensuojeluilmoituksesta" * 4, FINNISH_400, "مرحبا كيف حالك " * 10):
        px = _pixels(draw_card(_content(text), style))
        dark = (px[..., :3].max(axis=-1) < 100) & (px[..., 3] > 200)
        cols = np.nonzero(dark.any(axis=0))[0]
        assert cols.min() >= m + pad - 4 and cols.max() <= m + style.width - pad + 4, text[:20]


def test_long_word_is_broken_by_character(style: CardSettings) -> None:
    fonts = card_text.role_fonts(FONTS_DIR, style.font, style.font_size)
    word = "lastensuojeluilmoituksesta" * 2  # wider than a line
    lines = card_text.wrap_comment(word, fonts, style.width - 2 * style.padding, 4, 400)
    assert len(lines) == 2
    assert "".join(u.text for line in lines for u in line) == word


def test_long_comment_is_truncated_to_max_lines(style: CardSettings) -> None:
    word = "lastensuojeluilmoituksesta"  # two never fit on one line: one word per line
    heights = [draw_card(_content(" ".join([word] * n)), style).height for n in range(1, style.max_lines + 3)]
    line_h = heights[1] - heights[0]
    assert line_h > 0
    for n in range(1, style.max_lines + 1):
        assert heights[n - 1] == heights[0] + (n - 1) * line_h
    assert heights[style.max_lines] == heights[style.max_lines - 1]
    assert heights[style.max_lines + 1] == heights[style.max_lines - 1]
    fonts = card_text.role_fonts(FONTS_DIR, style.font, style.font_size)
    lines = card_text.wrap_comment(" ".join([word] * 9), fonts, style.width - 2 * style.padding,
                                   style.max_lines, style.max_chars)
    assert len(lines) == style.max_lines and lines[-1][-1].text == "…"


def test_max_chars_cuts_first_with_ellipsis(style: CardSettings) -> None:
    short = dataclasses.replace(style, max_chars=10)
    fonts = card_text.role_fonts(FONTS_DIR, style.font, style.font_size)
    lines = card_text.wrap_comment("abcdefghijklmnopqrstuvwxyz", fonts, 800, short.max_lines, short.max_chars)
    assert "".join(u.text for u in lines[0]) == "abcdefghij…"


def test_empty_comment_is_just_the_header_row(style: CardSettings) -> None:
    empty = draw_card(_content(""), style)
    spaces = draw_card(_content("  \n\t "), style)
    one = draw_card(_content("x"), style)
    assert empty.size == spaces.size
    assert one.height > empty.height
    assert empty.height <= 2 * shadow_margin(style) + 2 * style.padding + max(style.avatar_size, 1.5 * style.header_size)


def test_long_header_is_ellipsized(style: CardSettings) -> None:
    fonts = card_text.role_fonts(FONTS_DIR, style.header_font, style.header_size)
    units, _ = card_text.segment_text("Vastaa käyttäjän @" + "x" * 200 + " kommenttiin", fonts)
    cut = card_text.ellipsize(units, fonts, 500, force=False)
    assert cut[-1].text == "…" and card_text.units_width(cut, fonts) <= 500
    img = draw_card(_content("hei", header="@" + "pitkänimi" * 30), style)
    assert img.width <= style.width + 2 * shadow_margin(style)


# --- cleaning ----------------------------------------------------------------------------------


def test_controls_and_bidi_overrides_are_removed() -> None:
    assert card_text.clean_text("a\u202eb\u202cc\u2066d\u2069e\u200bf\ufeffg\x00h\x1bi\x85j") == "abcdefghi j"
    assert card_text.clean_text("eka\nrivi\r\n\ttoka  \u00a0 kolmas ") == "eka rivi toka kolmas"
    assert card_text.clean_text("👩‍👩‍👧") == "👩‍👩‍👧"  # ZWJ kept for emoji


def test_markup_is_drawn_literally(style: CardSettings) -> None:
    text = "{\\pos(1,1)}\\N<b>x</b>"
    assert card_text.clean_text(text) == text
    fonts = card_text.role_fonts(FONTS_DIR, style.font, style.font_size)
    lines = card_text.wrap_comment(text, fonts, 800, 4, 400)
    assert "".join(u.text for u in lines[0]) == text


def test_uncovered_characters_become_one_replacement(style: CardSettings) -> None:
    fonts = card_text.role_fonts(FONTS_DIR, style.font, style.font_size)
    units, missing = card_text.segment_text("a\U0010fffd\U0010fffdb", fonts)
    assert [u.text for u in units] == ["a", "\ufffd", "b"]
    assert missing == ["\U0010fffd", "\U0010fffd"]
    assert missing_glyphs("你好 ok", style) == ["你", "好"]
    assert missing_glyphs("क्षि", style) == ["क्षि"]  # one grapheme cluster (a conjunct), one entry


# --- emoji and tofu ----------------------------------------------------------------------------


@pytest.mark.parametrize("emoji", COMMON_EMOJI)
def test_common_emoji_are_covered_and_not_tofu(style: CardSettings, emoji: str) -> None:
    assert missing_glyphs(emoji, style) == []
    fonts = card_text.role_fonts(FONTS_DIR, style.font, style.font_size)
    units, _ = card_text.segment_text(emoji, fonts)
    assert [(u.text, u.kind) for u in units] == [(emoji, "emoji")]  # one intact sequence
    drawn = _pixels(card_text.emoji_image(emoji, fonts))
    missing = _pixels(card_text.emoji_image("\U0010fffd", fonts))
    assert (drawn[..., 3] > 200).sum() > 0.1 * drawn.shape[0] * drawn.shape[1]  # a real glyph
    assert (missing[..., 3] > 0).sum() == 0  # what the font draws for a code point it lacks
    if emoji not in ("👩‍👩‍👧‍👦",):  # Noto's family is grey on purpose
        assert _coloured(drawn).sum() > 100
    # ZWJ and skin-tone sequences are one glyph (a ligature), not their parts side by side
    single = card_text.emoji_image("😀", fonts).width
    assert card_text.emoji_image(emoji, fonts).width <= single + 1


def test_emoji_sequences_are_segmented(style: CardSettings) -> None:
    fonts = card_text.role_fonts(FONTS_DIR, style.font, style.font_size)
    text = "👩‍👩‍👧‍👦 👍🏽 🏳️‍🌈 ❤️ 🇫🇮 1️⃣ 🏴󠁧󠁢󠁳󠁣󠁴󠁿 ©"
    units, _ = card_text.segment_text(text, fonts)
    words = [(u.text, u.kind) for u in units if u.kind != "space"]
    assert words == [
        ("👩‍👩‍👧‍👦", "emoji"), ("👍🏽", "emoji"), ("🏳️‍🌈", "emoji"), ("❤️", "emoji"),
        ("🇫🇮", "emoji"), ("1️⃣", "emoji"), ("🏴󠁧󠁢󠁳󠁣󠁴󠁿", "emoji"), ("©", "text"),
    ]


@pytest.mark.parametrize(("text", "units"), [
    ("🇺🇳🇫🇮", [("🇺🇳", "emoji"), ("🇫🇮", "emoji")]),  # adjacent flags pair up, two by two
    ("❤\u200d🔥", [("❤\u200d🔥", "emoji")]),  # a ZWJ sequence without the emoji selector
    ("1\u20e3#️⃣", [("1\u20e3", "emoji"), ("#️⃣", "emoji")]),  # keycaps with and without FE0F
    ("✌🏿x", [("✌🏿", "emoji"), ("x", "text")]),
    ("©️©", [("©️", "emoji"), ("©", "text")]),  # the card font has ©: text unless FE0F asks
    ("e\u0301ä", [("e\u0301", "text"), ("ä", "text")]),  # a combining mark stays on its letter
    ("שָׁלוֹם", [("שָׁ", "hebrew"), ("ל", "hebrew"), ("וֹ", "hebrew"), ("ם", "hebrew")]),
    ("\u200d\ufe0f\u20e3a \u200d👍", [("a", "text"), (" ", "space"), ("👍", "emoji")]),  # broken leftovers
])
def test_grapheme_clusters_are_units(style: CardSettings, text: str, units: list[tuple[str, str]]) -> None:
    fonts = card_text.role_fonts(FONTS_DIR, style.font, style.font_size)
    got, missing = card_text.segment_text(text, fonts)
    assert [(u.text, u.kind) for u in got] == units
    assert missing == []


def test_emoji_in_card_are_coloured(style: CardSettings) -> None:
    with_emoji = _text_area(style, draw_card(_content("Mitä tapahtuu? 🤔 🔥 👍🏽"), style))
    without = _text_area(style, draw_card(_content("Mitä tapahtuu?"), style))
    assert _coloured(with_emoji).sum() > 300
    assert _coloured(without).sum() == 0


def test_single_a_umlaut_draws_dark_pixels(style: CardSettings) -> None:
    area = _text_area(style, draw_card(_content("ä"), style))
    dark = (area[..., :3].max(axis=-1) < 80) & (area[..., 3] > 200)
    assert dark.sum() > 50


def test_rtl_line_is_right_aligned(style: CardSettings) -> None:
    pad = style.padding
    for text, rtl in (("שלום מה נשמע", True), ("مرحبا كيف حالك", True), ("Hei kaikki", False)):
        area = _text_area(style, draw_card(_content(text), style))
        cols = np.nonzero(((area[..., :3].max(axis=-1) < 100) & (area[..., 3] > 200)).any(axis=0))[0]
        inner = style.width - 2 * pad
        if rtl:
            assert cols.max() > inner - 15 and cols.min() > inner / 2, text
        else:
            assert cols.min() < 15 and cols.max() < inner / 2, text


def test_bidi_run_order() -> None:
    def piece(text: str, cls: str) -> card_text.Piece:
        return card_text.Piece(text, "space" if text == " " else "text", cls, 10.0)

    # RTL line: "שלום hello world 123" -> visual: 123 hello world שלום (with spaces)
    pieces = [piece("שלום", "R"), piece(" ", "N"), piece("hello", "L"), piece(" ", "N"),
              piece("world", "L"), piece(" ", "N"), piece("123", "E")]
    order, _, rtl = card_text.visual_order(pieces)
    assert rtl
    assert [pieces[i].text for i in order] == ["hello", " ", "world", " ", "123", " ", "שלום"]
    # LTR line with two RTL words: their order flips, the Latin stays in place
    pieces = [piece("hei", "L"), piece(" ", "N"), piece("א", "R"), piece(" ", "N"), piece("ב", "R"),
              piece(" ", "N"), piece("moi", "L")]
    order, _, rtl = card_text.visual_order(pieces)
    assert not rtl
    assert [pieces[i].text for i in order] == ["hei", " ", "ב", " ", "א", " ", "moi"]
    # numbers inside RTL text keep their logical place, reading right to left
    pieces = [piece("א", "R"), piece(" ", "N"), piece("15", "E"), piece(" ", "N"), piece("ב", "R")]
    order, levels, _ = card_text.visual_order(pieces)
    assert [pieces[i].text for i in order] == ["ב", " ", "15", " ", "א"]
    assert levels[2] == 2


# --- avatar and bubble -------------------------------------------------------------------------


def test_letter_avatar_has_the_letter_colour(style: CardSettings) -> None:
    img = draw_card(_content("hei", letter="M"), style)
    area = _avatar_area(style, img)
    assert _near(area, avatar_color("M")).mean() > 0.5
    assert avatar_color("m") == avatar_color("M")
    # white letter drawn in the middle
    white = _near(area, "#ffffff", tol=30)
    assert white.sum() > 30


def test_neutral_avatar_is_grey(style: CardSettings) -> None:
    area = _avatar_area(style, draw_card(_content("hei", letter=""), style))
    assert _near(area, card_mod.NEUTRAL_AVATAR).mean() > 0.3
    assert _coloured(area).sum() == 0
    s = style.avatar_size
    r, g, b, a = area[int(s * 0.4), int(s * 0.15)]
    assert a > 200 and max(r, g, b) - min(r, g, b) < 16 and max(r, g, b) < 230


def test_avatar_picture_is_cropped_into_the_circle(style: CardSettings, tmp_path: Path) -> None:
    pic = tmp_path / "avatar.png"
    Image.new("RGB", (300, 120), (230, 0, 0)).save(pic)  # not square: centre-cropped
    area = _avatar_area(style, draw_card(_content("hei", avatar=pic), style))
    assert _near(area, "#e60000", tol=20).mean() > 0.6
    assert _near(area[:3, :3], "#ffffff", tol=10).all()  # round: the corners are the white bubble


def test_unreadable_avatar_is_an_input_error(style: CardSettings, tmp_path: Path) -> None:
    bad = tmp_path / "avatar.jpg"
    bad.write_text("not an image")
    with pytest.raises(InputError, match="avatar.jpg"):
        draw_card(_content("hei", avatar=bad), style)


def test_bubble_is_rounded_white_with_soft_shadow(style: CardSettings) -> None:
    img = draw_card(_content("", header=""), style)
    px = _pixels(img)
    m = shadow_margin(style)
    assert m > 0
    h = img.height - 2 * m
    assert px[0, 0, 3] == 0  # transparent margin
    assert px[m, m, 3] < 100 and px[m, m + style.width - 1, 3] < 100  # rounded corners
    assert tuple(px[m + h // 2, m + style.width // 2]) == (255, 255, 255, 255)
    below = px[m + h + m // 3, m + style.width // 2]  # soft shadow under the bubble
    assert 0 < below[3] < 255 * style.shadow_opacity and below[:3].max() < 40


def test_no_shadow_means_no_margin(style: CardSettings) -> None:
    flat = dataclasses.replace(style, shadow_blur=0)
    img = draw_card(_content("hei"), flat)
    assert shadow_margin(flat) == 0 and img.width == style.width


# --- writing -----------------------------------------------------------------------------------


def test_write_card_writes_an_rgba_png(style: CardSettings, tmp_path: Path) -> None:
    out = tmp_path / "card.png"
    result = write_card(_content("Moi! 👋"), style, out)
    with Image.open(out) as img:
        assert img.mode == "RGBA" and img.size == (result.width, result.height)
    assert result.path == out and result.header == HEADER
    write_card(_content("toinen"), style, out)  # overwrite in place
    assert os.listdir(tmp_path) == ["card.png"]


class _FullDisk:
    """A file that takes `room` bytes, then raises `error` from write (a disk filling up)."""

    def __init__(self, fp: IO[bytes], room: int, error: BaseException) -> None:
        self.fp, self.room, self.error, self.written = fp, room, error, 0

    def write(self, data: bytes) -> int:
        if self.written + len(data) > self.room:
            raise self.error
        self.written += len(data)
        return self.fp.write(data)

    def __getattr__(self, name: str) -> Any:  # tell, flush... of the real file
        return getattr(self.fp, name)


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()],
                         ids=["disk-full", "ctrl-c"])
def test_write_card_is_atomic(style: CardSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              error: BaseException) -> None:
    """A PNG encoding that fails midway leaves the old card untouched and no temp file.

    A plain `image.save(path)` would have truncated the old card and left half a PNG there.
    """
    out = tmp_path / "card.png"
    write_card(_content("vanha kortti"), style, out)
    old = out.read_bytes()
    disks: list[_FullDisk] = []
    real_png = Image.SAVE["PNG"]

    def failing_png(im: Image.Image, fp: IO[bytes], filename: str | bytes) -> None:
        disks.append(_FullDisk(fp, room=len(old) // 2, error=error))
        real_png(im, disks[-1], filename)

    monkeypatch.setitem(Image.SAVE, "PNG", failing_png)
    with pytest.raises(OutputError if isinstance(error, OSError) else KeyboardInterrupt):
        write_card(_content("uusi kortti, joka ei mahdu levylle " * 4), style, out)
    assert disks and disks[0].written > 0  # the encoder had written part of the new card
    assert out.read_bytes() == old
    assert os.listdir(tmp_path) == ["card.png"]


def test_write_card_into_missing_folder_is_an_output_error(style: CardSettings, tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        write_card(_content("hei"), style, tmp_path / "nope" / "card.png")
    assert os.listdir(tmp_path) == []
