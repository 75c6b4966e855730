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
    penalty: float = 30.0  # cost of one more cut in the piecewise-parabola fit (squared noise units; tuned on PhysWorld train)
    min_noise: float = 0.002  # frame heights: the track's position noise is taken as at least this
    noise_factor: float = 5.0  # a contact's velocity change is at least this many noise steps (noise x fps)
    max_segment: float = 2.0  # seconds: longest parabola segment considered (a cut forced there changes no velocity)
    max_gap: int = 2  # a cut across more frames than this without the object seen is no contact
    still_speed: float = 0.15  # frame heights / s: slower than this before a change is at rest
    separation: float = 0.03  # seconds: two contacts of one object closer than this are one
    sustain_speed: float = 0.08  # frame heights / s: faster than this is continuous motion
    sustain_seconds: float = 0.6  # ... kept up this long is a sustained activity
    short_travel: float = 0.2  # frame heights: a shorter run of motion (at least `short_seconds`) that carries the
    # object this far is an activity too (a brick pushed across the floor slides half a frame in 0.5 s)
    short_seconds: float = 0.2
    short_seen: float = 0.9  # ... in a run whose frames show the object at least this share of the time
    seen_share: float = 0.5  # any run of motion shows the object at least this share of its frames: a track bridged
    # across a gap between two blobs "moves" where nothing was seen (a pan over a checkered floor, PhysWorld val)
    stop_share: float = 0.3  # speed after / before below this is a stop
    max_rate: float = 6.0  # contacts per second above this all through a track: jitter, not contacts
    struck_from_rest: bool = False  # a set-off from rest while another track touches it is a contact (off: the striker's
    # own contact is the sound of a collision, and boxes overlapping on screen set off many false ones; PhysWorld train+val)


@dataclass
class Contact:
    track: int
    time: float  # seconds (sub-frame)
    kind: ContactKind
    strength: float  # velocity change, frame heights per second
    confidence: float  # in [0, 1]: how far above the detection threshold
    other: int | None = None  # the other object of a collision
    speed_before: float = 0.0  # frame heights / s, where the fitted curves meet
    speed_after: float = 0.0
    margin: float = 0.0  # velocity change over the detection floor
    noise: float = 0.0  # the track's position noise (frame heights)
    loudness: float = -1.0  # the contact network's strength (relative to the object's loudest; < 0: none)


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


