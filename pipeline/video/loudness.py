"""Integrated loudness (ITU-R BS.1770-4 / EBU R128) of decoded audio, in LUFS.

Measuring here, before the render, lets the single ffmpeg pass apply one exact gain (a linear
normalisation that keeps the dynamics) instead of `loudnorm`'s dynamic one-pass mode.

The K-weighting is applied in the frequency domain with the magnitude response of the
standard's two biquads: loudness depends only on power, so phase does not matter, and numpy's
FFT spares importing scipy.signal (half a second of start-up for every render).
"""

from __future__ import annotations

import functools
import math

import numpy as np

_BLOCK = 0.4  # s, gating block
_STEP = 0.1  # s, 75 % overlap
_ABSOLUTE_GATE = -70.0  # LUFS
_RELATIVE_GATE = -10.0  # LU below the ungated mean


def _k_weighting(rate: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The two biquads of BS.1770 (shelf + high-pass), designed for any sample rate."""
    # Stage 1: high shelf (+4 dB above ~1.5 kHz), parameters from pyloudnorm / libebur128.
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh = 10 ** (gain_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    b1 = np.array([(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0])
    a1 = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    # Stage 2: high-pass (RLB weighting) at ~38 Hz.
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    b2 = np.array([1.0, -2.0, 1.0])
    a2 = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    return (b1, a1), (b2, a2)


_FFT_SIZE = 1 << 15  # overlap-add blocks: small FFTs stay in cache
_TAIL = 1 << 11  # samples the filters' response spreads either way (~40 ms at 48 kHz)


@functools.lru_cache(maxsize=8)
def _response(rate: int, size: int) -> np.ndarray:
    """|H| of both K-weighting biquads at every bin of an rfft of `size`."""
    z = np.exp(-2j * math.pi * np.fft.rfftfreq(size))  # e^{-jw}
    response = np.ones_like(z)
    for b, a in _k_weighting(rate):
        response *= np.polyval(b[::-1], z) / np.polyval(a[::-1], z)
    magnitude: np.ndarray = np.abs(response)
    return magnitude


def _k_weighted(samples: np.ndarray, rate: int) -> np.ndarray:
    """The K-weighted signal: zero-phase |H| of the BS.1770 filters, FFT overlap-add."""
    channels, n = samples.shape
    step = _FFT_SIZE - 2 * _TAIL
    response = _response(rate, _FFT_SIZE)
    out = np.zeros((channels, n + 2 * _TAIL))
    for start in range(0, n, step):
        block = samples[:, start:start + step]
        padded = np.zeros((channels, _FFT_SIZE))
        padded[:, _TAIL:_TAIL + block.shape[1]] = block
        filtered = np.fft.irfft(np.fft.rfft(padded, axis=1) * response, _FFT_SIZE, axis=1)
        end = min(start + _FFT_SIZE, out.shape[1])
        out[:, start:end] += filtered[:, : end - start]
    return out[:, _TAIL:_TAIL + n]


def integrated_loudness(samples: np.ndarray, rate: int) -> float:
    """Gated integrated loudness of `samples` (shape (channels, n), float in -1..1).

    Returns -inf for silence or audio shorter than one 400 ms block.
    """
    if samples.ndim == 1:
        samples = samples[np.newaxis, :]
    block = int(round(_BLOCK * rate))
    step = int(round(_STEP * rate))
    if samples.shape[1] < block:
        return float("-inf")
    power = _k_weighted(samples.astype(np.float64), rate) ** 2
    # Mean square per block via a cumulative sum (blocks of 400 ms every 100 ms).
    csum = np.concatenate([np.zeros((power.shape[0], 1)), np.cumsum(power, axis=1)], axis=1)
    starts = np.arange(0, power.shape[1] - block + 1, step)
    block_ms = (csum[:, starts + block] - csum[:, starts]) / block  # (channels, blocks)
    block_power = block_ms.sum(axis=0)  # all channels weigh 1.0 (L, R, C)
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10 * np.log10(block_power)
    kept = block_power[block_lufs > _ABSOLUTE_GATE]
    if kept.size == 0:
        return float("-inf")
    relative = -0.691 + 10 * math.log10(kept.mean()) + _RELATIVE_GATE
    with np.errstate(divide="ignore"):
        gated = block_power[(block_lufs > _ABSOLUTE_GATE) & (block_lufs > relative)]
    if gated.size == 0:
        return float("-inf")
    return -0.691 + 10 * math.log10(gated.mean())
