"""Aesthetic metrics: a PQ-like quality score (1..10) from the `quality_eval` predictor, plus
analytic checks (clipped-sample fraction, noise floor in dB, 99 % energy bandwidth in Hz)."""

from __future__ import annotations

import numpy as np
import torch

from ..audio_models.assets import load_model
from ..audio_models.features import quality_features, quality_vector
from .base import SAMPLE_RATE, EvalPair, mean_or_none

KEYS = ("PQ-quality", "clipped-fraction", "noise-floor-dB", "bandwidth-Hz")


def quality_scores(model, embeddings: np.ndarray, waves: list[np.ndarray]) -> np.ndarray:
    """Scores [B] of mono waves given their mean YAMNet embeddings [B, 1024]."""
    side = torch.from_numpy(np.stack([quality_vector(w, SAMPLE_RATE) for w in waves]))
    with torch.no_grad():
        return model(torch.from_numpy(np.asarray(embeddings, np.float32)), side).numpy()


class AestheticMetrics:
    name = "aesthetic"

    def __init__(self, model: str = "quality_eval"):
        self.model = load_model(model).module
        self.values: dict[str, list] = {k: [] for k in KEYS}

    def update(self, pair: EvalPair) -> dict:
        mono = pair.pred_mono
        q = quality_features(mono, SAMPLE_RATE)
        out = {
            "PQ-quality": float(quality_scores(self.model, pair.pred_yamnet.embeddings.mean(0)[None], [mono])[0]),
            "clipped-fraction": q["clipped_fraction"],
            "noise-floor-dB": q["noise_floor_db"],
            "bandwidth-Hz": q["bandwidth_hz"],
        }
        for k in KEYS:
            self.values[k].append(out[k])
        return out

    def compute(self) -> dict:
        return {k: mean_or_none(v) for k, v in self.values.items()}
