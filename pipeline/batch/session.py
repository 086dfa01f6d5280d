"""Recorded sessions: a long recording's `Transcript` -> proposed spans, one per answered question,
written as a draft manifest the user completes (comment text) and adjusts in a spreadsheet.

`suggest_spans(transcript)` is pure: it splits the speech on long pauses and on Finnish cue
phrases that start a new question ("seuraava kysymys", "joku kysyi", "sitten kysyttiin",
"kysyjä", a sentence opening with "kysymys..."), then merges pieces too short to be an answer.
`write_draft(...)` writes the semicolon CSV with a BOM that Excel opens in a Finnish locale.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.files import atomic_write
from pipeline.types import Transcript, Word

PAUSE = 2.5  # seconds of silence between two answers
MIN_SPAN = 3.0  # shorter pieces ("Joo.", "Seuraava kysymys.") are joined to a neighbour
LEAD_IN = 0.3  # seconds kept before the first word
TAIL = 0.6  # and after the last
NOTE_WORDS = 12
DRAFT_COLUMNS = ("clip", "start", "end", "comment", "user", "output", "captions", "notes")

# Cue phrases, as word prefixes (Finnish inflects: kysymys, kysymykseen, kysymyksiä).
# Multi-word cues count anywhere; one-word cues only where a sentence or a pause begins, so
# "hyvä kysymys" in the middle of an answer does not cut it.
_ANYWHERE: tuple[tuple[str, ...], ...] = (
    ("seuraava", "kysymy"), ("seuraavaksi", "kysymy"), ("seuraavaks", "kysymy"), ("toinen", "kysymy"),
    ("uusi", "kysymy"), ("viimeinen", "kysymy"), ("joku", "kysy"), ("moni", "kysy"), ("monet", "kysy"),
    ("sitten", "kysyttiin"), ("sit", "kysyttiin"), ("täällä", "kysytään"), ("chatissa", "kysytään"),
    ("chatissa", "kysyttiin"), ("kommenteissa", "kysytään"),
)
_AT_START: tuple[tuple[str, ...], ...] = (("kysymy",), ("kysyjä",), ("kysyttiin",), ("seuraava", "kysyjä"))
_FILLERS = frozenset({"ja", "no", "sitten", "sit", "okei", "ok", "niin", "mut", "mutta", "eli", "elikkä", "nyt",
                      "joo", "jes", "noni", "nonii", "sitte"})
_SENTENCE_PAUSE = 0.8  # a pause this long counts as a sentence start for one-word cues


@dataclass(frozen=True, slots=True)
class SpanSuggestion:
    """A proposed reply: a span of the recording and the first words said in it."""

    start: float
    end: float
    notes: str
    cue: str = ""  # the cue phrase that opened it, "" if a pause did


def _norm(word: str) -> str:
    return re.sub(r"[^\w]", "", word.lower())


def _matches(words: Sequence[Word], i: int, cue: tuple[str, ...]) -> bool:
    if i + len(cue) > len(words):
        return False
    return all(_norm(words[i + k].word).startswith(prefix) for k, prefix in enumerate(cue))


def find_cue(words: Sequence[Word], i: int, sentence_start: bool) -> tuple[int, str] | None:
    """A cue phrase beginning at word i (after fillers, at a sentence start): (start index, text)."""
    for cue in _ANYWHERE:
        if _matches(words, i, cue):
            return i, _cue_text(words[i:i + len(cue)])
    if not sentence_start:
        return None
    j = i
    while j < len(words) and j - i < 3 and _norm(words[j].word) in _FILLERS:
        j += 1
    for k in range(i, j + 1):
        for cue in _AT_START + _ANYWHERE:
            if _matches(words, k, cue):
                return i, _cue_text(words[i:k + len(cue)])
    return None


def _cue_text(words: Sequence[Word]) -> str:
    return " ".join(w.word for w in words).rstrip(".,:;!?")


def suggest_spans(transcript: Transcript, *, pause: float = PAUSE, min_span: float = MIN_SPAN) -> list[SpanSuggestion]:
    """Proposed spans of a recorded session, in order, not overlapping.

    Args:
        transcript: the whole recording's words with times.
        pause: a silence at least this long between two words starts a new span.
        min_span: pieces shorter than this join a neighbour (a cue-opened piece joins the next).
    """
    words = [w for w in transcript.words if w.word.strip()]
    if not words:
        return []
    # (first word index, cue text) of each piece
    starts: list[tuple[int, str]] = [(0, "")]
    sentence_start = True
    i = 0
    while i < len(words):
        gap = words[i].start - words[i - 1].end if i else math.inf
        new_sentence = sentence_start or gap >= _SENTENCE_PAUSE
        found = find_cue(words, i, new_sentence)
        if i and (gap >= pause or found):
            if starts[-1][0] != i:
                starts.append((i, found[1] if found else ""))
        elif found and i == 0:
            starts[0] = (0, found[1])
        sentence_start = words[i].word.rstrip('"”»)').endswith((".", "?", "!", ":"))
        i += 1
    pieces = [(s, (starts[n + 1][0] if n + 1 < len(starts) else len(words)), cue) for n, (s, cue) in enumerate(starts)]
    pieces = _merge_short(pieces, words, min_span)
    duration = transcript.duration or words[-1].end + TAIL
    spans: list[SpanSuggestion] = []
    for n, (first, stop, cue) in enumerate(pieces):
        start = max(0.0, words[first].start - LEAD_IN)
        if spans:
            start = max(start, spans[-1].end)
        end = words[stop - 1].end + TAIL
        if n + 1 < len(pieces):
            end = min(end, max(words[stop - 1].end, words[pieces[n + 1][0]].start - LEAD_IN))
        end = min(end, duration)
        text = " ".join(w.word for w in words[first:stop])
        notes = " ".join(text.split()[:NOTE_WORDS]) + (" …" if stop - first > NOTE_WORDS else "")
        spans.append(SpanSuggestion(round(math.floor(start * 10) / 10, 1), round(math.ceil(end * 10) / 10, 1),
                                    notes, cue))
    return spans


def _merge_short(pieces: list[tuple[int, int, str]], words: Sequence[Word], min_span: float
                 ) -> list[tuple[int, int, str]]:
    def length(piece: tuple[int, int, str]) -> float:
        return words[piece[1] - 1].end - words[piece[0]].start

    merged: list[tuple[int, int, str]] = []
    carry: tuple[int, int, str] | None = None  # a short cue-opened piece waiting for its answer
    for piece in pieces:
        if carry is not None:
            piece, carry = (carry[0], piece[1], carry[2]), None
        if length(piece) >= min_span:
            merged.append(piece)
        elif piece[2]:
            carry = piece  # "Seuraava kysymys." then a pause: the answer follows
        elif merged:
            last = merged.pop()
            merged.append((last[0], piece[1], last[2]))
        else:
            carry = piece
    if carry is not None:
        if merged:
            last = merged.pop()
            merged.append((last[0], carry[1], last[2]))
        else:
            merged.append(carry)
    return merged


def format_clock(seconds: float) -> str:
    """mm:ss.s (or h:mm:ss.s), as the manifest reads it back."""
    tenths = int(math.floor(seconds * 10 + 0.5))
    hours, rest = divmod(tenths, 36000)
    minutes, rest = divmod(rest, 600)
    text = f"{minutes:02d}:{rest // 10:02d}.{rest % 10}"
    return f"{hours}:{text}" if hours else text


def draft_csv(recording: Path, csv_path: Path, spans: Sequence[SpanSuggestion], captions: str = "auto") -> str:
    """The draft manifest's text: semicolons, CRLF; the clip relative to the CSV's folder."""
    try:
        clip = Path(os.path.relpath(recording.resolve(), csv_path.resolve().parent)).as_posix()
    except ValueError:  # another drive on Windows
        clip = str(recording.resolve())
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(DRAFT_COLUMNS)
    for span in spans:
        writer.writerow([clip, format_clock(span.start), format_clock(span.end), "", "", "", captions, span.notes])
    return buffer.getvalue()


def write_draft(recording: Path, csv_path: Path, spans: Sequence[SpanSuggestion], captions: str = "auto") -> None:
    """Write the draft manifest as UTF-8 with a BOM (so Finnish Excel shows ä and ö), atomically."""
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(csv_path, draft_csv(recording, csv_path, spans, captions), encoding="utf-8-sig")


def suggest_session(recording: Path, csv_path: Path, transcript: Transcript, **options: Any) -> list[SpanSuggestion]:
    """Spans of `transcript` (the recording's) written as a draft manifest at `csv_path`."""
    spans = suggest_spans(transcript, **options)
    write_draft(recording, csv_path, spans)
    return spans
