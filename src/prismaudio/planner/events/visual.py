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

from ..tracks import Analysis, Track, boxes_overlap

VisualKind = Literal["contact", "squash", "flash", "appear", "disappear"]


@dataclass
class EventConfig:
    min_turn: float = 0.006  # smallest velocity change (frame fractions per frame) that is a contact
    relative_turn: float = 0.55  # ... and at least this fraction of the speed around it
    min_squash: float = 0.2  # |log size change| that is a squash/stretch
    min_flash: float = 22.0  # brightness jump (0..255) that is a flash
    strong_turn: float = 0.05  # a kink this sharp is a contact even when the learned scorer disagrees
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


def overlap_frames(track: Track, others: list[Track], pad: int = 2) -> np.ndarray:
    """Boolean per track frame: its box touches another track's box (merged or occluded)."""
    out = np.zeros(len(track), dtype=bool)
    for other in others:
        if other is track or other.end < track.start or other.start > track.end:
            continue
        where = {int(f): i for i, f in enumerate(other.frames)}
        for i, f in enumerate(track.frames):
            j = where.get(int(f))
            if j is None:
                continue
            if boxes_overlap(track.boxes[i], other.boxes[j], pad):
                out[i] = True
    return out


def detect_track_events(track: Track, analysis: Analysis, cfg: EventConfig | None = None) -> list[VisualEvent]:
    cfg = cfg or EventConfig()
    crowded = overlap_frames(track, analysis.tracks)
    clear = ~(np.convolve(crowded.astype(float), np.ones(5), mode="same") > 0)
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
    # scale from the pixel count (little quantisation), shape from the bbox aspect
    size = np.stack([0.5 * np.log(np.maximum(track.area, 1e-6)), np.log(np.maximum(track.h, 1e-4) / np.maximum(track.w, 1e-4))], axis=1)
    squash = _two_sided_change(size, reach=2)
    contact_frames = {int(round(e.time * fps)) for e in events}
    okq = valid & clear & (squash >= cfg.min_squash)
    for k in _peaks(squash, okq, cfg.separation):
        if all(abs(track.frames[k] - c) >= cfg.separation for c in contact_frames):
            events.append(VisualEvent(track.id, float(t[k]), "squash", float(squash[k])))
    bright = track.brightness
    if len(bright) >= 5:
        jump = np.zeros(len(bright))
        jump[1:] = np.abs(np.diff(bright))
        okf = valid & clear & (jump >= cfg.min_flash)
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


def detect_events(analysis: Analysis, cfg: EventConfig | None = None, learned: bool = True,
                  rules_for: set[int] | None = None) -> dict[int, list[VisualEvent]]:
    """Events per track. With the packaged learned scorer (default), impacts come from it and
    appearances/disappearances from the track; otherwise from the hand-set rules above.

    `rules_for`: ids of tracks that are not SynthCanvas-like (named from ImageNet or not at
    all); for those, sharp trajectory kinks also count, since the scorer only knows the
    canvas's visuals. None means every track.
    """
    scorer = default_scorer() if learned else None
    out = {}
    for tr in analysis.tracks:
        use_rules = rules_for is None or tr.id in rules_for
        rules = detect_track_events(tr, analysis, cfg)
        if scorer is None:
            out[tr.id] = rules
        else:
            sep = (cfg or EventConfig()).separation / analysis.fps
            learned_events = scorer.detect(tr, analysis, (cfg or EventConfig()).separation)
            # clear trajectory kinks (a plain bounce without flash or ring) count even if the scorer,
            # trained on SynthCanvas visuals, is unsure
            strong = [e for e in rules if use_rules and e.kind == "contact" and e.strength >= (cfg or EventConfig()).strong_turn
                      and all(abs(e.time - le.time) >= sep for le in learned_events)]
            spans = [e for e in rules if e.kind in ("appear", "disappear")]
            out[tr.id] = sorted(learned_events + strong + spans, key=lambda e: e.time)
    return out


SCORER_OFFSETS = (-2, -1, 0, 1, 2)


def frame_features(track: Track, analysis: Analysis) -> np.ndarray:
    """Per track frame, the signals around it that a learned scorer turns into P(impact here).

    [N, F]: brightness and size jumps, trajectory kinks, squash, speed, at offsets -2..+2.
    """
    aspect = analysis.width / analysis.height
    pos = np.stack([track.x, track.y / aspect], axis=1)
    n = len(track)
    bright = track.brightness / 255.0
    d_bright = np.r_[0.0, np.diff(bright)]
    log_area = 0.5 * np.log(np.maximum(track.area, 1e-6))
    d_area = np.r_[0.0, np.diff(log_area)]
    shape = np.log(np.maximum(track.h, 1e-4) / np.maximum(track.w, 1e-4))
    d_shape = np.r_[0.0, np.diff(shape)]
    turn = _two_sided_change(pos, reach=2) * 10
    turn1 = _two_sided_change(pos, reach=1, baseline=3) * 10
    speed = np.minimum(_speed_around(pos), 1.0) * 10
    crowded = overlap_frames(track, analysis.tracks).astype(float)
    seen = track.observed.astype(float)
    base = np.stack([d_bright, d_area, d_shape, turn, turn1, speed, crowded, seen], axis=1)
    cols = []
    for off in SCORER_OFFSETS:
        idx = np.clip(np.arange(n) + off, 0, n - 1)
        cols.append(base[idx])
    return np.concatenate(cols, axis=1).astype(np.float32)


class EventScorer:
    """A tiny MLP over `frame_features`, trained on SynthCanvas (planner_training/train_heads.py)."""

    KIND = "planner-events"

    def __init__(self, path: str | None = None, threshold: float | None = None):
        import torch
        from torch import nn

        from ...train.checkpoint import load_checkpoint

        ckpt = load_checkpoint(path or str(SCORER_PATH), kind=self.KIND)
        dim, hidden = int(ckpt.config["in_dim"]), int(ckpt.config["hidden"])
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, 1))
        self.net.load_state_dict(ckpt.group("model"))
        self.net.eval()
        self.mean = ckpt.tensors["norm/mean"].numpy()
        self.std = ckpt.tensors["norm/std"].numpy()
        self.threshold = float(threshold if threshold is not None else ckpt.config.get("threshold", 0.5))
        self._torch = torch

    def probabilities(self, feats: np.ndarray) -> np.ndarray:
        x = self._torch.from_numpy((feats - self.mean) / self.std)
        with self._torch.inference_mode():
            return self._torch.sigmoid(self.net(x)[:, 0]).numpy()

    def detect(self, track: Track, analysis: Analysis, separation: int = 3) -> list[VisualEvent]:
        p = self.probabilities(frame_features(track, analysis))
        ok = p >= self.threshold
        return [VisualEvent(track.id, float(track.frames[k] / analysis.fps), "contact", float(p[k])) for k in _peaks(p, ok, separation)]


from pathlib import Path as _Path  # noqa: E402

SCORER_PATH = _Path(__file__).resolve().parents[2] / "assets" / "planner" / "event_scorer.safetensors"
_SCORER: list = []


def default_scorer() -> "EventScorer | None":
    if not _SCORER:
        _SCORER.append(EventScorer() if SCORER_PATH.is_file() else None)
    return _SCORER[0]
