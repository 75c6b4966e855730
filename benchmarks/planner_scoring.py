"""Scoring shared by the planner benchmarks (SynthCanvas in bench_planner.py, PhysWorld in
planner_physworld.py): onsets matched one to one within a tolerance, ground-truth sources
matched to plan sources by where their tracks are, and percentages as printed."""

from __future__ import annotations

import numpy as np

from prismaudio.dsp.onsets import closest_pairs
from prismaudio.planner_training.canvas_clips import GroundTruthSource

TOL = 0.040


def match_pairs(pred: list[float], true: list[float], tol: float = TOL) -> list[tuple[int, int]]:
    """One-to-one (pred index, true index) matches within tol (greedy by distance)."""
    return closest_pairs(pred, true, tol)


def match_onsets(pred: list[float], true: list[float], tol: float = TOL) -> int:
    """Number of one-to-one matches within tol (greedy by distance)."""
    return len(match_pairs(pred, true, tol))


def match_sources(plan, sources: list[GroundTruthSource], fps: float, max_dist: float = 0.35) -> dict[int, str]:
    """GT source index -> plan source id, by the mean |x| distance of the plan's spatial track
    over the frames where the GT source is visible and the plan track exists."""
    from scipy.optimize import linear_sum_assignment

    tracks = plan.spatial.tracks
    if not tracks or not sources:
        return {}
    cost = np.full((len(sources), len(tracks)), 10.0)
    for j, src in enumerate(sources):
        frames = np.flatnonzero(src.visible)
        for i, tr in enumerate(tracks):
            t = frames / fps
            inside = (t >= tr.times[0] - 1e-6) & (t <= tr.times[-1] + 1e-6)
            if inside.sum() < 3:
                continue
            d = np.abs(tr.x_at(t[inside]) - src.x[frames[inside]])
            # coverage matters: a short fragment should not beat the whole track
            cost[j, i] = float(np.mean(d)) + 0.3 * (1 - inside.mean())
    rows, cols = linear_sum_assignment(cost)
    return {int(j): tracks[i].source for j, i in zip(rows, cols) if cost[j, i] < max_dist}


def pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:.1f}% ({a}/{b})" if b else "n/a"
