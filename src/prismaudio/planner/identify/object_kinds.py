"""What kind of thing a viewer would call a tracked object: a probe on its crops' image features.

ImageNet has no "block" and no "rubber duck", and on small rendered objects it is often sure
of the wrong thing (a lego brick is a "plectrum", a wooden cube a "switch"). A viewer calls
them by their kind: a ball, a block, a rubber duck. This is a linear probe on the frozen
EfficientNet-Lite0 features of the object's crops (the same crops the recogniser takes),
trained on PhysWorld's train and val objects (`planner_training/object_kinds.py`; never
its test split, whose objects it must generalise to or leave alone).

It only speaks where it knows the look: a crop far from every object it was trained on (its
cosine similarity to the nearest training object below the probe's own threshold, one that
nearly all its training objects pass against the other clips) gets no kind, so a teddy bear,
a mug or a real street keeps its ImageNet name or the honest "unknown object".

The probe ships as package data (`assets/planner/object_kinds.safetensors`, config inside);
without it the planner names objects as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

ASSET = Path(__file__).resolve().parents[2] / "assets" / "planner" / "object_kinds.safetensors"
KIND = "planner-object-kinds"


@dataclass
class ObjectKind:
    label: str  # what a viewer calls it ("ball", "block", "rubber duck")
    description: str  # what it sounds like (the generator hears it)
    probability: float  # the probe's probability of that kind
    similarity: float  # cosine similarity to the nearest training object
    confidence: float = -1.0  # how often such an answer was right on objects the probe never saw (-1: as `probability`)

    @property
    def sure(self) -> float:
        """The kind's confidence for the plan: calibrated where the probe carries a calibration."""
        return self.probability if self.confidence < 0 else self.confidence


@dataclass
class KindProbe:
    classes: list[str]
    descriptions: list[str]
    mean: np.ndarray  # [D] feature standardisation
    scale: np.ndarray  # [D]
    weights: np.ndarray  # [C, D]
    bias: np.ndarray  # [C]
    known: np.ndarray  # [N, D] unit-length mean features of the training objects
    min_similarity: float  # a crop less like every training object than this gets no kind
    min_probability: float  # the probe's answer must be at least this sure
    calibration: tuple[float, ...] = ()  # (w_similarity, w_probability, bias): the answer's confidence (`calibrated`)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """[C]: kind probabilities of one object from its crops' features [n, D] (log-mean over crops)."""
        z = (np.asarray(features, float) - self.mean) / self.scale
        logits = z @ self.weights.T + self.bias
        logp = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
        m = logp.mean(0)
        p = np.exp(m - m.max())
        return p / p.sum()

    def similarity(self, features: np.ndarray) -> float:
        """Cosine similarity of the object's mean feature to the nearest training object."""
        return nearest_similarity(np.asarray(features, float).mean(0), self.known)

    def kind(self, features: np.ndarray) -> ObjectKind | None:
        """The object's kind, or None where the probe does not know the look or is unsure."""
        feats = np.asarray(features, float)
        if feats.ndim != 2 or len(feats) == 0 or len(self.classes) == 0:
            return None
        sim = self.similarity(feats)
        if sim < self.min_similarity:
            return None
        p = self.probabilities(feats)
        best = int(np.argmax(p))
        if p[best] < self.min_probability:
            return None
        conf = round(calibrated(sim, float(p[best]), self.calibration), 3) if self.calibration else -1.0
        return ObjectKind(self.classes[best], self.descriptions[best], round(float(p[best]), 3), round(sim, 3), conf)


def calibrated(similarity: float, probability: float, calibration) -> float:
    """The probability that a kind answered at this similarity and probe probability is right: a
    logistic fit on leave-one-kind-out / leave-one-object-out answers (training, `confidence_calibration`).
    The probe's own probability is near 1 even on kinds it never saw; this is what it is worth."""
    w_sim, w_prob, bias = calibration
    return float(1.0 / (1.0 + np.exp(-(w_sim * similarity + w_prob * probability + bias))))


def nearest_similarity(vector: np.ndarray, known: np.ndarray) -> float:
    """Largest cosine similarity of `vector` [D] to the unit rows of `known` [N, D] (-1 if none)."""
    if len(known) == 0:
        return -1.0
    v = np.asarray(vector, float)
    v = v / max(float(np.linalg.norm(v)), 1e-9)
    return float(np.max(known @ v))


@lru_cache(maxsize=2)
def load_probe(path: str = str(ASSET)) -> KindProbe | None:
    """The installed probe (None when there is none: objects are named as before)."""
    from ...train.checkpoint import load_checkpoint

    if not Path(path).is_file():
        return None
    ckpt = load_checkpoint(path, kind=KIND)
    t = {k: v.double().numpy() for k, v in ckpt.tensors.items()}
    c = ckpt.config
    return KindProbe(list(c["classes"]), list(c["descriptions"]), t["mean"], t["scale"], t["weights"], t["bias"],
                     t["known"], float(c["min_similarity"]), float(c["min_probability"]), tuple(c.get("calibration", ())))


def object_kinds(features: list, path: str = "") -> list[ObjectKind | None]:
    """Each track's kind from its crops' features (torch or numpy [n, D]); all None without a probe."""
    probe = load_probe(path or str(ASSET))
    if probe is None:
        return [None] * len(features)
    return [probe.kind(np.asarray(f.numpy() if hasattr(f, "numpy") else f, float)) for f in features]
