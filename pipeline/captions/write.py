"""Transcript -> caption cues -> ASS (burned in) and SRT / VTT / JSON (sidecars, hand edits).

Takes a `Transcript` (or a caption file a person edited) and the `[captions]` style; gives back
`Cue`s (`layout_cues`, `read_captions`) and writes them: `write_ass` for libass to burn in,
`write_subtitles` for .srt/.vtt sidecars, `write_json` for cached or hand-fixed cues.
Helpers: `layout` (cue and line breaks, timing), `text` (cleaning, font
measurement, long words), `hyphen` (Finnish hyphenation), `read` (files in).

Untrusted text in the ASS file. Transcripts and caption files are user data, and libass reads
`{...}` as override tags and `\\N`, `\\n`, `\\h` as line breaks and spaces. ASS has no escape
that libass and the rest of the ASS world agree on, so text is made inert, not escaped:

* `\\` is followed by U+200B ZERO WIDTH SPACE (in the bundled Noto Sans, zero width), so
  `\\N` is drawn as the two characters "\\N" and never starts a tag;
* `{` and `}` become `(` and `)`: there is no look-alike brace in the bundled fonts, and any
  `{` would open an override block;
* raw newlines, tabs and other control characters become spaces (a line breaks only where the
  layout puts `\\N`).

The sidecars keep the text as it was, braces included; a backslash gets the same zero-width
space (so pysubs2 and players do not read `\\N` or `{\\an8}` in it), so does a `<` that would
start an SRT tag (`<b>`), and VTT escapes `& < >` as its spec asks.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from pysubs2 import Alignment, Color, SSAEvent, SSAFile, SSAStyle

from pipeline.captions.formats import SIDECAR_SUFFIXES, caption_format, suffix_list
from pipeline.captions.layout import layout_transcript
from pipeline.captions.read import cue_from_text, read_caption_source, read_captions
from pipeline.captions.text import TextMeasure, clean_text, usable_width
from pipeline.config import CaptionSettings, SafeZone
from pipeline.errors import OutputError
from pipeline.files import atomic_write
from pipeline.types import Cue, Transcript, Word

log = logging.getLogger(__name__)

__all__ = [
    "layout_cues",
    "write_ass",
    "write_subtitles",
    "write_json",
    "read_caption_source",
    "read_captions",
    "export_transcript",
    "shift_cues",
    "ass_text",
    "cue_from_text",
]

CAPTION_STYLE = "Caption"
BOX_STYLE = "CaptionBox"
_ZWSP = "\u200b"
_CUE_NAME = "cue"  # events of one cue share the Name field "cue<N>", so read_captions can regroup them


def layout_cues(transcript: Transcript, style: CaptionSettings, canvas_width: int, safe: SafeZone) -> list[Cue]:
    """Split a transcript into caption cues that fit the screen and can be read in time.

    Args:
        transcript: recognised speech with word times.
        style: the `[captions]` settings (limits, font).
        canvas_width: width of the video in px.
        safe: margins TikTok's interface covers (`[safe_zone]`).

    Returns:
        Sorted, non-overlapping cues; together their `words` are the transcript's words in
        order (a word too long for any line is split into hyphenated pieces).
    """
    return layout_transcript(transcript, style, canvas_width, safe)


# --- ASS ---------------------------------------------------------------------------------


def ass_text(text: str) -> str:
    """`text` made inert for an ASS event: shown literally by libass, never read as markup."""
    text = clean_text(text)
    return text.replace("\\", "\\" + _ZWSP).replace("{", "(").replace("}", ")")


def _ass_color(hex_color: str, alpha: int = 0) -> Color:
    return Color(int(hex_color[1:3], 16), int(hex_color[3:5], 16), int(hex_color[5:7], 16), alpha)


def _tag_color(hex_color: str) -> str:
    return f"&H{hex_color[5:7]}{hex_color[3:5]}{hex_color[1:3]}&".upper()


def write_ass(
    cues: Sequence[Cue],
    path: Path,
    style: CaptionSettings,
    canvas: tuple[int, int],
    safe: SafeZone,
    top_limit_px: int = 0,
    speaker_colors: Sequence[str] = (),
) -> None:
    """Write the ASS file libass burns into the video.

    Captions sit bottom-centre above the safe zone (MarginV = safe.bottom + style.bottom),
    between the left and right safe margins. A cue whose block of lines would reach above
    `top_limit_px` (or whose lines are wider than the safe width) is drawn smaller.

    Args:
        cues: from `layout_cues` or `read_captions`.
        path: the .ass file to write.
        style: `[captions]`: font, colours, outline, highlight mode.
        canvas: (width, height) of the video; the script's PlayRes.
        safe: margins TikTok's interface covers.
        top_limit_px: lowest y the card uses; no caption reaches above it. 0: no limit.
        speaker_colors: text colour ("#rrggbb") of each speaker of a duet; a cue with `speaker`
            N is drawn in colour N (its own style `Caption<N>`: only the style's number is
            in an event). Empty: every cue in `style.primary_color`.
    """
    width, height = canvas
    subs = SSAFile()
    subs.info.update(
        {
            "Title": "sossut captions",
            "PlayResX": str(width),
            "PlayResY": str(height),
            "WrapStyle": "2",  # no automatic wrapping: lines break only where the layout put \N
            "ScaledBorderAndShadow": "yes",
            "YCbCr Matrix": "None",
        }
    )
    font = style.font.replace(",", " ")
    margin_v = safe.bottom + style.bottom
    base = SSAStyle(
        fontname=font,
        fontsize=float(style.font_size),
        bold=style.bold,
        primarycolor=_ass_color(style.primary_color),
        secondarycolor=_ass_color(style.highlight_color),
        outlinecolor=_ass_color(style.outline_color),
        backcolor=_ass_color(style.outline_color, alpha=0x60),
        outline=style.outline,
        shadow=style.shadow,
        alignment=Alignment.BOTTOM_CENTER,
        marginl=safe.left,
        marginr=safe.right,
        marginv=margin_v,
    )
    subs.styles = {CAPTION_STYLE: base}
    if style.highlight == "box":
        # libass draws a BorderStyle 3 box per glyph in the outline colour, so \3a can show the
        # box behind one word only. The text itself is invisible here (the layer above draws it).
        subs.styles[BOX_STYLE] = base.copy()
        box = subs.styles[BOX_STYLE]
        box.borderstyle = 3
        box.primarycolor = _ass_color(style.primary_color, alpha=0xFF)
        box.outlinecolor = _ass_color(style.highlight_color, alpha=0xFF)
        box.backcolor = _ass_color(style.outline_color, alpha=0xFF)
        box.outline = max(4.0, round(style.font_size * 0.12))
        box.shadow = 0.0
    for number, color in enumerate(speaker_colors):
        own = base.copy()
        own.primarycolor = _ass_color(_hex_color(color))
        subs.styles[f"{CAPTION_STYLE}{number}"] = own
    measure = TextMeasure(style)
    max_px = usable_width(style, width, safe)
    bottom_y = height - margin_v
    for index, cue in enumerate(cues):
        if cue.end <= cue.start or not any(line.strip() for line in cue.lines):
            continue
        scale = _draw_scale(cue, style, measure, max_px, bottom_y, top_limit_px)
        voice = (CAPTION_STYLE, style.primary_color)
        if cue.speaker is not None and speaker_colors:
            number = int(cue.speaker) % len(speaker_colors)
            voice = (f"{CAPTION_STYLE}{number}", _hex_color(speaker_colors[number]))
        for event in _cue_events(cue, style, scale, voice):
            event.name = f"{_CUE_NAME}{index}"
            subs.events.append(event)
    _save(subs, path, "ass")


def _draw_scale(cue: Cue, style: CaptionSettings, measure: TextMeasure, max_px: float, bottom_y: int, top_limit_px: int) -> float:
    """The cue's font scale, reduced so its lines fit the safe width and stay below the card."""
    lines = [line for line in cue.lines if line.strip()] or [""]
    scale = min(1.0, max(cue.font_scale, 0.05))
    widest = max(measure.width(clean_text(line)) for line in lines)
    if widest * scale > max_px:
        scale = max_px / widest
    if top_limit_px > 0:
        room = bottom_y - top_limit_px - 2 * style.outline
        fit = room / (len(lines) * style.font_size)
        if fit < scale:
            if fit < 0.3:
                log.warning("captions: only %d px between the card and the safe zone; text is small", room)
            scale = max(fit, 0.05)
    return math.floor(scale * 10000) / 10000


