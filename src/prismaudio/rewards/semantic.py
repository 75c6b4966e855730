"""Semantic reward: CLAP-like cosine between the audio and the plan's semantic text.

Frozen YAMNet audio embedding (mean over patches) and frozen MiniLM sentence vector, each
through the learned projections of `clap_reward` (`prismaudio train clap`).
"""

from __future__ import annotations

import torch

from ..audio_models.assets import load_model
from ..audio_models.yamnet import shared
from .base import as_reward_sample, RewardSample, to_eval_rate


class SemanticReward:
    name = "semantic"

    def __init__(self, model: str = "clap_reward"):
        self.clap = load_model(model).module
        self._texts: dict[str, torch.Tensor] = {}

    def _text(self, texts: list[str]) -> torch.Tensor:
        from ..encoders.text import TextEncoder

        new = sorted({t for t in texts if t not in self._texts})
        if new:
            self._texts.update(zip(new, TextEncoder().embed(new)))
        return torch.stack([self._texts[t] for t in texts])

    def score(self, audio: torch.Tensor, sample: RewardSample) -> torch.Tensor:
        sample = as_reward_sample(sample)
        x = to_eval_rate(audio, sample.sample_rate)
        emb = torch.from_numpy(shared().clip_embedding([w.mean(0) for w in x]))
        text = self._text([p.semantic_text() for p in sample.plans(len(x))])
        with torch.no_grad():
            return self.clap.similarity(emb, text).float()
