"""Does the whole picture look like a rendered 3D scene (a floor seen in perspective under a
backdrop, as in PhysWorld) rather than a flat SynthCanvas backdrop?

The sprite tests of the canvas gate (`gate.py`) look at the objects' crops only, and a plain
ball or a flat-shaded block on a plain floor can pass for a sprite there: such clips took the
canvas path and lost every contact. What the crops do not show, the layout of the whole frame
does: a SynthCanvas backdrop is one flat picture (a colour, a gradient or a photo) edge to
edge, a 3D scene has a floor receding to a horizon with something else above it. This probe
reads the EfficientNet feature map of a few whole frames, pooled into horizontal bands (the
installed probe uses one: the whole-frame mean; more bands overfit the floor textures), and
a logistic regression on them says "3D scene". The gate only uses it to veto the
canvas path, never to choose it, so footage the sprite tests send down the open path stays
there. Trained by `prismaudio.planner_training.scene_probe`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

SCENE_PROBE_PATH = Path(__file__).resolve().parents[2] / "assets" / "planner" / "scene_probe.safetensors"
SCENE_PROBE_KIND = "planner-scene-probe"
SCENE_FRAMES = 1  # whole frames looked at, spread over the clip (one, the middle: each costs a forward pass at 224 px, and one did as well as four on train/val)
MAP_SIZE = 224  # the frames are resized to this square before the encoder (its 7 x 7 map)


@dataclass
class SceneProbe:
    """Logistic regression over the band features, and the score above which a clip is a 3D scene."""

    weight: np.ndarray  # [bands * 1280]
    bias: float
    threshold: float
    bands: int


def scene_frame_indices(n_frames: int, count: int = SCENE_FRAMES) -> np.ndarray:
    """`count` frame indices spread over the clip, its first and last frames left out (fades, cuts)."""
    if n_frames <= 0:
        return np.zeros(0, int)
    return np.unique(np.linspace(0, n_frames - 1, count + 2)[1:-1].round().astype(int))


def band_features(row_map: np.ndarray, bands: int) -> np.ndarray:
    """A feature map pooled over columns [C, rows] -> [bands * C]: the rows averaged into
    `bands` horizontal bands from top to bottom, each band L2-normalised (its layout, not its
    brightness, matters)."""
    m = np.asarray(row_map, float)
    edges = np.linspace(0, m.shape[1], bands + 1).round().astype(int)
    out = []
    for a, b in zip(edges[:-1], edges[1:]):
        v = m[:, a:max(b, a + 1)].mean(1)
        out.append(v / max(float(np.linalg.norm(v)), 1e-9))
    return np.concatenate(out)


def scene_score(x: np.ndarray, probe: SceneProbe) -> float:
    """Probability that the band features `x` come from a rendered 3D scene."""
    z = float(np.asarray(x, float) @ probe.weight + probe.bias)
    return float(1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0))))


def row_map(frames: np.ndarray, encoder) -> np.ndarray:
    """The encoder's last feature map of a few whole frames [N, H, W, 3] (uint8), averaged over
    the frames and over columns: [1280, 7]."""
    import torch

    from ...encoders.semantic import normalise

    picked = np.ascontiguousarray(frames[scene_frame_indices(len(frames))])
    with torch.inference_mode():
        maps = encoder.model.extract_features(normalise(torch.from_numpy(picked), MAP_SIZE).to(encoder.device))
    return maps.mean(dim=(0, 3)).cpu().numpy()


@lru_cache(maxsize=2)
def load_scene_probe(path: str = str(SCENE_PROBE_PATH)) -> SceneProbe | None:
    """The installed probe, or None when it is not there (the gate then skips the veto)."""
    from ...train.checkpoint import load_checkpoint

    if not Path(path).is_file():
        return None
    ckpt = load_checkpoint(path, kind=SCENE_PROBE_KIND)
    return SceneProbe(ckpt.tensors["weight"].double().numpy().reshape(-1), float(ckpt.tensors["bias"].reshape(-1)[0]),
                      float(ckpt.config["threshold"]), int(ckpt.config["bands"]))


def looks_3d(frames: np.ndarray, encoder, probe: SceneProbe) -> tuple[bool, float]:
    """(whether the clip looks like a rendered 3D scene, its score)."""
    if len(frames) == 0:
        return False, 0.0
    s = scene_score(band_features(row_map(frames, encoder), probe.bands), probe)
    return s >= probe.threshold, s
