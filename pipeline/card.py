"""Comment card: `CardContent` + `CardSettings` -> RGBA PNG of TikTok's reply sticker.

The only module that imports Pillow. It draws what it is given: the plan (and privacy) decide the
header text and the avatar.

Geometry of the PNG: a transparent margin of `shadow_margin(style)` px on every side holds the
soft drop shadow; the white bubble sits at (margin, margin) and is `style.width` px wide, so the
PNG is `style.width + 2 * margin` wide. The bubble's height follows the content:

    padding | header row: avatar (avatar_size) + header line | gap + comment lines | padding

Text handling (Pillow has no font fallback, so we do it here):
- Comments are cleaned first: every whitespace character, newlines included, becomes one
  space (the sticker is a short reflowed paragraph, as on TikTok); control characters, bidi
  overrides/isolates and zero-width characters are dropped (ZWJ and tag characters only
  survive inside emoji sequences). Nothing is interpreted as markup: `<b>` is drawn literally.
- Text is split into units (a character with its combining marks, or one emoji sequence) and
  each unit goes to a font: emoji -> NotoColorEmoji (CBDT, drawn at 109 px and scaled),
  Arabic/Hebrew -> their Noto fonts, the rest -> the card font. A character no bundled font has
  becomes U+FFFD (a run of them becomes one), never a .notdef box.
- Units are shaped in runs (raqm) on a shared baseline. A line whose first strong character is
  right-to-left is right-aligned and its runs are ordered with a run-level version of the
  Unicode bidi algorithm (rules W7, N1, I1-I2, L2).
"""

from __future__ import annotations

import logging
import math
import os
import struct
import tempfile
import unicodedata
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from PIL import Image, ImageColor, ImageDraw, ImageFilter, ImageFont, ImageOps, UnidentifiedImageError

from pipeline.config import FONTS_DIR, CardSettings
from pipeline.errors import ConfigError, InputError, OutputError
from pipeline.model import CardContent, CardImage

log = logging.getLogger(__name__)

ARABIC_FONT = "NotoSansArabic-Bold.ttf"
HEBREW_FONT = "NotoSansHebrew-Bold.ttf"
EMOJI_FONT = "NotoColorEmoji.ttf"
EMOJI_PX = 109  # the only size NotoColorEmoji's CBDT bitmaps exist at
LINE_SPACING = 1.3  # line height as a multiple of the font size
ELLIPSIS = "\u2026"
REPLACEMENT = "\ufffd"
ZWJ = "\u200d"
NEUTRAL_AVATAR = "#c4c6cc"
AVATAR_COLORS = (  # saturated, never grey: a lettered avatar must not look like the neutral one
    "#fe2c55", "#20b8d4", "#7b61ff", "#f58a07", "#2bb673", "#e0457b", "#3b82f6", "#c2410c",
)
_AA = 4  # supersampling factor for circles and rounded corners

Color = tuple[int, int, int]


class _Unit(NamedTuple):
    text: str  # one character with its combining marks, one emoji sequence, or " "
    kind: str  # "text" | "arabic" | "hebrew" | "emoji" | "space"
    cls: str  # bidi: "L" strong left-to-right, "R" strong right-to-left, "E" number, "N" neutral


class _Piece(NamedTuple):
    text: str
    kind: str
    cls: str
    width: float


@dataclass(frozen=True, eq=False)
class _Fonts:
    """Fonts of one role (comment, header, avatar letter) at one size; hashed by identity."""

    size: int
    text: ImageFont.FreeTypeFont
    arabic: ImageFont.FreeTypeFont
    hebrew: ImageFont.FreeTypeFont
    emoji: ImageFont.FreeTypeFont
    cmaps: dict[str, frozenset[int]]

    @property
    def emoji_scale(self) -> float:
        return self.size / EMOJI_PX

    @property
    def cap_height(self) -> int:
        return -int(self.text.getbbox("H", anchor="ls")[1])


# --- public API -------------------------------------------------------------------------------


