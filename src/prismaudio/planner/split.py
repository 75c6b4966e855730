"""Separate touching objects: split one foreground blob among the tracks that entered it.

When two or more tracked objects touch, background subtraction sees one blob. Each track
keeps an appearance model (a coarse colour histogram learnt while it was alone); every pixel
of the merged blob goes to the track that explains it best: the log-likelihood of its colour
under the track's histogram plus a Gaussian prior around the track's predicted centre
(spread like the object's size). Pure numpy; no knowledge of what the objects are.
"""

from __future__ import annotations

import numpy as np

LEVELS = 4  # colour levels per channel: 4^3 = 64 histogram bins
NUM_BINS = LEVELS**3
_FLOOR = 1e-3  # histogram floor: a colour never seen on a track is unlikely, not impossible


def colour_bins(rgb: np.ndarray) -> np.ndarray:
    """Histogram bin of each uint8 RGB pixel [..., 3] -> int [...] in [0, 64)."""
    q = (np.asarray(rgb, dtype=np.uint16) * LEVELS) >> 8
    return (q[..., 0] * LEVELS + q[..., 1]) * LEVELS + q[..., 2]


def colour_histogram(bins: np.ndarray) -> np.ndarray:
    """Normalised histogram [64] of bin indices."""
    h = np.bincount(np.asarray(bins).ravel(), minlength=NUM_BINS).astype(np.float64)
    return h / max(1.0, h.sum())


def split_pixels(ys: np.ndarray, xs: np.ndarray, bins: np.ndarray, centres: np.ndarray, sigmas: np.ndarray,
                 hists: np.ndarray) -> np.ndarray:
    """Owner (index into `centres`) of each pixel.

    ys, xs, bins: [N]; centres: [K, 2] as (y, x) in the same pixel units; sigmas: [K] spatial
    spread; hists: [K, 64] colour histograms. Score = log p(colour | k) - d^2 / (2 sigma_k^2).
    """
    dy = ys[:, None] - centres[None, :, 0]
    dx = xs[:, None] - centres[None, :, 1]
    spatial = -(dy * dy + dx * dx) / (2.0 * np.maximum(sigmas, 1.0)[None, :] ** 2)
    colour = np.log(np.maximum(hists, _FLOOR))[:, bins].T  # [N, K]
    return np.argmax(spatial + colour, axis=1)
