"""TikTok's interface zones over a frame: an RGB frame + `[safe_zone]` -> an RGB picture.

In: a frame as TikTok shows it (upright, fitted on the canvas: `video.interface_frame`) and the
settings. Out: the frame with the safe-zone margins tinted and labelled (tabs on top, the
description and music at the bottom, the like/comment/share buttons on the right, the edge on
the left) and the safe area outlined, so a person sees at a glance whether anything important
is covered. Pillow lives in `card/` (STYLE), so the drawing is here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline.config import FONTS_DIR, Settings
from pipeline.errors import OutputError
from pipeline.files import atomic_path

ZONE_COLOR = (254, 44, 85)  # TikTok red: covered
SAFE_COLOR = (37, 244, 238)  # TikTok cyan: the safe area's outline
ZONE_ALPHA = 0.38
LABELS = {
    "top": "Välilehdet · tabs",
    "bottom": "Kuvaus ja musiikki · description",
    "right": "Painikkeet · buttons",
    "left": "Reuna",
}


def zone_boxes(settings: Settings) -> dict[str, tuple[int, int, int, int]]:
    """The covered zones on the canvas as (left, top, right, bottom) px, end exclusive."""
    w, h = settings.canvas.width, settings.canvas.height
    safe = settings.safe_zone
    return {
        "top": (0, 0, w, safe.top),
        "bottom": (0, h - safe.bottom, w, h),
        "right": (w - safe.right, safe.top, w, h - safe.bottom),
        "left": (0, safe.top, safe.left, h - safe.bottom),
    }


def draw_interface_zones(frame: np.ndarray, settings: Settings, fonts_dir: Path = FONTS_DIR) -> Image.Image:
    """The frame with the interface zones tinted, outlined and labelled.

    Args:
        frame: RGB uint8 array of the canvas size (height, width, 3).
        settings: the canvas and `[safe_zone]` margins.
    """
    base = Image.fromarray(frame, "RGB").convert("RGBA")
    tint = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(tint)
    for box in zone_boxes(settings).values():
        x0, y0, x1, y1 = box
        if x1 > x0 and y1 > y0:
            draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=(*ZONE_COLOR, round(255 * ZONE_ALPHA)))
    base.alpha_composite(tint)
    draw = ImageDraw.Draw(base)
    safe = settings.safe_zone
    w, h = base.size
    draw.rectangle((safe.left, safe.top, w - safe.right - 1, h - safe.bottom - 1), outline=(*SAFE_COLOR, 255), width=4)
    font = ImageFont.truetype(str(fonts_dir / settings.card.font), 34)
    boxes = zone_boxes(settings)
    for name in ("top", "bottom"):
        x0, y0, x1, y1 = boxes[name]
        if y1 - y0 >= 50:
            _label(base, LABELS[name], font, ((x0 + x1) // 2, (y0 + y1) // 2), vertical=False)
    for name in ("right", "left"):
        x0, y0, x1, y1 = boxes[name]
        if x1 - x0 >= 50:
            _label(base, LABELS[name], font, ((x0 + x1) // 2, (y0 + y1) // 2), vertical=True)
    return base.convert("RGB")


def write_interface_zones(frame: np.ndarray, settings: Settings, path: Path) -> Path:
    """Draw the zones over `frame` and write a PNG atomically.

    Raises:
        OutputError: the PNG cannot be written.
    """
    image = draw_interface_zones(frame, settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            image.save(tmp, format="PNG")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}",
                          hint="check there is free space and the folder can be written") from None
    return path


def _label(image: Image.Image, text: str, font: ImageFont.FreeTypeFont, centre: tuple[int, int],
           vertical: bool) -> None:
    """White text on a dark rounded pill, centred at `centre` (turned 90° for the side zones)."""
    left, top, right, bottom = (round(v) for v in font.getbbox(text, anchor="lt"))
    pad = 12
    pill = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(pill)
    draw.rounded_rectangle((0, 0, pill.width - 1, pill.height - 1), radius=pill.height // 2, fill=(0, 0, 0, 170))
    draw.text((pad - left, pad - top), text, font=font, fill=(255, 255, 255, 255), anchor="lt")
    if vertical:
        pill = pill.rotate(90, expand=True)
    image.alpha_composite(pill, (max(0, centre[0] - pill.width // 2), max(0, centre[1] - pill.height // 2)))
