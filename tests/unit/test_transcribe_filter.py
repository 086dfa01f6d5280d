"""speech.hallucinations: Whisper's inventions on silence are dropped, real speech is kept."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.speech.hallucinations import SegmentStats, drop_non_speech, is_credit_phrase, non_speech_reason, span_rms
from pipeline.types import Segment, Word

RATE = 16000
SURE = SegmentStats(no_speech_prob=0.02, avg_logprob=-0.3, compression_ratio=1.2)


def seg(text: str, start: float = 1.0, end: float = 3.0) -> Segment:
    words = tuple(Word(w, start, end) for w in text.split())
    return Segment(start, end, text, words)


def audio_with_speech(seconds: float = 6.0, speech: tuple[float, float] = (0.0, 3.0)) -> np.ndarray:
    """Quiet room tone (-52 dBFS) with a loud 'voice' (a 200 Hz buzz, -20 dBFS) in `speech`."""
    rng = np.random.default_rng(1)
    audio = rng.normal(0, 0.002, int(seconds * RATE)).astype(np.float32)
    a, b = int(speech[0] * RATE), int(speech[1] * RATE)
    t = np.arange(b - a) / RATE
    audio[a:b] += (0.14 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    return audio


@pytest.mark.parametrize(
    "text",
    [
        "Kiitos katsomisesta!",
        "Kiitos kun katsoit.",
        "Tekstitys: Anna Virtanen",
        "Suomennos: Matti",
        "Subtitles by the Amara.org community",
        "Thanks for watching!",
        "kiitos, että katsoitte",
    ],
)
def test_credit_phrases_recognised(text: str) -> None:
    assert is_credit_phrase(text)


@pytest.mark.parametrize("text", ["Kiitos kysymyksestä!", "Katsotaan tätä yhdessä.", "tekstitykset päälle"])
def test_ordinary_speech_is_not_a_credit_phrase(text: str) -> None:
    assert not is_credit_phrase(text)


def test_credit_phrase_on_silence_dropped_but_kept_over_speech() -> None:
    audio = audio_with_speech(speech=(0.0, 3.0))
    spoken = seg("Kiitos katsomisesta, moikka!", 0.5, 2.5)
    invented = seg("Kiitos katsomisesta!", 4.0, 6.0)
    kept = drop_non_speech([(spoken, SURE), (invented, SURE)], audio, RATE)
    assert kept == [spoken]


def test_real_speech_kept() -> None:
    audio = audio_with_speech()
    segment = seg("Lastensuojeluilmoituksen voi tehdä kuka tahansa.", 0.2, 2.8)
    assert drop_non_speech([(segment, SURE)], audio, RATE) == [segment]


def test_no_speech_with_low_logprob_dropped() -> None:
    stats = SegmentStats(no_speech_prob=0.8, avg_logprob=-1.2, compression_ratio=1.0)
    assert non_speech_reason(seg("Hmm."), stats, rms=0.1)


def test_no_speech_prob_alone_keeps_loud_speech() -> None:
    stats = SegmentStats(no_speech_prob=0.7, avg_logprob=-0.5, compression_ratio=1.0)
    assert non_speech_reason(seg("Joo, niin just."), stats, rms=0.05) is None


def test_prompt_echo_on_quiet_audio_dropped() -> None:
    # openai-whisper with the vocabulary prompt on room tone said this (p=0.88, logprob -0.84).
    stats = SegmentStats(no_speech_prob=0.88, avg_logprob=-0.84, compression_ratio=1.64)
    assert non_speech_reason(seg("tukihenkilö, tukihenkilö, tukihenkilö,"), stats, rms=0.0025)


def test_quiet_sure_speech_kept_despite_high_no_speech_prob() -> None:
    # With the vocabulary prompt the base model gives real speech no_speech_prob 0.7-0.96.
    stats = SegmentStats(no_speech_prob=0.9, avg_logprob=-0.2, compression_ratio=1.4)
    assert non_speech_reason(seg("Huostaanotto on viimeinen keino."), stats, rms=0.006) is None


def test_repetitive_text_dropped() -> None:
    stats = SegmentStats(no_speech_prob=0.1, avg_logprob=-0.4, compression_ratio=3.1)
    assert "repetitive" in (non_speech_reason(seg("joo " * 40), stats, rms=0.1) or "")


def test_very_low_confidence_dropped_low_kept() -> None:
    assert non_speech_reason(seg("mitä"), SegmentStats(0.1, -1.8, 1.0), rms=0.1)
    assert non_speech_reason(seg("mitä"), SegmentStats(0.1, -1.1, 1.0), rms=0.1) is None


def test_digital_silence_dropped_whatever_the_text() -> None:
    silence = np.zeros(3 * RATE, dtype=np.float32)
    assert drop_non_speech([(seg("Moi kaikki", 0.5, 2.0), SURE)], silence, RATE) == []


def test_empty_text_dropped() -> None:
    assert non_speech_reason(seg(" "), SURE, rms=0.1) == "empty"


def test_segments_outside_detected_speech_dropped() -> None:
    audio = audio_with_speech(speech=(0.0, 3.0))
    inside, outside = seg("Moi", 0.5, 1.0), seg("Hei hei", 4.0, 5.0)
    pairs = [(inside, SURE), (outside, SURE)]
    assert drop_non_speech(pairs, audio, RATE, speech_spans=[(0.4, 2.9)]) == [inside]
    assert drop_non_speech(pairs, audio, RATE, speech_spans=None) == [inside, outside]


def test_span_rms() -> None:
    audio = np.concatenate([np.zeros(RATE, np.float32), np.full(RATE, 0.5, np.float32)])
    assert span_rms(audio, RATE, 0.0, 1.0) == 0.0
    assert span_rms(audio, RATE, 1.0, 2.0) == pytest.approx(0.5)
    assert span_rms(audio, RATE, 5.0, 6.0) == 0.0  # past the end
