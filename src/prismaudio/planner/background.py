"""Repair a median background that swallowed an object which rested in one place most of the time.

The temporal median keeps whatever covers a pixel more than half the time: an object that
sits still (and only hops now and then) becomes background, is invisible while it rests and
leaves a "ghost" where it rested whenever it moves. The true background shows in those
pixels every time the object is away, always with the same value; so pixels that are
foreground for a minority of frames with a *stable* value then are candidates. A candidate
region replaces the median there when that makes the background smoother along the region's
outline (a ghost object has sharp edges there; the scene behind it usually does not).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def _edge_energy(image: np.ndarray, band: np.ndarray) -> float:
    g = image.astype(np.float32).mean(-1)
    gy, gx = np.gradient(g)
    return float(np.hypot(gx, gy)[band].mean()) if band.any() else 0.0


def repair_background(frames: np.ndarray, background: np.ndarray, masks: np.ndarray, min_pixels: int,
                      max_spread: float = 12.0, min_frames: int = 5, smoother: float = 0.7) -> tuple[np.ndarray, int]:
    """frames [T, h, w, 3] uint8, their median `background` and foreground `masks` [T, h, w]
    -> (repaired background, number of regions replaced)."""
    t = len(frames)
    count = masks.sum(0)
    cand = (count >= min_frames) & (count <= 0.6 * t)
    if not cand.any():
        return background, 0
    ys, xs = np.nonzero(cand)
    m = masks[:, ys, xs]  # [T, N]
    vals = frames[:, ys, xs].astype(np.float32)  # [T, N, 3]
    w = m[..., None].astype(np.float32)
    n = w.sum(0)
    mean = (vals * w).sum(0) / n
    spread = np.sqrt(((vals - mean) ** 2 * w).sum(0) / n).mean(-1)
    stable = spread <= max_spread
    alt = background.copy()
    alt[ys[stable], xs[stable]] = np.clip(np.round(mean[stable]), 0, 255).astype(np.uint8)
    region_mask = np.zeros(cand.shape, dtype=bool)
    region_mask[ys[stable], xs[stable]] = True
    region_mask = ndimage.binary_closing(region_mask, iterations=1)
    labels, k = ndimage.label(region_mask)
    out = background.copy()
    replaced = 0
    for i in range(1, k + 1):
        region = labels == i
        if region.sum() < min_pixels:
            continue
        band = ndimage.binary_dilation(region, iterations=1) & ~ndimage.binary_erosion(region, iterations=1)
        trial = np.where(region[..., None], alt, background)
        if _edge_energy(trial, band) < smoother * _edge_energy(background, band):
            out = np.where(region[..., None], alt, out)
            replaced += 1
    return out, replaced
