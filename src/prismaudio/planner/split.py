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


def pixels_histogram(frame: np.ndarray, pix: np.ndarray) -> np.ndarray:
    """Normalised colour histogram [64] of the pixels `pix` (flat indices) of `frame` [h, w, 3]."""
    return colour_histogram(colour_bins(frame.reshape(-1, 3)[pix]))


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Hellinger distance of two normalised histograms: 0 the same colours, 1 none shared."""
    return float(np.sqrt(max(0.0, 1.0 - float(np.sqrt(a * b).sum()))))


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


def split_by_necks(ys: np.ndarray, xs: np.ndarray, min_radius: float, neck: float = 0.6) -> np.ndarray | None:
    """Cut a blob (pixels ys, xs) of several round-ish objects that touch at narrow necks.

    Centres are maxima of the distance transform at least `min_radius` deep; two centres are
    different objects when the blob narrows between them to under `neck` times the smaller
    one's radius. Pixels go to the centre minimising distance - radius. Returns the owner
    index of each pixel, or None when the blob is one object.
    """
    from scipy import ndimage

    top, left = int(ys.min()), int(xs.min())
    mask = np.zeros((int(ys.max()) - top + 3, int(xs.max()) - left + 3), dtype=bool)
    mask[ys - top + 1, xs - left + 1] = True
    dt = ndimage.distance_transform_edt(mask)
    size = max(3, int(2 * min_radius) | 1)
    peak = (dt >= min_radius) & (dt >= ndimage.maximum_filter(dt, size=size))
    py, px = np.nonzero(peak)
    if len(py) < 2:
        return None
    order = np.argsort(-dt[py, px])
    kept: list[tuple[int, int, float]] = []
    for i in order:
        y, x, r = int(py[i]), int(px[i]), float(dt[py[i], px[i]])
        separate = True
        for ky, kx, kr in kept:
            n = int(max(abs(ky - y), abs(kx - x))) + 1
            line = dt[np.linspace(y, ky, n).round().astype(int), np.linspace(x, kx, n).round().astype(int)]
            if line.min() >= neck * min(r, kr):
                separate = False
                break
        if separate:
            kept.append((y, x, r))
    if len(kept) < 2:
        return None
    c = np.array(kept)
    d = np.hypot((ys - top + 1)[:, None] - c[None, :, 0], (xs - left + 1)[:, None] - c[None, :, 1]) - c[None, :, 2]
    return np.argmin(d, axis=1)
