"""Objects that appear inside another object's blob: their appearance is back-dated."""

from __future__ import annotations

import numpy as np

from prismaudio.planner.tracks import Track
from prismaudio.planner.repair.onsets import OnsetConfig, appearance_frame, appearances


def _track(tid: int, start: int, n: int, x: float, area: np.ndarray | float) -> Track:
    f = np.arange(start, start + n)
    a = np.broadcast_to(np.asarray(area, float), (n,)).copy()
    col = int(100 * x)
    return Track(tid, f, np.full(n, x), np.full(n, 0.5), np.full(n, 0.1), np.full(n, 0.1), a, np.full(n, 100.0),
                 np.ones(n, bool), [(40, col - 10, 60, col + 10)] * n)


def test_a_newcomer_split_from_a_blob_that_grew_is_back_dated_to_the_growth():
    area = np.full(100, 0.02)
    area[30:40] = 0.035  # the newcomer popped in touching the parent at 30; they parted at 40
    parent = _track(0, 0, 100, 0.40, area)
    newcomer = _track(1, 40, 60, 0.55, 0.015)
    assert appearance_frame(newcomer, [parent, newcomer], OnsetConfig()) == 30
    assert appearances([parent, newcomer]) == {1: 30}
    assert appearances([parent, newcomer], OnsetConfig(enabled=False)) == {}


def test_no_back_dating_without_a_clear_start_or_parent():
    area = np.full(100, 0.02)
    area[:60] = 0.035  # bigger over the whole look-back: they may have moved together and parted
    parent = _track(0, 0, 100, 0.40, area)
    newcomer = _track(1, 60, 40, 0.55, 0.015)
    assert appearance_frame(newcomer, [parent, newcomer], OnsetConfig()) == 60
    far = _track(2, 60, 40, 0.90, 0.015)  # born away from any other object: a plain appearance
    assert appearance_frame(far, [parent, far], OnsetConfig()) == 60
    area = np.full(100, 0.02)
    area[39] = 0.035  # one frame: within timing noise
    assert appearance_frame(newcomer := _track(1, 40, 60, 0.55, 0.015), [_track(0, 0, 100, 0.40, area), newcomer], OnsetConfig()) == 40


def test_a_newcomer_that_came_with_its_parent_starts_with_it():
    parent = _track(0, 20, 80, 0.40, np.r_[np.full(15, 0.035), np.full(65, 0.02)])  # came glued to the newcomer
    newcomer = _track(1, 35, 65, 0.55, 0.015)
    assert appearance_frame(newcomer, [parent, newcomer], OnsetConfig()) == 20


def test_a_newcomer_that_pops_in_small_is_dated_from_the_foot_of_the_growth():
    area = np.full(100, 0.02)
    area[28:30] = (0.022, 0.026)  # popping in small, then grown (still touching the parent)
    area[30:40] = 0.035
    parent = _track(0, 0, 100, 0.40, area)
    newcomer = _track(1, 40, 60, 0.55, 0.015)
    assert appearance_frame(newcomer, [parent, newcomer], OnsetConfig()) == 28


def test_sustained_spans_start_when_the_object_appeared():
    from prismaudio.planner.planner import _spans

    a, b = _track(0, 10, 20, 0.3, 0.02), _track(1, 40, 20, 0.3, 0.02)
    assert _spans([a, b], gap=5) == [(10, 29), (40, 59)]
    assert _spans([a, b], gap=5, appeared={1: 36}) == [(10, 29), (36, 59)]
    assert _spans([a, b], gap=5, appeared={1: 34}) == [(10, 59)]  # now within the gap: one span
