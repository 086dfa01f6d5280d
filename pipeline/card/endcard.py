"""Help-resources end card: `[end_card]` settings + the card's look -> a full-canvas RGBA PNG.

In: `Settings` (the title, subtitle and resources of `[end_card]`; fonts, colours, bubble and
safe zone of `[card]` and `[safe_zone]`). Out: a 1080x1920 RGBA image: a dimming scrim over the
whole canvas (the clip's last frame shows through it) and the white bubble of the reply card,
centred in the safe zone, listing where to get help:

    title (bold)                       Et ole yksin 💛
    subtitle (grey)                    Apua saa heti – myös nimettömänä:
    ---------------------------------
    name (bold, dark)                  Lasten ja nuorten puhelin (MLL)
    contact (bold, accent colour)      116 111
    hours (grey)                       joka päivä · maksuton ja nimetön

Text goes through the card's own layout (`text.py`): font fallback for emoji, Arabic and
Hebrew, and a wrap that keeps Finnish words whole and breaks only a word wider than the bubble.
The video stage overlays the PNG as it is: its pixels are what the viewer sees.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from pipeline.card.draw import LINE_SPACING, bubble, draw_line, paste, rgb, shadow_margin
from pipeline.card.text import Fonts, Unit, role_fonts, wrap_comment
from pipeline.config import FONTS_DIR, Settings
from pipeline.errors import ConfigError, OutputError
from pipeline.files import atomic_path
from pipeline.types import CardImage

log = logging.getLogger(__name__)

_MAX_CHARS = 200  # per text field; longer ones end in an ellipsis
_RULE_COLOR = (232, 232, 236, 255)


@dataclass(frozen=True, slots=True)
class _Line:
    units: list[Unit]
    fonts: Fonts
    color: tuple[int, int, int]
    gap_before: int  # px of space above the line (a rule is drawn in it when `rule`)
    rule: bool = False


def draw_end_card(settings: Settings, fonts_dir: Path = FONTS_DIR) -> Image.Image:
    """Draw the end card over a transparent canvas of `settings.canvas` size.

    Returns:
        An RGBA image of the canvas size: the scrim, and the bubble inside the safe zone.

    Raises:
        ConfigError: a font file is missing, or the resources do not fit in the safe zone.
    """
    end, style, safe = settings.end_card, settings.card, settings.safe_zone
    canvas_w, canvas_h = settings.canvas.width, settings.canvas.height
    pad = round(style.padding * 1.25)
    inner = style.width - 2 * pad
    bold = style.font
    regular = style.header_font
    dark, grey, accent = rgb(style.text_color), rgb(style.header_color), rgb(end.contact_color)
    title = role_fonts(fonts_dir, bold, end.title_size)
    sub = role_fonts(fonts_dir, regular, end.hours_size)
    name = role_fonts(fonts_dir, bold, end.name_size)
    contact = role_fonts(fonts_dir, bold, end.contact_size)
    hours = role_fonts(fonts_dir, regular, end.hours_size)

    lines: list[_Line] = []

    def add(text: str, fonts: Fonts, color: tuple[int, int, int], max_lines: int, gap: int, rule: bool = False) -> None:
        for i, units in enumerate(wrap_comment(text, fonts, inner, max_lines, _MAX_CHARS)):
            lines.append(_Line(units, fonts, color, gap if i == 0 else 0, rule and i == 0))

    add(end.title, title, dark, 2, 0)
    if end.subtitle.strip():
        add(end.subtitle, sub, grey, 2, pad // 4)
    for resource in end.resources:
        add(resource.name, name, dark, 2, pad, rule=True)
        add(resource.contact, contact, accent, 1, 0)
        if resource.hours.strip():
            add(resource.hours, hours, grey, 2, 0)

    heights = [ln.gap_before + round(ln.fonts.size * LINE_SPACING) for ln in lines]
    height = pad + sum(heights) + pad
    area_top, area_bottom = safe.top, canvas_h - safe.bottom
    if height > area_bottom - area_top:
        raise ConfigError(
            f"the end card ({style.width}x{height}) does not fit in the safe zone ({area_bottom - area_top} px high)",
            hint="list fewer end_card.resources, shorten their texts or lower the end_card sizes",
        )
    m = shadow_margin(style)
    card = bubble(style, height, m)
    draw = ImageDraw.Draw(card)
    y = m + pad
    for line, h in zip(lines, heights, strict=True):
        if line.rule:
            rule_y = y + line.gap_before // 2
            draw.line((m + pad, rule_y, m + style.width - pad, rule_y), fill=_RULE_COLOR, width=2)
        y += line.gap_before
        line_h = h - line.gap_before
        baseline = y + round((line_h + line.fonts.cap_height) / 2)
        draw_line(card, line.units, line.fonts, line.color, m + pad, baseline, right=m + pad + inner)
        y += line_h

    image = Image.new("RGBA", (canvas_w, canvas_h), (*rgb(end.scrim_color), round(255 * end.scrim_opacity)))
    area_w = canvas_w - safe.left - safe.right
    x = safe.left + (area_w - style.width) // 2 - m
    top = area_top + (area_bottom - area_top - height) // 2 - m
    paste(image, card, x, top)
    return image


def write_end_card(settings: Settings, path: Path, fonts_dir: Path = FONTS_DIR) -> CardImage:
    """Draw the end card and write it as a PNG atomically.

    Returns:
        The PNG's path and size (the canvas); `header` is the card's title.

    Raises:
        ConfigError: see `draw_end_card`.
        OutputError: the PNG cannot be written.
    """
    image = draw_end_card(settings, fonts_dir)
    try:
        with atomic_path(path) as tmp:
            image.save(tmp, format="PNG")
    except OSError as exc:
        raise OutputError(f"cannot write the end card {path}: {exc.strerror or exc}",
                          hint="check there is free space and the folder can be written") from None
    log.info("end card %s: %dx%d, %d resources", path.name, image.width, image.height,
             len(settings.end_card.resources))
    return CardImage(path, image.width, image.height, header=settings.end_card.title)