def _scale_tag(scale: float) -> str:
    if scale >= 1.0:
        return ""
    percent = f"{scale * 100:.2f}".rstrip("0").rstrip(".")
    return f"{{\\fscx{percent}\\fscy{percent}}}"


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _ass_ms(seconds: float) -> int:
    """Milliseconds on the centisecond grid of ASS times (rounded once, not twice)."""
    return max(0, round(seconds * 100) * 10)


def _hex_color(value: str) -> str:
    """A "#rrggbb" colour, checked (it goes into ASS styles and tags)."""
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        raise ValueError(f"not a #rrggbb colour: {value!r}")
    return value


def _cue_events(cue: Cue, style: CaptionSettings, scale: float,
                voice: tuple[str, str] = (CAPTION_STYLE, "")) -> list[SSAEvent]:
    """Plain: one event. color: one event per word window. box: plain text + per-word box layer.

    `voice` is the style name and the text colour of the cue (a duet speaker's own).
    """
    own_style, own_color = voice[0], voice[1] or style.primary_color
    lines = [line.split() for line in cue.lines if line.strip()]
    owners = _align_words(lines, cue.words)
    prefix = _scale_tag(scale)
    plain = prefix + _render(lines, None, owners, "")
    start, end = _ass_ms(cue.start), _ass_ms(cue.end)
    if style.highlight == "none" or owners is None:
        return [SSAEvent(start=start, end=end, style=own_style, text=plain)]
    events: list[SSAEvent] = []
    if style.highlight == "box":
        events.append(SSAEvent(start=start, end=end, layer=1, style=own_style, text=plain))
        on, off = "{\\3a&H00&}", "{\\3a&HFF&}"
    else:
        on, off = "{\\1c" + _tag_color(style.highlight_color) + "}", "{\\1c" + _tag_color(own_color) + "}"
    for word_index, (a, b) in enumerate(_word_windows(cue)):
        if b <= a:
            continue  # a word with no time of its own (rounding or broken times): not highlighted
        text = prefix + _render(lines, word_index, owners, on, off)
        name = BOX_STYLE if style.highlight == "box" else own_style
        events.append(SSAEvent(start=a, end=b, layer=0, style=name, text=text))
    if not any(e.layer == 0 for e in events):  # no word lasted a centisecond: show the text plain
        return [SSAEvent(start=start, end=end, style=own_style, text=plain)]
    return events


