"""Drop recognised segments that are not speech (pure; numpy only).

Takes engine segments (already our `Segment`s) with their decoding statistics and the 16 kHz
audio; gives back the segments worth captioning. Whisper invents text on silence and noise,
most often the credit lines of the subtitled videos it was trained on ("Kiitos katsomisesta",
"Tekstitys: ..."), which must never be burned into a reply video.

A segment is dropped when
- the model itself thinks it is not speech: no_speech_prob > 0.6 and avg_logprob < -1.0
  (the rule openai-whisper applies to whole windows), or no_speech_prob > 0.6 with
  avg_logprob < -0.5 over quiet audio (a vocabulary prompt raises avg_logprob of text invented
  on room tone: "tukihenkilö, tukihenkilö, tukihenkilö," scored -0.84);
- its text is repetitive: compression_ratio > 2.4 (Whisper's own fallback threshold);
- the model was very unsure of it: avg_logprob < -1.5 (below Whisper's -1.0 fallback
  threshold, so that quiet real speech in Finnish, which the base model scores low, stays);
- the audio under it is digitally silent (RMS below -60 dBFS): nothing to caption;
- it is a known credit/outro phrase and the audio under it is silent (RMS below -40 dBFS);
- a voice activity detector found no speech under it (when such spans are given).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.types import Segment

log = logging.getLogger(__name__)

NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
VERY_LOW_LOGPROB = -1.5
UNSURE_LOGPROB = -0.5
MAX_COMPRESSION_RATIO = 2.4
SILENCE_RMS = 0.01  # -40 dBFS: room tone, no voice
DIGITAL_SILENCE_RMS = 0.001  # -60 dBFS

# Normalised (lower case, no punctuation) phrases Whisper is known to invent on silence.
CREDIT_PHRASES: tuple[str, ...] = (
    "kiitos katsomisesta",
    "kiitos kun katsoit",
    "kiitos että katsoit",
    "kiitos kun katsoitte",
    "kiitos että katsoitte",
    "kiitos kuuntelemisesta",
    "tekstitys",
    "tekstittäjä",
    "suomennos",
    "käännös",
    "tilaa kanava",
    "muista tilata",
    "subtitles by",
    "subtitled by",
    "amara org",
    "thanks for watching",
    "thank you for watching",
    "please subscribe",
    "like and subscribe",
)


@dataclass(frozen=True, slots=True)
class SegmentStats:
    """Decoding statistics of one segment, as both Whisper engines report them."""

    no_speech_prob: float
    avg_logprob: float
    compression_ratio: float


def normalise(text: str) -> str:
    """Lower case, punctuation replaced by spaces, single spaces."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def is_credit_phrase(text: str) -> bool:
    """True if the text holds a known subtitle credit or outro phrase."""
    norm = f" {normalise(text)} "
    return any(f" {phrase} " in norm for phrase in CREDIT_PHRASES)


def span_rms(audio: np.ndarray, sample_rate: int, start: float, end: float) -> float:
    """Root mean square of the audio between two times (0.0 for an empty span)."""
    a = max(int(start * sample_rate), 0)
    b = min(int(np.ceil(end * sample_rate)), len(audio))
    if b <= a:
        return 0.0
    span = audio[a:b].astype(np.float64)
    return float(np.sqrt(np.mean(span * span)))


def non_speech_reason(segment: Segment, stats: SegmentStats, rms: float) -> str | None:
    """Why a segment is not speech, or None to keep it."""
    if not segment.text.strip():
        return "empty"
    if stats.no_speech_prob > NO_SPEECH_PROB and stats.avg_logprob < LOW_LOGPROB:
        return f"no speech (p={stats.no_speech_prob:.2f}, logprob={stats.avg_logprob:.2f})"
    # A vocabulary prompt makes no_speech_prob high (0.7-0.96) on real speech too, so quiet
    # audio alone is not enough: the text must also be unsure.
    if stats.no_speech_prob > NO_SPEECH_PROB and stats.avg_logprob < UNSURE_LOGPROB and rms < SILENCE_RMS:
        return f"no speech on quiet audio (p={stats.no_speech_prob:.2f}, rms {rms:.4f})"
    if stats.compression_ratio > MAX_COMPRESSION_RATIO:
        return f"repetitive (compression ratio {stats.compression_ratio:.2f})"
    if stats.avg_logprob < VERY_LOW_LOGPROB:
        return f"very unsure (logprob {stats.avg_logprob:.2f})"
    if rms < DIGITAL_SILENCE_RMS:
        return f"silent audio (rms {rms:.5f})"
    if rms < SILENCE_RMS and is_credit_phrase(segment.text):
        return f"credit phrase on silence (rms {rms:.4f})"
    return None


def drop_non_speech(
    segments: Iterable[tuple[Segment, SegmentStats]],
    audio: np.ndarray,
    sample_rate: int,
    speech_spans: Sequence[tuple[float, float]] | None = None,
) -> list[Segment]:
    """The segments that are speech, in order.

    Args:
        segments: engine segments with their statistics.
        audio: the mono float audio the segments' times refer to.
        sample_rate: of `audio`.
        speech_spans: (start, end) seconds where a voice activity detector heard speech;
            None when no detector ran.
    """
    kept = []
    for segment, stats in segments:
        reason = non_speech_reason(segment, stats, span_rms(audio, sample_rate, segment.start, segment.end))
        if reason is None and speech_spans is not None and not _overlaps(segment, speech_spans):
            reason = "no speech detected under it"
        if reason:
            log.info("dropped segment %.1f-%.1fs %r: %s", segment.start, segment.end, segment.text, reason)
        else:
            kept.append(segment)
    return kept


def _overlaps(segment: Segment, spans: Sequence[tuple[float, float]]) -> bool:
    return any(start < segment.end and segment.start < end for start, end in spans)
