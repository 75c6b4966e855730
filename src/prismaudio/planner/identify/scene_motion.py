"""Objects that only move because the camera does: the scene flows past them the same way.

The camera pass (`camera.py`) takes out pans it can explain by one translation. A dolly, an
orbit or a sideways track over a 3D scene is not one translation (near things move more than
far ones), so it stays in the picture, the background model sees changing pixels and the
tracker follows them: a still scene would get sources. The test here is local and needs no
model of the camera: between two frames, the picture inside a track's box moves like the
picture just around it (sparse Lucas-Kanade flow of corners in the box and in a ring around
it, OpenCV). An object that moves in the world moves against its surroundings; a still one
seen by a moving camera, or a patch of background the tracker took for an object, does not.

The same flow also finds tracks whose picture never moves at all (flicker, noise, a
compression artefact the background model took for motion): no object moves there either.
Only the open-world path runs this (SynthCanvas clips pay nothing). A track the flow test keeps
can also face the epipolar test of `parallax.py` (still objects seen moving by parallax; off
by default, measured there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..tracks import Analysis, Track
from .parallax import FrameGeometry, ParallaxConfig, parallax_only, sampson_distances, tracked_points


@dataclass
class SceneMotionConfig:
    enabled: bool = True
    gap_seconds: float = 0.6  # frames this far apart are compared (a slow camera moves a few pixels)
    samples: int = 40  # at most this many frame pairs per track, spread over it
    ring: float = 0.8  # the ring around a box reaches this share of the box's size beyond it
    min_flow: float = 1.0  # pixels the ring must move for a pair to tell anything
    tolerance: float = 0.3  # inside and ring agree within this share of the ring's motion (at least 1 px)
    min_agree: float = 0.6  # share of telling pairs that agree for the track to move with the scene
    min_pairs: int = 3  # telling pairs needed to decide
    own_motion: float = 3.0  # pixels inside and ring differ by (and the ring's motion) when the object moves on its own
    min_box_shift: float = 3.0  # pixels a track's box goes between compared frames when its object moves (0: never asked)
    parallax: ParallaxConfig = field(default_factory=ParallaxConfig)  # still objects a moving camera sees move (parallax.py)


def _gray(frame: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)


def region_flow(seq: list[np.ndarray], mask: np.ndarray, max_corners: int = 30) -> np.ndarray | None:
    """Median (dx, dy) flow of corners of the first grey frame of `seq` inside `mask`, followed
    frame to frame through `seq` to its last (short steps keep Lucas-Kanade on fast pans); None
    where fewer than four corners are found and kept."""
    pts = tracked_points(seq, mask, max_corners)
    return None if pts is None else np.median(pts[1] - pts[0], axis=0)


def box_shift(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Pixels the centre of box `b` (top, left, bottom, right) lies from that of box `a`."""
    return float(np.hypot((b[0] + b[2] - a[0] - a[2]) / 2, (b[1] + b[3] - a[1] - a[3]) / 2))


def agrees(inside: np.ndarray, ring: np.ndarray, tolerance: float) -> bool:
    """Whether two flows are one view's motion: their difference is within `tolerance` of the
    ring's motion (at least one pixel), or they point the same way at a speed a nearer or
    farther thing would have (parallax: up to 2.5 times faster or slower)."""
    a, b = float(np.linalg.norm(inside)), float(np.linalg.norm(ring))
    if np.linalg.norm(inside - ring) <= max(1.0, tolerance * b):
        return True
    return a > 0 and b > 0 and float(inside @ ring) / (a * b) >= 0.85 and 0.4 <= a / b <= 2.5


def travels(track: Track, gap: int, min_shift: float) -> bool:
    """Whether the track's box, between any two seen frames `gap` apart, goes further than its own
    size (and `min_shift` pixels): an object that rests, is pushed and rests again moves in only a
    second or two of its track, which the spaced pairs above can miss; flicker stays in place."""
    if min_shift <= 0:
        return False
    seen = np.asarray(track.observed, bool)
    idx = np.flatnonzero(seen[:-gap] & seen[gap:]) if len(track) > gap else np.zeros(0, int)
    if not len(idx):
        return False
    b = np.asarray(track.boxes, float)
    cy, cx = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    shift = np.hypot(cy[idx + gap] - cy[idx], cx[idx + gap] - cx[idx])
    size = float(np.median(np.maximum(b[seen, 2] - b[seen, 0], b[seen, 3] - b[seen, 1])))
    return bool(shift.max() >= max(size, min_shift))


def moves_with_scene(track: Track, gray: list[np.ndarray], gap: int, cfg: SceneMotionConfig,
                     geometry: FrameGeometry | None = None) -> bool:
    """Whether the track is no object moving on its own: the picture inside its box flows like
    the picture around it whenever its surroundings move (see the module note), or never moves
    at all, or (with `geometry`, where the camera moves) it moves only by parallax."""
    if flows_with_scene(track, gray, gap, cfg):
        return True
    return geometry is not None and parallax_only(epipolar_errors(track, gray, gap, cfg, geometry), cfg.parallax)


def _pairs(track: Track, gap: int, cfg: SceneMotionConfig) -> list[int]:
    """Indices k into the track whose frames k and k + gap both show the object, at most `samples`, spread."""
    seen = [i for i in np.flatnonzero(track.observed) if i + gap < len(track) and track.observed[i + gap]]
    if len(seen[::gap]) <= cfg.samples:
        return seen[::gap]
    return [seen[i] for i in np.linspace(0, len(seen) - 1, cfg.samples).round().astype(int)]


