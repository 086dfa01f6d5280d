"""Words -> caption cues: where each cue starts and ends, and how its text wraps into lines.

Takes the recognised words and the caption limits (`CaptionSettings`), gives back `Cue`s that
are sorted, never overlap, and keep every word (with its times) so the highlight can follow
the speech. `pipeline.captions.write.layout_cues` is the public entry point.

How it decides:

* Widths come from `text` (the bundled font, as libass draws it). A line holds at most
  `max_chars_per_line` characters (the reading limit) and never more pixels than the safe
  width (canvas minus the safe margins, the outline and the shadow).
* A word too wide for a line makes its cue use a smaller font (`Cue.font_scale`, never below
  `min_font_scale`), or is hyphenated into pieces (see `text`); a line always ends
  after such a piece, and a cue rarely does.
* Cue boundaries are chosen by dynamic programming over the word stream: a pause longer than
  `pause_break` always ends a cue; sentence ends are the best place to end one, then segment
  ends, commas and shorter pauses; cues that could not stay up `min_duration` or would be read
  faster than `max_cps` cost extra. Lines inside a cue are balanced (the break nearest the
  middle that keeps every line within the limits, a comma preferred when it is as good).
* Timing: a cue starts with its first word and ends with its last, then is extended into the
  following silence (never past the next cue) until it lasts `min_duration` and its text can
  be read at `max_cps`; it never lasts more than `max_duration`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.captions.text import Limits, TextMeasure, Token, clean_text, clean_words, make_tokens, spread_words
from pipeline.config import CaptionSettings, SafeZone
from pipeline.types import Cue, Transcript, Word

# A gap shorter than this between two cues is closed (the first cue stays up until the next
# starts) so captions do not flicker off and on between phrases.
FLICKER_GAP = 0.2
# Shortest cue the writers can represent (ASS has centisecond times).
MIN_CUE = 0.02
_CLOSERS = "\"'”’»)]"
_SENTENCE_END = (".", "!", "?", "…")
_PHRASE_END = (",", ";", ":", "–", "—")
# Conjunctions and relative pronouns start a clause: break before them, not after.
_CLAUSE_STARTERS = frozenset(
    {"ja", "että", "mutta", "tai", "vai", "kun", "jos", "koska", "vaikka", "niin", "sekä", "eli", "joka",
     "jotka", "mikä", "mitkä", "missä", "jossa", "kuin", "jotta", "ettei", "jolloin", "sillä", "mut", "ku"}
)
# Finnish abbreviations that end in "." without ending a sentence.
_ABBREVIATIONS = frozenset(
    {"esim.", "mm.", "ns.", "jne.", "yms.", "tms.", "ym.", "ts.", "n.", "ks.", "vrt.", "klo."}
)


def ends_sentence(text: str) -> bool:
    bare = text.rstrip(_CLOSERS)
    if not bare.endswith(_SENTENCE_END):
        return False
    # "esim." or an ordinal "3." does not end a sentence
    return not (bare.lower() in _ABBREVIATIONS or bare[:-1].isdigit())


def ends_phrase(text: str) -> bool:
    return text.rstrip(_CLOSERS).endswith(_PHRASE_END)


@dataclass(slots=True)
class _LineFill:
    """Greedy line filling: the fewest lines the tokens need (lines never break a token)."""

    max_px: float
    lim: Limits
    lines: int = 0
    px: float = 0.0
    chars: int = 0
    after_hyphen: bool = False

    def add(self, tok: Token) -> None:
        px = self.px + self.lim.space_px + tok.px
        chars = self.chars + 1 + tok.chars
        if self.lines == 0 or self.after_hyphen or px > self.max_px or chars > self.lim.max_chars:
            self.lines += 1
            self.px, self.chars = tok.px, tok.chars
        else:
            self.px, self.chars = px, chars
        self.after_hyphen = tok.hyphen


def group_tokens(tokens: Sequence[Token], lim: Limits, time_limit: float) -> list[tuple[int, int]]:
    """Split the token stream into cues: (first, last) index pairs, by least total cost."""
    n = len(tokens)
    forced = [k < n - 1 and tokens[k + 1].word.start - tokens[k].word.end > lim.pause_break for k in range(n)]
    sentence = [ends_sentence(t.text) for t in tokens]
    # Prefix sums of what a cue should rather end at than contain: sentence ends and commas.
    inner = [0.0]
    for k in range(n):
        inner.append(inner[-1] + (4.0 if sentence[k] else 2.0 if ends_phrase(tokens[k].text) else 0.0))
    best = [math.inf] * (n + 1)
    back = [0] * (n + 1)
    best[0] = 0.0
    for i in range(n):
        if best[i] == math.inf:
            continue
        scale = 1.0
        fill = _LineFill(lim.max_px, lim)
        chars = -1
        for j in range(i, n):
            tok = tokens[j]
            chars += tok.chars + 1
            if tok.scale < scale:
                scale = tok.scale
                fill = _LineFill(lim.max_px / scale, lim)
                for prior in tokens[i : j + 1]:
                    fill.add(prior)
            else:
                fill.add(tok)
            if fill.lines > lim.max_lines or (j > i and tok.word.end - tokens[i].word.start > lim.max_duration):
                break
            cost = _cue_cost(tokens, i, j, lim, time_limit, chars, scale)
            cost += _break_cost(tokens, j, sentence[j], forced[j]) + inner[j] - inner[i]
            if best[i] + cost < best[j + 1]:
                best[j + 1] = best[i] + cost
                back[j + 1] = i
            if forced[j]:
                break
    groups: list[tuple[int, int]] = []
    k = n
    while k > 0:
        groups.append((back[k], k - 1))
        k = back[k]
    return groups[::-1]


def _break_cost(tokens: Sequence[Token], j: int, sentence: bool, forced: bool) -> float:
    """Cost of ending a cue after token j."""
    if j == len(tokens) - 1 or sentence or forced:
        return 0.0
    tok = tokens[j]
    if tok.hyphen:
        return 7.0  # a word split over two cues is harder to read than a phrase split
    if tok.segment_end:
        return 1.0
    if ends_phrase(tok.text):
        return 0.5
    gap = tokens[j + 1].word.start - tok.word.end
    if tok.text.lower() in _CLAUSE_STARTERS:
        return 8.0
    if gap > 0.15:
        return 2.5
    return 3.0 if tokens[j + 1].text.lower() in _CLAUSE_STARTERS else 6.0


def _cue_cost(tokens: Sequence[Token], i: int, j: int, lim: Limits, time_limit: float, chars: int, scale: float) -> float:
    start = tokens[i].word.start
    next_start = tokens[j + 1].word.start if j + 1 < len(tokens) else time_limit
    available = min(next_start - start, lim.max_duration)
    cost = 1.0
    if available < MIN_CUE:
        return cost + 1000.0
    cost += 20.0 * max(0.0, lim.min_duration - available)
    cost += 0.3 * max(0.0, chars / available - lim.max_cps)
    if scale < 1.0 and j > i:
        cost += 2.0  # other words shrink with the long one
    return cost


def break_lines(tokens: Sequence[Token], scale: float, lim: Limits) -> list[list[Token]]:
    """Balanced lines for one cue: the fewest lines, then the most even widths.

    A line breaks after every hyphenated piece; a comma or sentence end is preferred as the
    break when it is about as balanced as the best.
    """
    max_px = lim.max_px / scale
    fill = _LineFill(max_px, lim)
    for tok in tokens:
        fill.add(tok)
    count = fill.lines
    m = len(tokens)
    if count <= 1:
        return [list(tokens)]
    px = [0.0]
    ch = [0]
    for tok in tokens:
        px.append(px[-1] + tok.px)
        ch.append(ch[-1] + tok.chars)

    def line_cost(a: int, b: int) -> float:
        if any(t.hyphen for t in tokens[a : b - 1]):
            return math.inf
        width = px[b] - px[a] + (b - a - 1) * lim.space_px
        if b - a > 1 and (width > max_px or ch[b] - ch[a] + b - a - 1 > lim.max_chars):
            return math.inf
        cost = (width / max_px) ** 2
        if b < m:
            text = tokens[b - 1].text
            cost -= 0.1 if ends_sentence(text) else 0.05 if ends_phrase(text) else 0.0
        return cost

    # table[l][b]: cheapest way to set tokens[:b] in l lines.
    table = [[math.inf] * (m + 1) for _ in range(count + 1)]
    cut = [[0] * (m + 1) for _ in range(count + 1)]
    table[0][0] = 0.0
    for lines in range(1, count + 1):
        for b in range(1, m + 1):
            for a in range(lines - 1, b):
                if table[lines - 1][a] == math.inf:
                    continue
                c = table[lines - 1][a] + line_cost(a, b)
                if c < table[lines][b]:
                    table[lines][b] = c
                    cut[lines][b] = a
    out: list[list[Token]] = []
    b = m
    for lines in range(count, 0, -1):
        a = cut[lines][b]
        out.append(list(tokens[a:b]))
        b = a
    return out[::-1]


def time_cues(groups: list[tuple[float, float, int]], lim: Limits, time_limit: float) -> list[tuple[float, float]]:
    """(start, end) for each cue from (first word start, last word end, characters).

    Extends each cue into the silence after it for `min_duration` and `max_cps`, never past
    the next cue's start or `time_limit`, never longer than `max_duration`.
    """
    times: list[tuple[float, float]] = []
    starts = [g[0] for g in groups]
    for k in range(1, len(starts)):
        starts[k] = max(starts[k], starts[k - 1] + MIN_CUE)  # degenerate word times only
    for k, (_, speech_end, chars) in enumerate(groups):
        start = starts[k]
        limit = starts[k + 1] if k + 1 < len(groups) else max(time_limit, start + MIN_CUE)
        wanted = max(speech_end, start + lim.min_duration, start + chars / lim.max_cps)
        end = min(wanted, start + lim.max_duration, limit)
        end = max(end, min(speech_end, start + lim.max_duration, limit), start + MIN_CUE)
        if k + 1 < len(groups) and limit - end < FLICKER_GAP and limit - start <= lim.max_duration:
            end = limit
        times.append((start, min(end, limit)))
    return times


def layout_words(
    words: Sequence[Word],
    style: CaptionSettings,
    canvas_width: int,
    safe: SafeZone,
    segment_ends: set[int] | None = None,
    time_limit: float = math.inf,
) -> list[Cue]:
    """Cues for already cleaned words (see `clean_words`); `segment_ends` are word indexes."""
    if not words:
        return []
    measure = TextMeasure(style)
    lim = Limits.from_style(style, canvas_width, safe, measure.space)
    tokens = make_tokens(words, segment_ends or set(), measure, lim)
    last_end = tokens[-1].word.end
    limit = time_limit if time_limit > last_end else math.inf
    groups = group_tokens(tokens, lim, limit)
    spans: list[tuple[float, float, int]] = []
    laid: list[tuple[list[list[Token]], float, tuple[Word, ...]]] = []
    for i, j in groups:
        part = tokens[i : j + 1]
        scale = min(t.scale for t in part)
        lines = break_lines(part, scale, lim)
        chars = sum(len(" ".join(t.text for t in line)) for line in lines)
        spans.append((part[0].word.start, part[-1].word.end, chars))
        laid.append((lines, scale, tuple(t.word for t in part)))
    cues = []
    for (start, end), (lines, scale, cue_words) in zip(time_cues(spans, lim, limit), laid):
        text_lines = tuple(" ".join(t.text for t in line) for line in lines)
        cues.append(Cue(start, end, text_lines, cue_words, scale))
    return cues


def layout_transcript(transcript: Transcript, style: CaptionSettings, canvas_width: int, safe: SafeZone) -> list[Cue]:
    """`pipeline.captions.write.layout_cues` without the default safe zone (see there)."""
    words: list[Word] = []
    segment_ends: set[int] = set()
    for segment in transcript.segments:
        # Without word times (an engine run without them), words share the segment's time.
        seg_words = segment.words or spread_words(clean_text(segment.text).split(), segment.start, segment.end)
        words.extend(w for w in seg_words if clean_text(w.word))
        if words:
            segment_ends.add(len(words) - 1)
    return layout_words(clean_words(words), style, canvas_width, safe, segment_ends, transcript.duration)
