"""Objects that moved in place: a topple, a nudge, a short shove the tracker did not follow.

On a still camera the background model (`detect/foreground.py`) keeps the colour each pixel
shows most often, so an object that stands in one place, moves a little and rests again is
foreground only while it is in the place it holds for less of the clip. Its track is a still
box that ends (or begins) where the object moved: no velocity change to find and no
continuous motion, yet a domino toppled or a teddy was shoved, and that made a sound.

The moment shows in the picture itself: in the place the object holds (its seen boxes, a
little grown), the pixels that change from one frame to the next. A still place changes by
noise only; an object moving there changes a large share of it for a few frames, with quiet
before and after. Each such burst is a move:

- a short one (a topple, a knock: at most `impact_frames` frames of change) ends in a
  contact, timed where the change stops;
- a longer one (a shove, a slide) sounds while the change lasts.

Pure functions of the motion frames (`Analysis.small`, the background model's own frames),
whose changes are worked out once per clip (`Changes`), used by the open-world path
on a still camera for objects whose motion found no event.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..tracks import Track


@dataclass
class SettleConfig:
    enabled: bool = True
    diff_threshold: float = 28.0  # |frame - frame before| (0..255, max over RGB) for a pixel to change
    grow: float = 0.25  # the place is the track's seen boxes grown by this share of their size each way
    min_share: float = 0.05  # share of the place's pixels that must change in a frame for the object to move
    noise_factor: float = 4.0  # ... and this many times the place's median share (compression, render noise)
    quiet_seconds: float = 0.3  # the place is still at least this long before and after a move
    min_frames: int = 2  # a change in one frame alone is a flutter (leaves, a codec's refresh of one block), not a move
    max_seconds: float = 1.5  # a longer burst is continuous motion the tracker should have followed, not a move in place
    impact_frames: int = 3  # a move of at most this many frames of change is a topple or a knock (a contact at its end)
    local: float = 3.0  # at its peak the place changes at least this many times more than the rest of the picture (a
    # codec's keyframe, a flash or an exposure step changes everything at once)
    max_place: float = 0.5  # a place larger than this share of the picture has too little around it to tell
    reach_seconds: float = 0.5  # a move belongs to a track if it comes at most this long before it begins or after it ends


@dataclass(frozen=True)
class Move:
    first: int  # first frame that differs from the one before
    last: int  # last such frame: the object rests from here on
    share: float  # peak share of the place's pixels that changed in one frame


def place_of(track: Track, factor: int, size: tuple[int, int], grow: float) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) in motion-frame pixels ([h, w] = `size`, `factor` times
    smaller than the analysis frames the boxes are in): the union of the track's seen boxes,
    grown by `grow` of its size each way (a toppled object lands beside where it stood)."""
    seen = [track.boxes[i] for i in np.flatnonzero(track.observed)] if len(track.boxes) else []
    if not seen:
        return None
    b = np.asarray(seen, float) / factor
    top, left, bottom, right = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    dy, dx = grow * (bottom - top), grow * (right - left)
    h, w = size
    out = (max(0, int(np.floor(top - dy))), max(0, int(np.floor(left - dx))),
           min(h, int(np.ceil(bottom + dy))), min(w, int(np.ceil(right + dx))))
    return out if out[2] > out[0] and out[3] > out[1] else None


class Changes:
    """Which pixels of the motion frames `small` [T, h, w, 3] uint8 changed since the frame
    before (a channel moved by more than `threshold`, 0..255): made once per clip on a still
    camera, worked out on first use (most clips have no object to ask
    about), then read for each object's place. `factor`: the motion frames are this many times
    smaller than the analysis frames the boxes are in."""

    def __init__(self, small: np.ndarray, threshold: float, factor: int = 1):
        self.small, self.threshold, self.factor = small, threshold, factor

    @cached_property
    def changed(self) -> np.ndarray:
        """[T - 1, h, w] bool: frame k + 1 differs from frame k."""
        a, b = self.small[:-1], self.small[1:]
        if not len(a):
            return np.zeros((0,) + self.small.shape[1:3], bool)
        return (np.maximum(a, b) - np.minimum(a, b)).max(axis=-1) > self.threshold  # |b - a| in uint8, no copy to int16

    @cached_property
    def counts(self) -> np.ndarray:
        """[T - 1] changed pixels per frame pair, the whole picture."""
        return self.changed.sum(axis=(1, 2))