def _frames_between(track: Track, k: int, gap: int) -> list[int]:
    """The frames a pair's corners are followed through (short steps keep Lucas-Kanade on fast pans)."""
    return [int(track.frames[j]) for j in sorted({k, k + gap // 3, k + 2 * gap // 3, k + gap})]


def epipolar_errors(track: Track, gray: list[np.ndarray], gap: int, cfg: SceneMotionConfig,
                    geometry: FrameGeometry) -> list[float]:
    """Per compared pair where the camera moves: the median distance (pixels) of the corners in
    the track's box from the epipolar lines of the whole frame's motion (parallax.py)."""
    out = []
    h, w = gray[int(track.frames[0])].shape
    for k in _pairs(track, gap, cfg):
        frames = _frames_between(track, k, gap)
        seq = [gray[f] for f in frames]
        fundamental = geometry.fundamental(tuple(frames), seq)
        if fundamental is None:
            continue
        top, left, bottom, right = track.boxes[k]
        inner = np.zeros((h, w), bool)
        inner[max(0, top):bottom + 1, max(0, left):right + 1] = True
        pts = tracked_points(seq, inner, 30)
        if pts is not None:
            out.append(float(np.median(sampson_distances(fundamental, *pts))))
    return out


def flows_with_scene(track: Track, gray: list[np.ndarray], gap: int, cfg: SceneMotionConfig) -> bool:
    """Whether the picture inside the track's box flows like the picture around it, whenever
    its surroundings move, or never moves at all."""
    pairs = _pairs(track, gap, cfg)
    if not pairs:
        return False
    h, w = gray[int(track.frames[0])].shape
    telling = agreeing = measured = moving_inside = 0
    for k in pairs:
        top, left, bottom, right = track.boxes[k]
        dy, dx = cfg.ring * (bottom - top) + 2, cfg.ring * (right - left) + 2
        outer = np.zeros((h, w), bool)
        outer[max(0, int(top - dy)):int(bottom + dy) + 1, max(0, int(left - dx)):int(right + dx) + 1] = True
        inner = np.zeros((h, w), bool)
        inner[max(0, top):bottom + 1, max(0, left):right + 1] = True
        gy, gx = 0.2 * (bottom - top) + 3, 0.2 * (right - left) + 3
        grown = np.zeros((h, w), bool)  # the ring keeps clear of the object's own edge (a box is loose)
        grown[max(0, int(top - gy)):int(bottom + gy) + 1, max(0, int(left - gx)):int(right + gx) + 1] = True
        seq = [gray[f] for f in _frames_between(track, k, gap)]
        ring = region_flow(seq, outer & ~grown)
        inside = region_flow(seq, inner)
        shifted = cfg.min_box_shift > 0 and box_shift(track.boxes[k], track.boxes[k + gap]) >= cfg.min_box_shift
        if ring is None or inside is None:
            # a fast object loses its corners between frames, yet its box goes with it: it moves
            moving_inside += shifted
            continue
        if np.linalg.norm(inside - ring) > max(cfg.own_motion, np.linalg.norm(ring)) and not agrees(inside, ring, cfg.tolerance):
            return False  # it moved against its surroundings once (not as a nearer part of the view): an object of its own
        measured += 1
        # a small object on a textured floor holds few of its box's corners (their median is the
        # floor's: none), but the box itself goes with it
        moving_inside += bool(np.linalg.norm(inside) >= cfg.min_flow or shifted)
        if np.linalg.norm(ring) < cfg.min_flow:
            continue
        telling += 1
        agreeing += agrees(inside, ring, cfg.tolerance)
    if measured >= cfg.min_pairs and moving_inside == 0 and not travels(track, gap, cfg.min_box_shift):
        return True  # the picture in the box never moves: flicker or noise the tracker followed
    return telling >= cfg.min_pairs and agreeing >= cfg.min_agree * telling


def scene_bound_tracks(frames: np.ndarray, tracks: list[Track], fps: float, cfg: SceneMotionConfig) -> set[int]:
    """Ids of the tracks that move only with the scene, or whose picture never moves."""
    if not cfg.enabled or not tracks or len(frames) < 3:
        return set()
    gap = max(1, int(round(cfg.gap_seconds * fps)))
    needed = sorted({int(f) for tr in tracks for f in tr.frames})
    gray: list = [None] * len(frames)
    for f in needed:
        gray[f] = _gray(frames[f])
    geometry = FrameGeometry(cfg.parallax) if cfg.parallax.enabled else None
    return {tr.id for tr in tracks if moves_with_scene(tr, gray, gap, cfg, geometry)}


def without_scene_bound(frames: np.ndarray, analysis: Analysis, features: list, cfg: SceneMotionConfig,
                        keep: Callable[[Track], bool] | None = None) -> tuple[list, set[int]]:
    """(crop features of the tracks left, ids of those `keep` held back): the tracks that only
    move with the camera are taken out (`scene_bound_tracks`), but for those `keep` says to keep
    (an object that stood still and then moved in place: its picture "never moves" between the
    spaced frames); the analysis keeps the rest and a note says why."""
    bound = scene_bound_tracks(frames, analysis.tracks, analysis.fps, cfg)
    held = {tr.id for tr in analysis.tracks if tr.id in bound and keep is not None and keep(tr)}
    bound -= held
    if not bound:
        return features, held
    kept = [(tr, f) for tr, f in zip(analysis.tracks, features) if tr.id not in bound]
    analysis.tracks = [tr for tr, _ in kept]
    analysis.notes.append(f"{len(bound)} changing region(s) moved only with the camera (the scene around them moves the same way) "
                          "or not at all: no object moves there, so no sound is planned for them")
    return [f for _, f in kept], held