def shadow_margin(style: CardSettings) -> int:
    """Transparent px around the bubble on every side of the PNG (room for the shadow)."""
    if style.shadow_blur <= 0 or style.shadow_opacity <= 0:
        return 0
    return 2 * style.shadow_blur + _shadow_offset(style)


def avatar_color(letter: str) -> str:
    """The circle colour of a lettered avatar: the same letter always gets the same colour."""
    key = letter.strip()[:1].upper().encode("utf-8")
    return AVATAR_COLORS[zlib.crc32(key) % len(AVATAR_COLORS)]


def missing_glyphs(text: str, style: CardSettings, fonts_dir: Path = FONTS_DIR) -> list[str]:
    """Characters of `text` that no bundled font has (they are drawn as U+FFFD)."""
    return _segment(_clean(text), _role_fonts(fonts_dir, style.font, style.font_size))[1]


def draw_card(content: CardContent, style: CardSettings, fonts_dir: Path = FONTS_DIR) -> Image.Image:
    """Draw the reply sticker.

    Args:
        content: comment text, header line and avatar (picture, letter or neutral).
        style: the `[card]` settings.
        fonts_dir: folder with the card fonts.

    Returns:
        An RGBA image: the bubble at (m, m) with m = `shadow_margin(style)`, `style.width` wide.

    Raises:
        ConfigError: a font file is missing.
        InputError: the avatar picture cannot be read.
    """
    pad, size = style.padding, style.avatar_size
    inner = style.width - 2 * pad
    body = _role_fonts(fonts_dir, style.font, style.font_size)
    head = _role_fonts(fonts_dir, style.header_font, style.header_size)
    lines = _wrap_comment(content.text, body, inner, style.max_lines, style.max_chars)
    header_units, _ = _segment(_clean(content.header), head)
    gap = max(size // 4, 8)
    header_units = _ellipsize(header_units, head, inner - size - gap, force=False)

    header_h = max(size, round(head.size * LINE_SPACING))
    line_h = round(body.size * LINE_SPACING)
    body_gap = pad // 2
    height = pad + header_h + (body_gap + len(lines) * line_h if lines else 0) + pad
    m = shadow_margin(style)
    card = _bubble(style, height, m)

    avatar = _avatar(content, style, fonts_dir)
    _paste(card, avatar, m + pad, m + pad + (header_h - size) // 2)
    if header_units:
        row_mid = m + pad + header_h / 2
        _draw_line(card, header_units, head, _rgb(style.header_color), m + pad + size + gap,
                   round(row_mid + head.cap_height / 2), right=None)
    top = m + pad + header_h + body_gap
    for i, units in enumerate(lines):
        baseline = top + i * line_h + round((line_h + body.cap_height) / 2)
        _draw_line(card, units, body, _rgb(style.text_color), m + pad, baseline, right=m + pad + inner)
    return card


def write_card(content: CardContent, style: CardSettings, path: Path, fonts_dir: Path = FONTS_DIR) -> CardImage:
    """Draw the card and write it as a PNG atomically (temp file in the same folder + rename).

    Returns:
        The written card's path and size, and the header it shows.

    Raises:
        OutputError: the folder does not exist or cannot be written.
    """
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(
            f"cannot write card {path}: folder {folder} does not exist",
            hint="create the folder first or choose another output path",
        )
    image = draw_card(content, style, fonts_dir)
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".part.png", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            image.save(fh, format="PNG")
        os.replace(tmp, path)
    except OSError as exc:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write card {path}: {exc.strerror or exc}") from exc
    except BaseException:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise
    log.info("card %s: %dx%d", path.name, image.width, image.height)
    return CardImage(path, image.width, image.height, header=content.header, margin=shadow_margin(style))


# --- fonts and coverage -----------------------------------------------------------------------


@lru_cache(maxsize=32)
def _load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    if not path.is_file():
        raise ConfigError(
            f"card font {path.name} not found in {path.parent}",
            hint="card.font and card.header_font must name files in assets/fonts",
        )
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)


@lru_cache(maxsize=16)
def _cmap(path: Path) -> frozenset[int]:
    """Code points the font maps to a real glyph (cmap formats 4 and 12)."""
    data = path.read_bytes()
    num_tables = struct.unpack_from(">H", data, 4)[0]
    tables = {data[12 + 16 * i: 16 + 16 * i]: struct.unpack_from(">I", data, 20 + 16 * i)[0]
              for i in range(num_tables)}
    base = tables[b"cmap"]
    covered: set[int] = set()
    for i in range(struct.unpack_from(">H", data, base + 2)[0]):
        sub = base + struct.unpack_from(">I", data, base + 8 + 8 * i)[0]
        fmt = struct.unpack_from(">H", data, sub)[0]
        if fmt == 4:
            segs = struct.unpack_from(">H", data, sub + 6)[0] // 2
            ends = struct.unpack_from(f">{segs}H", data, sub + 14)
            starts = struct.unpack_from(f">{segs}H", data, sub + 16 + 2 * segs)
            deltas = struct.unpack_from(f">{segs}h", data, sub + 16 + 4 * segs)
            ro_at = sub + 16 + 6 * segs
            offsets = struct.unpack_from(f">{segs}H", data, ro_at)
            for s in range(segs):
                for c in range(starts[s], ends[s] + 1):
                    if c == 0xFFFF:
                        continue
                    if offsets[s] == 0:
                        glyph = (c + deltas[s]) & 0xFFFF
                    else:
                        at = ro_at + 2 * s + offsets[s] + 2 * (c - starts[s])
                        glyph = struct.unpack_from(">H", data, at)[0]
                        glyph = (glyph + deltas[s]) & 0xFFFF if glyph else 0
                    if glyph:
                        covered.add(c)
        elif fmt == 12:
            groups = struct.unpack_from(">I", data, sub + 12)[0]
            for g in range(groups):
                first, last, glyph = struct.unpack_from(">III", data, sub + 16 + 12 * g)
                covered.update(range(first + (glyph == 0), last + 1))
    return frozenset(covered)


@lru_cache(maxsize=16)
def _role_fonts(fonts_dir: Path, text_font: str, size: int) -> _Fonts:
    paths = {"text": fonts_dir / text_font, "arabic": fonts_dir / ARABIC_FONT,
             "hebrew": fonts_dir / HEBREW_FONT, "emoji": fonts_dir / EMOJI_FONT}
    fonts = {k: _load_font(p, EMOJI_PX if k == "emoji" else size) for k, p in paths.items()}
    return _Fonts(size=size, cmaps={k: _cmap(p) for k, p in paths.items()}, **fonts)


# --- text: cleaning, units, emoji sequences ---------------------------------------------------


def _is_tag(ch: str) -> bool:
    return 0xE0020 <= ord(ch) <= 0xE007F


def _clean(text: str) -> str:
    """Whitespace -> one space; control, format (bidi, zero-width) characters removed."""
    out = []
    for ch in text:
        if ch.isspace():
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cs") or (
            unicodedata.category(ch) == "Cf" and ch != ZWJ and not _is_tag(ch)
        ):
            continue
        else:
            out.append(ch)
    return " ".join(w for w in "".join(out).split(" ") if w)


