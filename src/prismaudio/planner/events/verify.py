"""Is a contact found on a track a real one? A small logistic model of how the track looked there.

A background model seen through a moving camera, a shadow joining a blob, two blobs merging:
each moves a track's centre abruptly without anything hitting anything. What tells them from
contacts is how the track looked around the moment: its blob jumped in size, it covers half
the picture, it touches the border, its outline jitters all along, the camera was moving, it
"bounces" many times a second. A logistic regression on those (`FEATURES`), trained on the
PhysWorld train split's exact contacts (`prismaudio.planner_training.contact_verifier`), gives
each contact a probability; contacts under the threshold are dropped and the rest carry it as
their confidence. Weights in `assets/planner/contact_verifier.safetensors` (config inside); without
the file every contact is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..tracks import Analysis, Track
from .motion import Contact

VERIFIER_PATH = Path(__file__).resolve().parents[2] / "assets" / "planner" / "contact_verifier.safetensors"
VERIFIER_KIND = "planner-contact-verifier"
FEATURES = ("log_change", "log_margin", "log_noise", "speed_before", "speed_after", "area_jump", "log_box_share",
            "area_jitter", "camera_moves", "touching", "bounce", "stop", "hit", "track_rate", "border")


@dataclass
class Verifier:
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float

    def probability(self, x: np.ndarray) -> np.ndarray:
        z = ((np.asarray(x, float) - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-z))


@lru_cache(maxsize=2)
def load_verifier(path: str = str(VERIFIER_PATH)) -> Verifier | None:
    from ...train.checkpoint import load_checkpoint

    if not Path(path).is_file():
        return None
    ckpt = load_checkpoint(path, kind=VERIFIER_KIND)
    if tuple(ckpt.config["features"]) != FEATURES:
        return None  # trained on other features: not usable
    t = {k: v.double().numpy() for k, v in ckpt.tensors.items()}
    return Verifier(t["mean"], t["scale"], t["weights"], float(t["bias"][0]), float(ckpt.config["threshold"]))


def contact_features(track: Track, analysis: Analysis, contacts: list[Contact], times: np.ndarray,
                     camera_moves: bool) -> np.ndarray:
    """[len(contacts), len(FEATURES)]: how the track looked around each of its contacts."""
    if not contacts:
        return np.zeros((0, len(FEATURES)))
    t = times[track.frames]
    area = np.maximum(np.asarray(track.area, float), 1e-6)
    seen = np.flatnonzero(track.observed) if track.observed.any() else np.arange(len(track))
    log_area = np.log(area[seen])
    jitter = float(np.median(np.abs(np.diff(log_area)))) if len(seen) > 2 else 0.0
    share = float(np.median(area[seen]))
    rate = len(contacts) / max(len(seen) / analysis.fps, 1e-3)
    rows = []
    for c in contacts:
        k = int(np.clip(np.searchsorted(t, c.time), 1, len(t) - 1))
        before = np.log(np.median(area[max(0, k - 3) : k]))
        after = np.log(np.median(area[k : k + 3]))
        top, left, bottom, right = track.boxes[min(k, len(track.boxes) - 1)]
        border = top <= 1 or left <= 1 or bottom >= analysis.height - 1 or right >= analysis.width - 1
        rows.append([np.log(max(c.strength, 1e-4)), np.log(max(c.margin, 1e-4)), np.log(max(c.noise, 1e-5)),
                     np.log1p(c.speed_before), np.log1p(c.speed_after), abs(after - before), np.log(max(share, 1e-6)),
                     jitter, float(camera_moves), float(c.kind == "collision"), float(c.kind == "bounce"),
                     float(c.kind == "stop"), float(c.kind == "hit"), np.log1p(rate), float(border)])
    return np.asarray(rows, float)


def verified(contacts: list[Contact], features: np.ndarray, verifier: Verifier | None,
             threshold: float = 0.0) -> list[Contact]:
    """The contacts the verifier believes (probability at least `threshold`; 0: the verifier's
    own), each with its probability as confidence (all of them unchanged without a verifier)."""
    if verifier is None or not contacts:
        return contacts
    p = verifier.probability(features)
    out = []
    for c, q in zip(contacts, p):
        if q >= (threshold or verifier.threshold):
            c.confidence = round(float(q), 3)
            out.append(c)
    return out
