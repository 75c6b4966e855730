"""SynthCanvas-style clips made in memory (no audio), to train the planner's heads.

Uses SynthCanvas's own choreography, sprites and backgrounds, so the heads see what the
benchmark shows; each clip goes through an H.264 round trip like the files on disk.
When a built SynthCanvas folder exists, `canvas_samples` reads its videos instead.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class GroundTruthSource:
    class_name: str
    kind: str
    x: np.ndarray  # per frame, [-1, 1]
    y: np.ndarray
    visible: np.ndarray
    impact_frames: list[int]


@dataclass
class CanvasClip:
    frames: np.ndarray  # [T, H, W, 3] uint8 as decoded from H.264
    fps: float
    duration: float
    sources: list[GroundTruthSource]


def make_clip(seed: int, single: bool, ood: bool = False, duration: float = 4.0, size: int = 224, fps: float = 25.0,
              classes=None, num_sources: int | None = None, speed_range: tuple[float, float] | None = None) -> CanvasClip:
    """One clip. `num_sources` / `speed_range` override the split's choice (e.g. crowded, fast
    scenes on in-distribution backgrounds, to develop without touching the ood split)."""
    from .. import media
    from ..canvas.backgrounds import choose_background, render_background
    from ..canvas.choreography import make_scene
    from ..canvas.classes import builtin_classes
    from ..canvas.render_video import render_frames

    rng = np.random.default_rng(seed)
    classes = classes or builtin_classes()
    n = 1 if single else (4 if ood else int(rng.integers(2, 4)))
    n = num_sources or n
    chosen = [classes[i] for i in rng.choice(len(classes), size=n, replace=False)]
    lo, hi = speed_range or ((2.0, 3.5) if ood else (0.5, 1.5))
    speed = float(rng.uniform(lo, hi))
    scene = make_scene(rng, chosen, size, size, fps, duration, speed, n == 1)
    bg = render_background(choose_background(rng, ood), size, size)
    frames = render_frames(scene, bg, {c.name: c.sprite for c in chosen})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        media.write_video(path, frames, fps)
        decoded = media.decode_frames(path, fps=fps).numpy()
    sources = []
    for s in scene.sprites:
        x, y = scene.normalised(s)
        impacts = [e.frame for e in scene.events if e.source == s.source_id and e.kind == "impact"]
        sources.append(GroundTruthSource(s.class_name, s.kind, x, y, s.visible.copy(), impacts))
    return CanvasClip(decoded, fps, duration, sources)


def match_tracks(tracks, sources: list[GroundTruthSource], width: int, height: int, max_dist: float = 0.35) -> dict[int, int]:
    """Track id -> source index, by mean distance over the frames both exist (optimal assignment)."""
    from scipy.optimize import linear_sum_assignment

    if not tracks or not sources:
        return {}
    cost = np.full((len(tracks), len(sources)), 10.0)
    for i, tr in enumerate(tracks):
        tx, ty = 2 * tr.x - 1, 2 * tr.y - 1
        for j, s in enumerate(sources):
            vis = s.visible[tr.frames]
            if vis.sum() < 3:
                continue
            d = np.hypot(tx[vis] - s.x[tr.frames][vis], ty[vis] - s.y[tr.frames][vis])
            cost[i, j] = float(np.median(d))
    rows, cols = linear_sum_assignment(cost)
    return {tracks[i].id: int(j) for i, j in zip(rows, cols) if cost[i, j] < max_dist}
