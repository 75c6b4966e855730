"""Sound events from motion, whatever the object: contacts, continuous motion, entries and exits.

A contact is an abrupt change of an object's velocity. Measured on its track (positions in
frame heights, so both axes share a unit), it is classified by what the velocity did:

    bounce     the velocity reversed (a ball off the floor or a wall)
    stop       the object came (nearly) to rest (a drop, a thud)
    collision  another object was touching it at that moment (two tracks meeting)
    hit        any other abrupt change (a kick, a knock)

Its strength is the size of the velocity change (frame heights per second): for a bounce
that is (1 + restitution) x impact speed, for a stop the speed lost, so it ranks contacts by
how hard they were. Timing is sub-frame: a curve is fitted to the positions on each side
(a parabola: free flight under gravity) and the contact is where they meet.

Continuous motion (rolling, sliding, shaking, driving) is a sustained activity: a span
where the object keeps moving faster than `sustain_speed` (median over 0.2 s) for at least `sustain_seconds`.

Whether a source's sound is impacts or sustained comes from this motion; the recognised
class only tips the balance where the motion says both (`source_kind`).

Camera motion is not object motion: `camera.py` estimates and removes it before tracking.
Pure functions of arrays, so each piece is tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

ContactKind = Literal["bounce", "stop", "collision", "hit"]


@dataclass
class MotionConfig:
    min_change: float = 0.25  # smallest velocity change (frame heights / s) that is a contact
    relative_change: float = 0.6  # ... and at least this share of the speed before or after it
    reach: int = 2  # frames on each side whose mean velocity is compared
    separation: float = 0.12  # seconds: two contacts of one object closer than this are one
    sustain_speed: float = 0.08  # frame heights / s: faster than this is continuous motion
    sustain_seconds: float = 0.6  # ... kept up this long is a sustained activity
    touch_pad: float = 0.02  # boxes this close (frame fraction) touch (a collision)
    stop_share: float = 0.3  # speed after / before below this is a stop
    min_margin: float = 1.25  # a contact's change is at least this many times the threshold (barely over it: an echo of a contact)
    noise_factor: float = 5.0  # a contact's change is at least this many times the track's typical change (jitter)
    max_rate: float = 4.0  # contacts per second above this all through a track: jitter, not contacts


@dataclass
class Contact:
    track: int
    time: float  # seconds (sub-frame)
    kind: ContactKind
    strength: float  # velocity change, frame heights per second
    confidence: float  # in [0, 1]: how far above the detection threshold
    other: int | None = None  # the other object of a collision


@dataclass
class Activity:
    track: int
    start: float  # seconds
    end: float
    speed: float  # median speed over the span, frame heights per second
    kind: str  # rolling or sliding | shaking | moving


def velocities(pos: np.ndarray, fps: float) -> np.ndarray:
    """[N, 2] positions -> [N, 2] velocities (units per second), central differences."""
    if len(pos) < 2:
        return np.zeros_like(pos, dtype=float)
    return np.gradient(np.asarray(pos, float), axis=0) * fps


def velocity_change(pos: np.ndarray, fps: float, reach: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame k: mean velocity over the `reach` frames before k and after k ([N, 2] each, zero
    near the ends) and |after - before| with the steady part (gravity, a smooth curve) removed:
    the change expected from the neighbouring frames' acceleration is subtracted."""
    n = len(pos)
    before = np.zeros((n, 2))
    after = np.zeros((n, 2))
    change = np.zeros(n)
    if n < 2 * reach + 1:
        return before, after, change
    p = np.asarray(pos, float)
    before[reach:-reach] = (p[reach:-reach] - p[: -2 * reach]) / reach * fps
    after[reach:-reach] = (p[2 * reach :] - p[reach:-reach]) / reach * fps
    raw = after - before
    # steady acceleration: the median change over a window, which a single contact hardly moves
    steady = np.zeros_like(raw)
    w = 3 * reach
    for k in range(reach, n - reach):
        steady[k] = np.median(raw[max(reach, k - w) : min(n - reach, k + w + 1)], axis=0)
    change[reach:-reach] = np.linalg.norm(raw[reach:-reach] - steady[reach:-reach], axis=1)
    return before, after, change


def peaks(score: np.ndarray, ok: np.ndarray, separation: int) -> list[int]:
    """Local maxima of `score` where `ok`, strongest first, none within `separation` frames of a stronger one."""
    taken: list[int] = []
    for i in np.argsort(-score):
        i = int(i)
        if ok[i] and score[i] > 0 and all(abs(i - j) >= separation for j in taken):
            taken.append(i)
    return sorted(taken)


def contact_time(t: np.ndarray, pos: np.ndarray, k: int, side: int = 4) -> float:
    """Sub-frame time of the contact near index k: curves fitted to the positions before and after
    (a parabola with 4+ points, else a line) on the axis that changed most, where they meet."""
    lo, hi = max(0, k - side), min(len(t), k + side + 1)
    if k - lo < 2 or hi - k < 3:
        return float(t[k])
    step = float(t[1] - t[0])
    best, best_change = float(t[k]), 0.0
    for d in range(pos.shape[1]):
        for deg in (2, 1):
            if min(k + 1 - lo, hi - k) < deg + 2:
                continue
            # the sample at k itself is left out: it may lie on either curve
            a = np.polyfit(t[lo:k], pos[lo:k, d], deg)
            b = np.polyfit(t[k + 1 : hi], pos[k + 1 : hi, d], deg)
            change = abs(np.polyval(np.polyder(a), t[k]) - np.polyval(np.polyder(b), t[k]))
            if change <= best_change:
                break
            roots = np.roots(np.polysub(a, b)) if deg else np.array([])
            roots = roots[np.isreal(roots)].real
            roots = roots[np.abs(roots - t[k]) <= 1.5 * step]
            if len(roots):
                best_change, best = change, float(roots[np.argmin(np.abs(roots - t[k]))])
                break
    return float(np.clip(best, t[k] - step, t[k] + step))


