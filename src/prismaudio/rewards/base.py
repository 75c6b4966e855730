"""The reward protocol: `score(audio [B, 2, N], sample) -> Tensor[B]`, higher is better, about 0..1.

`RewardSample` carries what a reward may read besides the audio: the sample rate, the plan
(one shared by the batch, or one per element), optional video features [B, T, D] at
`video_rate` frames per second (D == 1: a motion-energy curve; otherwise e.g. sync-encoder
features, turned into a motion curve by the size of their frame-to-frame change), and an
optional reference audio [B, 2, N].
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd
from typing import Protocol

import numpy as np
import torch
from scipy.signal import resample_poly

from ..errors import PrismError
from ..planner.plan import Plan

EVAL_RATE = 16000
MOTION_FPS = 25


class RewardError(PrismError):
    """Inputs a reward cannot score."""


@dataclass
class RewardSample:
    sample_rate: int
    plan: Plan | list[Plan]
    video_features: torch.Tensor | None = None
    video_rate: float | None = None
    reference: torch.Tensor | None = None

    def plans(self, batch: int) -> list[Plan]:
        if isinstance(self.plan, Plan):
            return [self.plan] * batch
        if len(self.plan) != batch:
            raise RewardError(f"reward sample has {len(self.plan)} plans for a batch of {batch}")
        return list(self.plan)

    def motion_curves(self, batch: int) -> list[np.ndarray] | None:
        """Per element, a motion curve [T] at 25 fps, or None without video features."""
        if self.video_features is None:
            return None
        feats = self.video_features.detach().float().cpu()
        if feats.ndim == 2:
            feats = feats[..., None]
        if feats.ndim != 3 or feats.shape[0] not in (1, batch) or not self.video_rate:
            raise RewardError(f"video_features must be [B, T, D] with a video_rate, got {tuple(feats.shape)} at {self.video_rate}")
        feats = feats.expand(batch, -1, -1).numpy()
        if feats.shape[-1] == 1:
            curves = feats[..., 0]
        else:
            step = np.linalg.norm(np.diff(feats, axis=1), axis=-1)
            curves = np.concatenate([np.zeros((batch, 1)), step], axis=1)
        if abs(self.video_rate - MOTION_FPS) > 1e-6:
            t_out = np.arange(int(round(curves.shape[1] / self.video_rate * MOTION_FPS))) / MOTION_FPS
            t_in = np.arange(curves.shape[1]) / self.video_rate
            curves = np.stack([np.interp(t_out, t_in, c) for c in curves])
        return [c.astype(np.float32) for c in curves]


def as_reward_sample(sample) -> RewardSample:
    """A RewardSample, or one built from any object with `plans` (or `plan`) and optionally
    `reference`, `video_features`, `video_rate`, `sample_rate` (16 kHz when absent), such as
    the RL environment's per-prompt context."""
    if isinstance(sample, RewardSample):
        return sample
    plan = getattr(sample, "plan", None) or getattr(sample, "plans", None)
    if plan is None:
        raise RewardError(f"reward sample {type(sample).__name__} carries no plan")
    return RewardSample(
        sample_rate=int(getattr(sample, "sample_rate", None) or EVAL_RATE),
        plan=plan if isinstance(plan, Plan) else list(plan),
        video_features=getattr(sample, "video_features", None),
        video_rate=getattr(sample, "video_rate", None),
        reference=getattr(sample, "reference", None),
    )


class Reward(Protocol):
    name: str

    def score(self, audio: torch.Tensor, sample: RewardSample) -> torch.Tensor:
        ...


def to_eval_rate(audio: torch.Tensor, sample_rate: int) -> np.ndarray:
    """[B, C, N] tensor at any rate -> float32 numpy [B, C, M] at 16 kHz, NaN zeroed."""
    if audio.ndim == 2:
        audio = audio[:, None]
    if audio.ndim != 3:
        raise RewardError(f"reward audio must be [B, 2, N], got {tuple(audio.shape)}")
    x = np.nan_to_num(audio.detach().float().cpu().numpy())
    if sample_rate != EVAL_RATE:
        g = gcd(int(sample_rate), EVAL_RATE)
        x = resample_poly(x, EVAL_RATE // g, int(sample_rate) // g, axis=-1)
    return np.ascontiguousarray(x, dtype=np.float32)
