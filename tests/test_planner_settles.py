"""Moves in place on a still camera (planner/events/settles.py): a topple or a shove the
tracker's velocity changes cannot see, found from the bursts of change in the object's place."""

import numpy as np

from prismaudio.planner.events.settles import Changes, Move, SettleConfig, change_shares, moves, place_of
from prismaudio.planner.tracks import Track


def test_change_shares_are_the_share_of_the_place_and_of_the_rest_that_changed_since_the_frame_before():
    small = np.full((6, 10, 10, 3), 100, np.uint8)
    small[3:, 2:4, 2:7] = 200  # 6 pixels of the 5 x 5 place (and 4 outside it) change at frame 3, then stay
    changes = Changes(small, threshold=28)
    inside, outside = change_shares(changes, (0, 0, 5, 5))
    assert inside.tolist() == [0.0, 0.0, 0.0, 6 / 25, 0.0, 0.0]
    assert outside.tolist() == [0.0, 0.0, 0.0, 4 / 75, 0.0, 0.0]
    small[4, 0, 0] = 120  # under the threshold: noise
    assert change_shares(Changes(small, threshold=28), (0, 0, 5, 5))[0][4] == 0.0
    inside, outside = change_shares(changes, (0, 0, 10, 10))  # nothing outside: nothing to compare with
    assert outside.tolist() == [1.0] * 6


def test_a_move_is_local_when_the_rest_of_the_picture_is_still_at_its_peak():
    from prismaudio.planner.events.settles import local

    inside = np.array([0.0, 0.0, 0.2, 0.4, 0.1, 0.0])
    assert local(Move(2, 4, 0.4), inside, np.full(6, 0.1), 3.0)  # 0.4 against 0.1 at the peak
    assert not local(Move(2, 4, 0.4), inside, np.array([0, 0, 0, 0.2, 0, 0.0]), 3.0)  # a keyframe: everything changed


def test_a_burst_with_quiet_around_it_is_a_move():
    cfg = SettleConfig(quiet_seconds=0.2, max_seconds=1.0)
    shares = np.zeros(60)
    shares[30:33] = [0.2, 0.4, 0.1]
    assert moves(shares, 25.0, cfg) == [Move(30, 32, 0.4)]
    shares[31] = 0.0  # one still frame inside a move does not split it
    assert moves(shares, 25.0, cfg) == [Move(30, 32, 0.2)]


def test_flicker_and_long_motion_are_not_moves_in_place():
    cfg = SettleConfig(quiet_seconds=0.2, max_seconds=1.0)
    flicker = np.zeros(60)
    flicker[::3] = 0.3  # changes every few frames: never quiet around it
    assert moves(flicker, 25.0, cfg) == []
    sliding = np.zeros(100)
    sliding[20:60] = 0.3  # 1.6 s of change: continuous motion, the tracker's to follow
    assert moves(sliding, 25.0, cfg) == []
    noisy = np.full(60, 0.03)  # noise everywhere, under the share an object's move changes
    assert moves(noisy, 25.0, cfg) == []
    assert moves(np.zeros(60), 25.0, cfg) == []
    flutter = np.zeros(60)
    flutter[30] = 0.4  # one frame of change: leaves, a codec refreshing a block
    assert moves(flutter, 25.0, cfg) == []


def test_a_move_at_the_clips_edge_counts_as_quiet_beyond_it():
    cfg = SettleConfig(quiet_seconds=0.2)
    shares = np.zeros(40)
    shares[36:39] = 0.5
    assert moves(shares, 25.0, cfg) == [Move(36, 38, 0.5)]


def test_the_place_is_the_tracks_seen_boxes_grown_and_clipped_to_the_frame():
    boxes = [(20, 20, 40, 30), (22, 24, 42, 34), (0, 0, 100, 100)]
    track = Track(0, np.arange(3), np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3),
                  np.array([True, True, False]), boxes)
    # seen boxes only (the bridged one is ignored), in frames half the size, grown by a quarter each way
    assert place_of(track, 2, (56, 56), 0.25) == (7, 8, 24, 19)  # (10, 10, 21, 17) grown by 2.75 and 1.75
    assert place_of(track, 2, (20, 20), 0.25) == (7, 8, 20, 19)


def floor(h, w, seed=0):
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    return ndimage.uniform_filter((rng.random((h, w, 3)) * 120 + 60).astype(np.uint8), (3, 3, 1))


def topple_clip(n=100, at=40, h=96, w=128):
    """A tall red block standing on a textured floor for `at` frames, fallen over two frames
    later (a leaning frame between), lying there to the end."""
    base = floor(h, w)
    frames = np.repeat(base[None], n, axis=0).copy()
    frames[:at, 40:70, 60:72] = (200, 40, 40)  # standing: 30 tall, 12 wide
    if at < n:
        frames[at, 52:70, 60:80] = (200, 40, 40)  # leaning
        frames[at + 1 :, 58:70, 60:90] = (200, 40, 40)  # lying: 12 tall, 30 wide
    return frames


def test_a_block_that_topples_in_view_is_heard_when_it_lands():
    from prismaudio.planner.planner import plan_frames

    frames = topple_clip()
    plan = plan_frames(frames, 25.0, len(frames) / 25.0)
    plan.validate()
    sources = [s for s in plan.semantic.sources if not s.diffuse]
    assert len(sources) == 1
    events = [e for e in plan.temporal.events if e.source == sources[0].id]
    assert events and events[0].kind == "impact"
    assert abs(events[0].onset - 41 / 25.0) <= 0.06  # where the change stops: it lies still from frame 41
