"""Is this SynthCanvas footage? The canvas recognition head is trusted only where it is.

The head was trained on SynthCanvas's emoji sprites and names anything confidently: a red
ball becomes "whistling", a pedestrian "shamisen". Its answer is believed when the crops
also look like the sprite of the class it names: the cosine similarity of the track's mean
EfficientNet feature to that class's sprite prototype (mean feature of its sprite pasted on
canvas backgrounds; `assets/planner/sprite_prototypes.safetensors`, built by
`prismaudio.planner_training.prototypes`).

A clip is canvas footage when its most confident track looks clearly like its sprite and
most of the named tracks look like theirs (one flat-coloured square can resemble a sprite;
a whole scene of sprite look-alikes is the canvas). Otherwise the open-world path plans it:
names from ImageNet via the text encoder, events from motion.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

PROTOTYPES_PATH = Path(__file__).resolve().parent.parent / "assets" / "planner" / "sprite_prototypes.safetensors"
PROTOTYPES_KIND = "planner-sprite-prototypes"


@dataclass
class GateConfig:
    enabled: bool = True
    sure_confidence: float = 0.9  # a head answer this confident ...
    sure_similarity: float = 0.68  # ... whose crops are this like its sprite makes the clip canvas-like
    named_confidence: float = 0.35  # named tracks (head confidence at least this) ...
    named_similarity: float = 0.6  # ... this like their sprites ...
    named_share: float = 0.5  # ... must be at least this share of them


@lru_cache(maxsize=2)
def load_prototypes(path: str = str(PROTOTYPES_PATH)) -> tuple[list[str], np.ndarray] | None:
    """(class names, unit prototypes [C, 1280]) or None when not installed."""
    from ..train.checkpoint import load_checkpoint

    if not Path(path).is_file():
        return None
    ckpt = load_checkpoint(path, kind=PROTOTYPES_KIND)
    m = ckpt.tensors["prototypes"].float().numpy()
    return list(ckpt.config["classes"]), m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)


def sprite_similarity(features: np.ndarray, label: str, prototypes: tuple[list[str], np.ndarray]) -> float:
    """Cosine similarity of the mean of crop features [n, D] to the prototype of `label` (0 if unknown)."""
    classes, m = prototypes
    if label not in classes or len(features) == 0:
        return 0.0
    f = np.asarray(features, float).mean(0)
    f = f / max(np.linalg.norm(f), 1e-9)
    return float(f @ m[classes.index(label)])


def is_canvas_clip(named: list[tuple[float, float]], cfg: GateConfig) -> bool:
    """`named`: (head confidence, sprite similarity) of each track the head named."""
    if not named:
        return False
    sure = any(c >= cfg.sure_confidence and s >= cfg.sure_similarity for c, s in named)
    counted = [s for c, s in named if c >= cfg.named_confidence]
    share = sum(s >= cfg.named_similarity for s in counted) / max(len(counted), 1)
    return sure and share >= cfg.named_share
