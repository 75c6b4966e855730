"""Footsteps timed from a walker's gait.

A walking person's silhouette widens when the legs are apart (the moment a heel strikes)
and narrows as they pass each other, twice per stride: the box's width relative to its height
oscillates at the step rate. The step period is the strongest autocorrelation lag within
human cadence (0.3-0.8 s per step); steps are the width maxima one period apart. Where the
oscillation is too weak to read (small or blurred walkers), steps follow the typical cadence
while the person moves, with a low confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class GaitConfig:
    min_period: float = 0.3  # seconds per step
    max_period: float = 0.8
    default_period: float = 0.5  # used when the gait cannot be read
    min_correlation: float = 0.25  # autocorrelation at the step period that counts as a readable gait
    min_speed: float = 0.02  # frame heights / s: slower is standing, no steps


def detrend(x: np.ndarray, window: int) -> np.ndarray:
    """x minus its centred moving average over `window` samples."""
    if window <= 1 or len(x) < 3:
        return np.asarray(x, float) - np.mean(x)
    k = np.ones(window) / window
    pad = np.pad(np.asarray(x, float), window // 2, mode="edge")
    return np.asarray(x, float) - np.convolve(pad, k, mode="same")[window // 2 : window // 2 + len(x)]


def step_period(signal: np.ndarray, fps: float, cfg: GaitConfig) -> tuple[float, float]:
    """(period in seconds, autocorrelation at it) of a detrended gait signal; (0, 0) if too short."""
    lo, hi = max(1, int(np.floor(cfg.min_period * fps))), int(np.ceil(cfg.max_period * fps))
    s = np.asarray(signal, float) - np.mean(signal)
    if len(s) < 2 * hi or not np.any(s):
        return 0.0, 0.0
    ac = np.correlate(s, s, mode="full")[len(s) - 1 :]
    ac = ac / max(ac[0], 1e-12)
    lag = lo + int(np.argmax(ac[lo : hi + 1]))
    return lag / fps, float(ac[lag])


def step_times(t: np.ndarray, width: np.ndarray, height: np.ndarray, speed: np.ndarray, fps: float,
               cfg: GaitConfig | None = None) -> tuple[list[float], float]:
    """Footstep times (seconds) of one walker and the confidence of the timing.

    `t` times of the track's frames, `width`/`height` its box in pixels, `speed` frame heights / s."""
    cfg = cfg or GaitConfig()
    t = np.asarray(t, float)
    if len(t) < 3:
        return [], 0.0
    walking = np.asarray(speed) > cfg.min_speed
    if not walking.any():
        return [], 0.0
    ratio = np.asarray(width, float) / np.maximum(np.asarray(height, float), 1e-6)
    signal = detrend(ratio, max(3, int(round(1.0 * fps))))
    period, corr = step_period(signal, fps, cfg)
    times: list[float] = []
    if period and corr >= cfg.min_correlation:
        lag = max(1, int(round(period * fps)))
        k = int(np.argmax(signal[:lag])) if len(signal) >= lag else 0
        while k < len(signal):
            lo, hi = max(0, k - lag // 3), min(len(signal), k + lag // 3 + 1)
            k = lo + int(np.argmax(signal[lo:hi]))
            if walking[k] and (not times or t[k] - times[-1] > 0.5 * period):
                times.append(float(t[k]))
            k += lag
        return times, round(min(1.0, corr), 3)
    # unreadable gait: the usual cadence while the person moves
    nxt = float(t[np.argmax(walking)])
    for k in range(len(t)):
        if walking[k] and t[k] >= nxt:
            times.append(float(t[k]))
            nxt = t[k] + cfg.default_period
    return times, 0.3
