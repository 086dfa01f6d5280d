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
# A track's own voice: 20 ms frames within 12 dB of its loud level (95th percentile), held 200 ms.
_OWN_VOICE_LEVEL = 0.25
_OWN_VOICE_HOLD = 10  # frames

DEFAULT_SYNC = SyncSettings(min_confidence=12.0, max_offset=0.0, max_call_delay=1.0, second_peak=0.05)


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
    x, y = _mono(a, "A", rate), _mono(b, "B", rate)
    size = _fft_size(x.size + y.size - 1)
    lo, hi = -(y.size - 1), x.size - 1
    if settings.max_offset > 0:
        limit = int(round(settings.max_offset * rate))
        lo, hi = max(lo, -limit), min(hi, limit)
    lags = np.arange(lo, hi + 1, dtype=np.int64)
    width = max(1, int(round(_PEAK_WIDTH * rate)))
    own_a, own_b = _own_voice(x, rate), _own_voice(y, rate)
    spectra = {name: np.fft.rfft(signal, size) for name, signal in
               (("a", x), ("b", y), ("a_own", x * own_a), ("b_own", y * own_b),
                ("a_rest", x * ~own_a), ("b_rest", y * ~own_b))}
    del own_a, own_b
    # Whole against whole finds two phones in one room best (all the sound counts). Each track's
    # own voice (its loud parts) against the other track without its own voice finds that voice
    # in the other phone, however quietly it was heard: in a call these are the two peaks.
    peaks = {name: _best_peak(spectra[one], spectra[other], size, lags, rate, width)
             for name, one, other in (("both", "a", "b"), ("voice_a", "a_own", "b_rest"),
                                      ("voice_b", "a_rest", "b_own"))}
    del spectra
    log.debug("sync peaks %s", peaks)
    ranked = sorted(peaks.values(), key=lambda peak: -peak[1])
    (best, confidence), times = ranked[0], [ranked[0][0]]
    for lag, psr in ranked[1:]:
        # A second confident peak, apart from the first by no more than twice a call's delay: the
        # call's other voice (one peak per voice when the split by loudness worked, else the
        # whole-track peak is one of them).
        strong = psr >= max(settings.min_confidence, settings.second_peak * confidence)
        if strong and width / rate <= abs(lag - best) <= 2 * settings.max_call_delay:
            times, confidence = sorted((best, lag)), psr
            break
    offset = sum(times) / len(times)
    log.info("sync: offset %.3f s, confidence %.1f, peaks %s", offset, confidence,
             ", ".join(f"{t:.3f}" for t in times))
    if confidence < settings.min_confidence:
        raise InputError(
            f"cannot line up the two recordings by their sound: confidence {confidence:.1f} is below "
            f"{settings.min_confidence:g} (best guess {offset:+.3f} s). Neither recording seems to hear "
            "the other: were headphones used?",
            hint=_OFFSET_HINT,
        )
    return SyncResult(offset_s=offset, confidence=confidence, peaks=tuple(times),
                      call_delay_s=(times[-1] - times[0]) / 2)


_OFFSET_HINT = ("give the offset by hand: --offset SECONDS, how many seconds after the first recording the "
                "second one started (negative if it started earlier); e.g. a clap at 2.0 s in the first and "
                "at 0.5 s in the second is --offset 1.5")


def sync_clips(a: Path, b: Path, settings: SyncSettings = DEFAULT_SYNC) -> SyncResult:
    """Decode both clips' sound (16 kHz mono) and estimate B's start on A's clock.

    Raises:
        InputError: a clip has no readable audio, or the sound gives no confident offset.
    """
    return estimate_offset(decode_audio(a, SYNC_RATE), decode_audio(b, SYNC_RATE), SYNC_RATE, settings)


_EDGE_FADE = 0.25  # seconds faded at each end of a track before correlating


