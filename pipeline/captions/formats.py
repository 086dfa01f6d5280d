"""The one registry of caption file formats, by suffix (as pysubs2's `formats/` does).

Every choice made by a caption file's type (can it be read back, written as a sidecar, given to
`sossut transcribe -o`, named in a batch manifest) looks here, so a format is added in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

FormatName = Literal["json", "srt", "vtt", "ass"]


@dataclass(frozen=True, slots=True)
class CaptionFormat:
    """One caption file format."""

    name: FormatName
    suffix: str          # ".srt"
    description: str     # for help texts and errors
    sidecar: bool        # plain subtitles written beside a video (`--sidecar`)


FORMATS: dict[str, CaptionFormat] = {
    f.suffix: f
    for f in (
        CaptionFormat("json", ".json", "transcript with word times (DESIGN.md's schema) or cues", sidecar=False),
        CaptionFormat("srt", ".srt", "SubRip subtitles", sidecar=True),
        CaptionFormat("vtt", ".vtt", "WebVTT subtitles", sidecar=True),
        CaptionFormat("ass", ".ass", "Advanced SubStation (burn-in, with the spoken word highlighted)", sidecar=False),
    )
}
SUFFIXES: tuple[str, ...] = tuple(FORMATS)
SIDECAR_SUFFIXES: tuple[str, ...] = tuple(s for s, f in FORMATS.items() if f.sidecar)


def caption_format(path: Path | str) -> CaptionFormat | None:
    """The format of a caption file by its suffix (any case), or None if it is not one."""
    return FORMATS.get(Path(path).suffix.lower())


def suffix_list(suffixes: tuple[str, ...] = SUFFIXES) -> str:
    """'.json, .srt, .vtt or .ass' for messages."""
    return ", ".join(suffixes[:-1]) + " or " + suffixes[-1] if len(suffixes) > 1 else suffixes[0]
