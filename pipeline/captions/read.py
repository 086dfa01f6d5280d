"""Caption files a person edited -> a `Transcript` or `Cue`s (`sossut render --captions FILE`).

Takes a path (.json, .srt, .vtt, .ass); gives back what it holds (`read_caption_source`) or, with
a transcript laid out, the cues (`read_captions`). `pipeline.captions.write` re-exports both.

* JSON: DESIGN.md's transcript JSON (has "segments"), or cues: `{"cues": [...]}` or a bare list,
  each `{"start", "end", "lines" (or "text"), "words"?, "font_scale"?}` as `write_json` writes.
* SRT / VTT are parsed here, not by pysubs2: pysubs2 drops a cue's last line when it is a bare
  number ("maksoi\\n100") and reads `{...}` in the text as tags. Markup is stripped to plain
  text: HTML-like tags (`<b>`, `<font color=...>`, `<c.yellow>`, VTT `<00:01.000>`) and ASS
  override blocks (`{\\an8}`, but not the inert `{\\<U+200B>...` text `write_subtitles` writes);
  VTT entities are decoded. The text is never given to ffmpeg:
  it is always written again as inert ASS.
* ASS via pysubs2: override blocks removed; the events `write_ass` wrote for one cue (same
  Name field) become one cue again.

Cues without word times get them spread over the cue by character count. Cues are sorted,
empty ones dropped, and an overlap is cut at the next cue's start (cues starting together are
merged).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pysubs2

from pipeline.captions.formats import caption_format, suffix_list
from pipeline.captions.layout import layout_transcript
from pipeline.captions.text import clean_text, spread_words
from pipeline.config import CaptionSettings, SafeZone
from pipeline.errors import InputError
from pipeline.files import read_text_file
from pipeline.types import Cue, Transcript, Word

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})[,.](\d{1,3})"
_TIMING = re.compile(_TIME + r"\s*-->\s*" + _TIME)
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<\d[\d:.]*>")
_ASS_BLOCK = re.compile(r"\{[^}]*\}")
# "{\an8}" in an SRT is a tag for players; "{\<U+200B>..." is literal text write_subtitles wrote.
_FOREIGN_TAGS = re.compile("\\{\\\\(?!\u200b)[^}]*\\}")
_ESCAPED_BACKSLASH = re.compile("\\\\\u200b")
_CUE_NAME = re.compile(r"^cue(\d+)$")
_SCALE_TAG = re.compile(r"\\fscy([0-9.]+)")


def read_caption_source(path: Path) -> Transcript | list[Cue]:
    """What a caption file holds: a Transcript (transcript JSON) or cues (everything else).

    Raises:
        InputError: missing or unreadable file, unknown suffix, or content that is not captions.
    """
    fmt = caption_format(path)
    if fmt is None:
        raise InputError(f"{path.name}: unknown caption format", hint=f"use {suffix_list()}")
    if not path.exists():
        raise InputError(f"{path}: caption file not found")
    text, _ = read_text_file(path, "caption file")
    if fmt.name == "json":
        return _from_json(text, path)
    if fmt.name == "ass":
        return _from_ass(text, path)
    return _from_srt_or_vtt(text, vtt=fmt.name == "vtt")


def read_captions(path: Path, style: CaptionSettings, canvas_width: int, safe: SafeZone) -> list[Cue]:
    """Cues from a caption file; a transcript JSON is laid out with `style` first.

    Args:
        path: .json, .srt, .vtt or .ass.
        style, canvas_width, safe: the layout of a transcript JSON (cue files keep their cues).

    Raises:
        InputError: see `read_caption_source`.
    """
    source = read_caption_source(path)
    if isinstance(source, Transcript):
        return layout_transcript(source, style, canvas_width, safe)
    return source


def cue_from_text(start: float, end: float, lines: Sequence[str], words: Sequence[Word] = ()) -> Cue:
    """A cue of these lines; without `words`, word times are spread over the cue by characters."""
    clean = tuple(line for line in (clean_text(x) for x in lines) if line)
    if not words:
        words = spread_words(" ".join(clean).split(), start, end)
    return Cue(start, end, clean, tuple(words))


def tidy_cues(cues: list[Cue]) -> list[Cue]:
    """Sorted, non-empty, non-overlapping cues (see the module docstring)."""
    cues = sorted((c for c in cues if c.lines and c.end > c.start), key=lambda c: (c.start, c.end))
    merged: list[Cue] = []
    for cue in cues:
        if merged and abs(merged[-1].start - cue.start) < 0.001:
            prev = merged[-1]
            merged[-1] = Cue(prev.start, max(prev.end, cue.end), prev.lines + cue.lines, prev.words + cue.words,
                             min(prev.font_scale, cue.font_scale), prev.speaker)
        else:
            merged.append(cue)
    out: list[Cue] = []
    for k, cue in enumerate(merged):
        if k + 1 < len(merged) and cue.end > merged[k + 1].start:
            end = merged[k + 1].start
            words = tuple(Word(w.word, min(w.start, end), min(w.end, end), w.probability) for w in cue.words)
            cue = Cue(cue.start, end, cue.lines, words, cue.font_scale, cue.speaker)
        out.append(cue)
    return out


def _seconds(groups: Sequence[str | None]) -> float:
    h, m, s, frac = groups
    return int(h or 0) * 3600 + int(m or 0) * 60 + int(s or 0) + float("0." + (frac or "0"))


def _from_srt_or_vtt(text: str, vtt: bool) -> list[Cue]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    cues: list[Cue] = []
    for block in re.split(r"\n[ \t]*\n", text):
        lines = block.split("\n")
        for k, line in enumerate(lines):
            timing = _TIMING.search(line)
            if timing:
                start, end = _seconds(timing.groups()[:4]), _seconds(timing.groups()[4:])
                cues.append(cue_from_text(start, end, [_plain_line(x, vtt) for x in lines[k + 1 :]]))
                break
    return tidy_cues(cues)


def _plain_line(line: str, vtt: bool) -> str:
    line = _FOREIGN_TAGS.sub("", line)
    line = _HTML_TAG.sub("", line)
    if vtt:
        line = html.unescape(line)
    return _ESCAPED_BACKSLASH.sub("\\\\", line).replace("<\u200b", "<")


def _from_ass(text: str, path: Path) -> list[Cue]:
    try:
        subs = pysubs2.SSAFile.from_string(text, format_="ass")
    except Exception as exc:  # pysubs2 raises several types for broken files
        raise InputError(f"{path.name}: not a readable ASS file ({exc})") from None
    groups: dict[str, list[pysubs2.SSAEvent]] = {}
    for index, event in enumerate(e for e in subs.events if not e.is_comment):
        key = event.name if _CUE_NAME.match(event.name) else f"#{index}"
        groups.setdefault(key, []).append(event)
    cues = []
    for events in groups.values():
        events.sort(key=lambda e: (e.start, e.layer))
        first = events[0]
        start, end = min(e.start for e in events) / 1000, max(e.end for e in events) / 1000
        lines = _ass_lines(first.text)
        scale = _SCALE_TAG.search(first.text)
        cue = cue_from_text(start, end, lines)
        windows = sorted({e.start for e in events if e.layer == 0})
        if len(windows) == len(cue.words) and len(events) > 1:
            bounds = [w / 1000 for w in windows] + [end]
            words = tuple(Word(w.word, bounds[k], bounds[k + 1]) for k, w in enumerate(cue.words))
            cue = Cue(cue.start, cue.end, cue.lines, words)
        if scale:
            cue = Cue(cue.start, cue.end, cue.lines, cue.words, min(1.0, float(scale.group(1)) / 100))
        cues.append(cue)
    return tidy_cues(cues)


def _ass_lines(text: str) -> list[str]:
    text = _ASS_BLOCK.sub("", text).replace("\\h", "\u00a0")
    return [_ESCAPED_BACKSLASH.sub("\\\\", line) for line in re.split(r"\\[Nn]", text)]


def _from_json(text: str, path: Path) -> Transcript | list[Cue]:
    try:
        data = json.loads(text)
        if isinstance(data, dict) and "segments" in data:
            return Transcript.from_dict(data)
        items = data["cues"] if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise TypeError("expected a list of cues")
        return tidy_cues([_cue_from_dict(item) for item in items])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            f"{path.name}: not caption JSON ({exc.__class__.__name__}: {exc})",
            hint='expected a transcript ({"segments": [...]}) or cues ({"cues": [{"start", "end", "lines"}]})',
        ) from None


def _cue_from_dict(item: dict[str, Any]) -> Cue:
    start, end = float(item["start"]), float(item["end"])
    if not (math.isfinite(start) and math.isfinite(end)):
        raise ValueError("cue times must be numbers")
    lines = item["lines"] if "lines" in item else str(item["text"]).split("\n")
    if isinstance(lines, str):
        lines = lines.split("\n")
    words = [
        Word(str(w["word"]), float(w["start"]), float(w["end"]), float(w.get("probability", 1.0)))
        for w in item.get("words") or ()
    ]
    cue = cue_from_text(start, end, [str(x) for x in lines], [w for w in words if clean_text(w.word)])
    scale = float(item.get("font_scale", 1.0))
    speaker = item.get("speaker")  # a duet's: who says it (its colour); absent or null: the usual colour
    return Cue(cue.start, cue.end, cue.lines, cue.words, min(1.0, max(scale, 0.05)) if math.isfinite(scale) else 1.0,
               speaker if isinstance(speaker, int) and not isinstance(speaker, bool) and speaker in (0, 1) else None)
