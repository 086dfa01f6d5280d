"""`make bench` section `sync`: the time of `estimate_offset` on two 10-minute 16 kHz tracks
(a call pair built from the speech fixtures, with noise), and how far off it is. Not a test.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from pipeline.config import load_settings
from pipeline.video import decode_audio, estimate_offset

RATE = 16000
SPEECH = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "speech"


def _call_pair(seconds: float, offset: float, delay: float) -> tuple[np.ndarray, np.ndarray]:
    voices = [decode_audio(p, RATE)[0] for p in sorted(SPEECH.glob("*.flac"))]
    size = int(seconds * RATE)
    voice_a, voice_b = np.zeros(size, np.float32), np.zeros(size, np.float32)
    rng = np.random.default_rng(0)
    pos, turn = 0, 0
    while pos < size:  # the two take turns with the fixtures' sentences, in random order and pauses
        # (a fixed cycle would repeat the whole conversation every minute: many true-looking offsets)
        clip = voices[int(rng.integers(len(voices)))][: size - pos]
        (voice_a if turn % 2 == 0 else voice_b)[pos: pos + clip.size] = clip
        pos += clip.size + int(rng.uniform(0.2, 1.5) * RATE)
        turn += 1
    late = int(delay * RATE)
    track_a = voice_a + 0.15 * np.roll(voice_b, late) + 0.01 * rng.standard_normal(size).astype(np.float32)
    track_b = voice_b + 0.15 * np.roll(voice_a, late) + 0.01 * rng.standard_normal(size).astype(np.float32)
    return track_a, track_b[int(offset * RATE):]


def bench_sync(work: Path, repeat: int) -> None:
    settings = load_settings().sync
    a, b = _call_pair(600.0, offset=1.234, delay=0.25)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = estimate_offset(a, b, RATE, settings)
        times.append(time.perf_counter() - start)
    print(f"sync      estimate_offset, 2 x 10 min at 16 kHz (a call, 0.25 s delay): {min(times):.2f} s; "
          f"offset {result.offset_s:.4f} s (true 1.2340, error {1000 * abs(result.offset_s - 1.234):.1f} ms), "
          f"confidence {result.confidence:.0f}")


if __name__ == "__main__":
    bench_sync(Path("."), 2)
