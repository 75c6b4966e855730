"""Pure signal maths of the library build: silence trimming and loudness normalisation.

Loudness follows ITU-R BS.1770-4: K-weighting (a high shelf then a high pass, designed for
the actual sample rate by the bilinear transform as in pyloudnorm), mean square over 400 ms
blocks with 75 % overlap, an absolute gate at -70 LUFS and a relative gate 10 LU below the
ungated mean. A sound shorter than one block (a footstep, a key press) is measured as one
block over its whole length: the standard has no answer there, and this one keeps short
Foley at the same perceived level as long sounds.
"""

from __future__ import annotations

import numpy as np

TARGET_LUFS = -23.0        # EBU R128 programme level: leaves headroom for transients
PEAK_CEILING = 0.891       # -1 dBFS: a normalised recording never clips on its own
SILENCE_DB = -50.0         # trimming threshold relative to the recording's peak
TRIM_PAD_S = 0.005         # kept before the first and after the last sound above it
FADE_S = 0.003             # fade over the kept pad so a cut never clicks


def _biquad(b: np.ndarray, a: np.ndarray, x: np.ndarray) -> np.ndarray:
    from scipy.signal import lfilter

    return lfilter(b, a, x)


def k_weighting(sample_rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two BS.1770 K-weighting biquads (b, a) at `sample_rate`."""
    # high shelf (+4 dB above ~1.7 kHz): the head's acoustic effect
    g, q, fc = 3.99984385397, 0.7071752369554193, 1681.974450955533
    k = np.tan(np.pi * fc / sample_rate)
    vh = 10 ** (g / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf_b = np.array([(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0])
    shelf_a = np.array([1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0])
    # high pass (~38 Hz): RLB weighting
    q, fc = 0.5003270373253953, 38.13547087613982
    k = np.tan(np.pi * fc / sample_rate)
    a0 = 1.0 + k / q + k * k
    hp_b = np.array([1.0, -2.0, 1.0])
    hp_a = np.array([1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0])
    return [(shelf_b, shelf_a), (hp_b, hp_a)]


def loudness_lufs(x: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness of mono `x` in LUFS (-inf for silence)."""
    x = np.asarray(x, dtype=np.float64)
    if not len(x) or not np.any(x):
        return float("-inf")
    y = x
    for b, a in k_weighting(sample_rate):
        y = _biquad(b, a, y)
    block, hop = int(0.4 * sample_rate), int(0.1 * sample_rate)
    if len(y) < block:
        powers = np.array([np.mean(y * y)])
    else:
        starts = np.arange(0, len(y) - block + 1, hop)
        csum = np.concatenate([[0.0], np.cumsum(y * y)])
        powers = (csum[starts + block] - csum[starts]) / block
    with np.errstate(divide="ignore"):
        lufs = -0.691 + 10 * np.log10(powers)
    gated = powers[lufs > -70.0]
    if not len(gated):
        return float("-inf")
    relative = -0.691 + 10 * np.log10(np.mean(gated)) - 10.0
    gated = powers[(lufs > -70.0) & (lufs > relative)]
    return float(-0.691 + 10 * np.log10(np.mean(gated)))


def normalise_loudness(x: np.ndarray, sample_rate: int, target: float = TARGET_LUFS,
                       ceiling: float = PEAK_CEILING) -> tuple[np.ndarray, float]:
    """(x scaled to `target` LUFS, but never above `ceiling` peak; gain applied)."""
    level = loudness_lufs(x, sample_rate)
    if not np.isfinite(level):
        return np.asarray(x, dtype=np.float32), 1.0
    gain = 10 ** ((target - level) / 20.0)
    peak = float(np.abs(x).max())
    gain = min(gain, ceiling / peak) if peak > 0 else gain
    return (np.asarray(x, dtype=np.float64) * gain).astype(np.float32), float(gain)


def trim_silence(x: np.ndarray, sample_rate: int, threshold_db: float = SILENCE_DB,
                 pad_s: float = TRIM_PAD_S) -> np.ndarray:
    """Cut leading and trailing silence (below `threshold_db` of the peak, on a 5 ms
    envelope), keeping `pad_s` either side and fading over it. Empty when all silent."""
    from scipy.ndimage import maximum_filter1d

    x = np.asarray(x, dtype=np.float32)
    if not len(x):
        return x
    env = maximum_filter1d(np.abs(x), size=max(1, int(0.005 * sample_rate)), mode="constant")
    peak = float(env.max())
    if peak <= 0:
        return x[:0]
    above = np.flatnonzero(env >= peak * 10 ** (threshold_db / 20.0))
    pad = int(pad_s * sample_rate)
    start, stop = max(0, above[0] - pad), min(len(x), above[-1] + 1 + pad)
    out = x[start:stop].copy()
    n = min(len(out) // 2, int(FADE_S * sample_rate))
    if n > 1:
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        if start > 0:
            out[:n] *= ramp
        if stop < len(x):
            out[-n:] *= ramp[::-1]
    return out
