"""Text to show: bidi controls, invisible and control characters dropped before drawing or printing.

In: a user name or a comment. Out: the text to display (`clean_display_text`).
"""

from __future__ import annotations

import re
import unicodedata

# Invisible letters that are not format characters (blank TikTok names use them).
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u034f"}
_KEEP_SPACES = {" ", "\u00a0", "\u202f"}  # no-break spaces keep "15 000" together
_FLAG_TAGS = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")  # 🏴 + tags (Scotland ...)
_MAX_MARKS = 3  # combining marks per letter; more is "zalgo" text that spills over the card


def clean_display_text(text: str, *, keep_newlines: bool = False) -> str:
    """Drop bidi controls, invisible and control characters; NFC; tidy spaces.

    Removes U+202A-202E, U+2066-2069, U+200E/F, U+061C, zero-width characters, U+2060-2064,
    U+FEFF, soft hyphens, other format and control characters, private-use characters and
    filler letters. Keeps the zero-width joiner inside emoji sequences and the tags of flag
    emoji. Caps stacked combining marks at three.

    Args:
        text: a user name or comment.
        keep_newlines: keep line breaks (comments); otherwise they become spaces (names).

    Returns:
        The text to display, stripped; "" if nothing visible was left.
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    keep_tags = {i for m in _FLAG_TAGS.finditer(text) for i in range(m.start() + 1, m.end())}
    out: list[str] = []
    marks = 0
    for i, ch in enumerate(text):
        cat = unicodedata.category(ch)
        if ch == "\n" or ch in "\r\u2028\u2029\x85":
            out.append("\n" if keep_newlines else " ")
        elif ch in _KEEP_SPACES:
            out.append(ch)
        elif cat.startswith("Z") or ch == "\t":
            out.append(" ")
        elif ch == "\u200d" and _joins_emoji(text, i) or i in keep_tags:
            out.append(ch)
        elif cat in ("Cc", "Cf", "Co", "Cs") or ch in _BLANK_LETTERS:
            continue
        elif cat.startswith("M"):
            marks += 1
            if marks <= _MAX_MARKS:
                out.append(ch)
            continue
        else:
            out.append(ch)
        marks = 0
    cleaned = "".join(out)
    cleaned = re.sub(r"[ \t]+", " ", cleaned)
    if keep_newlines:
        cleaned = re.sub(r" *\n *", "\n", cleaned)
        cleaned = re.sub(r"\n{3,}", "\n\n", cleaned)
    return unicodedata.normalize("NFC", cleaned).strip()


def _joins_emoji(text: str, i: int) -> bool:
    """True for a zero-width joiner between two emoji (👩‍👧, 🏳️‍🌈): removing it splits them."""
    if i == 0 or i + 1 >= len(text):
        return False
    before, after = text[i - 1], text[i + 1]
    emoji_end = (
        unicodedata.category(before) == "So" or before == "\ufe0f" or "\U0001f3fb" <= before <= "\U0001f3ff"
    )
    return emoji_end and unicodedata.category(after) == "So" and after not in _BLANK_LETTERS and (
        before not in _BLANK_LETTERS
    )
