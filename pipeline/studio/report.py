"""What the page says beside a finished video: the help-resources end card and the checks after render.

In: the finished video and its `.srt` sidecar (the captions as burnt in), the job's settings, the
end card mode and the comment. Out: notes `{"key", "level", "values"}` for `job.json`, which the
page turns into Finnish with `static/messages.fi.json`:

- `key`: a message key (`check.aspect_ratio`, `end_card.added`, ...);
- `level`: "problem" (a check failed: red), "warning" (amber), "info" or "ok";
- `values`: what the message fills in, numbers already written the Finnish way ("1,5"), lists of
  kinds and categories as keys (`kinds: ["phone"]` -> "puhelinnumero").

The checks are `check_video` (sound skipped, as `preflight_warnings`, which `make_reply` runs);
their English details are read only for their numbers, and a detail this module cannot read
becomes the generic `check.other` note, so the page never shows an English sentence as it is.
Personal data said aloud is looked for here with the config's [privacy] choices.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pipeline.config import Settings
from pipeline.errors import PipelineError
from pipeline.types import Cue, MediaInfo

log = logging.getLogger(__name__)

Level = Literal["problem", "warning", "info", "ok"]
Note = dict[str, Any]

# check.py's rule names -> the page's message keys (`check.<key>`, `checkname.<key>`).
CHECK_KEYS: dict[str, str] = {
    "container": "container",
    "video codec": "video_codec",
    "aspect ratio": "aspect_ratio",
    "width": "width",
    "frame rate": "frame_rate",
    "duration": "duration",
    "audio": "audio",
    "faststart": "faststart",
    "SDR": "sdr",
    "file size": "file_size",
    "loudness": "loudness",
    "true peak": "true_peak",
    "start": "start_silence",
    "personal data": "personal_data",
    "moderation words": "moderation_words",
    "reading speed": "reading_speed",
    "line length": "line_length",
}
_NUMBER = r"(\d+(?:\.\d+)?)"
_READING_SPEED = re.compile(rf"^(\d+) captions over {_NUMBER} characters/s \(first at {_NUMBER} s: (\d+)/s\)")
_LINE_LENGTH = re.compile(rf"^(\d+) captions with lines over (\d+) characters \(first at {_NUMBER} s\)")
_FIRST_TIME = re.compile(rf"^{_NUMBER} s:")


def render_report(output: Path, settings: Settings, *, mode: str, comment: str) -> list[Note]:
    """The notes for a video the studio just made.

    Args:
        output: the finished video; its `.srt` sidecar holds the captions burnt in (none: no captions).
        settings: the job's settings (the look, `[check]`, `[end_card]`, `[privacy]`).
        mode: the end card mode the render used ("auto", "always", "never").
        comment: the comment as given to the render.

    Returns:
        End card notes first, then one note per check that warned or failed (or one "all
        checks passed"), problems before warnings.
    """
    try:
        cues = sidecar_cues(output)
    except PipelineError as exc:
        log.warning("the captions of %s could not be read back: %s", output.name, exc.message)
        cues = None
    notes = end_card_notes(mode, comment, cues or [], settings)
    try:
        if cues is None:
            raise PipelineError("no captions to check")
        notes += check_notes(output, settings, cues)
    except PipelineError as exc:  # the video is made: say the checks could not run, never fail it
        log.warning("checks of %s could not run: %s", output.name, exc.message)
        notes.append(_note("check.failed", "warning"))
    return notes


def sidecar_cues(output: Path) -> list[Cue]:
    """The captions burnt into `output`, from the `.srt` `make_reply` wrote beside it.

    Raises:
        InputError: the sidecar is unreadable.
    """
    from pipeline.captions import read_caption_source

    srt = output.with_suffix(".srt")
    if not srt.is_file() or not srt.read_text(encoding="utf-8", errors="replace").strip():
        return []
    source = read_caption_source(srt)
    return source if isinstance(source, list) else []


def end_card_notes(mode: str, comment: str, cues: Sequence[Cue], settings: Settings) -> list[Note]:
    """Whether the help-resources end card is in the video, and why (`reply.end_card_decision`)."""
    from pipeline.comments import PERSONAL_RESPONSE, check_comment, mask_options
    from pipeline.reply import end_card_decision

    added, _ = end_card_decision(mode, comment, cues, mask_options(settings.privacy))
    options = mask_options(settings.privacy)
    where: list[str] = []
    categories: list[str] = []
    for name, text in (("comment", comment), ("captions", " ".join(c.text for c in cues))):
        found = [f.category for f in check_comment(text, options=options) if f.category in PERSONAL_RESPONSE] \
            if text.strip() else []
        if found:
            where.append(name)
            categories += [c for c in found if c not in categories]
    values: dict[str, Any] = {"seconds": fi_number(settings.end_card.duration),
                              "where": "both" if len(where) == 2 else (where[0] if where else ""),
                              "categories": categories}
    if added and mode == "always":
        return [_note("end_card.always", "info", values)]
    if added:
        return [_note("end_card.added" if where else "end_card.always", "warning", values)]
    if mode == "never" and where:
        return [_note("end_card.left_out", "warning", values)]
    return []


def check_notes(output: Path, settings: Settings, cues: Sequence[Cue]) -> list[Note]:
    """The checks after render as notes: problems, then warnings; "all passed" when none.

    Raises:
        PipelineError: the video (or its sidecar) cannot be read.
    """
    from pipeline.comments import find_personal_data_in_cues, mask_options
    from pipeline.video import check_video, probe

    report = check_video(output, settings, cues=cues, sound=False)
    media = probe(output)
    notes = [check_note(c.name, c.status, c.detail, media, settings) for c in report.checks
             if c.status in ("fail", "warn") and c.name != "personal data"]
    # check_video looks with the default masking choices; the studio's are the config's.
    found = find_personal_data_in_cues(cues, mask_options(settings.privacy))
    if found:
        notes.append(_note("check.personal_data", "problem", {
            "kinds": list(dict.fromkeys(f.finding.kind for f in found)), "at": clock(found[0].cue_start)}))
    notes.sort(key=lambda n: n["level"] != "problem")
    return notes or [_note("check.all_ok", "ok")]


def check_note(name: str, status: str, detail: str, media: MediaInfo, settings: Settings) -> Note:
    """One failed or warned check as a note with the values its Finnish message needs."""
    key = CHECK_KEYS.get(name)
    level: Level = "problem" if status == "fail" else "warning"
    values = _check_values(key, detail, media, settings) if key else None
    if key is None or values is None:
        return _note("check.other", level, {"check": key or "", "detail": detail})
    if key == "audio":
        key = "audio_codec" if media.has_audio else "audio_missing"
    return _note(f"check.{key}", level, values)


def _check_values(key: str, detail: str, media: MediaInfo, settings: Settings) -> dict[str, Any] | None:
    """The values of a check's message, from the video and the limits (None: the detail was not understood)."""
    from pipeline.comments import CATEGORY_NAMES

    lim = settings.check
    width, height = media.display_size
    if key in ("container", "video_codec", "audio", "faststart", "sdr", "loudness", "true_peak", "start_silence"):
        return {}
    if key == "aspect_ratio":
        return {"size": f"{width}×{height}"}
    if key == "width":
        return {"width": str(width), "min": str(lim.min_width)}
    if key == "frame_rate":
        return {"fps": fi_number(float(media.fps), 2).removesuffix(",00"), "max": str(lim.max_fps)}
    if key == "duration":
        return {"length": clock(media.duration), "max": clock(lim.max_duration)}
    if key == "file_size":
        return {"size": fi_number(media.path.stat().st_size / 1e6), "max": fi_number(lim.max_size_mb, 0)}
    if key == "reading_speed" and (m := _READING_SPEED.match(detail)):
        return {"n": m.group(1), "max": fi_number(float(m.group(2)), 0), "at": clock(float(m.group(3))),
                "cps": m.group(4)}
    if key == "line_length" and (m := _LINE_LENGTH.match(detail)):
        return {"n": m.group(1), "max": m.group(2), "at": clock(float(m.group(3)))}
    if key == "moderation_words" and (m := _FIRST_TIME.match(detail)):
        named = [c for c, english in CATEGORY_NAMES.items() if re.search(rf"\b{re.escape(english)}\b", detail)]
        return {"at": clock(float(m.group(1))), "categories": named} if named else None
    return None


def fi_number(value: float, digits: int = 1) -> str:
    """A number the Finnish way: "1,5" (a decimal comma)."""
    return f"{value:.{digits}f}".replace(".", ",")


def clock(seconds: float) -> str:
    """A time in the video as the page writes it: "0:07,5", "12:00,0"."""
    minutes, rest = divmod(round(max(seconds, 0.0), 1), 60)
    return f"{int(minutes)}:{rest:04.1f}".replace(".", ",")


def _note(key: str, level: Level, values: dict[str, Any] | None = None) -> Note:
    return {"key": key, "level": level, "values": values or {}}
