"""Visual events of one tracked object: contacts, bounces and abrupt motion changes, squashes,
flashes, appearances and disappearances, with sub-frame timing for motion events.

A contact shows as a kink in the trajectory: the velocity just before and just after a frame
differ much more than gravity or noise explain. Its time is refined below one frame by
intersecting the straight lines fitted to the positions on either side of the kink (the
object moves at nearly constant velocity over 3 frames), so a bounce halfway between two
frames is timed halfway. Squash and flash are spikes in size/aspect and brightness.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .analyser import Analysis, Track

VisualKind = Literal["contact", "squash", "flash", "appear", "disappear"]


@dataclass
class EventConfig:
    min_turn: float = 0.006  # smallest velocity change (frame fractions per frame) that is a contact
    relative_turn: float = 0.55  # ... and at least this fraction of the speed around it
    min_squash: float = 0.12  # |log size change| that is a squash/stretch
    min_flash: float = 22.0  # brightness jump (0..255) that is a flash
    separation: int = 3  # frames: two events of one track closer than this are one
    edge_margin: float = 0.01  # appearances touching the frame edge are entries, not pop-ins


@dataclass
class VisualEvent:
    track: int
    time: float  # seconds
    kind: VisualKind
    strength: float


def _two_sided_change(values: np.ndarray, reach: int = 2, baseline: int = 6) -> np.ndarray:
    """|mean slope after k - mean slope before k - the local median of that change| per frame k.

    [N, D] values -> [N]. Subtracting the running median removes steady acceleration
    (gravity, smooth curves), so only abrupt changes score.
    """
    n = len(values)
    out = np.zeros(n)
    if n < 2 * reach + 1:
        return out
    values = values.reshape(n, -1)
    before = (values[reach:-reach] - values[: -2 * reach]) / reach
    after = (values[2 * reach :] - values[reach:-reach]) / reach
    change = after - before
    if baseline:
        m = len(change)
        windows = np.stack([np.median(change[max(0, i - baseline) : i + baseline + 1], axis=0) for i in range(m)])
        change = change - windows
    out[reach:-reach] = np.linalg.norm(change, axis=1)
    return out


def _speed_around(values: np.ndarray, reach: int = 2) -> np.ndarray:
    n = len(values)
    out = np.full(n, np.inf)
    if n < 2 * reach + 1:
        return out
    before = np.linalg.norm((values[reach:-reach] - values[: -2 * reach]).reshape(n - 2 * reach, -1), axis=1) / reach
    after = np.linalg.norm((values[2 * reach :] - values[reach:-reach]).reshape(n - 2 * reach, -1), axis=1) / reach
    out[reach:-reach] = np.maximum(before, after)
    return out


def _peaks(score: np.ndarray, valid: np.ndarray, separation: int) -> list[int]:
    """Indices of local maxima among valid frames, strongest first, suppressing neighbours."""
    order = [int(i) for i in np.argsort(-score) if valid[i] and score[i] > 0]
    taken: list[int] = []
    for i in order:
        if all(abs(i - j) >= separation for j in taken):
            taken.append(i)
    return sorted(taken)


def refine_kink(t: np.ndarray, p: np.ndarray, k: int, side: int = 3) -> float:
    """Sub-frame time of a kink near index k: intersect lines fitted to points before and after.

    `p` is [N, D]; the axis with the largest slope change decides. Falls back to t[k].
    """
    lo, hi = max(0, k - side), min(len(t), k + side + 1)
    if k - lo < 2 or hi - k - 1 < 2:
        return float(t[k])
    best, best_change = None, 0.0
    for d in range(p.shape[1]):
        b1 = np.polyfit(t[lo:k], p[lo:k, d], 1)
        b2 = np.polyfit(t[k + 1 : hi], p[k + 1 : hi, d], 1)
        change = abs(b1[0] - b2[0])
        if change > best_change:
            best_change, best = change, (b1, b2)
    if best is None or best_change == 0:
        return float(t[k])
    (m1, c1), (m2, c2) = best
    tc = (c2 - c1) / (m1 - m2)
    step = t[1] - t[0] if len(t) > 1 else 0.0
    return float(np.clip(tc, t[k] - step, t[k] + step))


def detect_track_events(track: Track, analysis: Analysis, cfg: EventConfig | None = None) -> list[VisualEvent]:
    cfg = cfg or EventConfig()
    fps = analysis.fps
    aspect = analysis.width / analysis.height
    t = track.frames / fps
    pos = np.stack([track.x, track.y / aspect], axis=1)  # same units on both axes
    events: list[VisualEvent] = []
    # Reliable only where the object was seen (bridged gaps are straight lines with fake kinks).
    seen = track.observed.astype(float)
    valid = np.convolve(seen, np.ones(5), mode="same") >= 5
    turn = _two_sided_change(pos)
    speed = _speed_around(pos)
    ok = valid & (turn >= cfg.min_turn) & (turn >= cfg.relative_turn * speed)
    for k in _peaks(turn, ok, cfg.separation):
        events.append(VisualEvent(track.id, refine_kink(t, pos, k), "contact", float(turn[k])))
    size = np.log(np.stack([np.maximum(track.w, 1e-4), np.maximum(track.h, 1e-4)], axis=1))
    squash = _two_sided_change(size, reach=1)
    contact_frames = {int(round(e.time * fps)) for e in events}
    okq = valid & (squash >= cfg.min_squash)
    for k in _peaks(squash, okq, cfg.separation):
        if all(abs(track.frames[k] - c) >= cfg.separation for c in contact_frames):
            events.append(VisualEvent(track.id, float(t[k]), "squash", float(squash[k])))
    bright = track.brightness
    if len(bright) >= 5:
        jump = np.zeros(len(bright))
        jump[1:] = np.abs(np.diff(bright))
        okf = valid & (jump >= cfg.min_flash)
        for k in _peaks(jump, okf, cfg.separation):
            if all(abs(e.time - t[k]) * fps >= cfg.separation for e in events):
                events.append(VisualEvent(track.id, float(t[k]), "flash", float(jump[k])))
    # Appearance / disappearance inside the frame (not an entry across an edge).
    def inside(i: int) -> bool:
        x, y, w, h = track.x[i], track.y[i], track.w[i], track.h[i]
        m = cfg.edge_margin
        return x - w / 2 > m and x + w / 2 < 1 - m and y - h / 2 > m and y + h / 2 < 1 - m

    if track.start > 0:
        events.append(VisualEvent(track.id, track.start / fps, "appear", 1.0 if inside(0) else 0.5))
    if track.end < analysis.num_frames - 1:
        events.append(VisualEvent(track.id, (track.end + 1) / fps, "disappear", 1.0 if inside(-1) else 0.5))
    return sorted(events, key=lambda e: e.time)


def detect_events(analysis: Analysis, cfg: EventConfig | None = None) -> dict[int, list[VisualEvent]]:
    return {tr.id: detect_track_events(tr, analysis, cfg) for tr in analysis.tracks}