def _mono(samples: npt.ArrayLike, name: str, rate: int) -> npt.NDArray[np.float32]:
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=0)
    if x.ndim != 1:
        raise ValueError(f"track {name}: expected (n,) or (channels, n) samples, got shape {x.shape}")
    if x.size == 0 or not np.any(x):
        raise InputError(f"recording {name} has no sound to line up by (silent or empty audio)",
                         hint=_OFFSET_HINT)
    centred: npt.NDArray[np.float32] = x - np.float32(x.mean())
    # Fade both ends in and out (0.25 s): a clip's hard start and end are sound that every
    # recording "shares", and two unrelated tones would otherwise line up by their edges.
    ramp = min(int(_EDGE_FADE * rate), centred.size // 4)
    if ramp > 1:
        fade = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, ramp))).astype(np.float32)
        centred[:ramp] *= fade
        centred[-ramp:] *= fade[::-1]
    return centred


def _fft_size(n: int) -> int:
    """The smallest 2^i 3^j 5^k >= n: pocketfft is fast on it, and it wastes less than a power of 2."""
    best = 1 << math.ceil(math.log2(n))
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            size = power35 << max(0, math.ceil(math.log2(n / power35)))
            best = min(best, size)
            power35 *= 3
        power5 *= 5
    return best


def _own_voice(x: npt.NDArray[np.float32], rate: int) -> npt.NDArray[np.bool_]:
    """Where x is loud, per sample: the voice of the person holding this phone."""
    frame = max(1, rate // 50)  # 20 ms
    count = x.size // frame
    if count < 2:
        return np.ones(x.size, dtype=bool)
    rms = np.sqrt(np.mean(np.square(x[: count * frame].reshape(count, frame)), axis=1))
    loud = rms >= _OWN_VOICE_LEVEL * float(np.percentile(rms, 95))
    # Keep the short pauses inside the own voice's words and phrases with it.
    hold = np.convolve(loud.astype(np.float32), np.ones(2 * _OWN_VOICE_HOLD + 1, dtype=np.float32), "same") > 0
    mask = np.zeros(x.size, dtype=bool)
    mask[: count * frame] = np.repeat(hold, frame)
    return mask


def _best_peak(one: npt.NDArray[np.complexfloating[Any]], other: npt.NDArray[np.complexfloating[Any]], size: int,
               lags: npt.NDArray[np.int64], rate: int, width: int) -> tuple[float, float]:
    """(lag in seconds, peak-to-sidelobe ratio) of the highest GCC-PHAT peak of one against other."""
    spectrum = one * np.conj(other)
    magnitude = np.abs(spectrum)
    # A floor keeps the empty bins (digital silence, the band edges) from being blown up to noise.
    magnitude += 1e-3 * float(magnitude.mean()) + 1e-30
    spectrum /= magnitude
    freqs = np.fft.rfftfreq(size, 1.0 / rate)
    spectrum[(freqs < _BAND_HZ[0]) | (freqs > _BAND_HZ[1])] = 0
    corr = np.fft.irfft(spectrum, size).astype(np.float32, copy=False)[lags % size]
    peak = int(np.argmax(corr))
    side = np.ones(corr.size, dtype=bool)
    side[max(0, peak - width): peak + width + 1] = False
    if side.sum() < 16:
        raise InputError("the recordings are too short to line up by their sound", hint=_OFFSET_HINT)
    rest = corr[side]
    psr = (float(corr[peak]) - float(rest.mean())) / (float(rest.std()) or 1e-12)
    return (float(lags[peak]) + _parabolic(corr, peak)) / rate, psr


def _parabolic(corr: npt.NDArray[np.float32], i: int) -> float:
    """Sub-sample position of the peak at i, from the parabola through it and its neighbours."""
    if i <= 0 or i >= corr.size - 1:
        return 0.0
    left, mid, right = float(corr[i - 1]), float(corr[i]), float(corr[i + 1])
    denom = left - 2 * mid + right
    return 0.0 if denom >= 0 else 0.5 * (left - right) / denom
