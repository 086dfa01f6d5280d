"""Sync stage: two recordings of one conversation -> `SyncResult` (when the second one started).

The core, `estimate_offset`, is pure numpy: a generalised cross-correlation with phase
transform (GCC-PHAT) of the two 16 kHz mono tracks. PHAT whitens the cross-spectrum, so only
the timing of the shared sound counts, not how each microphone or phone speaker coloured it:
the peak stays one sample wide even when one track hears the other voice quietly and
band-limited. `sync_clips` decodes the clips' audio and calls it.

In a video call each phone hears the other person late by the call's delay `d`: voice A is in
track B `d` after it is in track A, voice B is in track A `d` after track B. The two voices
then give two peaks, at `offset + d` and `offset - d`; with the delay about the same both ways
the recordings' offset is halfway between them. Two phones in one room give one peak.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pipeline.config import SyncSettings
from pipeline.errors import InputError
from pipeline.video.media import decode_audio

log = logging.getLogger(__name__)

SYNC_RATE = 16000  # Hz; the rate `sync_clips` decodes at
# Shared sound is speech: below 100 Hz is handling and wind noise, above 4 kHz a phone speaker
# (the other voice in a call) gives little. Only this band is compared.
_BAND_HZ = (100.0, 4000.0)
# Two peaks closer than this are one (the main peak and its reverberation); also the half width
# left out around a peak when measuring the sidelobes.
_PEAK_WIDTH = 0.02  # seconds

DEFAULT_SYNC = SyncSettings(min_confidence=8.0, max_offset=0.0, max_call_delay=1.0, second_peak=0.05)


@dataclass(frozen=True, slots=True)
class SyncResult:
    """When recording B started, on recording A's clock.

    `offset_s` > 0: B started that many seconds after A (B's time t is A's time t + offset_s).
    """

    offset_s: float
    confidence: float  # peak-to-sidelobe ratio of the (weaker) peak used; higher is surer
    peaks: tuple[float, ...]  # the lags (seconds) of the one or two peaks the offset came from
    call_delay_s: float  # half the distance between two peaks (a call's one-way delay); 0 for one peak

    def to_json(self) -> dict[str, Any]:
        return {"offset": self.offset_s, "confidence": self.confidence, "peaks": list(self.peaks),
                "call_delay": self.call_delay_s}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SyncResult:
        return cls(offset_s=float(data["offset"]), confidence=float(data["confidence"]),
                   peaks=tuple(float(p) for p in data["peaks"]), call_delay_s=float(data["call_delay"]))


def estimate_offset(a: npt.ArrayLike, b: npt.ArrayLike, rate: int,
                    settings: SyncSettings = DEFAULT_SYNC) -> SyncResult:
    """Find when recording B started relative to recording A from their shared sound.

    Args:
        a: samples of recording A, mono (n,) or (channels, n) (channels are averaged).
        b: samples of recording B, at the same rate.
        rate: sample rate in Hz (16000 is plenty: the peak is located to a fraction of a sample).
        settings: `[sync]` of the config: the confidence threshold and the call-delay search.

    Returns:
        The offset (B's start on A's clock), its confidence and the peaks it came from.

    Raises:
        InputError: a track is silent or empty, or the confidence is below
            `settings.min_confidence` (the recordings share no sound, e.g. both wore headphones).
    """
    x, y = _mono(a, "A"), _mono(b, "B")
    lags, corr = _gcc_phat(x, y, rate, settings.max_offset)
    width = max(1, int(round(_PEAK_WIDTH * rate)))

    first = int(np.argmax(corr))
    reach = int(round(2 * settings.max_call_delay * rate))
    near = np.abs(np.arange(corr.size) - first)
    candidates = np.where((near >= width) & (near <= reach), corr, -np.inf)
    second = int(np.argmax(candidates)) if reach >= width else first
    is_call = second != first and candidates[second] >= settings.second_peak * corr[first]

    used = [first, second] if is_call else [first]
    side = np.ones(corr.size, dtype=bool)
    for index in used:
        side[max(0, index - width): index + width + 1] = False
    if side.sum() < 16:
        raise InputError("the recordings are too short to line up by their sound",
                         hint=_OFFSET_HINT)
    rest = corr[side]
    mean, spread = float(rest.mean()), float(rest.std()) or 1e-12
    psr = [(float(corr[i]) - mean) / spread for i in used]
    if is_call and psr[1] < settings.min_confidence:
        used, psr = [first], psr[:1]
    times = [(float(lags[i]) + _parabolic(corr, i)) / rate for i in used]
    offset = sum(times) / len(times)
    confidence = min(psr)
    log.info("sync: offset %.3f s, confidence %.1f, peaks %s", offset, confidence,
             ", ".join(f"{t:.3f}" for t in times))
    if confidence < settings.min_confidence:
        raise InputError(
            f"cannot line up the two recordings by their sound: confidence {confidence:.1f} is below "
            f"{settings.min_confidence:g} (best guess {offset:+.3f} s). Neither recording seems to hear "
            "the other: were headphones used?",
            hint=_OFFSET_HINT,
        )
    return SyncResult(offset_s=offset, confidence=confidence, peaks=tuple(sorted(times)),
                      call_delay_s=abs(times[-1] - times[0]) / 2)


_OFFSET_HINT = ("give the offset by hand: --offset SECONDS, how many seconds after the first recording the "
                "second one started (negative if it started earlier); e.g. a clap at 2.0 s in the first and "
                "at 0.5 s in the second is --offset 1.5")


def sync_clips(a: Path, b: Path, settings: SyncSettings = DEFAULT_SYNC) -> SyncResult:
    """Decode both clips' sound (16 kHz mono) and estimate B's start on A's clock.

    Raises:
        InputError: a clip has no readable audio, or the sound gives no confident offset.
    """
    return estimate_offset(decode_audio(a, SYNC_RATE), decode_audio(b, SYNC_RATE), SYNC_RATE, settings)


def _mono(samples: npt.ArrayLike, name: str) -> npt.NDArray[np.float32]:
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=0)
    if x.ndim != 1:
        raise ValueError(f"track {name}: expected (n,) or (channels, n) samples, got shape {x.shape}")
    if x.size == 0 or not np.any(x):
        raise InputError(f"recording {name} has no sound to line up by (silent or empty audio)",
                         hint=_OFFSET_HINT)
    centred: npt.NDArray[np.float32] = x - np.float32(x.mean())
    return centred


def _gcc_phat(x: npt.NDArray[np.float32], y: npt.NDArray[np.float32], rate: int,
              max_offset: float) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """(lags, correlation): corr[i] is how well x[n + lags[i]] matches y[n], PHAT-weighted."""
    size = 1 << math.ceil(math.log2(x.size + y.size - 1))
    spectrum = np.fft.rfft(x, size)
    spectrum *= np.conj(np.fft.rfft(y, size))
    magnitude = np.abs(spectrum)
    # A floor keeps the empty bins (digital silence, the band edges) from being blown up to noise.
    magnitude += 1e-3 * float(magnitude.mean()) + 1e-30
    spectrum /= magnitude
    freqs = np.fft.rfftfreq(size, 1.0 / rate)
    spectrum[(freqs < _BAND_HZ[0]) | (freqs > _BAND_HZ[1])] = 0
    full = np.fft.irfft(spectrum, size).astype(np.float32, copy=False)
    lo, hi = -(y.size - 1), x.size - 1
    if max_offset > 0:
        limit = int(round(max_offset * rate))
        lo, hi = max(lo, -limit), min(hi, limit)
    lags = np.arange(lo, hi + 1, dtype=np.int64)
    return lags, full[lags % size]


def _parabolic(corr: npt.NDArray[np.float32], i: int) -> float:
    """Sub-sample position of the peak at i, from the parabola through it and its neighbours."""
    if i <= 0 or i >= corr.size - 1:
        return 0.0
    left, mid, right = float(corr[i - 1]), float(corr[i]), float(corr[i + 1])
    denom = left - 2 * mid + right
    return 0.0 if denom >= 0 else 0.5 * (left - right) / denom
