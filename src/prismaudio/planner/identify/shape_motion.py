"""What a viewer would call an object from its shape and how it moves, when ImageNet is unsure.

A viewer who cannot tell what an object is still says "a ball" of a round thing that bounces
and rolls, and "a block" of a rigid box-shaped thing that slides or topples and does not
bounce back. Both are read off the tracked object, not its pixels' meaning:

- shape, from the tracker's boxes and blob areas: how much of its box the object fills
  (a disc fills pi/4 of its box, a box seen at an angle fills more, a duck or a bear less),
  how elongated the box is, and how much that changes as it moves (a ball looks the same
  from every side; a slab that topples or turns does not);
- bounce, from the vertical path: each fall reversed into a rise at the floor is a bounce,
  and the ratio of the speed it leaves with to the speed it came in with is its restitution
  (a rubber ball keeps most of it, a wooden block keeps little and rarely rises again).

The name carries its own confidence, and so does "nothing": an object that is neither round
and lively nor a steady box keeps the honest "unknown object". Pure functions of the track.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tracks import Track


@dataclass
class ShapeMotionConfig:
    enabled: bool = True
    min_side: float = 16.0  # pixels (analysis frames): a smaller object's box says too little of its shape (a far-off walker is 10)
    round_aspect: float = 1.3  # a ball's box: longer / shorter side at most this (median over the track)
    round_spread: float = 0.2  # ... and its log-aspect varies this little (a ball looks alike from every side)
    min_bounce_speed: float = 0.15  # frame heights per second, both into and out of the floor, for a bounce
    lively: float = 0.45  # restitution (speed out / speed in) of a bouncy object
    ball_bounces: int = 2  # bounces that, on a round object, make a ball even with a middling restitution
    block_spread: float = 0.12  # a block's log-aspect varies at least this much (it turns and topples) ...
    block_aspect: float = 1.35  # ... or its box is at least this elongated (a slab, a brick)
    block_fill: float = 0.55  # and it fills at least this share of its box (no limbs, no holes)


@dataclass
class ShapeStats:
    fill: float  # median share of its box the object's blob covers
    aspect: float  # median longer / shorter side of its box
    spread: float  # standard deviation of log(height / width) over the track
    side: float  # median shorter side of its box (pixels)
    frames: int  # frames the statistics were taken over


@dataclass
class BounceStats:
    bounces: int  # falls reversed into rises at the floor
    restitution: float  # median speed out / speed in over the bounces (0: none)


@dataclass
class ShapeName:
    label: str  # "ball" | "block"
    description: str
    confidence: float
    why: str  # what was seen, for the plan's notes


def whole_frames(track: Track, width: int, height: int) -> np.ndarray:
    """Indices into the track of frames where the object is seen whole: observed, its box clear of
    the frame's edges, and of about its usual size (not merged with another object's blob)."""
    idx = np.flatnonzero(track.observed)
    if len(idx) == 0:
        return idx
    b = np.asarray([track.boxes[i] for i in idx], float)
    inside = (b[:, 0] > 0) & (b[:, 1] > 0) & (b[:, 2] < height) & (b[:, 3] < width)
    area = np.asarray(track.area, float)[idx]
    med = np.median(area[inside]) if inside.any() else np.median(area)
    typical = np.abs(np.log(np.maximum(area, 1e-9) / max(med, 1e-9))) < 0.5
    return idx[inside & typical]


def shape_stats(track: Track, width: int, height: int) -> ShapeStats | None:
    """The object's shape over the frames it is seen whole (`whole_frames`); None when there are
    fewer than three."""
    idx = whole_frames(track, width, height)
    if len(idx) < 3:
        return None
    b = np.asarray([track.boxes[i] for i in idx], float)
    bh, bw = np.maximum(b[:, 2] - b[:, 0], 1.0), np.maximum(b[:, 3] - b[:, 1], 1.0)
    fill = np.asarray(track.area, float)[idx] * width * height / (bh * bw)
    log_aspect = np.log(bh / bw)
    return ShapeStats(fill=float(np.median(np.clip(fill, 0.0, 1.0))), aspect=float(np.exp(np.median(np.abs(log_aspect)))),
                      spread=float(np.std(log_aspect)), side=float(np.median(np.minimum(bh, bw))), frames=len(idx))


def bounce_stats(t: np.ndarray, y: np.ndarray, observed: np.ndarray, min_speed: float) -> BounceStats:
    """Bounces on a vertical path `y` (frame heights, down is +) at times `t` (seconds), from the
    observed samples: where the speed downwards (at least `min_speed`) turns into a speed upwards
    (at least `min_speed`) within two samples. Speeds are taken over two samples either side of
    the turn, so one jittery sample makes no bounce."""
    keep = np.asarray(observed, bool)
    t, y = np.asarray(t, float)[keep], np.asarray(y, float)[keep]
    if len(t) < 5:
        return BounceStats(0, 0.0)
    v = np.diff(y) / np.maximum(np.diff(t), 1e-6)  # speed between samples k and k+1
    ratios: list[float] = []
    k = 1
    while k < len(v) - 1:
        before = v[max(0, k - 2):k].mean()
        if before >= min_speed and v[k] < before:
            # the turn: the first of the next two steps that goes up
            turn = next((j for j in (k, k + 1) if j < len(v) and v[j] < 0), None)
            if turn is not None:
                after = -v[turn:turn + 2].mean() if turn + 1 < len(v) else -v[turn]
                if after >= min_speed:
                    ratios.append(float(min(after / before, 1.5)))
                    k = turn + 2
                    continue
        k += 1
    return BounceStats(len(ratios), float(np.median(ratios)) if ratios else 0.0)


def shape_name(shape: ShapeStats | None, bounce: BounceStats, cfg: ShapeMotionConfig) -> ShapeName | None:
    """"ball", "block" or None (see the module note). Confidence grows with the evidence: the
    number of bounces and their restitution for a ball, how boxy and how dead for a block."""
    if not cfg.enabled or shape is None or shape.side < cfg.min_side:
        return None
    round_ = shape.aspect <= cfg.round_aspect and shape.spread <= cfg.round_spread
    lively = bounce.bounces >= 1 and bounce.restitution >= cfg.lively
    if round_ and (lively or bounce.bounces >= cfg.ball_bounces):
        conf = 0.5 + 0.1 * min(bounce.bounces, 3) + 0.2 * min(1.0, bounce.restitution)
        why = f"round (box {shape.aspect:.2f}:1) and bounces back ({bounce.bounces}x, restitution {bounce.restitution:.2f})"
        return ShapeName("ball", "a ball bouncing and rolling, a hollow thud at each bounce", round(min(conf, 0.9), 3), why)
    dead = bounce.bounces == 0 or bounce.restitution < cfg.lively and bounce.bounces < cfg.ball_bounces
    boxy = shape.fill >= cfg.block_fill and (shape.spread >= cfg.block_spread or shape.aspect >= cfg.block_aspect)
    if boxy and dead:
        conf = 0.45 + 0.3 * min(1.0, (shape.fill - cfg.block_fill) / (1.0 - cfg.block_fill))
        why = f"box-shaped (fills {shape.fill:.0%} of its box, {shape.aspect:.2f}:1) and does not bounce back"
        return ShapeName("block", "a hard block knocking and sliding on the floor, like a wood block", round(min(conf, 0.8), 3), why)
    return None
