"""Impacts from the sync encoder: when something hits (whole frame), then who hit (which track).

The sync encoder (`encoders/sync.py`) turns frame differences into a per-frame impact
probability for the whole picture; it does not depend on the tracker, so impacts are timed
correctly even where objects touch, merge or leave ghosts in the background model. Each
probability peak is timed below one frame (parabola through the peak and its neighbours) and
given to the track whose box holds the most frame-difference energy at that moment (the
object that squashed, flashed, jolted or threw a burst ring).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..tracks import Analysis, Track, box_at
from ..detect.foreground import block_mean, motion_factor
from .visual import VisualEvent

log = logging.getLogger(__name__)


@dataclass
class ImpactConfig:
    threshold: float = 0.35  # impact probability that counts as a hit
    separation: int = 2  # frames: two peaks closer than this are one hit
    box_growth: float = 0.6  # a track's box grown by this fraction of its size (rings, debris around it)
    kinks_too: bool = True  # also count sharp trajectory kinks of non-SynthCanvas objects the encoder did not flag
    motion_side: int = 112  # frames are reduced to about this size for the sync encoder and the energy maps


def sync_peaks(prob: np.ndarray, threshold: float, separation: int) -> list[float]:
    """Fractional frame positions of the peaks of a per-frame probability.

    A peak is a local maximum >= threshold; weaker peaks within `separation` frames of a
    stronger one are dropped; each is refined by a parabola through it and its neighbours
    (clamped to half a frame), so a hit between two frames is timed between them.
    """
    p = np.asarray(prob, dtype=float)
    n = len(p)
    cand = [k for k in range(n) if p[k] >= threshold and p[k] >= p[max(0, k - 1)] and p[k] >= p[min(n - 1, k + 1)]]
    kept: list[int] = []
    for k in sorted(cand, key=lambda k: -p[k]):
        if all(abs(k - j) >= separation for j in kept):
            kept.append(k)
    out = []
    for k in sorted(kept):
        shift = 0.0
        if 0 < k < n - 1:
            a, b, c = p[k - 1], p[k], p[k + 1]
            den = a - 2 * b + c
            if den < 0:
                shift = float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
        out.append(k + shift)
    return out


def box_energy(diff: np.ndarray, box: tuple[int, int, int, int], growth: float) -> float:
    """Sum of a difference map [H, W] inside `box` (top, left, bottom, right), grown by `growth`."""
    top, left, bottom, right = box
    gh, gw = growth * (bottom - top) / 2, growth * (right - left) / 2
    h, w = diff.shape
    t0, l0 = max(0, int(top - gh)), max(0, int(left - gw))
    t1, l1 = min(h, int(np.ceil(bottom + gh))), min(w, int(np.ceil(right + gw)))
    if t1 <= t0 or l1 <= l0:
        return 0.0
    return float(diff[t0:t1, l0:l1].sum())


def grey_change(frames: np.ndarray, a: int, b: int) -> np.ndarray:
    """|grey(frames[b]) - grey(frames[a])| [H, W] of RGB frames (ITU-R 601 luma weights)."""
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.abs((frames[b].astype(np.float32) - frames[a].astype(np.float32)) @ weights)


def impact_probability(frames: np.ndarray, cfg: ImpactConfig) -> np.ndarray | None:
    """Per-frame impact probability [T] from the packaged sync encoder (None when not installed).
    Frames of any size (the analyser's reduced frames are enough: the encoder works at 64x64)."""
    from ...encoders.sync import SYNC_PATH, SyncEncoder

    if not SYNC_PATH.is_file():
        return None
    import torch

    h, w = frames.shape[1:3]
    small = block_mean(frames, motion_factor(h, w, cfg.motion_side))
    _, prob = SyncEncoder().encode_with_impacts(torch.from_numpy(np.ascontiguousarray(small)))
    return prob[0].numpy()


def assign_impacts(peaks: list[float], analysis: Analysis, frames: np.ndarray, candidates: set[int],
                   cfg: ImpactConfig) -> dict[int, list[VisualEvent]]:
    """Give each peak (fractional frame) to the candidate track with the most motion energy
    in its box at that frame and the next; peaks with no candidate on screen are dropped."""
    out: dict[int, list[VisualEvent]] = {}
    tracks = [t for t in analysis.tracks if t.id in candidates]
    if not tracks:
        return out
    n = len(frames)
    for pos in peaks:
        k = int(round(pos))
        on = [(t, b) for t in tracks if (b := box_at(t, k)) is not None]
        if not on:
            continue
        if len(on) == 1:
            best = on[0][0]
        else:
            score = np.zeros(len(on))
            for f in (k, k + 1):
                if 1 <= f < n:
                    diff = grey_change(frames, f - 1, f)
                    score += [box_energy(diff, b, cfg.box_growth) for _, b in on]
            best = on[int(np.argmax(score))][0]
        out.setdefault(best.id, []).append(VisualEvent(best.id, pos / analysis.fps, "contact", 1.0))
    return out
