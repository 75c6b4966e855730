"""Ghosts of resting places (planner/repair/ghosts.py): the still blob where an object will come
to rest (the background model holds the object there) is no object of its own."""

import numpy as np

from prismaudio.planner.repair.ghosts import GhostConfig, ghost_tracks, is_ghost, stays_put
from prismaudio.planner.tracks import Track


def box_track(track_id, boxes, first=0):
    n = len(boxes)
    z = np.zeros(n)
    return Track(track_id, np.arange(first, first + n), z, z, z, z, z, z, np.ones(n, bool), list(boxes))


PLACE = (100, 100, 120, 120)


def falling_ball(land=20, bounce=(12, 15), n=60):
    """Falls into PLACE, bounces out of it at frames `bounce`, lands there at `land` and stays."""
    boxes = []
    for k in range(n):
        if bounce[0] <= k <= bounce[1] or k >= land:
            boxes.append(PLACE)
        else:
            top = 100 - 4 * abs(k - bounce[0]) if k < land else 100
            boxes.append((top, 100, top + 20, 120))
    return box_track(1, boxes)


def test_the_blob_where_a_ball_comes_to_rest_is_a_ghost():
    ghost = box_track(0, [PLACE] * 21)  # seen until the ball lands in it at frame 20
    ball = falling_ball()
    assert stays_put(ghost) and not stays_put(ball)
    assert is_ghost(ghost, [ghost, ball], 60, 25.0, GhostConfig())
    assert ghost_tracks([ghost, ball], 60, 25.0) == {0}
    assert ghost_tracks([ghost, ball], 60, 25.0, GhostConfig(enabled=False)) == set()


def test_a_still_object_the_ball_only_passes_is_no_ghost():
    still = box_track(0, [PLACE] * 60)  # seen the whole clip
    assert not is_ghost(still, [still, falling_ball()], 60, 25.0, GhostConfig())
    # a block that ends where nothing else comes: it was knocked away or merged, not a ghost
    block = box_track(0, [PLACE] * 21)
    elsewhere = box_track(1, [(10, 10, 30, 30)] * 60)
    assert not is_ghost(block, [block, elsewhere], 60, 25.0, GhostConfig())


def test_where_a_thrown_object_stood_before_it_left_is_a_ghost():
    stood = box_track(1, [PLACE] * 10 + [(100 - 6 * k, 100 + 6 * k, 120 - 6 * k, 120 + 6 * k) for k in range(1, 40)])
    ghost = box_track(0, [PLACE] * 45, first=10)  # the empty floor it left, seen from frame 10 on
    assert is_ghost(ghost, [ghost, stood], 55, 25.0, GhostConfig())


def test_whole_picture_boxes_and_two_still_tracks_are_no_ghosts():
    whole = (0, 0, 64, 96)
    first, second = box_track(0, [whole] * 32), box_track(1, [whole] * 18, first=32)
    assert ghost_tracks([first, second], 50, 25.0, frame_area=64 * 96) == set()  # a place the size of the picture
    a, b = box_track(0, [PLACE] * 21), box_track(1, [PLACE] * 30, first=21)
    assert ghost_tracks([a, b], 60, 25.0) == set()  # nothing moved into the place: two still tracks
