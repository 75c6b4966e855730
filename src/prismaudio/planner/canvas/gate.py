"""Is this SynthCanvas footage? The canvas recognition head is trusted only where it is.

The head was trained on SynthCanvas's emoji sprites and names anything confidently: a red
ball becomes "whistling", a pedestrian "shamisen". Its answer is believed when the crops
also look like the sprite of the class it names: the cosine similarity of the track's mean
EfficientNet feature to that class's sprite prototype (mean feature of its sprite pasted on
canvas backgrounds; `assets/planner/sprite_prototypes.safetensors`, built by
`prismaudio.planner_training.prototypes`).

A clip is canvas footage when a confident track looks clearly like its sprite, or two
confident tracks both look like theirs (`is_canvas_clip`), or the sprite probe finds a track
sprite-like, unless the whole picture looks like a rendered 3D scene (`scene_probe.py`: a
plain ball or a flat-shaded block on a plain floor can pass the sprite tests, a floor seen in
perspective cannot). Otherwise the open-world path plans it: names from ImageNet via the text
encoder, events from motion.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

PROTOTYPES_PATH = Path(__file__).resolve().parents[2] / "assets" / "planner" / "sprite_prototypes.safetensors"
PROTOTYPES_KIND = "planner-sprite-prototypes"
PROBE_PATH = PROTOTYPES_PATH.parent / "sprite_probe.safetensors"
PROBE_KIND = "planner-sprite-probe"


@dataclass
class GateConfig:
    enabled: bool = True
    sure_confidence: float = 0.9  # one head answer this confident ...
    sure_similarity: float = 0.68  # ... whose crops are this like its sprite makes the clip canvas-like
    certain_confidence: float = 0.97  # ... or one this confident ...
    certain_similarity: float = 0.5  # ... and this like its sprite
    pair_confidence: float = 0.85  # ... or two answers this confident ...
    pair_similarity: float = 0.5  # ... each this like its sprite
    probe: bool = True  # ... or the sprite probe finds one track sprite-like beyond its trained threshold
    scene: bool = True  # ... unless the whole picture looks like a rendered 3D scene (scene_probe.py)
    still_camera: bool = True  # ... and only where the camera stands still (SynthCanvas is filmed by a still camera)


@lru_cache(maxsize=2)
def load_prototypes(path: str = str(PROTOTYPES_PATH)) -> tuple[list[str], np.ndarray] | None:
    """(class names, unit prototypes [C, 1280]) or None when not installed."""
    from ...train.checkpoint import load_checkpoint

    if not Path(path).is_file():
        return None
    ckpt = load_checkpoint(path, kind=PROTOTYPES_KIND)
    m = ckpt.tensors["prototypes"].float().numpy()
    return list(ckpt.config["classes"]), m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)


@dataclass
class SpriteProbe:
    """A small MLP (input -> hidden, GELU -> 1 logit) and the score above which a track is a sprite."""

    w1: np.ndarray  # [hidden, 1282]
    b1: np.ndarray  # [hidden]
    w2: np.ndarray  # [hidden]
    b2: float
    threshold: float


@lru_cache(maxsize=2)
def load_probe(path: str = str(PROBE_PATH)) -> SpriteProbe | None:
    """The sprite probe (`planner_training/gate.py` trains it), or None when not installed."""
    from ...train.checkpoint import load_checkpoint

    if not Path(path).is_file():
        return None
    ckpt = load_checkpoint(path, kind=PROBE_KIND)
    t = {k: v.double().numpy() for k, v in ckpt.tensors.items()}
    return SpriteProbe(t["w1"], t["b1"], t["w2"].reshape(-1), float(t["b2"].reshape(-1)[0]), float(ckpt.config["threshold"]))


def probe_inputs(features: np.ndarray, confidence: np.ndarray, similarity: np.ndarray) -> np.ndarray:
    """The probe's input per track [N, 1282]: its unit mean crop feature, the head's confidence
    (0 where the head did not name it) and its sprite similarity."""
    f = np.asarray(features, float)
    f = f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-9)
    return np.concatenate([f, np.asarray(confidence, float)[:, None], np.asarray(similarity, float)[:, None]], axis=1)


def gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def probe_scores(inputs: np.ndarray, probe: SpriteProbe) -> np.ndarray:
    """Probability that each track is a SynthCanvas sprite."""
    h = gelu(np.asarray(inputs, float) @ probe.w1.T + probe.b1)
    return 1.0 / (1.0 + np.exp(-(h @ probe.w2 + probe.b2)))


def sprite_similarity(features: np.ndarray, label: str, prototypes: tuple[list[str], np.ndarray]) -> float:
    """Cosine similarity of the mean of crop features [n, D] to the prototype of `label` (0 if unknown)."""
    classes, m = prototypes
    if label not in classes or len(features) == 0:
        return 0.0
    f = np.asarray(features, float).mean(0)
    f = f / max(np.linalg.norm(f), 1e-9)
    return float(f @ m[classes.index(label)])


def is_canvas_clip(named: list[tuple[float, float]], cfg: GateConfig) -> bool:
    """`named`: (head confidence, sprite similarity) of each track the head named. Canvas footage
    shows one object clearly like its sprite, or two objects the head is sure of that both
    look like theirs (sprites over photos look less like the prototypes, made over plain
    backgrounds, but a pair of them is still unlike anything else)."""
    sure = any(c >= cfg.sure_confidence and s >= cfg.sure_similarity or c >= cfg.certain_confidence and s >= cfg.certain_similarity
               for c, s in named)
    pairs = sum(c >= cfg.pair_confidence and s >= cfg.pair_similarity for c, s in named)
    return sure or pairs >= 2


def sprites_seen(recognitions: list, features: list, cfg: GateConfig) -> bool:
    """True when the canvas head's answers look like SynthCanvas sprites (this module);
    without the gate or its prototypes, every clip takes the canvas path (as before the gate)."""
    prototypes = load_prototypes() if cfg.enabled else None
    if prototypes is None:
        return True
    named = [(r.confidence, sprite_similarity(f.numpy(), r.label, prototypes))
             for r, f in zip(recognitions, features) if r.origin == "canvas"]
    if is_canvas_clip(named, cfg):
        return True
    probe = load_probe() if cfg.probe else None
    if probe is None or not named:
        return False
    x = probe_inputs(np.stack([f.numpy().mean(0) for r, f in zip(recognitions, features) if r.origin == "canvas"]),
                     np.array([c for c, _ in named]), np.array([s for _, s in named]))
    return bool(probe_scores(x, probe).max() >= probe.threshold)


def canvas_footage(recognitions: list, features: list, cfg: GateConfig, frames: np.ndarray | None = None,
                   encoder=None, camera_moves: bool = False) -> bool:
    """True when the tracks look like SynthCanvas sprites (`sprites_seen`) and neither the
    camera moves (`camera_moves`, with `still_camera`) nor the whole picture (`frames`, seen
    by `encoder`) looks like a rendered 3D scene. Those two only veto: the scene test runs on
    the clips the sprite tests would send down the canvas path."""
    if cfg.enabled and cfg.still_camera and camera_moves:
        return False
    if not sprites_seen(recognitions, features, cfg):
        return False
    if not (cfg.enabled and cfg.scene) or frames is None or encoder is None:
        return True
    from .scene_probe import load_scene_probe, looks_3d

    probe = load_scene_probe()
    return probe is None or not looks_3d(frames, encoder, probe)[0]
