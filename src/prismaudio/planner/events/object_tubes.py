"""Tubes: the picture around one object, frame by frame, for the contact network's object view.

The whole-picture view of the contact network (`contact_net.py`, `view: picture`) sees a
PhysWorld object as 5-20 pixels of a 112-pixel frame and says only that something hit
somewhere; who hit is guessed afterwards from the boxes, and two objects landing together
are one contact. The object view sees a tube instead: for each frame, a square window of the
analysis frame (224 pixels) centred on the object's smoothed path, a few times the object's
size, resized to the network's picture size. Centring on the smoothed path takes the object's
steady motion out, so what is left in the tube is the abrupt change a contact makes; each
tube's contacts belong to its object. Pure functions of arrays; each tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tracks import Track


@dataclass
class TubeConfig:
    reach: float = 3.0  # the window's side is this many times the object's size ...
    min_side: int = 40  # ... but at least this many analysis pixels (a small object's bounce stays inside)
    max_side: int = 128  # ... and at most this many
    smooth: float = 2.0  # frames: Gaussian sigma of the path the window follows


def window_side(object_side: float, cfg: TubeConfig) -> int:
    """The window's side in analysis pixels for an object `object_side` pixels across."""
    return int(round(float(np.clip(cfg.reach * max(object_side, 0.0), cfg.min_side, cfg.max_side))))


def smooth_path(x: np.ndarray, y: np.ndarray, known: np.ndarray, sigma: float) -> np.ndarray:
    """[T, 2] centres: the known positions, gaps and ends filled (linear inside, held outside),
    smoothed by a Gaussian of `sigma` frames (edges reflected). Nothing known: the frame's centre is
    not guessed here, the caller decides; returns NaNs."""
    known = np.asarray(known, bool)
    t = np.arange(len(known))
    if not known.any():
        return np.full((len(known), 2), np.nan)
    path = np.stack([np.interp(t, t[known], np.asarray(v, float)[known]) for v in (x, y)], axis=1)
    if sigma <= 0 or len(path) < 2:
        return path
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(path, sigma, axis=0, mode="nearest")


def cut_tube(grey: np.ndarray, centres: np.ndarray, side: int, size: int) -> np.ndarray:
    """uint8 [T, size, size]: from each grey frame uint8 [T, H, W], the `side`-pixel square
    around its centre (x, y in pixels; sub-pixel, the frame's edge repeated outside it),
    area-resized to `size`."""
    import cv2

    out = np.empty((len(grey), size, size), np.uint8)
    for k, (frame, (cx, cy)) in enumerate(zip(grey, centres)):
        patch = cv2.getRectSubPix(np.ascontiguousarray(frame), (side, side), (float(cx), float(cy)))
        out[k] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA if side >= size else cv2.INTER_LINEAR)
    return out


def track_tube(track: Track, grey: np.ndarray, cfg: TubeConfig, size: int) -> np.ndarray:
    """The tube of a tracked object over all frames of `grey` uint8 [T, H, W] (the frames its
    boxes refer to); before and after the track the window rests where it was first and last seen."""
    n, height, width = grey.shape
    x, y, known = np.zeros(n), np.zeros(n), np.zeros(n, bool)
    inside = (track.frames >= 0) & (track.frames < n)
    frames = track.frames[inside]
    seen = np.asarray(track.observed, bool)[inside]
    x[frames], y[frames] = np.asarray(track.x)[inside] * width, np.asarray(track.y)[inside] * height
    known[frames] = seen if seen.any() else True  # (a track bridged all along: its bridged positions)
    if not known.any():
        return cut_tube(grey, np.tile([width / 2, height / 2], (n, 1)), window_side(0.0, cfg), size)
    sides = np.sqrt(np.asarray(track.w)[inside] * width * np.asarray(track.h)[inside] * height)
    centres = smooth_path(x, y, known, cfg.smooth)
    return cut_tube(grey, centres, window_side(float(np.median(sides)) if len(sides) else 0.0, cfg), size)


def grey_analysis(frames: np.ndarray) -> np.ndarray:
    """uint8 [T, H, W, 3] -> uint8 [T, H, W] grey, at the frames' own size."""
    import cv2

    return np.stack([cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in frames]) if len(frames) \
        else np.zeros(frames.shape[:3], np.uint8)