def _word_windows(cue: Cue) -> list[tuple[int, int]]:
    """[start, end) in ms in which each word is highlighted; together they cover the cue."""
    starts = [_ass_ms(cue.start)]
    for w in cue.words[1:]:
        starts.append(min(max(_ass_ms(w.start), starts[-1]), _ass_ms(cue.end)))
    ends = starts[1:] + [_ass_ms(cue.end)]
    return list(zip(starts, ends))


def _render(lines: list[list[str]], highlight: int | None, owners: list[list[int]] | None, on: str, off: str = "") -> str:
    out: list[str] = []
    for n, line in enumerate(lines):
        parts = []
        for k, token in enumerate(line):
            text = ass_text(token)
            if owners is not None and owners[n][k] == highlight:
                text = on + text + off
            parts.append(text)
        out.append(" ".join(parts))
    return "\\N".join(out)


def _align_words(lines: list[list[str]], words: Sequence[Word]) -> list[list[int]] | None:
    """For each token of each line, the index of the word it shows; None if they do not match.

    Tokens match words by text (a word may span several tokens if it has spaces in it); a cue
    edited by hand whose token count still equals its word count is matched one to one.
    """
    tokens = [t for line in lines for t in line]
    if not words or not tokens:
        return None
    flat: list[int] = []
    for index, w in enumerate(words):
        flat.extend([index] * len(w.word.split()))
    if [t for w in words for t in w.word.split()] != tokens:
        if len(tokens) != len(words):
            return None
        flat = list(range(len(words)))
    owners: list[list[int]] = []
    k = 0
    for line in lines:
        owners.append(flat[k : k + len(line)])
        k += len(line)
    return owners