def classify_contact(before: np.ndarray, after: np.ndarray, touching: bool, stop_share: float) -> ContactKind:
    """What a velocity change at a contact was, from the mean velocities before and after it."""
    if touching:
        return "collision"
    sb, sa = float(np.linalg.norm(before)), float(np.linalg.norm(after))
    reversed_axis = any(before[d] * after[d] < 0 and abs(before[d]) > 0.3 * sb for d in range(len(before)))
    if reversed_axis and sa >= stop_share * sb:
        return "bounce"
    if sa < stop_share * max(sb, 1e-9):
        return "stop"
    return "hit"


def track_contacts(track_id: int, t: np.ndarray, pos: np.ndarray, seen: np.ndarray, fps: float,
                   touching: np.ndarray | None = None, cfg: MotionConfig | None = None) -> list[Contact]:
    """Contacts of one object from its positions `pos` [N, 2] (frame heights) at times `t`.
    Only where the object was seen around the frame (bridged gaps are straight, fake lines)."""
    cfg = cfg or MotionConfig()
    n = len(pos)
    if n < 2 * cfg.reach + 1:
        return []
    before, after, change = velocity_change(pos, fps, cfg.reach)
    speed = np.maximum(np.linalg.norm(before, axis=1), np.linalg.norm(after, axis=1))
    window = 2 * cfg.reach + 1
    valid = np.convolve(np.asarray(seen, float), np.ones(window), mode="same") >= window
    # the track's own jitter (centroid noise, a shadow, compression) sets the floor: a contact
    # stands out of the velocity changes around it
    noise = float(np.median(change[valid])) if valid.any() else 0.0
    floor = max(cfg.min_change, cfg.noise_factor * noise)
    ok = valid & (change >= cfg.min_margin * floor) & (change >= cfg.relative_change * speed)
    out = []
    sep = max(1, int(round(cfg.separation * fps)))
    for k in peaks(change, ok, sep):
        touch = bool(touching[k]) if touching is not None else False
        kind = classify_contact(before[k], after[k], touch, cfg.stop_share)
        margin = change[k] / floor
        conf = float(np.clip(1.0 - 1.0 / margin, 0.05, 1.0)) if margin > 0 else 0.05
        out.append(Contact(track_id, contact_time(t, pos, k), kind, float(change[k]), round(conf, 3)))
    seconds = float(np.sum(valid)) / fps
    if seconds > 0 and len(out) / seconds > cfg.max_rate:
        return []  # a shaking outline, not an object hitting things
    return out


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) indices of each run of True."""
    m = np.r_[False, np.asarray(mask, bool), False].astype(np.int8)
    d = np.diff(m)
    return [(int(a), int(b) - 1) for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1))]


def track_activities(track_id: int, t: np.ndarray, pos: np.ndarray, fps: float, cfg: MotionConfig | None = None) -> list[Activity]:
    """Spans of continuous motion: speed (median over 0.2 s) above `sustain_speed` for at least
    `sustain_seconds`. Kind: mostly horizontal -> rolling or sliding; going back and forth
    around one place -> shaking; otherwise moving."""
    cfg = cfg or MotionConfig()
    if len(pos) < 3:
        return []
    v = velocities(pos, fps)
    from scipy.ndimage import median_filter

    k = max(1, int(round(0.2 * fps)))
    speed = median_filter(np.linalg.norm(v, axis=1), size=k, mode="nearest")  # (a shake's velocity averages out; its speed does not)
    out = []
    for a, b in runs(speed > cfg.sustain_speed):
        if (b - a + 1) / fps < cfg.sustain_seconds:
            continue
        seg = v[a : b + 1]
        travel = float(np.linalg.norm(pos[b] - pos[a]))
        path = float(np.linalg.norm(np.diff(pos[a : b + 1], axis=0), axis=1).sum())
        if path > 0 and travel < 0.25 * path:
            kind = "shaking"
        elif np.median(np.abs(seg[:, 1])) < 0.3 * np.median(np.abs(seg[:, 0])):
            kind = "rolling or sliding"
        else:
            kind = "moving"
        out.append(Activity(track_id, float(t[a]), float(t[b]), float(np.median(speed[a : b + 1])), kind))
    return out


def source_kind(contacts: list[Contact], activities: list[Activity], seconds_seen: float, prior: str | None = None) -> str:
    """impact | sustained for a source, from its motion: contacts and little continuous motion ->
    impact; continuous motion for most of its time and few contacts -> sustained. Where the
    motion says both or neither, the class prior (its library kind) decides, then impact."""
    moving = sum(a.end - a.start for a in activities)
    share = moving / max(seconds_seen, 1e-9)
    hard = contacts
    rate = len(hard) / max(seconds_seen, 1e-9)
    if hard and share < 0.5:
        return "impact"
    if share >= 0.5 and rate < 0.5:
        return "sustained"
    if prior in ("impact", "sustained"):
        return prior
    return "impact" if hard else "sustained"


def normalised_strengths(values: list[float], floor: float = 0.05) -> list[float]:
    """Raw strengths -> (0, 1], the largest 1 (relative loudness within one source)."""
    if not values:
        return []
    top = max(values)
    if top <= 0:
        return [1.0] * len(values)
    return [float(np.clip(v / top, floor, 1.0)) for v in values]
