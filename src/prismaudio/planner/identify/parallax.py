"""Is a track's motion only parallax? The epipolar test for a camera moving through a 3D scene.

The flow test of `scene_motion.py` compares the picture inside a track's box with a ring around
it. When the camera orbits, tracks or dollies, a still object stands nearer or farther than the
floor around it, so its picture moves at another speed, and often another direction, than the
ring: the flow test takes it for an object moving on its own, and a still scene filmed by a
moving camera gets sources (PhysWorld train/val: 6 of 11 such clips).

Geometry answers it exactly. Between two views of a still scene every point's image pair obeys
one epipolar constraint, x1' F x0 = 0, whatever its depth; only something moving in the world
leaves its epipolar line. So: estimate F from the corners of the whole frame (RANSAC; moving
objects are a few outliers), and measure how far the track's own corners land from their
epipolar lines (Sampson distance, pixels). Still objects seen from a moving camera stay within
a pixel or two at the 224-pixel analysis size; falling, thrown and pushed objects leave by 5-40
px in some pair (a prototype on PhysWorld train/val's moving cameras: 10 of the 13 still
objects the flow test kept are within 3 px in every pair, 3 of 40 moving ones are).

Where the camera does not move (the frame's corners move under a pixel) F is undefined and
nothing is measured, so a still camera's tracks are left to the flow test; where it moves
forward (a dolly) the epipole lies in the picture and a fall toward it stays on its line, so
those pairs are not measured either.

**Off by default** (`scene_motion.parallax.enabled`). On PhysWorld train + val it cleared the
one still scene of val that got a source (val 1 -> 0 of 5; train 5 of 14 either way) and raised contact precision (train 0.505 -> 0.518), but it also dropped moving objects
whose motion runs along the epipolar lines (a push in the direction a tracking camera moves):
train side 75.2% -> 70.7%, recall 0.373 -> 0.359. Telling those apart needs the still point's
depth to stay constant from pair to pair, which this test does not check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ParallaxConfig:
    enabled: bool = False  # built and measured, off: see the module note
    tolerance: float = 3.0  # pixels (analysis size) from its epipolar line that a still point stays within
    min_pairs: int = 3  # frame pairs with a measured camera motion needed to call a track parallax only
    min_camera_flow: float = 1.0  # pixels the frame's corners must move for the pair to tell anything
    corners: int = 300  # corners of the whole frame for the fundamental matrix
    epipole_margin: float = 0.5  # pairs whose epipole lies this close to the frame (share of its size) tell nothing


def tracked_points(seq: list[np.ndarray], mask: np.ndarray | None, max_corners: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Corners of the first grey frame of `seq` (inside `mask`), followed frame to frame to the
    last with Lucas-Kanade: (start [N, 2], end [N, 2]) of those kept all the way, or None where
    fewer than four are."""
    import cv2

    pts = cv2.goodFeaturesToTrack(seq[0], maxCorners=max_corners, qualityLevel=0.01, minDistance=3,
                                  mask=None if mask is None else mask.astype(np.uint8))
    if pts is None or len(pts) < 4:
        return None
    start, ok = pts.copy(), np.ones(len(pts), bool)
    for a, b in zip(seq[:-1], seq[1:]):
        pts, status, _ = cv2.calcOpticalFlowPyrLK(a, b, pts, None, winSize=(15, 15), maxLevel=2)
        ok &= status.ravel() == 1
    if ok.sum() < 4:
        return None
    return start[ok].reshape(-1, 2), pts[ok].reshape(-1, 2)


def sampson_distances(fundamental: np.ndarray, p0: np.ndarray, p1: np.ndarray) -> np.ndarray:
    """First-order geometric distance (pixels) of each correspondence p0 -> p1 from the epipolar
    geometry x1' F x0 = 0 (Hartley & Zisserman, eq. 11.9)."""
    x0 = np.c_[p0, np.ones(len(p0))]
    x1 = np.c_[p1, np.ones(len(p1))]
    f_x0 = x0 @ fundamental.T  # epipolar lines in the second image
    ft_x1 = x1 @ fundamental  # ... and in the first
    algebraic = np.sum(x1 * f_x0, axis=1)
    norm = f_x0[:, 0] ** 2 + f_x0[:, 1] ** 2 + ft_x1[:, 0] ** 2 + ft_x1[:, 1] ** 2
    return np.sqrt(algebraic ** 2 / np.maximum(norm, 1e-12))


class FrameGeometry:
    """The fundamental matrix between two frames, from all their corners, computed once per pair
    of frames however many tracks ask (None where the camera did not move or F is not found)."""

    def __init__(self, cfg: ParallaxConfig):
        self.cfg = cfg
        self._cache: dict[tuple, np.ndarray | None] = {}

    def fundamental(self, key: tuple, seq: list[np.ndarray]) -> np.ndarray | None:
        if key not in self._cache:
            self._cache[key] = self._estimate(seq)
        return self._cache[key]

    def _estimate(self, seq: list[np.ndarray]) -> np.ndarray | None:
        import cv2

        pts = tracked_points(seq, None, self.cfg.corners)
        if pts is None or len(pts[0]) < 15:
            return None
        if float(np.median(np.linalg.norm(pts[1] - pts[0], axis=1))) < self.cfg.min_camera_flow:
            return None  # a still camera: every F fits, the test says nothing
        fundamental, _ = cv2.findFundamentalMat(pts[0], pts[1], cv2.FM_RANSAC, 1.0, 0.99)
        if fundamental is None or fundamental.shape != (3, 3):
            return None
        h, w = seq[0].shape[:2]
        if epipole_near(fundamental, w, h, self.cfg.epipole_margin):
            return None  # the camera moves forward: motion toward or away from the epipole hides in its lines
        return fundamental


def epipole_near(fundamental: np.ndarray, width: int, height: int, margin: float) -> bool:
    """Whether the first view's epipole (F e = 0) lies in the frame grown by `margin` of its size
    on every side. There the epipolar lines fan out across the picture (a dolly's focus of
    expansion), and an object falling or pushed along one of them leaves no trace in the test."""
    e = np.linalg.svd(fundamental)[2][-1]
    if abs(e[2]) < 1e-9:
        return False  # at infinity: the camera moves sideways
    x, y = e[0] / e[2], e[1] / e[2]
    return bool(-margin * width <= x <= (1 + margin) * width and -margin * height <= y <= (1 + margin) * height)


def parallax_only(errors: list[float], cfg: ParallaxConfig) -> bool:
    """Whether a track's per-pair epipolar errors (median over its corners, pixels) say it is
    still in the world: enough measured pairs, every one within tolerance."""
    return cfg.enabled and len(errors) >= cfg.min_pairs and max(errors) <= cfg.tolerance
