"""Card text: comment and header text -> units with a font each -> wrapped lines, in bidi order.

Takes raw text (the comment, the header, the avatar letter) and a font role (`role_fonts`: the
card font, Arabic, Hebrew and emoji fonts at one size); gives back `Unit`s (one grapheme
cluster: a character with its marks or one emoji sequence, each with a font kind and a bidi
class), lines of units wrapped and ellipsized to a width in px, `Piece`s (runs drawn with one
font call, with their width), the visual order of a line's pieces, and emoji runs as colour
images. `draw.py` draws them.

Pillow has no font fallback, so we do it here (Pillow loads fonts and measures text; `coverage`
reads which characters each font has):
- Comments are cleaned first: every whitespace character, newlines included, becomes one
  space (the sticker is a short reflowed paragraph, as on TikTok); control characters, bidi
  overrides/isolates and zero-width characters are dropped (ZWJ and tag characters only
  survive inside emoji sequences). Nothing is interpreted as markup: `<b>` is drawn literally.
- Text is split into grapheme clusters (the `regex` module's `\\X`, UAX #29: a character with
  its combining marks, or one emoji sequence) and each goes to a font: emoji -> NotoColorEmoji
  (CBDT, drawn at 109 px and scaled), Arabic/Hebrew -> their Noto fonts, the rest -> the card
  font. A character no bundled font has becomes U+FFFD (a run of them becomes one), never a
  .notdef box.
- Units are shaped in runs (raqm) on a shared baseline. A line whose first strong character is
  right-to-left is right-aligned and its runs are ordered with a run-level version of the
  Unicode bidi algorithm (rules W7, N1, I1-I2, L2).
"""

from __future__ import annotations

import logging
import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import regex
from PIL import Image, ImageDraw, ImageFont

from pipeline.card.coverage import font_coverage
from pipeline.errors import ConfigError

# The logger of card.py, as before the split: log lines keep their "pipeline.card.draw" name.
log = logging.getLogger("pipeline.card.draw")

ARABIC_FONT = "NotoSansArabic-Bold.ttf"
HEBREW_FONT = "NotoSansHebrew-Bold.ttf"
EMOJI_FONT = "NotoColorEmoji.ttf"
EMOJI_PX = 109  # the only size NotoColorEmoji's CBDT bitmaps exist at
ELLIPSIS = "\u2026"
REPLACEMENT = "\ufffd"
ZWJ = "\u200d"


class Unit(NamedTuple):
    text: str  # one character with its combining marks, one emoji sequence, or " "
    kind: str  # "text" | "arabic" | "hebrew" | "emoji" | "space"
    cls: str  # bidi: "L" strong left-to-right, "R" strong right-to-left, "E" number, "N" neutral


class Piece(NamedTuple):
    text: str
    kind: str
    cls: str
    width: float


@dataclass(frozen=True, eq=False)
class Fonts:
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
    """Code points the font maps to a real glyph (not .notdef), read once per font file."""
    return font_coverage(path)


@lru_cache(maxsize=16)
def role_fonts(fonts_dir: Path, text_font: str, size: int) -> Fonts:
    paths = {"text": fonts_dir / text_font, "arabic": fonts_dir / ARABIC_FONT,
             "hebrew": fonts_dir / HEBREW_FONT, "emoji": fonts_dir / EMOJI_FONT}
    fonts = {k: _load_font(p, EMOJI_PX if k == "emoji" else size) for k, p in paths.items()}
    return Fonts(size=size, cmaps={k: _cmap(p) for k, p in paths.items()}, **fonts)


# --- text: cleaning, units, emoji sequences ---------------------------------------------------


def _is_tag(ch: str) -> bool:
    return 0xE0020 <= ord(ch) <= 0xE007F


def clean_text(text: str) -> str:
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


