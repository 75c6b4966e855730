"""Mix placed stems and master the sum: the last stage of the object-based path.

    mono stems + plan (x(t), distance(t), diffuse) -> placed stems -> sum -> loudness + limiter

The mastering gain is per sample (loudness scale x limiter), and the stems are scaled by the
same gain, so the delivered stems add up to the delivered mix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .loudness import DEFAULT_CEILING_DBTP, DEFAULT_LUFS, MasterReport, master
from .spatial import place_plan_stems


@dataclass
class RenderedMix:
    audio: np.ndarray  # [2, N] float32, mastered
    stems: dict[str, np.ndarray]  # source id -> [2, N] float32: placed, with the mix's mastering gain
    report: MasterReport


def sum_stems(placed: dict[str, np.ndarray], num_samples: int) -> np.ndarray:
    """[2, N] float64 sum of placed stems (each cut or padded to N samples)."""
    mix = np.zeros((2, num_samples))
    for stereo in placed.values():
        k = min(num_samples, stereo.shape[-1])
        mix[:, :k] += stereo[:, :k]
    return mix


def render_mix(stems: dict[str, np.ndarray], plan, sample_rate: int, num_samples: int,
               loudness: float | None = DEFAULT_LUFS, ceiling_dbtp: float = DEFAULT_CEILING_DBTP) -> RenderedMix:
    """Place every mono stem from the plan, sum, normalise to `loudness` LUFS (None: keep the
    level) under a true-peak ceiling. A spatial edit of the plan re-runs this alone."""
    placed = place_stems(stems, plan, sample_rate, num_samples)
    audio, report = master(sum_stems(placed, num_samples), sample_rate, loudness, ceiling_dbtp)
    scaled = {k: (v * report.gain[None, :]).astype(np.float32) for k, v in placed.items()}
    return RenderedMix(audio, scaled, report)


def place_stems(stems: dict[str, np.ndarray], plan, sample_rate: int, num_samples: int) -> dict[str, np.ndarray]:
    """source id -> [2, N] float64: each mono stem cut or padded to N samples and placed from the plan."""
    fitted = {k: _fit(np.asarray(v, dtype=np.float64), num_samples) for k, v in stems.items()}
    return place_plan_stems(fitted, plan, sample_rate)


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    return x[:n] if len(x) >= n else np.concatenate([x, np.zeros(n - len(x))])
