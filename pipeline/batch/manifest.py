"""Batch manifest: a CSV, JSON or YAML file -> checked `ManifestRow`s and a list of bad rows.

A manifest has one row per reply video with the columns `clip, comment, user, avatar, start,
end, output, captions, show_user, end_card, duet, offset` (only `clip` and `comment` are required;
a `notes` column and other unknown columns are ignored). A `clip` cell may name several clips,
joined in order into one reply, separated by `|` (`sanna.mp4 | mikko.mp4`; in JSON and YAML also a
list); a cell that names one existing file is that file, `|` or not. The `start` and `end` cells of
such a row hold one time per clip in the same way (`3 | 0`, ` | 41.5`; empty: the clip's start or
end). A `duet` cell (`stack`, or yes for the config's layout) makes a row of exactly two clips one
duet (A above B, lined up by their sound, or by the `offset` cell: seconds after A that B started). CSV may use commas, semicolons or tabs and be UTF-8
with or without a BOM (Excel "CSV UTF-8") or Windows-1252 (Excel's plain "CSV" in a Finnish
locale). JSON is a list of objects (or `{"rows": [...]}`); YAML likewise.

Row numbers are what a spreadsheet shows: in a CSV the header is row 1, so the first video is
row 2; in JSON and YAML the first item is row 1. Every row is checked before any work starts
(`load_manifest`); nothing here runs ffmpeg or opens a video.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path, PureWindowsPath
from typing import Any

from pipeline.batch.cells import BAR, Span, clip_spans, parse_bool, parse_duet, parse_offset
from pipeline.captions import caption_format
from pipeline.errors import InputError
from pipeline.files import csv_delimiter, decode_text, is_inside, read_bytes
from pipeline.types import VIDEO_SUFFIXES

COLUMNS = ("clip", "comment", "user", "avatar", "start", "end", "output", "captions", "show_user", "end_card",
           "duet", "offset")
REQUIRED = ("clip", "comment")
CAPTION_MODES = ("auto", "none")
CLIP_SEPARATOR = f" {BAR} "  # between the clips of a row joined into one reply (or a duet's two)
END_CARD_MODES = ("auto", "always", "never")
_ALIASES = {"show user": "show_user", "show-user": "show_user", "showuser": "show_user",
            "end card": "end_card", "end-card": "end_card"}


@dataclass(frozen=True, slots=True)
class ManifestRow:
    """One checked row: absolute paths, times in seconds, the output inside the out dir."""

    row: int
    clip: Path
    comment: str
    output: Path
    user: str = ""
    avatar: Path | None = None
    start: float | None = None
    end: float | None = None  # None: to the end of the clip
    captions: str = "none"  # "auto", "none" or an absolute path to SRT/VTT/JSON/ASS
    show_user: bool | None = None  # None: config's card.show_user
    end_card: str | None = None  # help-resources end card: auto | always | never; None: config's end_card.mode
    output_name: str = ""  # the output relative to the out dir, with "/" (report and resume key)
    more_clips: tuple[Path, ...] = ()  # clips joined after `clip`, in order (a duet: B)
    more_spans: tuple[Span, ...] = ()  # (start, end) of each of `more_clips`, None: its start/end; (): all whole
    duet: bool = False  # `clip` (A) above `more_clips[0]` (B), lined up, instead of one after the other
    layout: str | None = None  # the duet's layout; None: config's duet.layout
    offset: float | None = None  # seconds after A that B started; None: found from their sound

    @property
    def has_span(self) -> bool:
        """The first clip is cut (`start` or `end`)."""
        return self.start is not None or self.end is not None

    @property
    def spans(self) -> tuple[Span, ...]:
        """Each clip's (start, end), in order; None: the clip's start or end."""
        rest = self.more_spans or tuple((None, None) for _ in self.more_clips)
        return ((self.start, self.end), *rest)

    @property
    def clips(self) -> tuple[Path, ...]:
        """Every clip of the row, in order."""
        return (self.clip, *self.more_clips)

    @property
    def clip_text(self) -> str:
        """The clips as the report shows them: "a.mp4 | b.mp4"."""
        return CLIP_SEPARATOR.join(str(c) for c in self.clips)


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that cannot be run, and why (all reasons, joined with "; ")."""

    row: int
    reason: str
    clip: str = ""


