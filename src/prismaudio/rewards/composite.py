"""Weighted composite of the four rewards, built from a dict of weights (as in Flow-GRPO).

`CompositeReward({"semantic": 1, "temporal": 1, "aesthetic": 0.5, "spatial": 1})`;
`score` gives the weighted mean [B], `score_all` every component too (for logging).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..config import load_config
from .base import Reward, RewardError, RewardSample

REWARD_NAMES = ("semantic", "temporal", "aesthetic", "spatial")


@dataclass
class RewardsConfig:
    weights: dict[str, float] = field(default_factory=lambda: {n: 1.0 for n in REWARD_NAMES})
    temporal_sync_weight: float = 0.5
    spatial_reference_weight: float = 0.5


def build_reward(name: str, cfg: RewardsConfig | None = None) -> Reward:
    cfg = cfg or RewardsConfig()
    if name == "semantic":
        from .semantic import SemanticReward

        return SemanticReward()
    if name == "temporal":
        from .temporal import TemporalReward

        return TemporalReward(sync_weight=cfg.temporal_sync_weight)
    if name == "aesthetic":
        from .aesthetic import AestheticReward

        return AestheticReward()
    if name == "spatial":
        from .spatial import SpatialReward

        return SpatialReward(reference_weight=cfg.spatial_reference_weight)
    raise RewardError(f"unknown reward '{name}' (known: {', '.join(REWARD_NAMES)})")


def build_rewards(names: list[str] | tuple[str, ...] = REWARD_NAMES, device=None,
                  cfg: RewardsConfig | None = None) -> dict[str, Reward]:
    """Rewards by name (the RL environment's registry). They run on the CPU: the models are a
    few MB and read features computed there, so `device` is accepted and not needed."""
    return {name: build_reward(name, cfg) for name in names}


class CompositeReward:
    name = "composite"

    def __init__(self, weights: dict[str, float] | None = None, cfg: RewardsConfig | None = None,
                 rewards: dict[str, Reward] | None = None):
        cfg = cfg or RewardsConfig()
        self.weights = dict(weights if weights is not None else cfg.weights)
        bad = [k for k in self.weights if k not in REWARD_NAMES and not (rewards and k in rewards)]
        if bad:
            raise RewardError(f"unknown reward(s) in weights: {', '.join(bad)} (known: {', '.join(REWARD_NAMES)})")
        if not self.weights or sum(self.weights.values()) <= 0:
            raise RewardError("composite reward needs at least one positive weight")
        self.rewards = {k: (rewards or {}).get(k) or build_reward(k, cfg) for k, w in self.weights.items() if w != 0}

    @classmethod
    def from_config(cls, path) -> "CompositeReward":
        return cls(cfg=load_config(RewardsConfig, path))

    def score_all(self, audio: torch.Tensor, sample: RewardSample) -> dict[str, torch.Tensor]:
        parts = {k: r.score(audio, sample) for k, r in self.rewards.items()}
        total = sum(self.weights[k] * v for k, v in parts.items()) / sum(abs(self.weights[k]) for k in parts)
        return {**parts, "composite": total}

    def score(self, audio: torch.Tensor, sample: RewardSample) -> torch.Tensor:
        return self.score_all(audio, sample)["composite"]
