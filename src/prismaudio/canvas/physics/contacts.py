"""From the simulator's raw contact points to sound events (pure functions, no pybullet).

The simulator reports, at every step, every contact point of every touching pair of bodies.
A ball resting on the floor is in contact at every step; a box landing flat touches at four
corners at once. Sound events are what a listener hears:

- an **impact** starts when a pair of bodies meets with an approach speed of at least
  IMPACT_MIN_SPEED (the relative velocity along the contact normal just before the step, the
  largest over the pair's points). The pair is then disarmed until it separates, or until it
  has stayed in gentle contact (approach < REARM_SPEED) for REARM_S (so a box that lands on
  one edge and then slaps down flat makes two impacts, and a resting contact none).
  Its strength is the normal impulse of the contact over its first IMPULSE_WINDOW_S (N s);
  an object-object impact is the sound of the body that came in faster;
- impacts of one object closer than MERGE_S are one sound (the stronger kept, impulses summed);
- a **rolling / sliding span** is a stretch where the object touches a surface in most of a
  frame's steps while moving at least SUSTAIN_MIN_SPEED and neither rising nor sinking (a
  toppling slab pivots on its edge: silent until it lands); rolling when the surface speed of its
  spin matches its speed, sliding otherwise. Gaps under SUSTAIN_GAP_S are bridged and spans
  shorter than SUSTAIN_MIN_S dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IMPACT_MIN_SPEED = 0.3   # m/s: a 5 mm drop; slower meetings are silent settling
REARM_SPEED = 0.1        # m/s
REARM_S = 0.03
IMPULSE_WINDOW_S = 0.02
MERGE_S = 0.02
SUSTAIN_MIN_SPEED = 0.12  # m/s
SUSTAIN_CONTACT = 0.7     # fraction of a frame's steps in contact
SUSTAIN_MAX_VERTICAL = 0.15  # m/s
SUSTAIN_GAP_S = 0.12
SUSTAIN_MIN_S = 0.2
ROLL_RATIO = (0.6, 1.4)   # spin surface speed / linear speed for rolling
STATIC = -1               # body index of the floor, tray and other fixed scenery


@dataclass
class PairContact:
    """One pair of bodies at one step, merged over its contact points."""

    step: int
    a: int          # object index, or STATIC
    b: int
    force: float    # summed normal force, N
    approach: float  # largest approach speed over the points, m/s (pre-step velocities)
    speed_a: float = 0.0  # each body's speed before the step (decides who struck whom)
    speed_b: float = 0.0


@dataclass
class Impact:
    source: int        # object index that makes the sound
    partner: int       # other object index, or STATIC
    step: int          # simulation step of the first contact (time = step * dt)
    time: float
    speed: float       # approach speed, m/s
    impulse: float     # N s over the first IMPULSE_WINDOW_S
    peak_force: float  # N
    visual: str        # drop | bounce | collision


@dataclass
class Span:
    source: int
    kind: str          # roll | slide
    start_frame: int
    end_frame: int     # inclusive
    mean_speed: float  # m/s


def find_impacts(contacts: list[PairContact], dt: float) -> list[Impact]:
    """Impacts from the per-step pair contacts (any order), sorted by time."""
    by_step: dict[int, list[PairContact]] = {}
    for c in contacts:
        by_step.setdefault(c.step, []).append(c)
    window = max(1, int(round(IMPULSE_WINDOW_S / dt)))
    rearm = max(1, int(round(REARM_S / dt)))
    armed: dict[tuple[int, int], bool] = {}
    calm: dict[tuple[int, int], int] = {}
    last_seen: dict[tuple[int, int], int] = {}
    open_impacts: list[tuple[tuple[int, int], int, Impact]] = []  # (pair, last step of window, impact)
    impacts: list[Impact] = []
    for step in sorted(by_step):
        for c in by_step[step]:
            pair = (min(c.a, c.b), max(c.a, c.b))
            if last_seen.get(pair, -10) < step - 1:  # separated since last seen: a new contact
                armed[pair], calm[pair] = True, 0
            last_seen[pair] = step
            for p, end, imp in open_impacts:
                if p == pair and step <= end:
                    imp.impulse += c.force * dt
                    imp.peak_force = max(imp.peak_force, c.force)
            if armed.get(pair, True) and c.approach >= IMPACT_MIN_SPEED:
                if c.a == STATIC or (c.b != STATIC and c.speed_b > c.speed_a):
                    source, partner = c.b, c.a
                else:
                    source, partner = c.a, c.b
                imp = Impact(source, partner, step, step * dt, c.approach, c.force * dt, c.force, "")
                impacts.append(imp)
                open_impacts.append((pair, step + window - 1, imp))
                armed[pair], calm[pair] = False, 0
            elif not armed.get(pair, True):
                calm[pair] = calm.get(pair, 0) + 1 if c.approach < REARM_SPEED else 0
                if calm[pair] >= rearm:
                    armed[pair] = True
        open_impacts = [o for o in open_impacts if o[1] > step]
    return label_impacts(merge_impacts(sorted(impacts, key=lambda i: (i.step, i.source)), dt))


def merge_impacts(impacts: list[Impact], dt: float) -> list[Impact]:
    """One sound per object within MERGE_S: keep the stronger, sum the impulses."""
    gap = int(round(MERGE_S / dt))
    out: list[Impact] = []
    last: dict[int, Impact] = {}
    for imp in impacts:
        prev = last.get(imp.source)
        if prev is not None and imp.step - prev.step <= gap:
            prev.impulse += imp.impulse
            prev.peak_force = max(prev.peak_force, imp.peak_force)
            if imp.speed > prev.speed:
                prev.speed, prev.partner = imp.speed, imp.partner
            continue
        out.append(imp)
        last[imp.source] = imp
    return out


def label_impacts(impacts: list[Impact]) -> list[Impact]:
    """drop (an object's first landing on scenery), bounce (later ones), collision (objects)."""
    landed: set[int] = set()
    for imp in impacts:
        if imp.partner != STATIC:
            imp.visual = "collision"
        else:
            imp.visual = "bounce" if imp.source in landed else "drop"
            landed.add(imp.source)
    return impacts


def impact_gain(impulse: float, mass: float, ref_dv: float = 8.0) -> float:
    """Loudness (amplitude factor) of an impact from its velocity change impulse / mass: the
    pressure an impact radiates grows with the speed change; 8 m/s (a 1 m drop that bounces
    back) is 1.0. Clipped to [0.04, 1.25] so the faintest stay audible and none clip."""
    dv = impulse / max(mass, 1e-6)
    return float(np.clip(dv / ref_dv, 0.04, 1.25))


def relative_strengths(values: list[float]) -> list[float]:
    """Each value over the largest (the plan's strength: 1 = the loudest the source makes)."""
    top = max(values, default=0.0)
    return [round(float(v) / top, 4) if top > 0 else 1.0 for v in values]


def sustained_spans(source: int, contact: np.ndarray, speed: np.ndarray, spin_ratio: np.ndarray, fps: float,
                    vertical: np.ndarray | None = None) -> list[Span]:
    """Rolling / sliding spans of one object from per-frame contact fraction (0..1), speed
    (m/s), spin ratio (angular speed x radius / speed) and vertical speed (m/s: an object
    that rises or sinks while touching, toppling or bouncing, is not rolling or sliding)."""
    active = (np.asarray(contact) >= SUSTAIN_CONTACT) & (np.asarray(speed) >= SUSTAIN_MIN_SPEED)
    if vertical is not None:
        active &= np.abs(np.asarray(vertical)) < SUSTAIN_MAX_VERTICAL
    runs = _runs(active)
    gap = int(round(SUSTAIN_GAP_S * fps))
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] - 1 <= gap:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    spans = []
    for a, b in merged:
        if (b - a + 1) / fps < SUSTAIN_MIN_S:
            continue
        ratio = float(np.median(np.asarray(spin_ratio)[a : b + 1]))
        kind = "roll" if ROLL_RATIO[0] <= ratio <= ROLL_RATIO[1] else "slide"
        spans.append(Span(source, kind, a, b, round(float(np.mean(np.asarray(speed)[a : b + 1])), 4)))
    return spans


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive (start, end) of each run of True."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1).tolist(), (np.flatnonzero(d == -1) - 1).tolist()))