@dataclass(frozen=True, slots=True)
class Manifest:
    path: Path
    out_dir: Path
    rows: tuple[ManifestRow, ...]
    invalid: tuple[RowProblem, ...] = ()
    notes: tuple[str, ...] = ()  # things worth telling the user (ignored columns, encoding)


def read_records(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The manifest's records as (row number, {column: text}), and notes for the user.

    Raises:
        InputError: the file is missing, unreadable, of an unknown kind, or lacks required columns.
    """
    data = read_bytes(path, "manifest")
    suffix = path.suffix.lower()
    notes: list[str] = []
    if suffix in (".json",):
        records = _from_items(_load_structured(path, data, "json"))
    elif suffix in (".yaml", ".yml"):
        records = _from_items(_load_structured(path, data, "yaml"))
    elif suffix in (".csv", ".txt", ".tsv"):
        text, encoding = decode_text(data, path.name)
        if encoding != "UTF-8":
            notes.append(f"read {path.name} as {encoding} (save it as 'CSV UTF-8' to be sure of ä and ö)")
        records = _from_csv(text)
    else:
        raise InputError(f"{path.name}: unknown manifest type", hint="use a .csv, .json or .yaml file")
    if not records:
        raise InputError(f"{path.name}: the manifest has no rows")
    columns = {key for _, rec in records for key in rec}
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InputError(
            f"{path.name}: the manifest has no column {', '.join(missing)}",
            hint=f"the first row names the columns: {', '.join(COLUMNS)}",
        )
    unknown = sorted(columns - set(COLUMNS) - {"notes"})
    if unknown:
        notes.append(f"ignoring unknown columns: {', '.join(unknown)} (known: {', '.join(COLUMNS)})")
    return records, notes


def _column(name: str) -> str:
    key = " ".join(str(name).replace("\ufeff", "").split()).lower()
    return _ALIASES.get(key, key)


def _from_csv(text: str) -> list[tuple[int, dict[str, str]]]:
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=csv_delimiter(text)))
    # Row numbers count every record, blank ones too, as a spreadsheet shows them.
    header_at = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), None)
    if header_at is None:
        return []
    header = [_column(c) for c in rows[header_at]]
    records = []
    for index in range(header_at + 1, len(rows)):
        cells = rows[index]
        if not any(c.strip() for c in cells):
            continue
        record = {h: c.strip() for h, c in zip(header, cells) if h}
        records.append((index + 1, record))
    return records


def _load_structured(path: Path, data: bytes, kind: str) -> Any:
    text, _ = decode_text(data, path.name)
    try:
        if kind == "json":
            return json.loads(text)
        import yaml

        return yaml.safe_load(text)
    except ValueError as exc:  # json.JSONDecodeError
        raise InputError(f"{path.name}: not valid JSON ({exc})") from None
    except Exception as exc:  # yaml.YAMLError and its many subclasses
        raise InputError(f"{path.name}: not valid YAML ({exc})") from None


def _from_items(items: Any) -> list[tuple[int, dict[str, str]]]:
    if isinstance(items, dict) and isinstance(items.get("rows"), list):
        items = items["rows"]
    if not isinstance(items, list):
        raise InputError("the manifest must be a list of rows (objects with clip, comment, ...)")
    records = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            records.append((number, {"__error__": "not an object with clip, comment, ... keys"}))
            continue
        records.append((number, {_column(k): _text(v) for k, v in item.items()}))
    return records


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):  # several clips: "clip": ["a.mp4", "b.mp4"]
        return CLIP_SEPARATOR.join(_text(v) for v in value)
    return str(value).strip()


def load_manifest(path: Path, out_dir: Path, *, default_captions: str = "none",
                  default_end_card: str | None = None) -> Manifest:
    """Read and check every row of a manifest.

    Args:
        path: the manifest; relative paths inside it are relative to its folder.
        out_dir: where the outputs go; outputs must stay inside it.
        default_captions: captions of rows that leave the column empty ("auto" or "none").
        default_end_card: end card of rows that leave the column empty (None: config's).

    Returns:
        The runnable rows and the invalid ones (row number and every reason).

    Raises:
        InputError: the manifest itself cannot be read (see `read_records`).
    """
    records, notes = read_records(path)
    base = path.resolve().parent
    out_root = out_dir.resolve()
    rows: list[ManifestRow] = []
    problems: dict[int, list[str]] = {}
    clips: dict[int, str] = {}
    for number, record in records:
        reasons: list[str] = []
        row = _check_row(number, record, base, out_root, default_captions, reasons)
        end_card = _end_card(record.get("end_card", ""), default_end_card, reasons)
        if row is not None:
            row = replace(row, end_card=end_card)
        clips[number] = record.get("clip", "")
        if reasons:
            problems[number] = reasons
        elif row is not None:
            rows.append(row)
    _check_outputs(rows, problems)
    good = tuple(r for r in rows if r.row not in problems)
    invalid = tuple(RowProblem(n, "; ".join(problems[n]), clips.get(n, "")) for n in sorted(problems))
    return Manifest(path=path, out_dir=out_dir, rows=good, invalid=invalid, notes=tuple(notes))


def _user_path(text: str, base: Path) -> Path:
    if "\\" in text and "/" not in text:
        text = PureWindowsPath(text).as_posix()  # written on Windows: clips\a.mp4
    path = Path(text).expanduser()
    return path if path.is_absolute() else base / path


def _check_row(number: int, rec: dict[str, str], base: Path, out_root: Path, default_captions: str,
               reasons: list[str]) -> ManifestRow | None:
    if "__error__" in rec:
        reasons.append(rec["__error__"])
        return None
    clip_text = rec.get("clip", "")
    clip = None
    clips: list[Path] = []
    if not clip_text:
        reasons.append("no clip")
    else:
        for text in _clip_texts(clip_text, base, reasons):
            path = _user_path(text, base)
            clips.append(path)
            if not path.is_file():
                reasons.append(f"clip {text} not found" if not path.exists() else f"clip {text} is not a file")
        clip = clips[0] if clips else None
    comment = rec.get("comment", "")
    if not comment.strip():
        reasons.append("no comment")
    spans = clip_spans(rec.get("start", ""), rec.get("end", ""), max(1, len(clips)), reasons)
    duet, layout, offset = _duet(rec, len(clips), reasons)
    if duet and any(s != (None, None) for s in spans):
        reasons.append("a duet row uses the time both recordings cover: leave start and end empty")
    avatar = None
    if rec.get("avatar"):
        avatar = _user_path(rec["avatar"], base)
        if not avatar.is_file():
            reasons.append(f"avatar {rec['avatar']} not found")
    captions = (rec.get("captions") or default_captions).strip()
    if captions.lower() in CAPTION_MODES:
        captions = captions.lower()
    else:
        file = _user_path(captions, base)
        if caption_format(file) is None:
            reasons.append(f"captions {captions!r}: use auto, none or a .srt/.vtt/.json/.ass file")
        elif not file.is_file():
            reasons.append(f"captions file {captions} not found")
        captions = str(file)
    show_user = None
    try:
        show_user = parse_bool(rec.get("show_user", ""))
    except ValueError as exc:
        reasons.append(f"show_user: {exc}")
    output = _check_output(number, rec.get("output", ""), clip, out_root, reasons)
    if reasons or clip is None or output is None:
        return None
    (start, end), *more_spans = spans
    return ManifestRow(row=number, clip=clip, comment=comment, output=out_root / output, user=rec.get("user", ""),
                       avatar=avatar, start=start, end=end, captions=captions, show_user=show_user,
                       output_name=output, more_clips=tuple(clips[1:]),
                       more_spans=tuple(more_spans) if any(s != (None, None) for s in more_spans) else (),
                       duet=duet, layout=layout, offset=offset)


def _duet(rec: dict[str, str], clips: int, reasons: list[str]) -> tuple[bool, str | None, float | None]:
    """The `duet` and `offset` cells: (a duet?, its layout or None, the offset or None)."""
    offset = None
    if rec.get("offset", "").strip():
        try:
            offset = parse_offset(rec["offset"])
        except ValueError as exc:
            reasons.append(f"offset: {exc}")
    try:
        duet, layout = parse_duet(rec.get("duet", ""))
    except ValueError as exc:
        reasons.append(f"duet {exc}")
        return False, None, None
    if not duet and rec.get("offset", "").strip():
        reasons.append("offset lines up the two recordings of a duet row: write stack in its duet column, "
                       "or leave offset empty")
    if duet and clips and clips != 2:
        reasons.append(f"a duet row needs exactly two clips, A | B; this one names {clips}")
    return duet, layout, offset


def _clip_texts(cell: str, base: Path, reasons: list[str]) -> list[str]:
    """The clips named in a `clip` cell: one, or several separated by `|`."""
    if BAR not in cell or _user_path(cell, base).is_file():
        return [cell]
    texts = [t.strip() for t in cell.split(BAR)]
    if not all(texts):
        reasons.append(f"clip {cell!r}: a clip name is missing between the | signs")
        return []
    return texts


def _end_card(text: str, default: str | None, reasons: list[str]) -> str | None:
    value = text.strip().lower()
    if not value:
        return default
    if value not in END_CARD_MODES:
        reasons.append(f"end_card {text!r}: use {', '.join(END_CARD_MODES)} or leave it empty")
        return None
    return value


def default_output_name(row: int, clip: Path) -> str:
    """`003_clipname.mp4`: the row number keeps names apart when rows share a recording."""
    stem = re.sub(r"[^\w.-]+", "_", clip.stem, flags=re.UNICODE).strip("._") or "clip"
    return f"{row:03d}_{stem}.mp4"


def _check_output(number: int, text: str, clip: Path | None, out_root: Path, reasons: list[str]) -> str | None:
    """The output's name relative to the out dir, or None (with the reason) if it may not be written."""
    if not text:
        return default_output_name(number, clip or Path("clip"))
    name = PureWindowsPath(text).as_posix() if "\\" in text else text
    relative = Path(name)
    if relative.is_absolute() or PureWindowsPath(text).drive or name.startswith("~"):
        reasons.append(f"output {text} is an absolute path; give a name inside the out dir, like vastaus1.mp4")
        return None
    if ".." in relative.parts:
        reasons.append(f"output {text} leaves the out dir (..); give a name inside it, like vastaus1.mp4")
        return None
    if relative.suffix.lower() not in VIDEO_SUFFIXES:
        reasons.append(f"output {text} must end in .mp4")
        return None
    target = out_root / relative
    if not is_inside(target, out_root):  # a symlinked folder inside the out dir pointing out of it
        reasons.append(f"output {text} leads out of the out dir (a link?)")
        return None
    return relative.as_posix()


def path_key(path: Path) -> str:
    """A comparison key that treats Rauma.mp4, rauma.MP4 and decomposed ä as one file."""
    return unicodedata.normalize("NFC", os.path.realpath(path)).casefold()


def _check_outputs(rows: list[ManifestRow], problems: dict[int, list[str]]) -> None:
    """Two rows may not write one file; no output may overwrite any row's input."""
    inputs: dict[str, tuple[int, str, Path]] = {}
    for row in rows:
        named = [("clip", c) for c in row.clips] + [("avatar", row.avatar), ("captions file", _caption_file(row))]
        for what, path in named:
            if path is not None:
                inputs.setdefault(path_key(path), (row.row, what, path))
    writers: dict[str, int] = {}
    for row in rows:
        key = path_key(row.output)
        reasons = problems.setdefault(row.row, [])
        if key in inputs:
            other, what, path = inputs[key]
            reasons.append(f"output {_shown(row)} would overwrite the {what} of row {other} ({path.name})")
        elif row.output.exists() and any(
            p.exists() and os.path.samefile(row.output, p) for _, _, p in inputs.values()
        ):
            reasons.append(f"output {_shown(row)} is the same file as an input (a link?)")
        if key in writers:
            reasons.append(f"output {_shown(row)} is also written by row {writers[key]}")
        else:
            writers[key] = row.row
        if not reasons:
            del problems[row.row]


def _caption_file(row: ManifestRow) -> Path | None:
    return None if row.captions in CAPTION_MODES else Path(row.captions)


def _shown(row: ManifestRow) -> str:
    return row.output_name