def change_shares(changes: Changes, place: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """([T], [T]): per frame, the share of the pixels of `place` (motion-frame pixels) that
    changed since the frame before, and the share of those outside it (frame 0: 0; no pixels
    outside: 1, nothing to tell a local change by)."""
    top, left, bottom, right = place
    changed = changes.changed
    n = len(changed) + 1
    count = max(0, bottom - top) * max(0, right - left)
    outside_count = changed.shape[1] * changed.shape[2] - count
    mine = changed[:, top:bottom, left:right].sum(axis=(1, 2))
    in_share = mine / max(count, 1)
    out_share = (changes.counts - mine) / outside_count if outside_count else np.ones(n - 1)
    return np.concatenate([[0.0], in_share]), np.concatenate([[0.0 if outside_count else 1.0], out_share])


def moves(shares: np.ndarray, fps: float, cfg: SettleConfig) -> list[Move]:
    """The bursts of change in one place (module note): frames whose share of changed pixels
    is above `min_share` and `noise_factor` times the median, merged over one-frame dips, with
    `quiet_seconds` of stillness before and after (or the clip's edge), `min_frames` long and
    no longer than `max_seconds`."""
    if len(shares) < 3:
        return []
    limit = max(cfg.min_share, cfg.noise_factor * float(np.median(shares)))
    hot = np.flatnonzero(shares > limit)
    if not len(hot):
        return []
    runs: list[list[int]] = [[int(hot[0]), int(hot[0])]]
    for f in hot[1:]:
        if f - runs[-1][1] <= 2:  # one quiet frame inside a move (a repeated frame, a slow instant)
            runs[-1][1] = int(f)
        else:
            runs.append([int(f), int(f)])
    quiet = int(np.ceil(cfg.quiet_seconds * fps))
    longest = int(round(cfg.max_seconds * fps))
    out = []
    for k, (a, b) in enumerate(runs):
        before = a - (runs[k - 1][1] if k else -quiet - 1) - 1
        after = (runs[k + 1][0] if k + 1 < len(runs) else len(shares) + quiet) - b - 1
        if before >= quiet and after >= quiet and cfg.min_frames <= b - a + 1 <= longest:
            out.append(Move(a, b, float(shares[a : b + 1].max())))
    return out


def track_moves(track: Track, changes: Changes | None, cfg: SettleConfig, fps: float) -> list[Move]:
    """The moves in the place of one track (`changes`: the clip's, on a still camera; None:
    the camera moves, no moves are looked for): those that come within `reach_seconds` of the
    time the track covers and change the place more than the rest of the picture (`local`);
    none in a place of more than `max_place` of the picture. Another object passing through
    the place changes it too; where it struck the object, that is a move (a collision), so such
    changes are not told apart."""
    if not cfg.enabled or changes is None or len(changes.changed) < 2:
        return []
    h, w = changes.changed.shape[1:]
    place = place_of(track, changes.factor, (h, w), cfg.grow)
    if place is None:
        return []
    top, left, bottom, right = place
    if (bottom - top) * (right - left) > cfg.max_place * h * w:
        return []
    reach = cfg.reach_seconds * fps
    inside, outside = change_shares(changes, place)
    return [m for m in moves(inside, fps, cfg) if m.last >= track.start - reach and m.first <= track.end + reach
            and local(m, inside, outside, cfg.local)]


def local(move: Move, inside: np.ndarray, outside: np.ndarray, ratio: float) -> bool:
    """Whether the place changed `ratio` times more than the rest of the picture at the move's
    peak frame: the object moved, not the whole picture (a keyframe, a flash, the exposure)."""
    peak = move.first + int(np.argmax(inside[move.first : move.last + 1]))
    return bool(inside[peak] >= ratio * outside[peak])
