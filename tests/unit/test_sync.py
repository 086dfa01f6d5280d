"""Lining up two recordings of one conversation by their sound (`estimate_offset`), on pairs
made from the Finnish speech fixtures with a known offset.

Voice A is the `lj` festival voice, voice B the `mv` voice, taking turns. Track A hears voice A
loud and voice B quietly through a phone speaker (300-3400 Hz); track B the reverse; each has
its own room noise.
"""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np
import numpy.typing as npt
import pytest

from pipeline.config import load_settings
from pipeline.errors import InputError
from pipeline.video import SyncResult, decode_audio, estimate_offset, sync_clips
from tests.conftest import REPO

RATE = 16000
SPEECH = REPO / "tests" / "fixtures" / "speech"
Signal = npt.NDArray[np.float64]


@cache
def _voice(name: str) -> Signal:
    return decode_audio(SPEECH / f"{name}.flac", RATE)[0].astype(np.float64)


def _silence(seconds: float) -> Signal:
    return np.zeros(int(round(seconds * RATE)))


@cache
def _turns() -> tuple[Signal, Signal]:
    """(voice A, voice B) on one clock: A speaks, then B, then A again (about 30 s)."""
    a1, b1, a2 = _voice("ilmoitus"), _voice("huostaanotto"), _voice("paivystys")
    gap = _silence(0.4)
    voice_a = np.concatenate([gap, a1, gap, np.zeros(b1.size), gap, a2, gap])
    voice_b = np.concatenate([gap, np.zeros(a1.size), gap, b1, gap, np.zeros(a2.size), gap])
    return voice_a, voice_b


def _phone_speaker(x: Signal) -> Signal:
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(x.size, 1 / RATE)
    spectrum[(freqs < 300) | (freqs > 3400)] = 0
    return np.fft.irfft(spectrum, x.size)


def _late(x: Signal, seconds: float) -> Signal:
    return np.concatenate([_silence(seconds), x])[: x.size]


def _room_noise(size: int, seed: int, hum_hz: float) -> Signal:
    rng = np.random.default_rng(seed)
    brown = np.cumsum(rng.standard_normal(size))
    brown -= np.convolve(brown, np.ones(801) / 801, mode="same")  # no drift, a low rumble
    hum = np.sin(2 * np.pi * hum_hz * np.arange(size) / RATE)
    return 0.003 * brown / (np.abs(brown).max() + 1e-9) * 10 + 0.01 * hum + 0.005 * rng.standard_normal(size)


def make_pair(offset: float, *, call_delay: float = 0.0, hears_other: bool = True,
              other_level: float = 0.15) -> tuple[Signal, Signal]:
    """(track A, track B) with B started `offset` s after A (negative: before)."""
    voice_a, voice_b = _turns()
    other = other_level if hears_other else 0.0
    track_a = voice_a + other * _late(_phone_speaker(voice_b), call_delay) + _room_noise(voice_a.size, 1, 50)
    track_b = voice_b + other * _late(_phone_speaker(voice_a), call_delay) + _room_noise(voice_a.size, 2, 60)
    shift = int(round(abs(offset) * RATE))
    if offset >= 0:
        return track_a, track_b[shift:]  # B's first sample is A's sample `shift`
    return track_a[shift:], track_b


@pytest.mark.parametrize("offset", [1.234, -0.8, 0.0, 7.5])
def test_two_phones_in_one_room_line_up_within_10_ms(offset: float) -> None:
    a, b = make_pair(offset)
    result = estimate_offset(a, b, RATE)
    assert abs(result.offset_s - offset) < 0.010
    assert result.call_delay_s == 0
    assert result.confidence > 20


@pytest.mark.parametrize("delay", [0.25, 0.1, 0.6])
def test_a_video_call_lines_up_halfway_between_the_two_voices(delay: float) -> None:
    a, b = make_pair(1.234, call_delay=delay)
    result = estimate_offset(a, b, RATE)
    assert abs(result.offset_s - 1.234) < 0.020
    assert result.peaks == pytest.approx((1.234 - delay, 1.234 + delay), abs=0.005)
    assert result.call_delay_s == pytest.approx(delay, abs=0.005)


def test_a_call_where_one_phone_hears_the_other_quieter_still_finds_both_voices() -> None:
    voice_a, voice_b = _turns()
    track_a = voice_a + 0.05 * _late(_phone_speaker(voice_b), 0.25) + _room_noise(voice_a.size, 3, 50)
    track_b = voice_b + 0.2 * _late(_phone_speaker(voice_a), 0.25) + _room_noise(voice_a.size, 4, 50)
    result = estimate_offset(track_a, track_b[int(1.234 * RATE):], RATE)
    assert abs(result.offset_s - 1.234) < 0.020


def test_headphones_no_shared_sound_is_refused_with_how_to_give_the_offset() -> None:
    a, b = make_pair(1.234, hears_other=False)
    with pytest.raises(InputError) as caught:
        estimate_offset(a, b, RATE)
    assert "headphones" in str(caught.value)
    assert "--offset SECONDS" in (caught.value.hint or "")


def test_a_silent_track_is_refused() -> None:
    a, _ = make_pair(0.0)
    with pytest.raises(InputError, match="no sound"):
        estimate_offset(a, np.zeros(RATE * 5, dtype=np.float32), RATE)


def test_max_offset_limits_the_search() -> None:
    a, b = make_pair(7.5)
    settings = dataclasses.replace(load_settings().sync, max_offset=3.0)
    with pytest.raises(InputError):  # the true offset is outside the search: nothing confident is left
        estimate_offset(a, b, RATE, settings)


def test_the_threshold_comes_from_the_config() -> None:
    a, b = make_pair(1.234, hears_other=False)
    settings = dataclasses.replace(load_settings().sync, min_confidence=0.0)
    assert isinstance(estimate_offset(a, b, RATE, settings), SyncResult)  # a guess, but no refusal


def test_stereo_and_float32_input_is_accepted() -> None:
    a, b = make_pair(1.234)
    stereo_b = np.stack([b, b]).astype(np.float32)
    assert abs(estimate_offset(a.astype(np.float32), stereo_b, RATE).offset_s - 1.234) < 0.010


def test_result_round_trips_through_json() -> None:
    result = SyncResult(offset_s=1.234, confidence=42.0, peaks=(0.984, 1.484), call_delay_s=0.25)
    assert SyncResult.from_json(result.to_json()) == result


def test_sync_clips_decodes_the_files() -> None:
    clip = SPEECH / "huostaanotto.flac"
    result = sync_clips(clip, clip, load_settings().sync)
    assert abs(result.offset_s) < 0.001
