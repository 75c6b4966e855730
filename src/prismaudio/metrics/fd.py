"""Frechet distance between embedding distributions (av-benchmark / FID formula).

FD = ||mu_p - mu_g||^2 + Tr(S_p + S_g - 2 sqrtm(S_p S_g)). Embeddings are YAMNet's 1024-d
per-patch vectors (0.96 s windows every 0.48 s), pooled over all clips of each side, as
av-benchmark does for VGGish.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from .base import EvalPair


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6) -> float:
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if not np.isfinite(covmean).all():  # near-singular product: regularise both (as pytorch-fid)
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    covmean = covmean.real
    return float(max(0.0, diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)))


def statistics(emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    emb = np.asarray(emb, np.float64)
    return emb.mean(0), np.cov(emb, rowvar=False) if len(emb) > 1 else np.zeros((emb.shape[1], emb.shape[1]))


class FrechetDistance:
    name = "FD-YAMNET"

    def __init__(self):
        self.pred: list[np.ndarray] = []
        self.gt: list[np.ndarray] = []

    def update(self, pair: EvalPair) -> dict:
        self.pred.append(pair.pred_yamnet.embeddings)
        if pair.gt_yamnet is not None:
            self.gt.append(pair.gt_yamnet.embeddings)
        return {}

    def compute(self) -> dict:
        if not self.pred or not self.gt:
            return {self.name: None}
        mu_p, s_p = statistics(np.concatenate(self.pred))
        mu_g, s_g = statistics(np.concatenate(self.gt))
        return {self.name: frechet_distance(mu_p, s_p, mu_g, s_g)}