def _save(subs: SSAFile, path: Path, format_: str, **options: Any) -> None:
    _write_atomic(path, subs.to_string(format_, **options))


def _write_atomic(path: Path, text: str) -> None:
    """No half-written caption file: temp name beside `path`, then rename."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write captions ({exc.strerror})") from None
    atomic_write(path, text)


# --- SRT / VTT / JSON --------------------------------------------------------------------


def _sidecar_text(text: str, vtt: bool) -> str:
    text = clean_text(text)
    # pysubs2 would turn "\N" into a line break, and players read "{\an8}" in SRT as a tag.
    text = text.replace("\\", "\\" + _ZWSP)
    if vtt:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"<(?=[A-Za-z/])", "<" + _ZWSP, text)  # literal "<b>", not bold


def write_subtitles(cues: Sequence[Cue], path: Path) -> None:
    """Write plain .srt or .vtt (by suffix) sidecar subtitles: the cues' lines, no highlight.

    Raises:
        OutputError: unknown suffix or the file cannot be written.
    """
    fmt = caption_format(path)
    if fmt is None or not fmt.sidecar:
        raise OutputError(f"{path.name}: subtitles must be {suffix_list(SIDECAR_SUFFIXES)}")
    vtt = fmt.name == "vtt"
    subs = SSAFile()
    for cue in cues:
        lines = [_sidecar_text(line, vtt) for line in cue.lines]
        lines = [line for line in lines if line]
        if lines and cue.end > cue.start:
            subs.events.append(SSAEvent(start=_ms(cue.start), end=_ms(cue.end), text="\\N".join(lines)))
    _save(subs, path, fmt.name, keep_ssa_tags=True, apply_styles=False)


def write_json(data: Transcript | Sequence[Cue], path: Path) -> None:
    """Write a Transcript as DESIGN.md's transcript JSON, or cues as `{"cues": [...]}`."""
    if isinstance(data, Transcript):
        text = data.to_json()
    else:
        text = json.dumps({"cues": [asdict(c) for c in data]}, ensure_ascii=False, indent=1)
    _write_atomic(path, text + "\n")


def export_transcript(
    transcript: Transcript, path: Path, style: CaptionSettings, canvas: tuple[int, int], safe: SafeZone
) -> None:
    """Write a transcript as `sossut transcribe -o` asks: .json (transcript), .ass (burn-in), .srt/.vtt (cues).

    Raises:
        OutputError: the suffix is none of those, or the file cannot be written.
    """
    fmt = caption_format(path)
    if fmt is None:
        raise OutputError(f"{path.name}: unknown caption format", hint=f"use {suffix_list()}")
    if fmt.name == "json":
        write_json(transcript, path)
        return
    cues = layout_cues(transcript, style, canvas[0], safe)
    if fmt.name == "ass":
        write_ass(cues, path, style, canvas, safe)
    else:
        write_subtitles(cues, path)


def shift_cues(cues: Sequence[Cue], offset: float, start: float, end: float) -> list[Cue]:
    """Cues of the span [start, end) of a long recording, moved by -offset.

    A cue that straddles `start` or `end` is cut to the span (if at least 0.1 s of it, or all
    of it, is inside); its word times are clamped into the cut cue.
    """
    out: list[Cue] = []
    for cue in cues:
        a, b = max(cue.start, start), min(cue.end, end)
        if b <= a or (b - a < 0.1 and b - a < cue.end - cue.start):
            continue
        words = tuple(
            replace(w, start=min(max(w.start, a), b) - offset, end=min(max(w.end, a), b) - offset) for w in cue.words
        )
        out.append(replace(cue, start=a - offset, end=b - offset, words=words))
    return out
