"""Spatial reward: does the stereo image put each source where the plan says?

Against the plan (no reference needed): per 100 ms frame where a planned source sounds and
the audio is active, the position read from the ILD (inverse constant-power pan law) is
compared with the plan's x: 1 - mean |x_hat - x| / 2. With a reference: 1 - mean ITD error
/ 0.5 ms (GCC-PHAT, dsp.spatial) is averaged in. Mono or fake-stereo audio scores low.
"""

from __future__ import annotations

import numpy as np
import torch


from ..dsp.spatial import framewise
from ..metrics.spatial import SILENCE, itd_ild_errors, sounding_positions, x_from_ild
from ..planner.plan import Plan
from .base import as_reward_sample, EVAL_RATE, RewardSample, to_eval_rate

ITD_SCALE_MS = 0.5


def planned_x(plan: Plan, times: np.ndarray) -> np.ndarray:
    """Planned x of the sounding source(s) per time (mean when several), NaN where none sounds."""
    total, count = np.zeros(len(times)), np.zeros(len(times))
    for inside, xs in sounding_positions(plan, times):
        total[inside] += xs
        count[inside] += 1
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def plan_agreement(stereo: np.ndarray, plan: Plan) -> float:
    if stereo.shape[0] != 2 or not plan.spatial.tracks or np.abs(stereo).max() < SILENCE:
        return 0.0
    fw = framewise(stereo, EVAL_RATE)
    target = planned_x(plan, fw["times"])
    use = fw["active"] & np.isfinite(target)
    if not use.any():
        return 0.0
    return float(1.0 - np.mean(np.abs(x_from_ild(fw["ild"][use]) - target[use])) / 2)


class SpatialReward:
    name = "spatial"

    def __init__(self, reference_weight: float = 0.5):
        self.reference_weight = reference_weight

    def score(self, audio: torch.Tensor, sample: RewardSample) -> torch.Tensor:
        sample = as_reward_sample(sample)
        x = to_eval_rate(audio, sample.sample_rate)
        plans = sample.plans(len(x))
        scores = np.array([plan_agreement(w, p) for w, p in zip(x, plans)], np.float32)
        if sample.reference is not None:
            ref = to_eval_rate(sample.reference.expand(len(x), -1, -1) if sample.reference.shape[0] == 1 else sample.reference,
                               sample.sample_rate)
            ref_scores = []
            for w, r in zip(x, ref):
                err = itd_ild_errors(w, r)[0] if w.shape[0] == 2 and r.shape[0] == 2 else None
                ref_scores.append(0.0 if err is None else max(0.0, 1.0 - err / ITD_SCALE_MS))
            wr = self.reference_weight
            scores = (1 - wr) * scores + wr * np.asarray(ref_scores, np.float32)
        return torch.from_numpy(scores.astype(np.float32))
