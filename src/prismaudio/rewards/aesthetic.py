"""Aesthetic reward: the `quality_reward` predictor's PQ-like score (1..10) mapped to 0..1."""

from __future__ import annotations

import torch

from ..audio_models.assets import load_model
from ..audio_models.yamnet import shared
from ..metrics.aesthetic import quality_scores
from .base import as_reward_sample, RewardSample, to_eval_rate


class AestheticReward:
    name = "aesthetic"

    def __init__(self, model: str = "quality_reward"):
        self.model = load_model(model).module

    def pq(self, audio: torch.Tensor, sample: RewardSample) -> torch.Tensor:
        """The raw 1..10 score."""
        sample = as_reward_sample(sample)
        monos = [w.mean(0) for w in to_eval_rate(audio, sample.sample_rate)]
        return torch.from_numpy(quality_scores(self.model, shared().clip_embedding(monos), monos)).float()

    def score(self, audio: torch.Tensor, sample: RewardSample) -> torch.Tensor:
        sample = as_reward_sample(sample)
        return (self.pq(audio, sample) - 1.0) / 9.0