# Grapheme clusters (UAX #29) keep an emoji sequence whole: ZWJ sequences, flags (a pair of
# regional indicators), skin tones, keycaps, tag sequences and variation selectors.
_GRAPHEME = regex.compile(r"\X")
# Clusters that are emoji in any font: a flag, a keycap, a pictograph with the emoji selector, a
# skin tone or a ZWJ sequence.
_EMOJI_FORM = regex.compile(
    r"\p{RI}|[0-9#*]\ufe0f?\u20e3|\p{ExtPict}(?:\ufe0f|\p{Emoji_Modifier}|.*\u200d\p{ExtPict})", regex.S,
)
# What is left of a broken emoji sequence at the start of a cluster: ZWJ, tags, selectors, U+20E3.
_LEFTOVER = regex.compile(r"[\p{Cf}\p{VS}\u20e3]")


def _is_emoji(cluster: str, fonts: Fonts) -> bool:
    """Whether a grapheme cluster is drawn from the emoji font.

    Our rule, not Unicode's Emoji_Presentation property alone: a character the card font has
    (©, ☺) stays text unless the cluster's form asks for the emoji; one it lacks is an emoji if
    the emoji font has it. So the look follows the bundled fonts.
    """
    c = ord(cluster[0])
    if c not in fonts.cmaps["emoji"]:
        return False
    return bool(_EMOJI_FORM.match(cluster)) or c not in fonts.cmaps["text"]


def _bidi_class(ch: str) -> str:
    b = unicodedata.bidirectional(ch)
    return "L" if b == "L" else "R" if b in ("R", "AL") else "E" if b in ("EN", "AN") else "N"


def _font_kind(ch: str, fonts: Fonts) -> str | None:
    c, b = ord(ch), unicodedata.bidirectional(ch)
    order: tuple[str, ...] = ("arabic", "hebrew") if b in ("AL", "AN") else ("hebrew", "arabic")
    if b in ("R", "AL", "AN"):
        order = (*order, "text")
    else:
        order = ("text", *order)
    return next((k for k in order if c in fonts.cmaps[k]), None)


def segment_text(text: str, fonts: Fonts) -> tuple[list[Unit], list[str]]:
    """Split cleaned text into units with a font each.

    Returns:
        (units, grapheme clusters no font has)
    """
    units: list[Unit] = []
    missing: list[str] = []
    # Split at spaces first: a cluster may start with a space (" " + a mark is one cluster).
    for k, word in enumerate(text.split(" ")):
        if k:
            units.append(Unit(" ", "space", "N"))
        for cluster in _GRAPHEME.findall(word):
            if _LEFTOVER.match(cluster):
                continue
            if _is_emoji(cluster, fonts):
                units.append(Unit(cluster, "emoji", "N"))
                continue
            base = cluster[0]
            kind = _font_kind(base, fonts)
            if kind is None:
                missing.append(cluster)
                if not (units and units[-1].text == REPLACEMENT) and ord(REPLACEMENT) in fonts.cmaps["text"]:
                    units.append(Unit(REPLACEMENT, "text", "N"))
                continue
            marks = "".join(m for m in cluster[1:]
                            if unicodedata.category(m).startswith("M") and ord(m) in fonts.cmaps[kind])
            units.append(Unit(base + marks, kind, _bidi_class(base)))
    if missing:
        log.warning("card: no font has %s; drawn as U+FFFD",
                    ", ".join(sorted({" ".join(f"U+{ord(c):04X}" for c in m) for m in missing})))
    return units, missing


# --- layout: pieces, widths, wrapping ---------------------------------------------------------


def line_pieces(units: list[Unit], fonts: Fonts) -> list[Piece]:
    """Merge units into runs drawn with one font call each (spaces stay separate)."""
    runs: list[list[Unit]] = []
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
        out.append(Piece(text, run[0].kind, cls, _piece_width(fonts, run[0].kind, text, cls == "R")))
    return out


@lru_cache(maxsize=4096)
def _piece_width(fonts: Fonts, kind: str, text: str, rtl: bool) -> float:
    if kind == "emoji":
        return fonts.emoji.getlength(text) * fonts.emoji_scale
    font = fonts.text if kind == "space" else getattr(fonts, kind)
    return float(font.getlength(text, direction="rtl" if rtl else "ltr"))


