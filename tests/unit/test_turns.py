"""Who speaks when in a duet (`find_turns`): on the festival turn-taking pairs of test_sync (each
phone hears its own voice loud and the other through a phone speaker, with its own room noise),
and on made-up signals for interjections, clicks, silences and the minimum shot."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.types import Shot
from pipeline.video.turns import TurnOptions, find_turns, merge_short_shots, speaker_at
from tests.unit.test_sync import RATE, Signal, _phone_speaker, _room_noise, _turns, make_pair


def _onsets(voice: Signal) -> list[tuple[float, float]]:
    """(start, end) of the stretches where a clean voice is heard (20 ms RMS over 2% of its peak,
    gaps under 1 s bridged)."""
    hop = RATE // 50
    rms = np.sqrt(np.mean(voice[: voice.size // hop * hop].reshape(-1, hop) ** 2, axis=1))
    on = np.flatnonzero(rms > 0.02 * rms.max())
    runs: list[list[int]] = []
    for i in on.tolist():
        if runs and i - runs[-1][1] <= 50:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return [(a * 0.02, (b + 1) * 0.02) for a, b in runs]


def _duration(x: Signal) -> float:
    return x.size / RATE


def test_festival_turns_are_found_at_each_voice_onset() -> None:
    a, b = make_pair(0.0)
    shots = find_turns(a, b, RATE, _duration(a))
    assert [s.speaker for s in shots] == [0, 1, 0]
    voice_a, voice_b = _turns()
    b_on = _onsets(voice_b)[0][0]
    a_again = _onsets(voice_a)[1][0]
    assert shots[1].start == pytest.approx(b_on, abs=0.15)
    assert shots[2].start == pytest.approx(a_again, abs=0.15)
    assert shots[0].start == 0.0 and shots[-1].end == pytest.approx(_duration(a))


def test_phones_recording_at_different_levels_still_compare_fairly() -> None:
    a, b = make_pair(0.0, other_level=0.3)
    shots = find_turns(a * 0.05, b * 3.0, RATE, _duration(a))  # A's phone records 36 dB quieter
    assert [s.speaker for s in shots] == [0, 1, 0]


def _burst(seconds: float, seed: int, level: float = 0.3) -> Signal:
    """Speech-band noise standing in for a voice."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(int(seconds * RATE))
    return level * _phone_speaker(x) / 0.5


def _pair_of(voice_a: Signal, voice_b: Signal) -> tuple[Signal, Signal]:
    n = max(voice_a.size, voice_b.size)
    voice_a, voice_b = np.pad(voice_a, (0, n - voice_a.size)), np.pad(voice_b, (0, n - voice_b.size))
    return (voice_a + 0.15 * _phone_speaker(voice_b) + _room_noise(n, 5, 50),
            voice_b + 0.15 * _phone_speaker(voice_a) + _room_noise(n, 6, 60))


def _at(seconds: float, x: Signal, total: float) -> Signal:
    out = np.zeros(int(total * RATE))
    start = int(seconds * RATE)
    out[start: start + x.size] = x[: out.size - start]
    return out


def test_a_short_interjection_and_a_click_do_not_switch() -> None:
    total = 8.0
    voice_a = _at(0.5, _burst(7.0, 1), total)
    voice_b = _at(3.0, _burst(0.25, 2, level=0.6), total)  # "mm" over A
    a, b = _pair_of(voice_a, voice_b)
    b[int(5.0 * RATE): int(5.0 * RATE) + 80] += 0.9  # a 5 ms knock on B's phone
    assert find_turns(a, b, RATE, total) == [Shot(0.0, total, 0)]


def test_silence_keeps_the_speaker_and_the_next_voice_takes_over_where_it_starts() -> None:
    total = 12.0
    voice_a = _at(0.5, _burst(2.5, 3), total) + _at(6.0, _burst(1.5, 4), total)  # 2.5 s of silence between
    voice_b = _at(8.5, _burst(3.0, 5), total)
    a, b = _pair_of(voice_a, voice_b)
    shots = find_turns(a, b, RATE, total)
    assert [s.speaker for s in shots] == [0, 1]
    assert shots[1].start == pytest.approx(8.5, abs=0.1)


def test_nobody_speaking_is_a_throughout() -> None:
    n = 3 * RATE
    assert find_turns(_room_noise(n, 1, 50), _room_noise(n, 2, 60), RATE, 3.0) == [Shot(0.0, 3.0, 0)]


def test_a_turn_shorter_than_the_minimum_shot_is_not_a_shot() -> None:
    total = 9.0
    voice_a = _at(0.2, _burst(3.8, 6), total) + _at(5.2, _burst(3.6, 7), total)
    voice_b = _at(4.05, _burst(1.1, 8), total)  # B answers for 1.1 s between A's two turns
    a, b = _pair_of(voice_a, voice_b)
    assert [s.speaker for s in find_turns(a, b, RATE, total, TurnOptions(min_shot=0.8))] == [0, 1, 0]
    assert find_turns(a, b, RATE, total, TurnOptions(min_shot=1.5)) == [Shot(0.0, total, 0)]


@pytest.mark.parametrize(("shots", "expected"), [
    ([Shot(0, 5, 0), Shot(5, 5.8, 1), Shot(5.8, 10, 0)], [Shot(0, 10, 0)]),
    ([Shot(0, 1, 1), Shot(1, 6, 0), Shot(6, 9, 1)], [Shot(0, 6, 0), Shot(6, 9, 1)]),
    ([Shot(0, 4, 0), Shot(4, 9, 1), Shot(9, 9.5, 0)], [Shot(0, 4, 0), Shot(4, 9.5, 1)]),
    ([Shot(0, 1.0, 0)], [Shot(0, 1.0, 0)]),  # a span shorter than a shot stays one shot
])
def test_merge_short_shots(shots: list[Shot], expected: list[Shot]) -> None:
    assert merge_short_shots(shots, 1.5) == expected


def test_every_shot_is_at_least_the_minimum_on_rapid_exchanges() -> None:
    total = 12.0
    voice_a = sum((_at(t, _burst(0.6, 10 + k), total) for k, t in enumerate(np.arange(0.0, 12.0, 1.4))),
                  np.zeros(int(total * RATE)))
    voice_b = sum((_at(t, _burst(0.6, 30 + k), total) for k, t in enumerate(np.arange(0.7, 12.0, 1.4))),
                  np.zeros(int(total * RATE)))
    a, b = _pair_of(voice_a, voice_b)
    shots = find_turns(a, b, RATE, total, TurnOptions(min_shot=1.5, hold=0.1))
    assert all(s.end - s.start >= 1.5 - 1e-9 for s in shots)
    assert all(x.end == y.start and x.speaker != y.speaker for x, y in zip(shots, shots[1:]))


def test_speaker_at() -> None:
    shots = [Shot(0, 2, 0), Shot(2, 5, 1)]
    assert [speaker_at(shots, t) for t in (-1, 0.5, 2.0, 4.9, 7)] == [0, 0, 1, 1, 1]


def test_headphones_each_phone_hearing_only_its_own_person_still_finds_the_turns() -> None:
    a, b = make_pair(0.0, hears_other=False)
    assert [s.speaker for s in find_turns(a, b, RATE, _duration(a))] == [0, 1, 0]
