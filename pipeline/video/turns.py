"""Who speaks when: two lined-up recordings of one conversation -> `Shot`s (pure numpy).

Each phone hears its own person loud and the other quietly (a phone speaker, the room). So per
moment the speaker is the track whose voice energy leads the other's by a margin. The phones'
own recording levels are measured from the conversation (halfway between the level difference
while A speaks and while B speaks) and taken out, so two phones recording at different levels
still compare fairly; when one person does nearly all the talking they are taken as equal.

The decision is made to hold still: the other track must lead by `margin_db` for `hold` seconds
before the speaker changes (the cut is put where that lead began), silence and talk over each
other keep the current speaker, and a shot shorter than `min_shot` is merged into its
neighbours (a short "mm" or a cough never flickers the picture or the sound).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pipeline.types import Shot

FRAME = 0.02  # seconds between energy measurements
_WINDOW = 0.032  # seconds of sound each measurement looks at
_SMOOTH = 0.15  # seconds the energy is averaged over (a syllable)
_BAND_HZ = (200.0, 4000.0)  # speech; below is rumble and hum, above a phone speaker gives little
_ACTIVE_DB = 10.0  # a track is voiced when this far above its own quiet level (10th percentile)
_BLOCK = 2048  # frames analysed at a time
_MIN_SHARE = 0.08  # the phones' gains are compared only when each person has this share of the talk


@dataclass(frozen=True, slots=True)
class TurnOptions:
    """How readily the speaker changes (`[duet]` min_shot, switch_margin, switch_hold)."""

    min_shot: float = 1.5  # seconds: no shot is shorter (unless the whole span is)
    margin_db: float = 6.0  # dB one track's own voice must lead the other's by
    hold: float = 0.3  # seconds it must lead for before the speaker changes


def voice_levels(samples: npt.ArrayLike, rate: int) -> npt.NDArray[np.float64]:
    """Smoothed speech-band energy of a mono track in dB, one value every `FRAME` seconds."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=0)
    hop = max(1, int(round(FRAME * rate)))
    size = max(hop, int(round(_WINDOW * rate)))
    count = x.size // hop
    if count == 0:
        return np.zeros(0)
    padded = np.concatenate([x, np.zeros(size)])
    frames = np.lib.stride_tricks.sliding_window_view(padded, size)[: count * hop : hop]
    window = np.hanning(size)
    freqs = np.fft.rfftfreq(size, 1.0 / rate)
    band = (freqs >= _BAND_HZ[0]) & (freqs <= _BAND_HZ[1])
    energy = np.empty(count)
    for first in range(0, count, _BLOCK):  # in blocks: an hour's spectrum at once would take gigabytes
        spectrum = np.fft.rfft(frames[first: first + _BLOCK] * window, axis=1)[:, band]
        energy[first: first + _BLOCK] = np.sum(spectrum.real ** 2 + spectrum.imag ** 2, axis=1)
    width = max(1, int(round(_SMOOTH / FRAME)))
    energy = np.convolve(energy, np.ones(width) / width, mode="same")
    return 10.0 * np.log10(energy + 1e-12)


def find_turns(a: npt.ArrayLike, b: npt.ArrayLike, rate: int, duration: float,
               options: TurnOptions = TurnOptions()) -> list[Shot]:
    """Who speaks when over a duet of `duration` seconds, from the two lined-up tracks.

    Args:
        a, b: mono samples of recordings A and B over the same span (sample i of each is the
            same moment); a shorter track is treated as silent after its end.
        rate: their sample rate (16000 is plenty).
        duration: the span's length in seconds; the shots cover [0, duration].
        options: margin, hold and minimum shot.

    Returns:
        Shots in order, covering [0, duration] without gaps; speaker 0 is A, 1 is B. A when
        nobody is heard at all.
    """
    frames = max(1, int(round(duration / FRAME)))
    level_a = _fit(voice_levels(a, rate), frames)
    level_b = _fit(voice_levels(b, rate), frames)
    votes = _votes(level_a, level_b, options.margin_db)
    return merge_short_shots(_hysteresis(votes, options.hold, duration), options.min_shot)


def _fit(levels: npt.NDArray[np.float64], frames: int) -> npt.NDArray[np.float64]:
    """Levels cut or padded (with the track's quietest level: silence) to `frames` values."""
    if levels.size >= frames:
        return levels[:frames]
    fill = float(levels.min()) if levels.size else -120.0
    return np.concatenate([levels, np.full(frames - levels.size, fill)])


