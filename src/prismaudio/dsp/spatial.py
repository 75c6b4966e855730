"""Stereo image measures: interaural time difference (GCC-PHAT), level difference, side.

Conventions used everywhere in PrismAudio:
- ITD is the delay of the right channel relative to the left, in seconds: positive when the
  right ear hears it later, i.e. the source is on the LEFT.
- ILD is 10 log10(E_left / E_right) in dB: positive when the left channel is louder.
- Horizontal position x is in [-1 (left), 1 (right)], so a source at x < 0 has ITD > 0, ILD > 0.
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sp_fft

MAX_ITD_S = 0.001  # search range: a head is about 0.6-0.7 ms wide; keep margin


def gcc_phat_itd(left: np.ndarray, right: np.ndarray, sample_rate: int, max_lag_s: float = MAX_ITD_S,
                 upsample: int = 16) -> float:
    """ITD (s) by generalised cross-correlation with phase transform, sub-sample by zero padding.

    Returns 0.0 for silent or empty input.
    """
    left = np.asarray(left, dtype=np.float64)
    right = np.asarray(right, dtype=np.float64)
    n = len(left)
    if n < 2 or not np.any(left) or not np.any(right):
        return 0.0
    # A Hann taper: a rectangular cut of a tonal or ringing sound makes edge clicks whose
    # correlation peak sits at lag 0 and hides the true delay.
    taper = np.hanning(n) if n > 8 else np.ones(n)
    left, right = left * taper, right * taper
    size = 1 << int(np.ceil(np.log2(2 * n)))
    cross = np.fft.rfft(left, size) * np.conj(np.fft.rfft(right, size))
    cross /= np.maximum(np.abs(cross), 1e-12 * np.abs(cross).max() + 1e-30)
    cc = np.fft.irfft(cross, size * upsample)
    max_shift = max(1, int(round(max_lag_s * sample_rate * upsample)))
    window = np.concatenate([cc[-max_shift:], cc[: max_shift + 1]])  # lags -max..+max
    lag = int(np.argmax(window)) - max_shift
    # cc[k] peaks at k = d when left[t] = right[t - d] (left lags): the source is on the right.
    return -lag / (sample_rate * upsample)


def ild_db(left: np.ndarray, right: np.ndarray, floor: float = 1e-12) -> float:
    """Interaural level difference in dB (positive = left louder)."""
    e_left = float(np.sum(np.square(np.asarray(left, dtype=np.float64))))
    e_right = float(np.sum(np.square(np.asarray(right, dtype=np.float64))))
    return 10.0 * np.log10((e_left + floor) / (e_right + floor))


def louder_side(left: np.ndarray, right: np.ndarray, threshold_db: float = 1.0) -> int:
    """-1 if left is louder by more than `threshold_db`, +1 if right is, else 0 (centre)."""
    ild = ild_db(left, right)
    return -1 if ild > threshold_db else 1 if ild < -threshold_db else 0


def framewise(stereo: np.ndarray, sample_rate: int, frame_s: float = 0.1, hop_s: float = 0.05,
              gate_db: float = -40.0, upsample: int = 4) -> dict[str, np.ndarray]:
    """ITD and ILD over time for a [2, N] signal: times (frame centres), itd (s), ild (dB), active.

    `active` marks frames within `gate_db` of the loudest frame (quiet frames carry no position).
    All frames go through one batched FFT; the GCC-PHAT peak is found on a 4x upsampled
    correlation and refined by a parabola (what `gcc_phat_itd` per frame gives, within a few
    microseconds, about 20x faster).
    """
    x = np.asarray(stereo, dtype=np.float64)
    win, hop = max(2, int(frame_s * sample_rate)), max(1, int(hop_s * sample_rate))
    starts = np.arange(0, max(1, x.shape[1] - win + 1), hop)
    if x.shape[1] < win:
        x = np.pad(x, ((0, 0), (0, win - x.shape[1])))
    idx = starts[:, None] + np.arange(win)[None]
    left, right = x[0][idx], x[1][idx]  # [F, win]
    e_l, e_r = np.sum(left**2, 1), np.sum(right**2, 1)
    ild = 10 * np.log10((e_l + 1e-12) / (e_r + 1e-12))
    level = 10 * np.log10((e_l + e_r) / (2 * win) + 1e-12)
    m = max(1, int(round(MAX_ITD_S * sample_rate * upsample)))
    # Only lags up to MAX_ITD_S matter, so padding by that much (not to 2x) avoids wrap-around.
    size = sp_fft.next_fast_len(win + int(np.ceil(MAX_ITD_S * sample_rate)) + 1, real=True)
    cross = sp_fft.rfft(left, size, axis=1) * np.conj(sp_fft.rfft(right, size, axis=1))
    mag = np.abs(cross)
    cross /= np.maximum(mag, 1e-12 * mag.max(axis=1, keepdims=True) + 1e-30)
    cc = sp_fft.irfft(cross, size * upsample, axis=1)
    window = np.concatenate([cc[:, -m:], cc[:, : m + 1]], axis=1)  # lags -m..+m
    k = np.argmax(window, axis=1)
    kk = np.clip(k, 1, 2 * m - 1)
    y0, y1, y2 = (window[np.arange(len(k)), kk + d] for d in (-1, 0, 1))
    denom = y0 - 2 * y1 + y2
    frac = np.where((k == kk) & (np.abs(denom) > 1e-12), 0.5 * (y0 - y2) / np.where(denom == 0, 1, denom), 0.0)
    lag = (k + np.clip(frac, -0.5, 0.5)) - m
    silent = (e_l == 0) | (e_r == 0)
    itd = np.where(silent, 0.0, -lag / (sample_rate * upsample))
    return {
        "times": (starts + win / 2) / sample_rate,
        "itd": itd,
        "ild": ild,
        "active": level > level.max() + gate_db if len(level) else np.zeros(0, bool),
    }