def _is_modifier(ch: str) -> bool:
    return 0x1F3FB <= ord(ch) <= 0x1F3FF


def _is_ri(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _emoji_element(s: str, i: int, fonts: _Fonts, after_zwj: bool) -> int:
    """End of one emoji (with presentation selector and skin tone) starting at i, or i."""
    ch = s[i]
    c = ord(ch)
    if c < 0xA9 or ch in (ZWJ, "\ufe0f", "\ufe0e", "\u20e3") or _is_tag(ch) or c not in fonts.cmaps["emoji"]:
        return i
    nxt = s[i + 1] if i + 1 < len(s) else ""
    emoji_style = (after_zwj or c not in fonts.cmaps["text"] or nxt == "\ufe0f"
                   or (nxt != "" and _is_modifier(nxt)))
    if not emoji_style:
        return i
    j = i + 1
    if j < len(s) and s[j] in ("\ufe0f", "\ufe0e"):
        j += 1
    if j < len(s) and _is_modifier(s[j]) and not _is_modifier(ch):
        j += 1
    return j


def _emoji_end(s: str, i: int, fonts: _Fonts) -> int:
    """End of the emoji sequence (flag, keycap, tag or ZWJ sequence) starting at i, or i."""
    n = len(s)
    if _is_ri(s[i]):
        return i + 2 if i + 1 < n and _is_ri(s[i + 1]) else i + 1
    if s[i] in "0123456789#*":
        j = i + 1 + (i + 1 < n and s[i + 1] == "\ufe0f")
        return j + 1 if j < n and s[j] == "\u20e3" else i
    j = _emoji_element(s, i, fonts, after_zwj=False)
    if j == i:
        return i
    if s[i] == "\U0001f3f4" and j < n and _is_tag(s[j]):  # subdivision flags
        k = j
        while k < n and _is_tag(s[k]) and s[k] != "\U000e007f":
            k += 1
        return k + 1 if k < n and s[k] == "\U000e007f" else j
    while j + 1 < n and s[j] == ZWJ:
        k = _emoji_element(s, j + 1, fonts, after_zwj=True)
        if k == j + 1:
            break
        j = k
    return j


def _bidi_class(ch: str) -> str:
    b = unicodedata.bidirectional(ch)
    return "L" if b == "L" else "R" if b in ("R", "AL") else "E" if b in ("EN", "AN") else "N"


def _font_kind(ch: str, fonts: _Fonts) -> str | None:
    c, b = ord(ch), unicodedata.bidirectional(ch)
    order: tuple[str, ...] = ("arabic", "hebrew") if b in ("AL", "AN") else ("hebrew", "arabic")
    if b in ("R", "AL", "AN"):
        order = (*order, "text")
    else:
        order = ("text", *order)
    return next((k for k in order if c in fonts.cmaps[k]), None)


def _segment(text: str, fonts: _Fonts) -> tuple[list[_Unit], list[str]]:
    """Split cleaned text into units with a font each; returns (units, characters missing)."""
    units: list[_Unit] = []
    missing: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == " ":
            units.append(_Unit(" ", "space", "N"))
            i += 1
            continue
        j = _emoji_end(text, i, fonts)
        if j > i:
            units.append(_Unit(text[i:j], "emoji", "N"))
            i = j
            continue
        j = i + 1
        while j < n and unicodedata.category(text[j]).startswith("M") and not _is_selector(text[j]):
            j += 1
        if ch == ZWJ or _is_selector(ch) or _is_tag(ch) or ch == "\u20e3":
            i = j  # leftovers of a broken emoji sequence
            continue
        kind = _font_kind(ch, fonts)
        if kind is None:
            missing.append(ch)
            if not (units and units[-1].text == REPLACEMENT) and ord(REPLACEMENT) in fonts.cmaps["text"]:
                units.append(_Unit(REPLACEMENT, "text", "N"))
        else:
            marks = "".join(m for m in text[i + 1: j] if ord(m) in fonts.cmaps[kind])
            units.append(_Unit(ch + marks, kind, _bidi_class(ch)))
        i = j
    if missing:
        log.warning("card: no font has %s; drawn as U+FFFD",
                    ", ".join(sorted({f"U+{ord(c):04X}" for c in missing})))
    return units, missing


def _is_selector(ch: str) -> bool:
    c = ord(ch)
    return 0xFE00 <= c <= 0xFE0F or 0xE0100 <= c <= 0xE01EF


# --- layout: pieces, widths, wrapping ---------------------------------------------------------


def _pieces(units: list[_Unit], fonts: _Fonts) -> list[_Piece]:
    """Merge units into runs drawn with one font call each (spaces stay separate)."""
    runs: list[list[_Unit]] = []
    for u in units:
        if runs and u.kind != "space" and runs[-1][0].kind == u.kind:
            runs[-1].append(u)
        else:
            runs.append([u])
    out = []
    for run in runs:
        classes = [u.cls for u in run]
        cls = next((c for c in classes if c in "LR"), "E" if "E" in classes else "N")
        text = "".join(u.text for u in run)
        out.append(_Piece(text, run[0].kind, cls, _piece_width(fonts, run[0].kind, text, cls == "R")))
    return out


@lru_cache(maxsize=4096)
def _piece_width(fonts: _Fonts, kind: str, text: str, rtl: bool) -> float:
    if kind == "emoji":
        return fonts.emoji.getlength(text) * fonts.emoji_scale
    font = fonts.text if kind == "space" else getattr(fonts, kind)
    return float(font.getlength(text, direction="rtl" if rtl else "ltr"))


def _width(units: list[_Unit], fonts: _Fonts) -> float:
    return sum(p.width for p in _pieces(units, fonts))


def _wrap_comment(text: str, fonts: _Fonts, width: int, max_lines: int, max_chars: int) -> list[list[_Unit]]:
    """Word-wrap into at most `max_lines` lines; the last ends with an ellipsis if text remains."""
    units, _ = _segment(_clean(text), fonts)
    cut = False
    count = 0
    for k, u in enumerate(units):
        count += len(u.text)
        if count > max_chars:
            units, cut = units[:k], True
            break
    words: list[list[_Unit]] = [[]]
    for u in units:
        if u.kind == "space":
            words.append([])
        else:
            words[-1].append(u)
    space = _Unit(" ", "space", "N")
    space_w = _width([space], fonts)
    lines: list[list[_Unit]] = []
    line: list[_Unit] = []
    line_w = 0.0
    for word in (w for w in words if w):
        if len(lines) > max_lines:
            break
        word_w = _width(word, fonts)
        if line and line_w + space_w + word_w <= width:
            line, line_w = [*line, space, *word], line_w + space_w + word_w
            continue
        if line:
            lines.append(line)
        while word_w > width and len(word) > 1:  # longer than a line: break by character
            k = _longest_fit(word, fonts, width)
            lines.append(word[:k])
            word = word[k:]
            word_w = _width(word, fonts)
        line, line_w = word, word_w
    if line:
        lines.append(line)
    if len(lines) > max_lines or (cut and lines):
        lines = lines[:max_lines]
        lines[-1] = _ellipsize(lines[-1], fonts, width, force=True)
    return lines


def _longest_fit(units: list[_Unit], fonts: _Fonts, width: float) -> int:
    lo, hi = 1, len(units)  # invariant: units[:lo] fits (or lo == 1), units[:hi + 1] does not
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _width(units[:mid], fonts) <= width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _ellipsize(units: list[_Unit], fonts: _Fonts, width: float, force: bool) -> list[_Unit]:
    """Cut units so they fit `width`, ending with "…" if cut (or always, when `force`)."""
    if not force and _width(units, fonts) <= width:
        return units
    dots = _Unit(ELLIPSIS, "text", "N")
    units = list(units)
    while units and (units[-1].kind == "space" or _width([*units, dots], fonts) > width):
        units.pop()
    return [*units, dots]


# --- drawing ----------------------------------------------------------------------------------


def _visual_order(pieces: list[_Piece]) -> tuple[list[int], list[int], bool]:
    """Bidi at run level: (visual order of piece indices, embedding levels, line is RTL)."""
    strong = [p.cls for p in pieces if p.cls in "LR"]
    rtl = bool(strong) and strong[0] == "R"
    para = "R" if rtl else "L"
    # W7: a number after L (or at the start of an LTR line) is L; otherwise it acts as R (N1).
    resolved: list[str | None] = []
    last = para
    for p in pieces:
        if p.cls in "LR":
            last = p.cls
            resolved.append(p.cls)
        elif p.cls == "E":
            resolved.append("L" if last == "L" else "EN")
        else:
            resolved.append(None)
    levels = []
    for i, p in enumerate(pieces):
        r = resolved[i]
        if r == "EN":
            levels.append(2)
            continue
        if r is None:  # N1/N2: neutrals between same-direction text take it, else the line's
            before = next((x for x in reversed(resolved[:i]) if x), para)
            after = next((x for x in resolved[i + 1:] if x), para)
            before, after = ("R" if before == "EN" else before), ("R" if after == "EN" else after)
            r = before if before == after else para
        levels.append(1 if r == "R" else (2 if rtl else 0))
    order = list(range(len(pieces)))
    for lvl in range(max(levels, default=0), 0, -1):  # L2: reverse runs at >= lvl
        i = 0
        while i < len(order):
            if levels[order[i]] < lvl:
                i += 1
                continue
            j = i
            while j < len(order) and levels[order[j]] >= lvl:
                j += 1
            order[i:j] = order[i:j][::-1]
            i = j
    return order, levels, rtl


@lru_cache(maxsize=256)
def _emoji_image(text: str, fonts: _Fonts) -> Image.Image:
    """An emoji run drawn at 109 px in colour and scaled to the role's size (do not modify)."""
    font = fonts.emoji
    asc, desc = font.getmetrics()
    big = Image.new("RGBA", (max(1, math.ceil(font.getlength(text))), asc + desc))
    ImageDraw.Draw(big).text((0, asc), text, font=font, anchor="ls", embedded_color=True)
    s = fonts.emoji_scale
    return big.resize((max(1, round(big.width * s)), max(1, round(big.height * s))), Image.Resampling.LANCZOS)


def _draw_line(card: Image.Image, units: list[_Unit], fonts: _Fonts, color: Color, left: int,
               baseline: int, right: int | None) -> None:
    """Draw one line; RTL lines are right-aligned to `right` when it is given."""
    while units and units[-1].kind == "space":
        units = units[:-1]
    pieces = _pieces(units, fonts)
    order, levels, rtl = _visual_order(pieces)
    total = sum(p.width for p in pieces)
    ascent, descent, overhang = math.ceil(fonts.size * 1.6), math.ceil(fonts.size * 0.8), fonts.size // 2
    mask = Image.new("L", (math.ceil(total) + 2 * overhang, ascent + descent))
    draw = ImageDraw.Draw(mask)
    emoji: list[tuple[float, Image.Image]] = []
    x = float(overhang)
    for i in order:
        p = pieces[i]
        if p.kind == "emoji":
            emoji.append((x, _emoji_image(p.text, fonts)))
        elif p.kind != "space":
            draw.text((x, ascent), p.text, font=getattr(fonts, p.kind), fill=255, anchor="ls",
                      direction="rtl" if levels[i] % 2 else "ltr")
        x += p.width
    layer = Image.new("RGBA", mask.size, (*color, 0))
    layer.putalpha(mask)
    emoji_top = ascent - round(fonts.emoji.getmetrics()[0] * fonts.emoji_scale)
    for ex, img in emoji:
        _paste(layer, img, round(ex), emoji_top)
    x0 = right - total if (rtl and right is not None) else left
    _paste(card, layer, round(x0) - overhang, baseline - ascent)


def _paste(dst: Image.Image, src: Image.Image, x: int, y: int) -> None:
    """Alpha-composite src onto dst at (x, y), clipping at dst's edges."""
    sx, sy = max(0, -x), max(0, -y)
    if sx >= src.width or sy >= src.height:
        return
    dst.alpha_composite(src, (x + sx, y + sy), (sx, sy))


def _rgb(hex_color: str) -> Color:
    r, g, b = ImageColor.getrgb(hex_color)[:3]
    return r, g, b


def _shadow_offset(style: CardSettings) -> int:
    return round(style.shadow_blur / 3)


def _bubble(style: CardSettings, height: int, m: int) -> Image.Image:
    """Transparent canvas with the shadow and the white rounded bubble at (m, m)."""
    w, h = style.width, height
    big = Image.new("L", (w * _AA, h * _AA))
    ImageDraw.Draw(big).rounded_rectangle((0, 0, w * _AA - 1, h * _AA - 1), radius=style.radius * _AA, fill=255)
    shape = big.resize((w, h), Image.Resampling.BOX)
    card = Image.new("RGBA", (w + 2 * m, h + 2 * m), (0, 0, 0, 0))
    if m:
        alpha = Image.new("L", card.size)
        alpha.paste(shape.point(lambda v: round(v * style.shadow_opacity)), (m, m + _shadow_offset(style)))
        shadow = Image.new("RGBA", card.size, (0, 0, 0, 0))
        shadow.putalpha(alpha.filter(ImageFilter.GaussianBlur(style.shadow_blur)))
        card = shadow
    fill = Image.new("RGBA", (w, h), (*_rgb(style.background), 0))
    fill.putalpha(shape)
    card.alpha_composite(fill, (m, m))
    return card


@lru_cache(maxsize=8)
def _circle_mask(size: int) -> Image.Image:
    big = Image.new("L", (size * _AA, size * _AA))
    ImageDraw.Draw(big).ellipse((0, 0, size * _AA - 1, size * _AA - 1), fill=255)
    return big.resize((size, size), Image.Resampling.LANCZOS)


def _avatar(content: CardContent, style: CardSettings, fonts_dir: Path) -> Image.Image:
    """The round avatar: picture, else a coloured circle with the letter, else a neutral person."""
    s = style.avatar_size
    if content.avatar is not None:
        face = _avatar_picture(content.avatar, s, _rgb(style.background))
    elif content.avatar_letter.strip():
        face = Image.new("RGBA", (s, s), (*_rgb(avatar_color(content.avatar_letter)), 255))
        fonts = _role_fonts(fonts_dir, style.font, max(8, round(s * 0.46)))
        units, _ = _segment(_clean(content.avatar_letter), fonts)
        if units:
            unit = units[0]
            letter = [unit._replace(text=unit.text.upper()) if unit.kind == "text" else unit]
            layer = Image.new("RGBA", (s * 3, s * 3))
            _draw_line(layer, letter, fonts, (255, 255, 255), s, 2 * s, right=None)
            box = layer.getbbox()
            if box:
                glyph = layer.crop(box)
                _paste(face, glyph, (s - glyph.width) // 2, (s - glyph.height) // 2)
    else:
        big = s * _AA
        face = Image.new("RGBA", (big, big), (*_rgb(NEUTRAL_AVATAR), 255))
        draw = ImageDraw.Draw(face)
        draw.ellipse((0.33 * big, 0.2 * big, 0.67 * big, 0.54 * big), fill=(255, 255, 255, 255))
        draw.ellipse((0.15 * big, 0.62 * big, 0.85 * big, 1.3 * big), fill=(255, 255, 255, 255))
        face = face.resize((s, s), Image.Resampling.LANCZOS)
    face.putalpha(_circle_mask(s))
    return face


def _avatar_picture(path: Path, size: int, background: Color) -> Image.Image:
    try:
        with Image.open(path) as opened:
            opened.draft("RGB", (size * 2, size * 2))  # JPEG: decode a smaller image, much faster
            img = ImageOps.exif_transpose(opened).convert("RGBA")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError) as exc:
        raise InputError(
            f"avatar {path.name}: cannot read the picture ({exc})",
            hint="use a PNG or JPEG image, or leave --avatar out",
        ) from exc
    side = min(img.size)
    img = ImageOps.fit(img, (side, side), centering=(0.5, 0.5))
    flat = Image.new("RGBA", img.size, (*background, 255))
    flat.alpha_composite(img)
    return flat.resize((size, size), Image.Resampling.LANCZOS)
