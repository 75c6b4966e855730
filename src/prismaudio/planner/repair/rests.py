"""Tracks extended over the time their object rests where the background model holds it.

The background model (`detect/foreground.py`) keeps the colour each pixel shows most often.
An object that sits still for most of the clip is therefore part of the background there: it
is foreground, and tracked, only while it is somewhere else. A teddy that sits for five
seconds and is then thrown gets a track that begins at the throw; a block pushed across the
floor that rests at its new place for the rest of the clip gets one that ends where it
stops. Yet it is seen all along, and a still object sounds from where it sits.

Where the object rested, the background holds it: once it has left (before it came), the
picture there differs from the background (its "ghost"). So, on a still camera:

- a track that begins after the shot does is extended back over the frames where the place
  it left (found next to where it was first seen: the pixels that differ from the background
  while the object is elsewhere) matches the background, up to where it was first seen (a
  fast start is picked up a few frames late: the place shows its ghost by then);
- likewise forward from where it was last seen.

The added frames are marked unseen (`observed` False): contacts, naming and the share of the
time an object moves are found on seen frames only, so only where the source sounds from
changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tracks import Analysis, Track, boxes_overlap, with_unseen_rows


@dataclass
class RestConfig:
    enabled: bool = True
    diff_threshold: float = 28.0  # |frame - background| (0..255, max over RGB) for a pixel to differ
    differs: float = 0.3  # share of the place's pixels that differ: something else is there
    min_away: int = 5  # frames with the object elsewhere needed to tell whether the background holds it
    min_extra: int = 3  # fewer frames than this are not worth adding
    min_ghost: float = 0.3  # the place it left holds at least this share of the object's usual area
    max_gap_seconds: float = 0.5  # the object left (came to) its place at most this long before (after) it was seen moving
    with_camera: bool = True  # where the camera moves, resting objects are carried with the floor (carried.py)


def differing(patch: np.ndarray, background: np.ndarray, threshold: float) -> np.ndarray:
    """[T, h, w] bool: the pixels of `patch` [T, h, w, 3] that differ from `background` [h, w, 3]
    by more than `threshold` in some channel (uint8 values, compared without wrapping)."""
    return np.abs(patch.astype(np.int16) - background.astype(np.int16)[None]).max(axis=-1) > threshold


def place_difference(small: np.ndarray, background: np.ndarray, box: tuple[int, int, int, int], threshold: float) -> np.ndarray:
    """[T]: per frame, the share of the pixels in `box` (top, left, bottom, right, pixels of
    `small` [T, h, w, 3]) that differ from `background` [h, w, 3] by more than `threshold`."""
    top, left, bottom, right = box
    if bottom <= top or right <= left:
        return np.zeros(len(small))
    return differing(small[:, top:bottom, left:right], background[top:bottom, left:right], threshold).mean(axis=(1, 2))


def resting_run(differs: np.ndarray, first: int, step: int, limit: float) -> int:
    """How many frames, from `first` going by `step` (-1: back, +1: forward), the place matches
    the background (`differs` under `limit`) without a break."""
    n, k, f = len(differs), 0, first
    while 0 <= f < n and differs[f] < limit:
        k += 1
        f += step
    return k


def ghost_box(small: np.ndarray, background: np.ndarray, window: tuple[int, int, int, int], away: np.ndarray,
              threshold: float, min_pixels: int, share: float = 0.5,
              near: tuple[int, int, int, int] | None = None) -> tuple[int, int, int, int] | None:
    """Where, inside `window` (top, left, bottom, right, pixels of `small` [T, h, w, 3]), the
    background holds something that is not there while the object is elsewhere (`away`: frame
    indices): the bounding box of a group of at least `min_pixels` pixels that differ from
    `background` in at least `share` of those frames; None if there is none. Of several groups,
    the one nearest the box `near` (where the object was seen: another object's place may lie
    in the window too), else the largest."""
    from scipy import ndimage

    top, left, bottom, right = window
    if not len(away) or bottom <= top or right <= left:
        return None
    persistent = differing(small[away, top:bottom, left:right], background[top:bottom, left:right], threshold).mean(axis=0) >= share
    labels, count = ndimage.label(persistent)
    if not count:
        return None
    sizes = ndimage.sum(persistent, labels, np.arange(1, count + 1))
    big = [k + 1 for k in range(count) if sizes[k] >= min_pixels]
    if not big:
        return None
    boxes = {}
    for k in big:
        ys, xs = np.nonzero(labels == k)
        boxes[k] = (top + int(ys.min()), left + int(xs.min()), top + int(ys.max()) + 1, left + int(xs.max()) + 1)
    if near is None:
        return boxes[max(big, key=lambda k: sizes[k - 1])]
    cy, cx = (near[0] + near[2]) / 2, (near[1] + near[3]) / 2
    return min(boxes.values(), key=lambda b: float(np.hypot((b[0] + b[2]) / 2 - cy, (b[1] + b[3]) / 2 - cx)))


def last_rest(differs: np.ndarray, first: int, step: int, limit: float, max_gap: int) -> int | None:
    """The first frame from `first` going by `step` where the place matches the background
    (`differs` under `limit`), at most `max_gap` frames on; None if there is none."""
    f = first
    for _ in range(max_gap + 1):
        if not 0 <= f < len(differs):
            return None
        if differs[f] < limit:
            return f
        f += step
    return None


def _small_box(box: tuple[int, int, int, int], factor: int, h: int, w: int) -> tuple[int, int, int, int]:
    top, left, bottom, right = box
    return (max(0, top // factor), max(0, left // factor), min(h, -(-bottom // factor)), min(w, -(-right // factor)))


def _away(track: Track, box: tuple[int, int, int, int], n: int) -> np.ndarray:
    """Frames of the track where its seen box is clear of `box`."""
    return np.asarray([int(f) for i, f in enumerate(track.frames)
                       if track.observed[i] and not boxes_overlap(track.boxes[i], box) and 0 <= f < n], int)


def _extended(track: Track, frames: np.ndarray, at: int, place: tuple[int, int, int, int], factor: int,
              size: tuple[int, int], before: bool) -> Track:
    """The track with unseen rows at `frames`: before it, the object at `place` (pixels of the
    motion frames, `factor` times smaller than the analysis frames of `size` (height, width));
    after it, where it was last seen; its other statistics those of its row `at` (its first or
    last seen)."""
    k = len(frames)
    h, w = size
    top, left, bottom, right = (v * factor for v in place)
    rows = dict(x=np.full(k, (left + right) / 2 / w), y=np.full(k, (top + bottom) / 2 / h), w=np.full(k, (right - left) / w),
                h=np.full(k, (bottom - top) / h), area=np.full(k, track.area[at]), brightness=np.full(k, track.brightness[at]))
    if not before:
        # an object coming to rest is seen until it (nearly) stops: where it was last seen is its place
        # (the place's pixels can run into those of another object resting beside it)
        top, left, bottom, right = track.boxes[at]
        for name in ("x", "y", "w", "h"):
            rows[name] = np.full(k, getattr(track, name)[at])

    return with_unseen_rows(track, frames, rows, [(top, left, bottom, right)] * k, before)


def extend_over_rests(analysis: Analysis, cfg: RestConfig | None = None) -> int:
    """Extend the analysis's tracks (in place) over the frames their object rests where the
    background holds it (module note). Only for one shot seen by a still camera (the frames the
    background model was made of: `analysis.small`). Returns the frames added."""
    cfg = cfg or RestConfig()
    small = analysis.small
    if not cfg.enabled or small is None or not analysis.tracks or analysis.blank:
        return 0
    n, h, w = small.shape[:3]
    factor = analysis.small_factor
    added, out = 0, []
    for tr in analysis.tracks:
        for before in (True, False):
            seen = np.flatnonzero(tr.observed)
            if not len(seen):
                break
            at = int(seen[0] if before else seen[-1])
            top, left, bottom, right = _small_box(tr.boxes[at], factor, h, w)
            # where it rested lies next to where it was first (last) seen: search its own size around
            dy, dx = bottom - top, right - left
            window = (max(0, top - dy), max(0, left - dx), min(h, bottom + dy), min(w, right + dx))
            away = _away(tr, tuple(v * factor for v in window), n)
            if len(away) < cfg.min_away:
                continue
            min_pixels = max(2, int(cfg.min_ghost * np.median(tr.area[tr.observed]) * h * w))
            place = ghost_box(small, analysis.background, window, away, cfg.diff_threshold, min_pixels,
                              near=(top, left, bottom, right))
            if place is None:
                continue
            differs = place_difference(small, analysis.background, place, cfg.diff_threshold)
            step = -1 if before else 1
            f0 = int(tr.frames[at])
            edge = int(tr.frames[0]) if before else int(tr.frames[-1])  # frames the track covers (bridged) stay
            # a fast start: the place shows the ghost a few frames before the tracker picks the object up
            g = last_rest(differs, f0 + step, step, cfg.differs, int(round(cfg.max_gap_seconds * analysis.fps)))
            if g is None:
                continue
            reach = g + step * resting_run(differs, g, step, cfg.differs)  # first frame that no longer matches
            new = np.arange(reach + 1, edge) if before else np.arange(edge + 1, reach)
            # (another object standing on the place would make it differ from the background and end
            # the run; the tracker's track of the ghost itself, in the skipped frames, is no object)
            if len(new) < cfg.min_extra:
                continue
            tr = _extended(tr, new, at, place, factor, (analysis.height, analysis.width), before)
            added += len(new)
        out.append(tr)
    analysis.tracks = out
    return added