def shown_times(n: int, fps: float, source_fps: float = 0.0) -> np.ndarray:
    """[n] times of the source frames that n samples decoded at `fps` show: sample k shows the
    latest source frame at or before k / fps, so resampling 24 fps to 25 shows one frame twice
    a second and 30 fps to 25 skips one in six. Contacts timed on k / fps would see a stop
    where a frame repeats and a jolt where one is skipped. Unknown rate (0): k / fps."""
    k = np.arange(n)
    if source_fps <= 0:
        return k / fps
    return np.floor(k * source_fps / fps + 1e-6) / source_fps


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
    """Contacts of one object from its positions `pos` [N, 2] (frame heights) at times `t`: the
    cuts of its best piecewise-parabola fit (`breaks.py`) whose velocity change stands out of
    the track's noise. Only seen samples count (bridged gaps are straight, fake lines); a
    sample at the time of the one before it (a frame shown twice) adds nothing."""
    from .breaks import breaks, track_noise

    cfg = cfg or MotionConfig()
    t = np.asarray(t, float)
    idx = np.flatnonzero(np.asarray(seen, bool))
    idx = idx[np.r_[True, np.diff(t[idx]) > 1e-6]] if len(idx) else idx
    if len(idx) < 5:
        return []
    tt, pp = t[idx], np.asarray(pos, float)[idx]
    noise = track_noise(pp, cfg.min_noise)
    floor = max(cfg.min_change, cfg.noise_factor * noise * fps)
    max_len = max(8, int(round(cfg.max_segment * fps)))
    found: list[Contact] = []
    for b in breaks(tt, pp, noise, cfg.penalty, max_len):
        if idx[b.index] - idx[b.index - 1] > cfg.max_gap:
            continue  # the object was not seen there: what it did is unknown
        change, sb, sa = b.change, float(np.linalg.norm(b.before)), float(np.linalg.norm(b.after))
        if change < floor or change < cfg.relative_change * max(sb, sa):
            continue
        touch = touching is not None and bool(touching[idx[b.index]] or touching[idx[b.index - 1]])
        if sb < cfg.still_speed and not (touch and cfg.struck_from_rest):
            continue  # set moving from rest: an unseen push, or struck by a track whose own contact is the sound
        kind = classify_contact(b.before, b.after, touch, cfg.stop_share)
        margin = change / floor
        found.append(Contact(track_id, b.time, kind, change, round(float(np.clip(1.0 - 1.0 / margin, 0.05, 1.0)), 3),
                             speed_before=sb, speed_after=sa, margin=margin, noise=noise))
    out: list[Contact] = []
    for c in sorted(found, key=lambda c: -c.strength):  # one sound per object within `separation`
        if all(abs(c.time - o.time) >= cfg.separation for o in out):
            out.append(c)
    out.sort(key=lambda c: c.time)
    seconds = float(len(idx)) / fps
    if seconds > 0 and len(out) / seconds > cfg.max_rate:
        return []  # a shaking outline, not an object hitting things
    return out


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) indices of each run of True."""
    m = np.r_[False, np.asarray(mask, bool), False].astype(np.int8)
    d = np.diff(m)
    return [(int(a), int(b) - 1) for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1))]


def track_activities(track_id: int, t: np.ndarray, pos: np.ndarray, fps: float, cfg: MotionConfig | None = None,
                     seen: np.ndarray | None = None) -> list[Activity]:
    """Spans of continuous motion: speed (median over 0.2 s) above `sustain_speed` for at least
    `sustain_seconds`, or shorter ones that carry the object `short_travel` or more in frames
    where it is `seen` (a track bridging a gap between two blobs "travels" too); in either, the
    object is `seen` in at least `seen_share` of the frames (a bridge is no motion). Kind: mostly
    horizontal -> rolling or sliding; going back and forth around one place -> shaking;
    otherwise moving."""
    cfg = cfg or MotionConfig()
    if len(pos) < 3:
        return []
    v = velocities(pos, fps)
    from scipy.ndimage import median_filter

    k = max(1, int(round(0.2 * fps)))
    speed = median_filter(np.linalg.norm(v, axis=1), size=k, mode="nearest")  # (a shake's velocity averages out; its speed does not)
    out = []
    for a, b in runs(speed > cfg.sustain_speed):
        seconds = (b - a + 1) / fps
        travel = float(np.linalg.norm(pos[b] - pos[a]))
        shown = 1.0 if seen is None else float(np.mean(seen[a : b + 1]))
        if shown < cfg.seen_share:
            continue
        watched = shown >= cfg.short_seen
        if seconds < cfg.sustain_seconds and not (cfg.short_travel > 0 and seconds >= cfg.short_seconds
                                                  and travel >= cfg.short_travel and watched):
            continue
        seg = v[a : b + 1]
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
    impact; continuous motion for most of its time and few contacts -> sustained; continuous
    motion, however short, and no contact -> sustained. Where the motion says both or neither,
    the class prior (its library kind) decides, then impact."""
    moving = sum(a.end - a.start for a in activities)
    share = moving / max(seconds_seen, 1e-9)
    hard = contacts
    rate = len(hard) / max(seconds_seen, 1e-9)
    if hard and share < 0.5:
        return "impact"
    if share >= 0.5 and rate < 0.5:
        return "sustained"
    if not hard and activities:
        return "sustained"  # it hit nothing: its rolling or sliding is all there is to hear (an impact prior would leave it silent)
    if prior in ("impact", "sustained"):
        return prior
    return "impact" if hard else "sustained"


def normalised_strengths(values: list[float], floor: float = 0.05, full: float = 0.0) -> list[float]:
    """Raw strengths -> (0, 1] (relative loudness within one source): each over the largest, or
    over `full` where the largest is weaker than that.

    A source's strongest found contact is its loudest sound only if it is a real blow: when the
    video shows one gentle contact of an object (its hard ones missed or off screen), calling it
    the loudest the object makes gives it 1.0 against a true 0.3. A velocity change of `full`
    (frame heights per second) or more is full strength; 0 turns this off."""
    if not values:
        return []
    top = max(max(values), full)
    if top <= 0:
        return [1.0] * len(values)
    return [float(np.clip(v / top, floor, 1.0)) for v in values]
