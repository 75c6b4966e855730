"""Paired KL divergence of class distributions (av-benchmark): KL(p_gt || p_pred) per clip, averaged.

`KL-YAMNET-softmax` uses softmax over the clip's mean logits (as av-benchmark on PANNs);
`KL-YAMNET-sigmoid` the per-class Bernoulli KL of sigmoid probabilities, averaged over classes.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, log_softmax

from .base import EvalPair, mean_or_none


def kl_softmax(gt_logits: np.ndarray, pred_logits: np.ndarray) -> float:
    lp, lq = log_softmax(gt_logits, axis=-1), log_softmax(pred_logits, axis=-1)
    return float(np.sum(np.exp(lp) * (lp - lq), axis=-1))


def kl_sigmoid(gt_logits: np.ndarray, pred_logits: np.ndarray, eps: float = 1e-6) -> float:
    p = np.clip(expit(gt_logits), eps, 1 - eps)
    q = np.clip(expit(pred_logits), eps, 1 - eps)
    return float(np.mean(p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))))


class PairedKL:
    name = "KL-YAMNET-softmax"

    def __init__(self):
        self.soft: list[float] = []
        self.sig: list[float] = []

    def update(self, pair: EvalPair) -> dict:
        if pair.gt_yamnet is None:
            return {"KL-YAMNET-softmax": None, "KL-YAMNET-sigmoid": None}
        g, p = pair.gt_yamnet.logits.mean(0), pair.pred_yamnet.logits.mean(0)
        self.soft.append(kl_softmax(g, p))
        self.sig.append(kl_sigmoid(g, p))
        return {"KL-YAMNET-softmax": self.soft[-1], "KL-YAMNET-sigmoid": self.sig[-1]}

    def compute(self) -> dict:
        return {"KL-YAMNET-softmax": mean_or_none(self.soft), "KL-YAMNET-sigmoid": mean_or_none(self.sig)}