def _votes(level_a: npt.NDArray[np.float64], level_b: npt.NDArray[np.float64],
           margin_db: float) -> npt.NDArray[np.int8]:
    """Per frame: 0 (A leads), 1 (B leads) or -1 (nobody clearly: silence, both at once)."""
    active = np.zeros(level_a.size, dtype=bool)
    for level in (level_a, level_b):
        active |= level > np.percentile(level, 10) + _ACTIVE_DB
    lead = level_a - level_b - _gain_difference(level_a - level_b, active, margin_db)
    votes = np.full(level_a.size, -1, dtype=np.int8)
    votes[active & (lead > margin_db)] = 0
    votes[active & (lead < -margin_db)] = 1
    return votes


def _gain_difference(lead: npt.NDArray[np.float64], active: npt.NDArray[np.bool_], margin_db: float) -> float:
    """How much louder phone A records than phone B, in dB, from the voiced frames.

    A speaking gives one level difference (A's gain - B's + how much quieter B hears A), B
    speaking another; the phones' own gains sit halfway between the two. When one of the two
    groups is missing or tiny (one person does nearly all the talking) the gains are taken as equal.
    """
    voiced = lead[active]
    if voiced.size < 10:
        return 0.0
    low, high = float(np.percentile(voiced, 10)), float(np.percentile(voiced, 90))
    for _ in range(20):  # two means in one dimension
        middle = (low + high) / 2
        lower, upper = voiced[voiced < middle], voiced[voiced >= middle]
        if lower.size == 0 or upper.size == 0:
            return 0.0
        low, high = float(lower.mean()), float(upper.mean())
    smaller = min(lower.size, upper.size) / voiced.size
    if high - low < 2 * margin_db or smaller < _MIN_SHARE:
        return 0.0
    return (low + high) / 2


def _hysteresis(votes: npt.NDArray[np.int8], hold: float, duration: float) -> list[Shot]:
    """Shots from per-frame votes: the other speaker takes over after leading for `hold` seconds
    (votes for the current one reset the count; silence does not); the cut is where its lead began."""
    decided = votes[votes >= 0]
    if decided.size == 0:
        return [Shot(0.0, duration, 0)]
    current = int(decided[0])
    need = max(1, int(round(hold / FRAME)))
    cuts: list[tuple[int, int]] = []  # (frame, new speaker)
    run_start, run = 0, 0
    for i, vote in enumerate(votes.tolist()):
        if vote == current:
            run = 0
        elif vote >= 0:
            if run == 0:
                run_start = i
            run += 1
            if run >= need:
                current = vote
                cuts.append((run_start, vote))
                run = 0
    shots: list[Shot] = []
    start, speaker = 0.0, int(decided[0])
    for frame, new in cuts:
        at = min(frame * FRAME, duration)
        if at > start:
            shots.append(Shot(start, at, speaker))
        start, speaker = at, new
    shots.append(Shot(start, duration, speaker))
    return _join_same(shots)


def merge_short_shots(shots: list[Shot], min_shot: float) -> list[Shot]:
    """Shots with each one shorter than `min_shot` given to its neighbours (the shortest first).

    A short shot between two of the other speaker joins them into one; one at either end joins
    its only neighbour. Only a span shorter than `min_shot` ends as one short shot.
    """
    shots = _join_same(list(shots))
    while len(shots) > 1:
        index = min(range(len(shots)), key=lambda k: shots[k].end - shots[k].start)
        short = shots[index]
        if short.end - short.start >= min_shot - 1e-9:
            break
        if index == 0:
            shots[0:2] = [Shot(short.start, shots[1].end, shots[1].speaker)]
        elif index == len(shots) - 1:
            shots[-2:] = [Shot(shots[-2].start, short.end, shots[-2].speaker)]
        else:
            before, after = shots[index - 1], shots[index + 1]
            if before.speaker == after.speaker:
                shots[index - 1: index + 2] = [Shot(before.start, after.end, before.speaker)]
            else:  # only with more than two speakers: give it to the longer neighbour
                longer = before if before.end - before.start >= after.end - after.start else after
                shots[index] = Shot(short.start, short.end, longer.speaker)
                shots = _join_same(shots)
    return shots


def _join_same(shots: list[Shot]) -> list[Shot]:
    out: list[Shot] = []
    for shot in shots:
        if out and out[-1].speaker == shot.speaker:
            out[-1] = Shot(out[-1].start, shot.end, shot.speaker)
        else:
            out.append(shot)
    return out


def speaker_at(shots: list[Shot] | tuple[Shot, ...], t: float) -> int:
    """The speaker of the shot at time t (the first before 0, the last after the end)."""
    for shot in shots:
        if t < shot.end:
            return shot.speaker
    return shots[-1].speaker if shots else 0