def units_width(units: list[Unit], fonts: Fonts) -> float:
    return sum(p.width for p in line_pieces(units, fonts))


def wrap_comment(text: str, fonts: Fonts, width: int, max_lines: int, max_chars: int) -> list[list[Unit]]:
    """Word-wrap into at most `max_lines` lines; the last ends with an ellipsis if text remains.

    Our own greedy wrap, not `textwrap`: widths are px of runs in several fonts, not characters.
    """
    units, _ = segment_text(clean_text(text), fonts)
    cut = False
    count = 0
    for k, u in enumerate(units):
        count += len(u.text)
        if count > max_chars:
            units, cut = units[:k], True
            break
    words: list[list[Unit]] = [[]]
    for u in units:
        if u.kind == "space":
            words.append([])
        else:
            words[-1].append(u)
    space = Unit(" ", "space", "N")
    space_w = units_width([space], fonts)
    lines: list[list[Unit]] = []
    line: list[Unit] = []
    line_w = 0.0
    for word in (w for w in words if w):
        if len(lines) > max_lines:
            break
        word_w = units_width(word, fonts)
        if line and line_w + space_w + word_w <= width:
            line, line_w = [*line, space, *word], line_w + space_w + word_w
            continue
        if line:
            lines.append(line)
        while word_w > width and len(word) > 1:  # longer than a line: break by character
            k = _longest_fit(word, fonts, width)
            lines.append(word[:k])
            word = word[k:]
            word_w = units_width(word, fonts)
        line, line_w = word, word_w
    if line:
        lines.append(line)
    if len(lines) > max_lines or (cut and lines):
        lines = lines[:max_lines]
        lines[-1] = ellipsize(lines[-1], fonts, width, force=True)
    return lines


def _longest_fit(units: list[Unit], fonts: Fonts, width: float) -> int:
    lo, hi = 1, len(units)  # invariant: units[:lo] fits (or lo == 1), units[:hi + 1] does not
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if units_width(units[:mid], fonts) <= width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def ellipsize(units: list[Unit], fonts: Fonts, width: float, force: bool) -> list[Unit]:
    """Cut units so they fit `width`, ending with "…" if cut (or always, when `force`)."""
    if not force and units_width(units, fonts) <= width:
        return units
    dots = Unit(ELLIPSIS, "text", "N")
    units = list(units)
    while units and (units[-1].kind == "space" or units_width([*units, dots], fonts) > width):
        units.pop()
    return [*units, dots]


# --- bidi order and emoji images --------------------------------------------------------------


def visual_order(pieces: list[Piece]) -> tuple[list[int], list[int], bool]:
    """Bidi at run level: (visual order of piece indices, embedding levels, line is RTL).

    Our own, not python-bidi (tried for issue 8): its API (0.6) is `get_display(text)`, the line
    as one reordered and mirrored string, and `get_base_level`. We draw each run in its own font
    (Pillow has no fallback) and raqm shapes and mirrors inside a run, so we need the order of
    runs and the level of each run (its direction: a "(" in Arabic text is drawn mirrored), not
    a string. Recovering them from the string is ambiguous (repeated and mirrored characters);
    its levels exist only in a `debug=True` dump, and the pure-Python `bidi.algorithm` keeps
    them in undocumented internals. Using it would add glue code, not remove this.
    """
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
    for i, r in enumerate(resolved):
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
def emoji_image(text: str, fonts: Fonts) -> Image.Image:
    """An emoji run drawn at 109 px in colour and scaled to the role's size (do not modify)."""
    font = fonts.emoji
    asc, desc = font.getmetrics()
    big = Image.new("RGBA", (max(1, math.ceil(font.getlength(text))), asc + desc))
    ImageDraw.Draw(big).text((0, asc), text, font=font, anchor="ls", embedded_color=True)
    s = fonts.emoji_scale
    return big.resize((max(1, round(big.width * s)), max(1, round(big.height * s))), Image.Resampling.LANCZOS)
