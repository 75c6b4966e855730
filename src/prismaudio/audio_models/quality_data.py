"""Training pairs for the quality predictor: clean SynthCanvas references score high, their
degraded copies (prismaudio.canvas.degrade, the same kinds the dataset ships) lower by how
strong the degradation is, and noise-like signals (white/pink/brown hiss, noise shaped like
an untrained generator's output) score at the bottom. No gated noise bursts: percussion
(snare, hi-hat, claves) is exactly that, and must keep its clean score.

Targets: 9.5 - 8 * severity, severity in [0, 1] (a clean reference is 9.5, pure noise 1.5).
"""

from __future__ import annotations

import numpy as np

from ..canvas.degrade import KINDS, degrade, measure_snr_db

CLEAN_SCORE = 9.5
NOISE_KINDS = ("white", "pink", "brown", "shaped")  # no gated bursts: a snare drum is one


def target_score(severity: float) -> float:
    return float(CLEAN_SCORE - 8.0 * np.clip(severity, 0.0, 1.0))


def degradation_severity(kind: str, params: dict, snr_db: float | None) -> float:
    """How bad a canvas degradation sounds, in [0, 1], from its parameters.

    Noise and hum follow the measured SNR (3 dB is as bad as it gets, 35 dB inaudible);
    clipping the drive; band limits the cutoff (a telephone band is strongly muffled); reverb
    the wet share times the decay time.
    """
    if kind in ("noise", "hum"):
        snr = 35.0 if snr_db is None or not np.isfinite(snr_db) else float(snr_db)
        return float(np.clip((35.0 - snr) / 30.0, 0.0, 1.0) * (1.0 if kind == "noise" else 0.85))
    if kind == "clipping":
        return float(np.clip(0.35 + 0.55 * (float(params.get("drive_db", 12.0)) - 6.0) / 12.0, 0.0, 1.0))
    if kind == "bandlimit":
        if params.get("mode") == "telephone":
            return 0.65
        return float(np.clip(0.45 + 0.4 * (3000.0 - float(params.get("cutoff_hz", 2000.0))) / 2200.0, 0.0, 1.0))
    if kind == "reverb":
        return float(np.clip(0.25 + 0.6 * float(params.get("wet", 0.4)) * float(params.get("rt60_s", 0.8)) / 0.9, 0.0, 0.9))
    raise ValueError(f"unknown degradation kind '{kind}'")


def _coloured(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Noise with power spectrum ~ 1 / f^exponent (0 white, 1 pink, 2 brown)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = 1.0
    return np.fft.irfft(spec / f ** (exponent / 2), n=n)


def noise_like(kind: str, n: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """A mono noise-like signal [n] with peak in 0.05..0.9: what a broken generator sounds like."""
    if kind == "white":
        x = rng.standard_normal(n)
    elif kind == "pink":
        x = _coloured(rng, n, 1.0)
    elif kind == "brown":
        x = _coloured(rng, n, 2.0)
    elif kind == "shaped":  # noise through a random smooth spectral envelope, slowly modulated
        spec = np.fft.rfft(rng.standard_normal(n))
        knots = rng.uniform(-30, 10, size=12)
        env_db = np.interp(np.linspace(0, 11, len(spec)), np.arange(12), knots)
        x = np.fft.irfft(spec * 10 ** (env_db / 20), n=n)
        x *= np.interp(np.arange(n), np.linspace(0, n, 9), rng.uniform(0.3, 1.0, size=9))
    else:
        raise ValueError(f"unknown noise kind '{kind}' (known: {', '.join(NOISE_KINDS)})")
    x = x / max(float(np.abs(x).max()), 1e-9) * float(rng.uniform(0.05, 0.9))
    return x.astype(np.float32)


def quality_pairs(references: list[np.ndarray], shipped: list[list[tuple[np.ndarray, float]]], sample_rate: int,
                  rng: np.random.Generator, degraded_per_item: int = 3, noise_per_item: float = 0.6,
                  ) -> tuple[list[np.ndarray], list[float]]:
    """Mono waves and target scores.

    references: clean stereo [2, N] clips; shipped: per clip, the dataset's own degraded copies
    (mono wave, severity); each clip also gets `degraded_per_item` fresh canvas degradations
    (sometimes two stacked), and about `noise_per_item` noise-like negatives.
    """
    waves, targets = [], []
    for ref, own in zip(references, shipped):
        waves.append(ref.mean(0))
        targets.append(target_score(0.0))
        for wave, sev in own:
            waves.append(wave)
            targets.append(target_score(sev))
        for _ in range(degraded_per_item):
            y, severity = ref, 0.0
            for kind in rng.choice(KINDS, size=1 + int(rng.random() < 0.25), replace=False):
                y2, params, _ = degrade(y, str(kind), rng, sample_rate)
                s = degradation_severity(str(kind), params, measure_snr_db(y, y2))
                severity = max(severity, s) + 0.15 * s * (severity > 0)
                y = y2
            waves.append(y.mean(0))
            targets.append(target_score(min(severity, 1.0)))
        if rng.random() < noise_per_item:
            kind = str(rng.choice(NOISE_KINDS))
            noise = noise_like(kind, ref.shape[-1], sample_rate, rng)
            if rng.random() < 0.3:  # the clip drowned in hiss (0 dB or worse) is as bad as hiss
                noise = ref.mean(0) * float(rng.uniform(0.1, 0.5)) + noise
            waves.append(noise.astype(np.float32))
            targets.append(target_score(1.0))
    return waves, targets
