"""Card stage: `CardContent` + card style -> RGBA PNG of TikTok's reply sticker (Pillow); the
help-resources end card; TikTok's interface zones drawn over a frame.

- `text`: fonts, fallback (emoji, Arabic, Hebrew), wrapping of the comment; `draw`: the bubble;
- `endcard`: `[end_card]` resources -> a full-canvas PNG in the card's look;
- `zones`: a video frame -> the same frame with the safe-zone margins drawn and labelled.
"""

from typing import TYPE_CHECKING

from pipeline.lazy import lazy_api

if TYPE_CHECKING:
    from pipeline.card.draw import write_card
    from pipeline.card.endcard import draw_end_card, write_end_card
    from pipeline.card.zones import draw_interface_zones, write_interface_zones, zone_boxes

__all__ = ["draw_end_card", "draw_interface_zones", "write_card", "write_end_card", "write_interface_zones",
           "zone_boxes"]

__getattr__ = lazy_api(__name__)
