"""Comment card: `CardContent` + `CardSettings` -> RGBA PNG of TikTok's reply sticker.

With `text.py` (which measures text), the only modules that import Pillow.
It draws what it is given: the plan (and privacy) decide the header text and the avatar.

Geometry of the PNG: a transparent margin of `shadow_margin(style)` px on every side holds the
soft drop shadow; the white bubble sits at (margin, margin) and is `style.width` px wide, so the
PNG is `style.width + 2 * margin` wide. The bubble's height follows the content:

    padding | header row: avatar (avatar_size) + header line | gap + comment lines | padding

The text is laid out by `text` (font fallback for emoji, Arabic and Hebrew, U+FFFD for
characters no bundled font has, right-aligned RTL lines); this module draws its lines.
"""

from __future__ import annotations

import logging
import math
import zlib
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw, ImageFilter, ImageOps, UnidentifiedImageError

from pipeline.card.text import (
    Fonts,
    Unit,
    clean_text,
    ellipsize,
    emoji_image,
    line_pieces,
    role_fonts,
    segment_text,
    visual_order,
    wrap_comment,
)
from pipeline.config import FONTS_DIR, CardSettings
from pipeline.errors import InputError, OutputError
from pipeline.files import atomic_path
from pipeline.types import CardContent, CardImage

log = logging.getLogger(__name__)

LINE_SPACING = 1.3  # line height as a multiple of the font size
NEUTRAL_AVATAR = "#c4c6cc"
AVATAR_COLORS = (  # saturated, never grey: a lettered avatar must not look like the neutral one
    "#fe2c55", "#20b8d4", "#7b61ff", "#f58a07", "#2bb673", "#e0457b", "#3b82f6", "#c2410c",
)
_AA = 4  # supersampling factor for circles and rounded corners

Color = tuple[int, int, int]


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
    """Characters (grapheme clusters) of `text` that no bundled font has (drawn as U+FFFD)."""
    return segment_text(clean_text(text), role_fonts(fonts_dir, style.font, style.font_size))[1]


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
    body = role_fonts(fonts_dir, style.font, style.font_size)
    head = role_fonts(fonts_dir, style.header_font, style.header_size)
    lines = wrap_comment(content.text, body, inner, style.max_lines, style.max_chars)
    header_units, _ = segment_text(clean_text(content.header), head)
    gap = max(size // 4, 8)
    header_units = ellipsize(header_units, head, inner - size - gap, force=False)

    header_h = max(size, round(head.size * LINE_SPACING))
    line_h = round(body.size * LINE_SPACING)
    body_gap = pad // 2
    height = pad + header_h + (body_gap + len(lines) * line_h if lines else 0) + pad
    m = shadow_margin(style)
    card = bubble(style, height, m)

    avatar = _avatar(content, style, fonts_dir)
    paste(card, avatar, m + pad, m + pad + (header_h - size) // 2)
    if header_units:
        row_mid = m + pad + header_h / 2
        draw_line(card, header_units, head, rgb(style.header_color), m + pad + size + gap,
                   round(row_mid + head.cap_height / 2), right=None)
    top = m + pad + header_h + body_gap
    for i, units in enumerate(lines):
        baseline = top + i * line_h + round((line_h + body.cap_height) / 2)
        draw_line(card, units, body, rgb(style.text_color), m + pad, baseline, right=m + pad + inner)
    return card


def write_card(content: CardContent, style: CardSettings, path: Path, fonts_dir: Path = FONTS_DIR) -> CardImage:
    """Draw the card and write it as a PNG atomically (temp file in the same folder + rename).

    Returns:
        The written card's path and size, and the header it shows.

    Raises:
        OutputError: the folder does not exist or the card cannot be written (a full disk);
            a card already at `path` is then left as it was.
    """
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(
            f"cannot write card {path}: folder {folder} does not exist",
            hint="create the folder first or choose another output path",
        )
    image = draw_card(content, style, fonts_dir)
    try:
        with atomic_path(path) as tmp:
            image.save(tmp, format="PNG")
    except OSError as exc:
        raise OutputError(f"cannot write card {path}: {exc.strerror or exc}",
                          hint="check there is free space and the folder can be written") from None
    log.info("card %s: %dx%d", path.name, image.width, image.height)
    return CardImage(path, image.width, image.height, header=content.header, margin=shadow_margin(style))


# --- drawing ----------------------------------------------------------------------------------



def draw_line(card: Image.Image, units: list[Unit], fonts: Fonts, color: Color, left: int,
               baseline: int, right: int | None) -> None:
    """Draw one line; RTL lines are right-aligned to `right` when it is given."""
    while units and units[-1].kind == "space":
        units = units[:-1]
    pieces = line_pieces(units, fonts)
    order, levels, rtl = visual_order(pieces)
    total = sum(p.width for p in pieces)
    ascent, descent, overhang = math.ceil(fonts.size * 1.6), math.ceil(fonts.size * 0.8), fonts.size // 2
    mask = Image.new("L", (math.ceil(total) + 2 * overhang, ascent + descent))
    draw = ImageDraw.Draw(mask)
    emoji: list[tuple[float, Image.Image]] = []
    x = float(overhang)
    for i in order:
        p = pieces[i]
        if p.kind == "emoji":
            emoji.append((x, emoji_image(p.text, fonts)))
        elif p.kind != "space":
            draw.text((x, ascent), p.text, font=getattr(fonts, p.kind), fill=255, anchor="ls",
                      direction="rtl" if levels[i] % 2 else "ltr")
        x += p.width
    layer = Image.new("RGBA", mask.size, (*color, 0))
    layer.putalpha(mask)
    emoji_top = ascent - round(fonts.emoji.getmetrics()[0] * fonts.emoji_scale)
    for ex, img in emoji:
        paste(layer, img, round(ex), emoji_top)
    x0 = right - total if (rtl and right is not None) else left
    paste(card, layer, round(x0) - overhang, baseline - ascent)


def paste(dst: Image.Image, src: Image.Image, x: int, y: int) -> None:
    """Alpha-composite src onto dst at (x, y), clipping at dst's edges."""
    sx, sy = max(0, -x), max(0, -y)
    if sx >= src.width or sy >= src.height:
        return
    dst.alpha_composite(src, (x + sx, y + sy), (sx, sy))


def rgb(hex_color: str) -> Color:
    r, g, b = ImageColor.getrgb(hex_color)[:3]
    return r, g, b


def _shadow_offset(style: CardSettings) -> int:
    return round(style.shadow_blur / 3)


def bubble(style: CardSettings, height: int, m: int) -> Image.Image:
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
    fill = Image.new("RGBA", (w, h), (*rgb(style.background), 0))
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
        face = _avatar_picture(content.avatar, s, rgb(style.background))
    elif content.avatar_letter.strip():
        face = Image.new("RGBA", (s, s), (*rgb(avatar_color(content.avatar_letter)), 255))
        fonts = role_fonts(fonts_dir, style.font, max(8, round(s * 0.46)))
        units, _ = segment_text(clean_text(content.avatar_letter), fonts)
        if units:
            unit = units[0]
            letter = [unit._replace(text=unit.text.upper()) if unit.kind == "text" else unit]
            layer = Image.new("RGBA", (s * 3, s * 3))
            draw_line(layer, letter, fonts, (255, 255, 255), s, 2 * s, right=None)
            box = layer.getbbox()
            if box:
                glyph = layer.crop(box)
                paste(face, glyph, (s - glyph.width) // 2, (s - glyph.height) // 2)
    else:
        big = s * _AA
        face = Image.new("RGBA", (big, big), (*rgb(NEUTRAL_AVATAR), 255))
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
