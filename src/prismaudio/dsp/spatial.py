"""Stereo image measures: interaural time difference (GCC-PHAT), level difference, side.

Conventions used everywhere in PrismAudio:
- ITD is the delay of the right channel relative to the left, in seconds: positive when the
  right ear hears it later, i.e. the source is on the LEFT.
- ILD is 10 log10(E_left / E_right) in dB: positive when the left channel is louder.
- Horizontal position x is in [-1 (left), 1 (right)], so a source at x < 0 has ITD > 0, ILD > 0.
"""

from __future__ import annotations

import numpy as np

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
              gate_db: float = -40.0) -> dict[str, np.ndarray]:
    """ITD and ILD over time for a [2, N] signal: times (frame centres), itd (s), ild (dB), active.

    `active` marks frames within `gate_db` of the loudest frame (quiet frames carry no position).
    """
    stereo = np.asarray(stereo, dtype=np.float64)
    win, hop = max(2, int(frame_s * sample_rate)), max(1, int(hop_s * sample_rate))
    n = stereo.shape[1]
    starts = np.arange(0, max(1, n - win + 1), hop)
    itd, ild, level = [], [], []
    for s in starts:
        seg = stereo[:, s : s + win]
        itd.append(gcc_phat_itd(seg[0], seg[1], sample_rate))
        ild.append(ild_db(seg[0], seg[1]))
        level.append(10 * np.log10(np.mean(seg**2) + 1e-12))
    level = np.asarray(level)
    return {
        "times": (starts + win / 2) / sample_rate,
        "itd": np.asarray(itd),
        "ild": np.asarray(ild),
        "active": level > level.max() + gate_db if len(level) else np.zeros(0, bool),
    }
