"""Two objects that touch for a whole clip are one track: the planner tells them apart."""

from __future__ import annotations

import numpy as np

from prismaudio.planner.tracks import Track
from prismaudio.planner.repair.merged import MergedConfig, corner_boxes, corner_track, is_suspicious, pick_diagonal


def _track(area: float, n: int = 10, box=(10, 20, 60, 90)) -> Track:
    return Track(0, np.arange(n), np.full(n, 0.5), np.full(n, 0.5), np.full(n, 0.3), np.full(n, 0.2),
                 np.full(n, area), np.full(n, 100.0), np.ones(n, bool), [box] * n)


def test_corner_windows_sit_in_the_box_corners_and_halves():
    t, l, b, r = 10, 20, 60, 90  # 50 tall, 70 wide
    wins = corner_boxes((t, l, b, r), side=40, min_share=0.7)
    assert wins[0] == (10, 20, 50, 60) and wins[3] == (20, 50, 60, 90)  # TL and BR squares of side 40
    assert wins[4] == (10, 20, 60, 55) and wins[5] == (10, 55, 60, 90)  # left and right halves
    # a side larger than the box's shorter side is clamped to it; a tiny one to min_share of it
    assert corner_boxes((t, l, b, r), side=500, min_share=0.7)[0] == (10, 20, 60, 70)
    assert corner_boxes((t, l, b, r), side=1, min_share=0.7)[0] == (10, 20, 45, 55)


def test_pick_diagonal_needs_two_different_sure_names():
    conf = [0.9] * 8
    assert pick_diagonal([1, 2, 2, 3, 4, 4, 5, 5], conf, 0.6) == (0, 3)  # TL 1 / BR 3
    assert pick_diagonal([1, 1, 1, 1, 1, 1, 1, 1], conf, 0.6) is None  # one object
    assert pick_diagonal([1, 2, 2, 3, 4, 4, 5, 5], [0.5] * 8, 0.6) is None  # unsure
    # a window that looks like another object of the scene shows a piece of that neighbour
    assert pick_diagonal([1, 2, 2, 3, 4, 4, 5, 5], conf, 0.6, taken={3}) is None
    # the surest qualifying pair wins
    assert pick_diagonal([1, 2, 2, 3, 4, 6, 5, 5], [0.7, 0.9, 0.9, 0.7, 0.95, 0.95, 0.9, 0.9], 0.6) == (4, 5)


def test_only_tracks_bigger_than_one_object_are_checked():
    cfg = MergedConfig()
    assert is_suspicious(_track(0.04), 1.0, 0.02, cfg)  # twice the scene's object: a pair
    assert is_suspicious(_track(0.03), 0.5, 0.02, cfg)  # bigger and unsure
    assert not is_suspicious(_track(0.01), 0.5, 0.02, cfg)  # a small piece, however unsure
    assert not is_suspicious(_track(0.02), 1.0, 0.02, cfg)  # one object, surely named
    assert is_suspicious(_track(0.02), 0.5, 0.0, cfg)  # scene size unknown: unsure is enough


def test_corner_track_follows_its_window():
    tr = _track(0.04)
    part = corner_track(tr, 3, side=40, min_share=0.7, new_id=7, width=100, height=100)
    assert part.id == 7 and len(part) == len(tr)
    assert part.boxes[0] == (20, 50, 60, 90)
    assert np.allclose(part.x, 0.7) and np.allclose(part.y, 0.4)
    assert np.allclose(part.area, 0.02)



def test_a_track_bigger_than_any_known_object_is_checked_even_when_all_tracks_are_pairs():
    from prismaudio.planner.repair.merged import is_oversized, long_side

    cfg = MergedConfig()
    pair = _track(0.04, box=(10, 20, 60, 110))  # 90 px long in a 224 px frame: two sprites side by side
    lone = _track(0.02, box=(10, 20, 60, 65))  # 50 px: one sprite
    assert long_side(pair) == 90 and long_side(lone) == 50
    assert is_oversized(pair, 224, cfg) and not is_oversized(lone, 224, cfg)
    # the box of frames where the object was not seen (bridged gaps) does not count
    pair.observed[:] = False
    pair.observed[0] = True
    pair.boxes = [(10, 20, 60, 110)] + [(10, 20, 60, 65)] * 9
    assert is_oversized(pair, 224, cfg)
