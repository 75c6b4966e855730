"""When did an object appear that was first seen inside another object's blob?

An object that pops in touching another one is, for background subtraction, part of that
one's blob until the two part: its own track starts only then, several frames late (for a
sustained sound, its onset is late by as much). The other object's blob shows when it really
came: that blob grew suddenly and stayed bigger until the newcomer split off. Walking back
from the newcomer's first frame over the frames where the parent blob was bigger than the
parent alone (its size just after the split), the first such frame is when the newcomer came;
that is the newcomer's appearance (the onset of its sound). The track itself is left as it is:
while merged, the newcomer was not seen, and its crops and positions would be the parent's.

No clear start (the parent was bigger all along the look-back window) leaves the track as it
is: the two may simply have moved together and parted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tracks import Track


@dataclass
class OnsetConfig:
    enabled: bool = True
    max_back: int = 25  # frames to look back for the growth of the parent blob
    after: int = 5  # frames after the split that show the parent's own size
    growth: float = 1.15  # the parent was merged while its area exceeded its own size by this factor
    tolerance: int = 1  # frames of a smaller parent tolerated inside the merged stretch (noise)
    min_shift: int = 2  # back-date only by at least this many frames (less: within timing noise)
    pad: float = 0.5  # the newcomer's first box, grown by this share of its shorter side, touches its parent's box
    foot: float = 1.05  # walk on back while the parent's area still rises towards the merge (a sprite popping in grows)


def _touching(a: tuple[int, int, int, int], b: tuple[int, int, int, int], pad: int) -> bool:
    return a[0] - pad < b[2] and b[0] - pad < a[2] and a[1] - pad < b[3] and b[1] - pad < a[3]


def parent_of(track: Track, tracks: list[Track], pad: float) -> Track | None:
    """The longer-lived track whose box the newcomer's first box (grown by `pad` of its shorter
    side: fast objects part quickly) touches at the newcomer's first frame or the one before
    (the biggest such, when several)."""
    s = track.start
    top, left, bottom, right = track.boxes[0]
    grow = pad * min(bottom - top, right - left)
    best, best_area = None, 0.0
    for other in tracks:
        j = s - other.start
        if other is track or j < 1 or j >= len(other):
            continue
        near = _touching(track.boxes[0], other.boxes[j], grow) or _touching(track.boxes[0], other.boxes[j - 1], grow)
        if near and other.area[j - 1] > best_area:
            best, best_area = other, float(other.area[j - 1])
    return best


def appearance_frame(track: Track, tracks: list[Track], cfg: OnsetConfig) -> int:
    """First frame the object of `track` was on screen (its start, or earlier: see the module)."""
    s = track.start
    parent = parent_of(track, tracks, cfg.pad) if s > 0 else None
    if parent is None:
        return s
    j = s - parent.start
    after = slice(j, min(len(parent), j + cfg.after))
    seen = parent.observed[after]
    own = float(np.median(parent.area[after][seen] if seen.any() else parent.area[after]))
    first, misses = s, 0
    f = s - 1
    while f >= max(parent.start, s - cfg.max_back):
        if parent.area[f - parent.start] > cfg.growth * own:
            first, misses = f, 0
        else:
            misses += 1
            if misses > cfg.tolerance:
                break
        f -= 1
    else:
        # the parent was bigger over the whole look-back: no start seen, unless the parent (and
        # with it the newcomer) came on screen within it
        if parent.start > s - cfg.max_back:
            first = parent.start
        else:
            return s
    # the newcomer may have come small (popping in, approaching): the merged area rose over a few
    # frames before it passed the threshold; its foot is the appearance
    while first - 1 > parent.start and first - 1 > s - cfg.max_back:
        a, b = parent.area[first - 1 - parent.start], parent.area[first - parent.start]
        if not cfg.foot * own < a < b:
            break
        first -= 1
    return first if s - first >= cfg.min_shift else s


def appearances(tracks: list[Track], cfg: OnsetConfig | None = None) -> dict[int, int]:
    """Track id -> the frame its object appeared, for the tracks that started late (see the module)."""
    cfg = cfg or OnsetConfig()
    if not cfg.enabled:
        return {}
    out = {}
    for tr in tracks:
        first = appearance_frame(tr, tracks, cfg)
        if first < tr.start:
            out[tr.id] = first
    return out
