"""Manifest cells -> values: times, yes/no, a duet's layout and offset, one time per clip.

Each parser takes the text of one cell, as a spreadsheet in a Finnish locale writes it
(decimal comma, thin-space digit groups, a Unicode minus), and gives back the value or says
in a `ValueError` (or a reason appended to a list) what is wrong, naming the column.
Nothing here reads files.
"""

from __future__ import annotations

import math
import re

from pipeline.config import allowed_values

BAR = "|"  # between the values of a row's clips: "sanna.mp4 | mikko.mp4", "3 | 0"
_TRUE = ("true", "yes", "1", "kyllä", "kylla", "k", "x", "on")
_FALSE = ("false", "no", "0", "ei", "e", "off", "")
_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:[.,]\d*)?)$")
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-"})  # Excel's minus sign, an en dash

Span = tuple[float | None, float | None]  # start, end of one clip; None: its start / its end


def parse_time(text: str) -> float:
    """Seconds from "12.5", "12,5" (Finnish decimal comma), "mm:ss(.s)" or "hh:mm:ss(.s)".

    Raises:
        ValueError: not a time, negative, or minutes/seconds of 60 or more in a clock time.
    """
    value = text.strip().replace("\u2009", "").replace(" ", "")
    match = _CLOCK.match(value)
    if match:
        hours, minutes, seconds = match.group(1), match.group(2), match.group(3).replace(",", ".")
        if float(seconds) >= 60 or (hours is not None and int(minutes) >= 60):
            raise ValueError(f"{text!r} is not a time (minutes and seconds go up to 59)")
        return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    try:
        seconds_value = float(value.replace(",", "."))
    except ValueError:
        raise ValueError(f"{text!r} is not a time (write 12.5, 12,5, 01:30 or 1:02:03.5)") from None
    if not math.isfinite(seconds_value) or seconds_value < 0:
        raise ValueError(f"{text!r} is not a time (it must be 0 or more seconds)")
    return seconds_value


def parse_bool(text: str) -> bool | None:
    """true/false, kyllä/ei, yes/no, 1/0, x; empty is None.

    Raises:
        ValueError: anything else.
    """
    value = text.strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{text!r} is not true/false (kyllä/ei)")


def parse_offset(text: str) -> float:
    """Seconds, signed, from "1.5", "+1,5", "-0.7" or "−0,7" (a spreadsheet's minus sign).

    Raises:
        ValueError: not a finite number of seconds.
    """
    value = text.strip().translate(_MINUS).replace("\u2009", "").replace(" ", "").replace(",", ".")
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds):
        raise ValueError(f"{text!r} is not a number of seconds (write 1.5, 1,5 or -0.7)")
    return seconds


def parse_duet(text: str) -> tuple[bool, str | None]:
    """The `duet` cell: (is the row a duet, its layout; None: the config's [duet] layout).

    Empty (or no/ei) is not a duet: the row's clips are joined. A layout name ("stack", and any
    other the config allows) or yes/kyllä/x makes the row a duet of its two clips.

    Raises:
        ValueError: anything else (the message lists the layouts).
    """
    value = text.strip().lower()
    layouts = allowed_values("duet.layout")
    if value in layouts:
        return True, value
    try:
        flag = parse_bool(value)
    except ValueError:
        flag = None
        if value:
            raise ValueError(f"{text!r}: use a layout ({', '.join(layouts)}), yes for the config's layout, "
                             "or leave it empty to join the clips one after the other") from None
    return bool(flag), None


def clip_spans(start: str, end: str, clips: int, reasons: list[str]) -> list[Span]:
    """Each clip's (start, end) from the `start` and `end` cells, or [] with the reasons why not.

    With one clip a cell holds one time. With several it holds one per clip, in order,
    separated by `|`; an empty value is the clip's start (or end): `3 | 0` and ` | 41.5`.
    An empty cell leaves every clip whole.
    """
    before = len(reasons)
    starts = _times("start", start, clips, reasons)
    ends = _times("end", end, clips, reasons)
    if len(reasons) > before:
        return []
    spans: list[Span] = list(zip(starts, ends))
    for index, (first, last) in enumerate(spans, start=1):
        which = f"clip {index}: " if clips > 1 else ""
        if first is not None and last is not None and first >= last:
            reasons.append(f"{which}start {_value(start, index, clips)} is not before end {_value(end, index, clips)}")
        elif last is not None and first is None and last <= 0:
            reasons.append(f"{which}end must be after 0")
    return spans if len(reasons) == before else []


def _times(column: str, cell: str, clips: int, reasons: list[str]) -> list[float | None]:
    """One time (or None) per clip from a `start` or `end` cell."""
    if not cell.strip():
        return [None] * clips
    texts = [t.strip() for t in cell.split(BAR)] if BAR in cell else [cell]
    if len(texts) != clips:
        values = f"{len(texts)} value{'s' if len(texts) != 1 else ''}"
        reasons.append(f"{column} {cell!r} has {values} for {clips} clip{'s' if clips != 1 else ''}: give one "
                       f"per clip in the clip column's order, separated by |, empty for the clip's "
                       f"{'start' if column == 'start' else 'end'} (e.g. {'3 | 0' if column == 'start' else ' | 41.5'})")
        return [None] * clips
    times: list[float | None] = []
    for index, text in enumerate(texts, start=1):
        if not text:
            times.append(None)
            continue
        try:
            times.append(parse_time(text))
        except ValueError as exc:
            reasons.append(f"{column} of clip {index}: {exc}" if clips > 1 else f"{column}: {exc}")
            times.append(None)
    return times


def _value(cell: str, index: int, clips: int) -> str:
    return cell.split(BAR)[index - 1].strip() if clips > 1 else cell.strip()
