"""The spatial module of a plan: where a source is on screen (x) and how far (apparent size)."""

from __future__ import annotations

import numpy as np

from ..tracks import Analysis
from ..plan import SpatialTrack


def spatial_x(track, width: int, tolerance: float) -> np.ndarray:
    """Horizontal position of the object per track frame (fraction of the width).

    The centre of its box where the blob is the object alone (box within `tolerance` of the
    track's median width and height): the centroid leans towards the object's heavy side and
    towards where its colours differ from the background, the box does not. Elsewhere (rings
    around it on impact, another object merged in, a bridged gap) the centroid."""
    x = np.asarray(track.x, dtype=float).copy()
    if tolerance <= 0 or not track.observed.any():
        return x
    boxes = np.asarray(track.boxes, dtype=float)
    bw, bh = boxes[:, 3] - boxes[:, 1], boxes[:, 2] - boxes[:, 0]
    mw, mh = np.median(bw[track.observed]), np.median(bh[track.observed])
    lone = track.observed & (np.abs(bw / max(mw, 1e-9) - 1) <= tolerance) & (np.abs(bh / max(mh, 1e-9) - 1) <= tolerance)
    x[lone] = (boxes[lone, 1] + boxes[lone, 3]) / 2 / width
    return x


def smoothed(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average over `width` frames (edges repeat): a point of the plan's
    spatial track should not carry one frame's centroid jitter."""
    if width <= 1 or len(x) < 2:
        return x
    from scipy.ndimage import uniform_filter1d

    return uniform_filter1d(np.asarray(x, dtype=float), size=width, mode="nearest")


def spatial_track(sid: str, members: list, analysis: Analysis, end_time: float, tolerance: float = 0.2,
                  smooth: int = 3, rate: float = 5.0) -> SpatialTrack:
    """x in [-1, 1] and distance relative to the object's typical size (bigger = closer) over
    the frames of a source's tracks."""
    fps = analysis.fps
    frames, xs, areas, seen = [], [], [], []
    for tr in members:
        keep = tr.frames > (frames[-1][-1] if frames else -1)
        frames.append(tr.frames[keep])
        xs.append(smoothed(spatial_x(tr, analysis.width, tolerance), smooth)[keep])
        areas.append(tr.area[keep])
        seen.append(tr.observed[keep])
    frames_a, x_a, area_a, seen_a = (np.concatenate(v) for v in (frames, xs, areas, seen))
    times = frames_a / fps
    step = max(1, int(round(fps / rate)))
    sel = np.unique(np.r_[np.arange(0, len(times), step), len(times) - 1])
    ref = float(np.median(area_a[seen_a])) if seen_a.any() else float(np.median(area_a))
    distance = np.sqrt(ref / np.maximum(area_a[sel], 1e-9))
    return SpatialTrack(
        sid, [round(float(min(t, end_time)), 3) for t in times[sel]],
        [round(float(np.clip(2 * x - 1, -1, 1)), 3) for x in x_a[sel]],
        [round(float(np.clip(d, 0.25, 4.0)), 3) for d in distance],
    )
