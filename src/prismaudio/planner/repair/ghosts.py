"""Ghosts: tracks of the place where an object will rest (or rested), not of an object.

The background model (`detect/foreground.py`) keeps the colour each pixel shows most often.
Where an object comes to rest for most of the clip, the background holds the object, so until
it arrives the empty floor there differs from the background: the tracker follows a still blob
of "nothing" (a ghost), which ends the moment the object lands in it. Likewise where an object
stood before it was thrown, the ghost begins as it leaves. `repair/rests.py` uses such places
to extend the object's own track; the ghost's track itself must not become a source (a ball
dropped on a plain floor got a second source, "unknown object", sounding when it landed).

A track is a ghost when, on a still camera, its seen box never leaves its place (`stays_put`)
and another track's seen box is in that place within `reach_seconds` of its end (the object
arrived: the place now matches the background), having been there for less than half the
ghost's time before (a ball bounces in the place before it comes to rest); or likewise left
that place within `reach_seconds` of its beginning. Pure functions of the tracks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tracks import Track, boxes_overlap


@dataclass
class GhostConfig:
    enabled: bool = True
    reach_seconds: float = 0.3  # the object arrives (leaves) at most this long after (before) the ghost ends (begins)
    stay_frames: int = 2  # ... and is seen in the place for at least this many frames then
    visits: float = 0.5  # it may have been in the place before for less than this share of the ghost's frames (a bounce)
    max_place: float = 0.25  # a ghost is an object's place: no larger than this share of the picture


def stays_put(track: Track) -> bool:
    """Whether the track's seen box never left its place: each centre within half the box's
    median size of their median."""
    seen = [track.boxes[i] for i in np.flatnonzero(track.observed)] if len(track.boxes) == len(track) else []
    if not seen:
        return False
    b = np.asarray(seen, float)
    centres = np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2], 1)
    size = float(np.median(np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])))
    return bool(np.abs(centres - np.median(centres, axis=0)).max() <= 0.5 * max(size, 1.0))


def _in_place(other: Track, place: tuple[int, int, int, int], first: int, last: int) -> np.ndarray:
    """Frames in [first, last] where `other` is seen with its box overlapping `place`."""
    if len(other.boxes) != len(other):
        return np.zeros(0, int)
    idx = np.flatnonzero(other.observed & (other.frames >= first) & (other.frames <= last))
    return np.asarray([int(other.frames[i]) for i in idx if boxes_overlap(other.boxes[i], place)], int)


def is_ghost(track: Track, others: list[Track], num_frames: int, fps: float, cfg: GhostConfig,
             frame_area: float = float("inf")) -> bool:
    """Whether `track` is the ghost of a place another track's object arrives in right after it
    ends (or left right before it begins); see the module note. The place is an object's (at most
    `max_place` of `frame_area`, pixels of the analysis frames) and the other object moved there
    (or away): two still tracks one after the other in a place are no ghost and its object."""
    if not stays_put(track):
        return False
    seen = np.flatnonzero(track.observed)
    b = np.asarray([track.boxes[i] for i in seen])
    place = (int(np.median(b[:, 0])), int(np.median(b[:, 1])), int(np.median(b[:, 2])), int(np.median(b[:, 3])))
    if (place[2] - place[0]) * (place[3] - place[1]) > cfg.max_place * frame_area:
        return False
    reach = int(round(cfg.reach_seconds * fps))
    end, start = int(track.frames[seen[-1]]), int(track.frames[seen[0]])
    for other in others:
        if other.id == track.id or stays_put(other):
            continue
        if end < num_frames - 1:
            came = _in_place(other, place, end - reach, end + reach + cfg.stay_frames)
            before = _in_place(other, place, start, end - reach - 1)
            if len(came) and came.min() <= end + reach and len(came) >= cfg.stay_frames and len(before) < cfg.visits * len(seen):
                return True
        if start > 0:
            left = _in_place(other, place, start - reach - cfg.stay_frames, start + reach)
            after = _in_place(other, place, start + reach + 1, end)
            if len(left) and left.max() >= start - reach and len(left) >= cfg.stay_frames and len(after) < cfg.visits * len(seen):
                return True
    return False


def ghost_tracks(tracks: list[Track], num_frames: int, fps: float, cfg: GhostConfig | None = None,
                 frame_area: float = float("inf")) -> set[int]:
    """Ids of the tracks that are ghosts of another track's resting place (`frame_area`: the
    analysis frame's pixels)."""
    cfg = cfg or GhostConfig()
    if not cfg.enabled:
        return set()
    return {tr.id for tr in tracks if is_ghost(tr, tracks, num_frames, fps, cfg, frame_area)}
