"""Degradations with a known severity: the quality predictor's training pairs and the sanity checks.

Each takes a [C, N] float signal and returns a degraded copy; `severity` in [0, 1] maps to
the target quality score 9.5 - 8 * severity (clean references score 9.5).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfilt

CLEAN_SCORE = 9.5


def target_score(severity: float) -> float:
    return float(CLEAN_SCORE - 8.0 * np.clip(severity, 0.0, 1.0))


def add_noise(x: np.ndarray, snr_db: float, rng: np.random.Generator, colour: str = "white") -> np.ndarray:
    """White or pink noise at `snr_db` relative to the signal's mean power."""
    x = np.asarray(x, np.float32)
    noise = rng.standard_normal(x.shape).astype(np.float32)
    if colour == "pink":
        spec = np.fft.rfft(noise, axis=-1)
        spec /= np.sqrt(np.maximum(np.arange(spec.shape[-1]), 1))
        noise = np.fft.irfft(spec, n=x.shape[-1], axis=-1).astype(np.float32)
    p_sig = float(np.mean(x**2)) + 1e-12
    noise *= np.sqrt(p_sig / (np.mean(noise**2) + 1e-12) / 10 ** (snr_db / 10))
    return x + noise


def hard_clip(x: np.ndarray, gain: float) -> np.ndarray:
    return np.clip(np.asarray(x, np.float32) * gain, -1.0, 1.0)


def lowpass(x: np.ndarray, cutoff_hz: float, sample_rate: int) -> np.ndarray:
    sos = butter(8, min(cutoff_hz, 0.45 * sample_rate), fs=sample_rate, output="sos")
    return sosfilt(sos, np.asarray(x, np.float32), axis=-1).astype(np.float32)


def quantise(x: np.ndarray, bits: int) -> np.ndarray:
    levels = 2 ** (bits - 1)
    return (np.round(np.asarray(x, np.float32) * levels) / levels).astype(np.float32)


def random_degradation(x: np.ndarray, sample_rate: int, rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    """One random degradation (sometimes two): (degraded, severity, name)."""
    kinds = ["noise", "pink", "clip", "lowpass", "quantise"]
    picks = rng.choice(kinds, size=1 + int(rng.random() < 0.3), replace=False)
    y, severity = np.asarray(x, np.float32), 0.0
    for kind in picks:
        if kind in ("noise", "pink"):
            snr = float(rng.uniform(-5, 35))
            y, s = add_noise(y, snr, rng, "white" if kind == "noise" else "pink"), (30 - snr) / 30
        elif kind == "clip":
            gain = float(np.exp(rng.uniform(np.log(1.5), np.log(20))))
            y, s = hard_clip(y / max(np.abs(y).max(), 1e-6), gain), np.log(gain) / np.log(15)
        elif kind == "lowpass":
            cut = float(rng.uniform(800, 7000))
            y, s = lowpass(y, cut, sample_rate), (7500 - cut) / 7000
        else:
            bits = int(rng.integers(3, 10))
            y, s = quantise(y, bits), (10 - bits) / 7
        severity = max(severity, float(np.clip(s, 0, 1))) + 0.15 * float(np.clip(s, 0, 1)) * (severity > 0)
    return y, float(min(severity, 1.0)), "+".join(picks)
