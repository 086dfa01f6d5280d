"""Caption text before layout: cleaned words, their width in the caption font, and pieces
of words too long for a line.

Takes `Word`s and the `[captions]` style; gives back `Token`s for `layout`: each word's
cleaned text, width in canvas px, and the largest font scale at which it fits a line alone.

* Text width is measured with the bundled font as libass will draw it. libass sizes a font by
  its ascender + descender (OS/2 win metrics), not by the em, so ASS `Fontsize 64` of Noto
  Sans is an em of about 47 px; `TextMeasure` asks Pillow for that em size. (Pillow is also
  used by `card.py`; here it only measures.)
* A word wider than a line (or longer than `max_chars_per_line`) gets a font scale below 1; if
  even `min_font_scale` is not enough it is hyphenated at Finnish syllable breaks
  (`hyphen`) into pieces that fit at full size. The pieces become separate `Word`s
  whose text ends in the inserted "-", with the word's time shared out by letters.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import ImageFont

from pipeline.captions.hyphen import hyphen_points
from pipeline.config import FONTS_DIR, CaptionSettings, SafeZone
from pipeline.types import Word

_SPACE_RE = re.compile(r"\s+")
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


class TextMeasure:
    """Width in canvas pixels of text drawn in the caption font at scale 1, as libass draws it."""

    def __init__(self, style: CaptionSettings) -> None:
        path = find_font_file(style.font, style.bold)
        probe = ImageFont.truetype(str(path), 1000)
        ascent, descent = probe.getmetrics()
        em = style.font_size * 1000 / (ascent + descent)
        self._font = ImageFont.truetype(str(path), em)
        self._cache: dict[str, float] = {}
        self.space = self.width(" ")

    def width(self, text: str) -> float:
        """Advance width of `text` in px (kerning included)."""
        cached = self._cache.get(text)
        if cached is None:
            cached = float(self._font.getlength(text))
            if len(self._cache) < 100_000:
                self._cache[text] = cached
        return cached


@functools.lru_cache(maxsize=8)
def find_font_file(family: str, bold: bool, fonts_dir: Path = FONTS_DIR) -> Path:
    """The file in `fonts_dir` with this family name (bold or regular), as libass would pick it.

    Falls back to the bundled Noto Sans of that weight when no file has the family.
    """
    wanted = "Bold" if bold else "Regular"
    fallback = fonts_dir / f"NotoSans-{wanted}.ttf"
    for path in sorted(fonts_dir.glob("*.[ot]tf")):
        try:
            font = ImageFont.truetype(str(path), 10)
        except OSError:
            continue
        name, font_style = font.getname()
        if (name or "").lower() == family.lower() and (font_style or "").lower() == wanted.lower():
            return path
    return fallback


@dataclass(frozen=True, slots=True)
class Limits:
    """The caption limits in the units the layout works in (px at scale 1)."""

    max_px: float  # usable line width
    max_chars: int
    max_lines: int
    min_scale: float
    max_cps: float
    min_duration: float
    max_duration: float
    pause_break: float
    space_px: float

    @classmethod
    def from_style(cls, style: CaptionSettings, canvas_width: int, safe: SafeZone, space_px: float) -> Limits:
        return cls(
            max_px=usable_width(style, canvas_width, safe),
            max_chars=style.max_chars_per_line,
            max_lines=style.max_lines,
            min_scale=style.min_font_scale,
            max_cps=style.max_cps,
            min_duration=style.min_duration,
            max_duration=style.max_duration,
            pause_break=style.pause_break,
            space_px=space_px,
        )


def usable_width(style: CaptionSettings, canvas_width: int, safe: SafeZone) -> float:
    """Width a caption line may take: canvas minus safe margins, outline (both sides) and shadow."""
    return max(1.0, canvas_width - safe.left - safe.right - 2 * style.outline - style.shadow)


@dataclass(frozen=True, slots=True)
class Token:
    """A word (or a hyphenated piece of one) as the layout sees it."""

    word: Word  # text cleaned; a piece's text ends in the inserted "-"
    px: float
    chars: int
    scale: float  # largest font scale <= 1 at which it fits a line alone
    hyphen: bool = False  # ends in an inserted hyphen: the line breaks after it
    segment_end: bool = False

    @property
    def text(self) -> str:
        return self.word.word


def clean_text(text: str) -> str:
    """NFC; control characters and newlines as spaces; runs of white space as one space.

    Bidi embedding and override characters are dropped: in untrusted text they could make
    libass draw a caption backwards.
    """
    text = unicodedata.normalize("NFC", text).translate(_BIDI_CONTROLS)
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    return _SPACE_RE.sub(" ", text).strip()


def clean_words(words: Iterable[Word]) -> list[Word]:
    """Words with cleaned text (empty ones dropped) and times made sane.

    Times are clamped to be non-negative and finite, starts never go backwards, and a word ends
    no later than the next one starts (engines sometimes overlap them by a few ms).
    """
    out: list[Word] = []
    last_start = 0.0
    for w in words:
        text = clean_text(w.word)
        if not text:
            continue
        start = w.start if math.isfinite(w.start) else last_start
        start = max(start, last_start, 0.0)
        end = w.end if math.isfinite(w.end) else start
        out.append(Word(text, start, max(end, start), w.probability))
        last_start = start
    for k in range(len(out) - 1):
        if out[k].end > out[k + 1].start:
            out[k] = replace(out[k], end=out[k + 1].start)
    return out



def make_tokens(words: Sequence[Word], segment_ends: set[int], measure: TextMeasure, lim: Limits) -> list[Token]:
    """One token per word; words that do not fit even at `min_scale` become hyphenated pieces."""
    tokens: list[Token] = []
    for index, word in enumerate(words):
        px = measure.width(word.word)
        chars = len(word.word)
        scale = _fit_scale(px, chars, lim)
        if scale >= lim.min_scale:
            tokens.append(Token(word, px, chars, scale))
        else:
            tokens.extend(_hyphenate_word(word, measure, lim))
        if index in segment_ends:
            tokens[-1] = replace(tokens[-1], segment_end=True)
    return tokens


def _fit_scale(px: float, chars: int, lim: Limits) -> float:
    scale = min(1.0, lim.max_px / px if px > 0 else 1.0)
    if chars > lim.max_chars:
        scale = min(scale, lim.max_chars / chars)
    return math.floor(scale * 1000) / 1000  # floor: px * scale never exceeds max_px


def _hyphenate_word(word: Word, measure: TextMeasure, lim: Limits) -> list[Token]:
    """Pieces of a word too wide for a line even at `min_scale`, each fitting a line at scale 1.

    Greedy filling finds how many pieces are needed; then the syllable breaks that make the
    pieces most even are chosen ("lastensuojelu-" / "ilmoituksesta", not "lastensuojeluilmoi-"
    / "tuksesta"). Without a syllable break that fits, the word is cut between letters.
    """
    text = word.word

    def fits(piece: str) -> bool:
        return len(piece) <= lim.max_chars and measure.width(piece) <= lim.max_px

    points = set(hyphen_points(text))
    points.update(i + 1 for i, ch in enumerate(text[:-1]) if ch == "-" and i > 0)
    cuts: list[int] = []
    pos = 0
    by_letters = False
    while not fits(text[pos:]):
        best = None
        for p in sorted(q for q in points if q > pos):
            if fits(_with_hyphen(text[pos:p])):
                best = p
            else:
                break
        if best is None:  # no syllable break fits (a run of consonants, a URL): cut by letters
            by_letters = True
            best = pos + 1
            while best + 1 < len(text) and fits(_with_hyphen(text[pos : best + 1])):
                best += 1
        cuts.append(best)
        pos = best
    if cuts and not by_letters:
        cuts = _even_cuts(text, sorted(points), len(cuts), measure, fits)
    return _piece_tokens(word, cuts, measure)


def _even_cuts(text: str, points: list[int], count: int, measure: TextMeasure, fits: Callable[[str], bool]) -> list[int]:
    """`count` breaks among `points` whose pieces all fit and whose widest piece is narrowest."""
    bounds = [0, *points, len(text)]
    n = len(bounds)

    def width(a: int, b: int) -> float:
        piece = text[bounds[a] : bounds[b]]
        piece = piece if b == n - 1 else _with_hyphen(piece)
        return measure.width(piece) if fits(piece) else math.inf

    # best[c][b]: (widest piece, sum of squares, previous bound) covering text[:bounds[b]] in c pieces.
    best: list[dict[int, tuple[float, float, int]]] = [{0: (0.0, 0.0, -1)}]
    for c in range(1, count + 2):
        layer: dict[int, tuple[float, float, int]] = {}
        for b in range(1, n):
            for a, (widest, squares, _) in best[c - 1].items():
                if a >= b:
                    continue
                w = width(a, b)
                if w == math.inf:
                    continue
                cand = (max(widest, w), squares + w * w, a)
                if b not in layer or cand[:2] < layer[b][:2]:
                    layer[b] = cand
        best.append(layer)
    end = n - 1
    chosen: list[int] = []
    for c in range(count + 1, 0, -1):
        prev = best[c][end][2]
        if c > 1:
            chosen.append(bounds[prev])
        end = prev
    return chosen[::-1]


def _with_hyphen(piece: str) -> str:
    return piece if piece.endswith("-") else piece + "-"


def _piece_tokens(word: Word, cuts: list[int], measure: TextMeasure) -> list[Token]:
    """Tokens for `word` cut before each index in `cuts`; time shared out by letters."""
    text = word.word
    bounds = [0, *cuts, len(text)]
    span = word.end - word.start
    tokens: list[Token] = []
    for k in range(len(bounds) - 1):
        a, b = bounds[k], bounds[k + 1]
        last = k == len(bounds) - 2
        piece = text[a:b] if last else _with_hyphen(text[a:b])
        start = word.start + span * a / len(text)
        end = word.end if last else word.start + span * b / len(text)
        tokens.append(
            Token(Word(piece, start, end, word.probability), measure.width(piece), len(piece), 1.0, hyphen=not last)
        )
    return tokens


def spread_words(texts: Sequence[str], start: float, end: float) -> list[Word]:
    """Words sharing [start, end) in proportion to their length (each with its space)."""
    total = sum(len(t) + 1 for t in texts) or 1
    out: list[Word] = []
    done = 0
    for k, t in enumerate(texts):
        a = start + (end - start) * done / total
        done += len(t) + 1
        b = end if k == len(texts) - 1 else start + (end - start) * done / total
        out.append(Word(t, a, b))
    return out
