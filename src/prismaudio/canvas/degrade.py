"""Aesthetic variants: degraded copies of a reference soundtrack with their parameters.

Kinds: noise (white or pink at a target SNR), hum (mains 50/60 Hz with harmonics at a target
SNR), clipping (hard clip below the peak), bandlimit (low-pass or telephone band, zero
phase), reverb (synthetic exponentially decaying room, stereo decorrelated).

`measure_snr_db(reference, degraded)` is the signal-to-difference ratio
10 log10(E_ref / E_(degraded - ref)); the builder measures it on the written files, so the
manifest's `snr_db` is what a reader of the two WAVs will find.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

KINDS = ("noise", "hum", "clipping", "bandlimit", "reverb")
DESCRIPTIONS = {
    "noise": "audible background hiss",
    "hum": "mains hum",
    "clipping": "harsh clipping distortion",
    "bandlimit": "muffled, band-limited sound",
    "reverb": "boomy, reverberant room",
}


def measure_snr_db(reference: np.ndarray, degraded: np.ndarray) -> float:
    ref = np.asarray(reference, dtype=np.float64)
    diff = np.asarray(degraded, dtype=np.float64) - ref
    e_ref, e_diff = float(np.sum(ref**2)), float(np.sum(diff**2))
    if e_diff <= 0:
        return float("inf")
    return 10.0 * np.log10(max(e_ref, 1e-20) / e_diff)


def _scaled_to_snr(ref: np.ndarray, disturbance: np.ndarray, snr_db: float) -> np.ndarray:
    p_sig = float(np.mean(ref**2))
    p_dist = float(np.mean(disturbance**2))
    return disturbance * np.sqrt(p_sig / (p_dist * 10 ** (snr_db / 10.0))) if p_dist > 0 else disturbance


def _pink(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    white = rng.standard_normal(shape)
    spec = np.fft.rfft(white, axis=1)
    f = np.arange(spec.shape[1], dtype=np.float64)
    f[0] = 1.0
    return np.fft.irfft(spec / np.sqrt(f), n=shape[1], axis=1)


def degrade(reference: np.ndarray, kind: str, rng: np.random.Generator, sample_rate: int) -> tuple[np.ndarray, dict, float | None]:
    """(degraded [2, N] float32, parameters, target SNR in dB or None)."""
    ref = np.asarray(reference, dtype=np.float64)
    sr = sample_rate
    if kind == "noise":
        colour = str(rng.choice(["white", "pink"]))
        target = float(np.round(rng.uniform(3.0, 20.0), 2))
        noise = rng.standard_normal(ref.shape) if colour == "white" else _pink(rng, ref.shape)
        out = ref + _scaled_to_snr(ref, noise, target)
        return out.astype(np.float32), {"colour": colour}, target
    if kind == "hum":
        mains = int(rng.choice([50, 60]))
        target = float(np.round(rng.uniform(5.0, 25.0), 2))
        t = np.arange(ref.shape[1]) / sr
        hum = sum(np.sin(2 * np.pi * mains * k * t + rng.uniform(0, 6.3)) / k for k in range(1, 6))
        out = ref + _scaled_to_snr(ref, np.stack([hum, hum]), target)
        return out.astype(np.float32), {"mains_hz": mains, "harmonics": 5}, target
    if kind == "clipping":
        drive = float(np.round(rng.uniform(6.0, 18.0), 2))
        peak = float(np.abs(ref).max()) or 1.0
        thr = peak * 10 ** (-drive / 20.0)
        out = np.clip(ref, -thr, thr)
        return out.astype(np.float32), {"threshold": thr, "drive_db": drive, "clipped_fraction": float(np.mean(np.abs(ref) > thr))}, None
    if kind == "bandlimit":
        if rng.random() < 0.5:
            lo, hi = 300.0, min(3400.0, 0.45 * sr)
            sos = signal.butter(6, [lo, hi], btype="bandpass", fs=sr, output="sos")
            params = {"mode": "telephone", "low_hz": lo, "high_hz": hi}
        else:
            cut = float(np.round(rng.uniform(800.0, 3000.0)))
            sos = signal.butter(6, cut, btype="lowpass", fs=sr, output="sos")
            params = {"mode": "lowpass", "cutoff_hz": cut}
        return signal.sosfiltfilt(sos, ref, axis=1).astype(np.float32), params, None
    if kind == "reverb":
        rt60 = float(np.round(rng.uniform(0.3, 1.5), 3))
        wet = float(np.round(rng.uniform(0.25, 0.6), 3))
        n_ir = int(rt60 * sr)
        t = np.arange(n_ir) / sr
        env = 10 ** (-3.0 * t / rt60)  # -60 dB at rt60
        pre = int(0.01 * sr)
        ir = np.zeros((2, pre + n_ir))
        ir[:, pre:] = rng.standard_normal((2, n_ir)) * env
        ir /= np.sqrt(np.sum(ir**2, axis=1, keepdims=True))
        tail = np.stack([signal.fftconvolve(ref[c], ir[c])[: ref.shape[1]] for c in range(2)])
        out = (1 - wet) * ref + wet * tail
        peak = float(np.abs(out).max())
        if peak > 0.95:
            out *= 0.95 / peak
        return out.astype(np.float32), {"rt60_s": rt60, "wet": wet}, None
    raise ValueError(f"unknown degradation kind '{kind}' (known: {', '.join(KINDS)})")
