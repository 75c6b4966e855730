"""Cheap hand-made features shared by the trained evaluators, the rewards and the metrics.

- video: motion energy per frame at 25 fps (mean absolute frame difference), the "visual
  event" curve the offset models read;
- audio: onset envelope at 25 fps (max-pooled spectral flux and log-energy rise);
- audio quality: clipped-sample fraction, noise floor (dB), bandwidth (Hz), spectral flatness,
  crest factor. These are also reported as the analytic aesthetic checks.
"""

from __future__ import annotations

import numpy as np

from ..dsp.onsets import onset_strength

FPS = 25
AUDIO_FEATURES = 2
QUALITY_FEATURES = 5


def motion_energy(frames: np.ndarray) -> np.ndarray:
    """[T] mean absolute difference between consecutive frames ([T, H, W] or [T, H, W, C], any range)."""
    f = np.asarray(frames, dtype=np.float32)
    if f.ndim == 4:
        f = f.mean(-1)
    if f.max(initial=0) > 1.5:  # uint8-like
        f = f / 255.0
    if len(f) < 2:
        return np.zeros(len(f), np.float32)
    diff = np.abs(np.diff(f, axis=0)).mean(axis=(1, 2))
    return np.concatenate([[0.0], diff]).astype(np.float32)


def onset_envelope(mono: np.ndarray, sample_rate: int, fps: int = FPS, num_frames: int | None = None) -> np.ndarray:
    """[2, T] audio event curve at `fps`: max-pooled spectral flux and positive log-energy change."""
    mono = np.nan_to_num(np.asarray(mono, dtype=np.float64))
    flux, ffps, level_db = onset_strength(mono, sample_rate)
    n = num_frames if num_frames is not None else int(round(len(mono) / sample_rate * fps))
    out = np.zeros((AUDIO_FEATURES, n), np.float32)
    if flux.size == 0:
        return out
    idx = np.minimum((np.arange(len(flux)) / ffps * fps).astype(int), n - 1) if n else np.zeros(0, int)
    rise = np.maximum(0.0, np.diff(np.maximum(level_db, level_db.max() - 60), prepend=level_db[:1]))
    np.maximum.at(out[0], idx, flux / max(flux.max(), 1e-9))
    np.maximum.at(out[1], idx, rise / max(rise.max(), 1e-9))
    return out


def quality_features(mono: np.ndarray, sample_rate: int) -> dict[str, float]:
    """Analytic checks of one mono signal (float in [-1, 1])."""
    x = np.nan_to_num(np.asarray(mono, dtype=np.float64))
    n = len(x)
    if n == 0 or not np.any(x):
        return {"clipped_fraction": 0.0, "noise_floor_db": -120.0, "bandwidth_hz": 0.0, "spectral_flatness": 0.0, "crest_db": 0.0}
    clipped = float(np.mean(np.abs(x) >= 0.999))
    frame = int(0.02 * sample_rate)
    frames = x[: n // frame * frame].reshape(-1, frame) if n >= frame else x[None]
    energy_db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    noise_floor = float(np.percentile(energy_db, 10))
    spec = np.abs(np.fft.rfft(x[: min(n, sample_rate * 10)] * np.hanning(min(n, sample_rate * 10)))) ** 2
    freqs = np.linspace(0, sample_rate / 2, len(spec))
    cumulative = np.cumsum(spec) / max(spec.sum(), 1e-20)
    bandwidth = float(freqs[min(len(freqs) - 1, np.searchsorted(cumulative, 0.99))])
    flat = float(np.exp(np.mean(np.log(spec + 1e-20))) / (np.mean(spec) + 1e-20))
    crest = float(20 * np.log10(np.abs(x).max() / (np.sqrt(np.mean(x**2)) + 1e-12) + 1e-12))
    return {"clipped_fraction": clipped, "noise_floor_db": noise_floor, "bandwidth_hz": bandwidth,
            "spectral_flatness": flat, "crest_db": crest}


def quality_vector(mono: np.ndarray, sample_rate: int) -> np.ndarray:
    """The analytic checks scaled to about unit range, as the quality predictor's side input."""
    q = quality_features(mono, sample_rate)
    return np.array([
        q["clipped_fraction"] * 10, (q["noise_floor_db"] + 60) / 30, q["bandwidth_hz"] / (sample_rate / 2),
        np.log10(q["spectral_flatness"] + 1e-6) / 3 + 1, q["crest_db"] / 20,
    ], dtype=np.float32)
