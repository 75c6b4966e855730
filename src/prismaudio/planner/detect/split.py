"""The one way to split a merged blob: every pixel of the blob gets an owner, and each owner's
pixels become one piece (`pieces`). Three cues say who owns a pixel, tried where each applies:

- object centres (`split_at_centres`): where the centre net (`centres.py`) sees two or more
  object centres inside one blob (objects touching from the start, crowded scenes), each pixel
  goes to its nearest centre; run on every frame before tracking;
- the tracks that entered it (`split_between_tracks`): when two or more tracked objects touch,
  each track keeps an appearance model (a coarse colour histogram learnt while it was alone);
  every pixel goes to the track that explains it best: the log-likelihood of its colour under
  the track's histogram plus a Gaussian prior around the track's predicted centre (spread like
  the object's size); run by the tracker frame by frame;
- narrow necks (`split_by_necks`): a blob no two tracks claim is cut where it narrows between
  two round parts (objects touching from the start that the net did not separate).

A track that holds two objects for its whole life (never seen apart) is split later, by names,
in the identify pass (`repair/merged.py`). Pure numpy; no knowledge of what the objects are.
"""
from __future__ import annotations

import numpy as np

from ..tracks import Blob, blob_from_pixels

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


def pieces(blob: Blob, owner: np.ndarray, frame: np.ndarray, factor: int, count: int,
           min_pixels: np.ndarray | float = 1) -> list[tuple[int, Blob]]:
    """(owner index, piece) for each owner in range(count) holding at least `min_pixels` of the
    blob's pixels (`owner`: the owner of each pixel of `blob.pix`), in owner order."""
    need = np.broadcast_to(np.asarray(min_pixels, dtype=float), (count,))
    out = []
    for k in range(count):
        mine = blob.pix[owner == k]
        if len(mine) and len(mine) >= need[k]:
            out.append((k, blob_from_pixels(mine, frame, factor)))
    return out


def split_at_centres(blobs: list[Blob], centres: np.ndarray, frame: np.ndarray, factor: int, min_pixels: float) -> list[Blob]:
    """Blobs of one frame, each blob holding two or more `centres` cut into one piece per centre
    (every pixel to its nearest centre); pieces smaller than `min_pixels` go back to the others."""
    if len(centres) < 2:
        return blobs
    w = frame.shape[1]
    out: list[Blob] = []
    for b in blobs:
        if b.pix is None:
            out.append(b)
            continue
        ys, xs = np.divmod(b.pix, w)
        inside = _centres_inside(centres, ys, xs)
        if len(inside) < 2:
            out.append(b)
            continue
        d = (xs[:, None] + 0.5 - inside[None, :, 0]) ** 2 + (ys[:, None] + 0.5 - inside[None, :, 1]) ** 2
        owner = d.argmin(1)
        sizes = np.bincount(owner, minlength=len(inside))
        keep = np.flatnonzero(sizes >= min_pixels)
        if len(keep) < 2:
            out.append(b)
            continue
        owner = keep[d[:, keep].argmin(1)]
        out.extend(piece for _, piece in pieces(b, owner, frame, factor, len(inside)))
    return out


def _centres_inside(centres: np.ndarray, ys: np.ndarray, xs: np.ndarray, reach: float = 3.0) -> np.ndarray:
    """The centres that fall on (within `reach` pixels of) a pixel of the blob."""
    keep = []
    for cx, cy in centres:
        if np.min(np.abs(xs + 0.5 - cx) + np.abs(ys + 0.5 - cy)) <= reach:
            keep.append((cx, cy))
    return np.asarray(keep, dtype=np.float64).reshape(-1, 2)


def _neck_pieces(b: Blob, frame: np.ndarray, factor: int, min_radius: float) -> list[Blob]:
    """A blob that no two tracks claim, cut at narrow necks (objects touching from the start)."""
    w = frame.shape[1]
    if min_radius <= 0 or len(b.pix) < 2 * np.pi * min_radius**2:
        return [b]
    ys, xs = np.divmod(b.pix, w)
    owner = split_by_necks(ys, xs, min_radius)
    if owner is None:
        return [b]
    return [piece for _, piece in pieces(b, owner, frame, factor, int(owner.max()) + 1)]


def _lone_blobs(tr, blobs: list[Blob], f: int, h: int, w: int) -> set[int]:
    """Indices of blobs of the track's own size where it is predicted: the object may be there,
    alone. (Its prediction may also fall in the grown box of a big merged blob nearby; cutting a
    piece of that blob for it would pull the track off its object onto a sliver of the others.)"""
    if not tr.typical_area:
        return set()
    px, py = tr.predict(f)
    radius = 0.5 * np.sqrt(tr.typical_area * h * w)
    return {j for j, b in enumerate(blobs)
            if 0.6 < b.area / tr.typical_area < 1.6 and np.hypot((b.x - px) * w, (b.y - py) * h) < radius}


def split_between_tracks(blobs: list[Blob], active: list, f: int, frame: np.ndarray, factor: int,
                         neck_radius: float = 0.0) -> list[Blob]:
    """Blobs of frame `f`, where a blob that two or more live tracks (`tracking.TrackBuilder`)
    have entered (their predicted centres fall inside it and it is bigger than either alone) is
    cut into one piece per track by `split_pixels` (colour model + position prior), each piece
    marked as that track's (`Blob.owner`); a blob no two tracks claim is cut at narrow necks."""
    h, w = frame.shape[:2]
    min_radius = neck_radius * max(h, w)
    lone = {tr.id: _lone_blobs(tr, blobs, f, h, w) for tr in active}
    out: list[Blob] = []
    for k, b in enumerate(blobs):
        if b.pix is None:
            out.append(b)
            continue
        top, left, bottom, right = (v / factor for v in b.box)
        gy, gx = 0.15 * (bottom - top), 0.15 * (right - left)
        inside = []
        for tr in active:
            if tr.missed > 2 or tr.hist is None or not tr.typical_area or lone[tr.id] - {k}:
                continue
            px, py = tr.predict(f)
            if left - gx <= px * w <= right + gx and top - gy <= py * h <= bottom + gy:
                inside.append((tr, px * w - 0.5, py * h - 0.5))
        if len(inside) < 2 or b.area < 1.3 * max(tr.typical_area for tr, _, _ in inside):
            out.extend(_neck_pieces(b, frame, factor, min_radius))
            continue
        ys, xs = np.divmod(b.pix, w)
        centres = np.array([[cy, cx] for _, cx, cy in inside])
        sigmas = np.array([0.5 * np.sqrt(tr.typical_area * h * w) for tr, _, _ in inside])
        hists = np.stack([tr.hist for tr, _, _ in inside])
        owner = split_pixels(ys, xs, colour_bins(frame.reshape(-1, 3)[b.pix]), centres, sigmas, hists)
        # a piece smaller than this is the track hidden behind the others
        need = [max(4, 0.25 * tr.typical_area * h * w) for tr, _, _ in inside]
        for j, piece in pieces(b, owner, frame, factor, len(inside), np.array(need)):
            piece.owner = inside[j][0].id
            out.append(piece)
    return out

