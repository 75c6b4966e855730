"""Pure signal helpers of a sample-triggered engine: trim to the attack, vary a take, loop a
recording over a span with crossfades, fade edges. Each is a pure function (tested alone)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

ATTACK_LEVEL = 0.05  # an impact starts where its envelope first reaches 5% of its peak
PRE_ATTACK_S = 0.001  # keep 1 ms before it, so the attack transient is whole
EDGE_FADE_S = 0.005


def fade_edges(x: np.ndarray, sample_rate: int, fade_in_s: float = EDGE_FADE_S, fade_out_s: float = EDGE_FADE_S) -> np.ndarray:
    """A copy with raised-cosine fades in and out (no click where a take starts or is cut)."""
    y = np.asarray(x, dtype=np.float64).copy()
    for n, sl, rev in ((min(len(y), int(fade_in_s * sample_rate)), slice(None), False),
                       (min(len(y), int(fade_out_s * sample_rate)), slice(None), True)):
        if n > 1:
            ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n))
            if rev:
                y[len(y) - n:] *= ramp[::-1]
            else:
                y[:n] *= ramp
    return y


def trim_to_attack(x: np.ndarray, sample_rate: int, level: float = ATTACK_LEVEL) -> np.ndarray:
    """Drop the silence before the attack, so a take placed at an onset is heard at the onset."""
    x = np.asarray(x, dtype=np.float64)
    peak = float(np.abs(x).max()) if len(x) else 0.0
    if peak <= 0:
        return x[:0]
    start = max(0, int(np.argmax(np.abs(x) >= level * peak)) - int(PRE_ATTACK_S * sample_rate))
    return x[start:]


def change_rate(x: np.ndarray, rate: float) -> np.ndarray:
    """Play `x` `rate` times faster (pitch up and shorter for rate > 1), by polyphase resampling
    with a rational approximation of the rate (band-limited, unlike linear interpolation)."""
    if abs(rate - 1.0) < 1e-4 or len(x) < 2:
        return np.asarray(x, dtype=np.float64)
    frac = Fraction(rate).limit_denominator(200)
    return resample_poly(np.asarray(x, dtype=np.float64), frac.denominator, frac.numerator)


def loop_to_length(x: np.ndarray, n: int, sample_rate: int, crossfade_s: float = 0.05) -> np.ndarray:
    """`x` repeated to exactly `n` samples, each join an equal-power crossfade (no click, no dip
    for uncorrelated material); a take longer than the span is simply cut."""
    x = np.asarray(x, dtype=np.float64)
    if n <= 0 or len(x) == 0:
        return np.zeros(max(n, 0))
    if len(x) >= n:
        return x[:n].copy()
    xf = min(int(crossfade_s * sample_rate), len(x) // 4)
    out = np.zeros(n + len(x))
    fade_in = np.sin(np.linspace(0, np.pi / 2, xf)) if xf > 0 else np.zeros(0)
    fade_out = np.cos(np.linspace(0, np.pi / 2, xf)) if xf > 0 else np.zeros(0)
    pos = 0
    while pos < n:
        seg = x.copy()
        if pos > 0 and xf:
            seg[:xf] *= fade_in
        if xf:
            seg[len(seg) - xf:] *= fade_out
        out[pos:pos + len(seg)] += seg
        pos += len(seg) - xf
    return out[:n]


def add_at(target: np.ndarray, take: np.ndarray, start: int) -> None:
    """Add `take` into `target` from sample `start`, cut at the end of `target`."""
    if start >= len(target) or len(take) == 0:
        return
    begin = max(0, start)
    take = take[begin - start:]
    k = min(len(take), len(target) - begin)
    target[begin:begin + k] += take[:k]


def rms_normalise(x: np.ndarray, target_rms: float, peak_cap: float = 1.0) -> np.ndarray:
    """`x` scaled so the RMS of its sounding part (samples within 40 dB of its peak) is
    `target_rms`, without its peak passing `peak_cap`: how a bed or a sustained take is levelled
    against impacts, which are levelled by their peak."""
    x = np.asarray(x, dtype=np.float64)
    peak = float(np.abs(x).max()) if len(x) else 0.0
    if peak <= 0:
        return x.copy()
    sounding = x[np.abs(x) >= 0.01 * peak]
    rms = float(np.sqrt(np.mean(sounding ** 2)))
    return x * min(target_rms / rms, peak_cap / peak)
