"""Inception score of the predictions (av-benchmark): exp(E_x KL(p(y|x) || p(y))) over 10 splits."""

from __future__ import annotations

import numpy as np
from scipy.special import softmax

from .base import EvalPair


def inception_score(probs: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """Mean and std over `splits` of exp(mean KL(p(y|x) || p(y))); probs [N, K] rows summing to 1."""
    probs = np.asarray(probs, np.float64)
    splits = max(1, min(splits, len(probs)))
    scores = []
    for part in np.array_split(probs, splits):
        py = part.mean(0, keepdims=True)
        kl = np.sum(part * (np.log(part + 1e-12) - np.log(py + 1e-12)), axis=1)
        scores.append(float(np.exp(kl.mean())))
    return float(np.mean(scores)), float(np.std(scores))


class InceptionScore:
    name = "ISC-YAMNET"

    def __init__(self, splits: int = 10):
        self.splits = splits
        self.probs: list[np.ndarray] = []

    def update(self, pair: EvalPair) -> dict:
        self.probs.append(softmax(pair.pred_yamnet.logits.mean(0)))
        return {}

    def compute(self) -> dict:
        if not self.probs:
            return {"ISC-YAMNET": None, "ISC-YAMNET-std": None}
        mean, std = inception_score(np.stack(self.probs), self.splits)
        return {"ISC-YAMNET": mean, "ISC-YAMNET-std": std}
