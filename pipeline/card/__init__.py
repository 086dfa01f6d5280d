"""Card stage: `CardContent` + card style -> RGBA PNG of TikTok's reply sticker (Pillow).

- `text`: fonts, fallback (emoji, Arabic, Hebrew), wrapping of the comment; `draw`: the bubble.
"""

from pipeline.card.draw import write_card

__all__ = ["write_card"]
