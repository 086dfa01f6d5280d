"""Captions stage: `Transcript` -> `Cue`s (Finnish layout, hyphenation, safe zone) -> ASS / SRT /
VTT / JSON files, and caption files -> `Cue`s.

- `layout`: cue and line breaks, timing; `text`: cleaning, font measurement, long words;
- `hyphen`: Finnish hyphenation; `read`: caption files in; `write`: ASS, SRT, VTT, JSON out;
- `formats`: the one registry of caption formats by suffix.
"""

from pipeline.captions.formats import FORMATS, SIDECAR_SUFFIXES, SUFFIXES, CaptionFormat, caption_format
from pipeline.captions.read import read_caption_source, read_captions
from pipeline.captions.write import export_transcript, layout_cues, shift_cues, write_ass, write_json, write_subtitles

__all__ = ["FORMATS", "SIDECAR_SUFFIXES", "SUFFIXES", "CaptionFormat", "caption_format", "export_transcript", "layout_cues", "read_caption_source", "read_captions", "shift_cues", "write_ass", "write_json", "write_subtitles"]
