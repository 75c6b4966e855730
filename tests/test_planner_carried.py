"""Resting objects carried with the floor where the camera moves (repair/carried.py)."""

import numpy as np

from prismaudio.planner.repair.carried import carried_positions, carry_with_camera
from prismaudio.planner.tracks import Analysis, Track


def panning_steps(frames: int, dx: float) -> np.ndarray:
    """Homographies frame k -> k-1 of a camera panning so the floor moves `dx` px a frame to the right."""
    steps = np.tile(np.eye(3), (frames, 1, 1))
    steps[1:, 0, 2] = -dx  # a floor point at x in frame k was at x - dx in frame k-1
    return steps


def test_a_point_on_the_floor_moves_with_the_pan_both_ways():
    steps = panning_steps(10, 2.0)
    assert carried_positions((50.0, 20.0), 5, 8, steps) == [(52.0, 20.0), (54.0, 20.0), (56.0, 20.0)]
    assert carried_positions((50.0, 20.0), 5, 2, steps) == [(48.0, 20.0), (46.0, 20.0), (44.0, 20.0)]


def test_a_track_seen_only_while_its_object_moves_is_held_on_the_floor_before_and_after_until_it_leaves_the_picture():
    width, height, n = 100, 50, 60
    frames = np.arange(20, 30)
    xs = np.linspace(0.40, 0.50, 10)  # seen moving right from x = 40 px to 50 px
    k = len(frames)
    track = Track(3, frames, xs, np.full(k, 0.5), np.full(k, 0.06), np.full(k, 0.1), np.full(k, 0.006),
                  np.full(k, 120.0), np.ones(k, bool), [(22, int(x * width) - 3, 27, int(x * width) + 3) for x in xs])
    analysis = Analysis(25.0, n, width, height, [track], [], False, None, [])
    added = carry_with_camera(analysis, panning_steps(n, 2.0))
    (out,) = analysis.tracks
    assert out.id == 3 and list(out.frames) == list(range(out.start, out.end + 1))
    assert out.start == 0  # at 40 px in frame 20 it was at 0 px in frame 0: still inside the picture
    assert np.isclose(out.x[0], 0.0) and np.isclose(out.x[list(out.frames).index(19)], 0.38)
    # after frame 29 (at 50 px) it rests and drifts right with the floor, 2 px a frame, until it leaves at 100 px
    assert out.end == 29 + 24 and np.isclose(out.x[-1], 0.98)
    assert added == len(out.frames) - k
    assert not out.observed[: 20].any() and out.observed[20:30].all() and not out.observed[30:].any()
    assert len(out.boxes) == len(out.frames)
