"""Temporal reward: audio-visual synchrony plus agreement of audio onsets with the plan's events.

- sync part (with video features): 1 - E|offset| / max_offset from the `offset_reward`
  model (Synchformer-like correlation net, +-2 s in 0.2 s classes), on the first and last 4.8 s;
- plan part: F1 (+-50 ms) of detected onsets against the plan's event onsets.
The score is their weighted mean (the plan part alone without video features).
"""

from __future__ import annotations

import numpy as np
import torch

from ..audio_models.assets import load_model
from ..audio_models.sync import expected_abs_offset, offset_logits
from ..dsp.onsets import detect_onsets, onset_prf
from .base import as_reward_sample, EVAL_RATE, RewardSample, to_eval_rate

TOLERANCE_S = 0.05


class TemporalReward:
    name = "temporal"

    def __init__(self, model: str = "offset_reward", sync_weight: float = 0.5):
        loaded = load_model(model)
        self.model, self.cfg = loaded.module, loaded.config
        self.sync_weight = sync_weight

    def onset_agreement(self, monos: list[np.ndarray], plans) -> np.ndarray:
        out = []
        for mono, plan in zip(monos, plans):
            events = np.array([e.onset for e in plan.temporal.events])
            out.append(onset_prf(detect_onsets(mono, EVAL_RATE), events, TOLERANCE_S)[2])
        return np.asarray(out, np.float32)

    def sync(self, monos: list[np.ndarray], motions: list[np.ndarray]) -> np.ndarray:
        logits = offset_logits(self.model, self.cfg, motions, monos, EVAL_RATE)
        return np.array([1.0 - expected_abs_offset(l, self.cfg) / self.cfg.max_offset_s for l in logits], np.float32)

    def score(self, audio: torch.Tensor, sample: RewardSample) -> torch.Tensor:
        sample = as_reward_sample(sample)
        x = to_eval_rate(audio, sample.sample_rate)
        monos = [w.mean(0) for w in x]
        plan_part = self.onset_agreement(monos, sample.plans(len(x)))
        motions = sample.motion_curves(len(x))
        if motions is None:
            return torch.from_numpy(plan_part)
        w = self.sync_weight
        return torch.from_numpy(w * self.sync(monos, motions) + (1 - w) * plan_part)
