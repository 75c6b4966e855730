"""Tell apart objects that touch for their whole life: one track, two things.

The tracker splits a blob between objects it has seen apart (`detect/split.split_between_tracks`), but two
objects that overlap from the first frame to the last never show apart, so they stay one
track, one name, and the other object is lost (crowded scenes: several sprites in lanes close
together). Such a track looks like a pair: its box is bigger than one object of the scene
and the recognition head is unsure about it.

A track whose box is longer than any object the head was trained on is suspicious too, even
when every track of the scene is such a pair (no median object size tells them apart); its
windows come in two sizes, the scene's median object and one lone object.

For a suspicious track the head looks at the squares in the box's corners (each about one
object's size): two touching objects sit in opposite corners. When the two corners of one
diagonal get different names, each confidently, the track is replaced by two tracks that
follow those corners (same frames; positions and boxes from the corner squares).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tracks import Track

# window pairs that can hold two touching objects: the corner squares of either diagonal
# (top-left + bottom-right, top-right + bottom-left) and the left/right and top/bottom halves
DIAGONALS = ((0, 3), (1, 2), (4, 5), (6, 7))
WINDOWS = 8


@dataclass
class MergedConfig:
    enabled: bool = True
    suspicious_confidence: float = 0.9  # a track named less surely than this is checked
    suspicious_area: float = 1.6  # ... or one this many times bigger than the scene's median object
    pair_area: float = 1.2  # a pair is at least this many times bigger than the median object (when known)
    min_confidence: float = 0.6  # each corner of a split must be named at least this surely
    min_side_share: float = 0.7  # a corner square's side as a share of the box's shorter side (lower bound)
    frames: int = 2  # frames per window the head looks at
    # The head was trained on SynthCanvas sprites, whose box is at most about 0.3 of the frame's
    # shorter side: a track named by it whose box is longer than this holds more than one object
    # (checked even when every track of the scene is such a pair, so no median tells it apart).
    max_object_side: float = 0.32
    object_side: float = 0.22  # one object's side (fraction of the shorter frame side) when no lone track shows it
    lone_side_share: float = 0.45  # lower bound of the one-object windows over an oversized track (share of its shorter side)


def object_side(tracks: list[Track]) -> float:
    """Typical side (pixels) of one object in the scene: median sqrt(box area) over all tracks."""
    sides = []
    for tr in tracks:
        idx = np.flatnonzero(tr.observed)
        for i in idx[:: max(1, len(idx) // 8)]:
            t, l, b, r = tr.boxes[i]
            sides.append(np.sqrt(max(b - t, 1) * max(r - l, 1)))
    return float(np.median(sides)) if sides else 0.0


def long_side(track: Track) -> float:
    """Median longer side (pixels) of the track's box over the frames where it was seen."""
    idx = np.flatnonzero(track.observed)
    if len(idx) == 0:
        idx = np.arange(len(track))
    return float(np.median([max(track.boxes[i][2] - track.boxes[i][0], track.boxes[i][3] - track.boxes[i][1]) for i in idx]))


def is_oversized(track: Track, frame_side: int, cfg: MergedConfig) -> bool:
    """Bigger than any one object the head knows: `frame_side` is the frame's shorter side (pixels)."""
    return long_side(track) > cfg.max_object_side * frame_side


def seen_area(track: Track) -> float:
    """Median area of the track over the frames where it was seen (all frames if none was)."""
    return float(np.median(track.area[track.observed])) if track.observed.any() else float(np.median(track.area))


def is_suspicious(track: Track, confidence: float, median_area: float, cfg: MergedConfig) -> bool:
    area = seen_area(track)
    if median_area > 0 and area < cfg.pair_area * median_area:
        return False  # no bigger than one object: a piece or a lone object the head is unsure of
    return confidence < cfg.suspicious_confidence or (median_area > 0 and area > cfg.suspicious_area * median_area)


def corner_boxes(box: tuple[int, int, int, int], side: float, min_share: float) -> list[tuple[int, int, int, int]]:
    """Windows in `box` (top, left, bottom, right) that may each hold one of two touching objects:
    the four squares of side `side` (clamped to at least `min_share` of the box's shorter side and
    at most that side) in its corners (TL, TR, BL, BR), then its left, right, top and bottom halves."""
    t, l, b, r = box
    short = max(1, min(b - t, r - l))
    s = int(round(float(np.clip(side, min_share * short, short))))
    my, mx = (t + b) // 2, (l + r) // 2
    return [(t, l, t + s, l + s), (t, r - s, t + s, r), (b - s, l, b, l + s), (b - s, r - s, b, r),
            (t, l, b, mx), (t, mx, b, r), (t, l, my, r), (my, l, b, r)]


def pick_diagonal(labels: list[int], confidences: list[float], min_confidence: float,
                  taken: set[int] = frozenset()) -> tuple[int, int] | None:
    """Of the window pairs (`DIAGONALS`), the one whose two windows carry different names, both
    at least `min_confidence` (the surest pair when several qualify); None if none does. Names in
    `taken` (other objects of the scene) do not count: such a window shows a piece of a neighbour."""
    best, best_score = None, 0.0
    for a, b in DIAGONALS:
        if labels[a] in taken or labels[b] in taken:
            continue
        if labels[a] != labels[b] and min(confidences[a], confidences[b]) >= min_confidence:
            score = min(confidences[a], confidences[b])
            if score > best_score:
                best, best_score = (a, b), score
    return best


def corner_track(track: Track, corner: int, side: float, min_share: float, new_id: int, width: int, height: int) -> Track:
    """A track that follows one corner square of `track`'s box in every frame."""
    boxes = [corner_boxes(bx, side, min_share)[corner] for bx in track.boxes]
    arr = np.asarray(boxes, dtype=float)
    h, w = arr[:, 2] - arr[:, 0], arr[:, 3] - arr[:, 1]
    return Track(
        id=new_id, frames=track.frames.copy(), x=(arr[:, 1] + arr[:, 3]) / 2 / width, y=(arr[:, 0] + arr[:, 2]) / 2 / height,
        w=w / width, h=h / height, area=track.area / 2, brightness=track.brightness.copy(), observed=track.observed.copy(),
        boxes=[tuple(int(v) for v in bx) for bx in boxes],
    )
