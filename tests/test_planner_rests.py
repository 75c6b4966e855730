"""Tracks extended over the time their object rests where the background model holds it."""

import numpy as np

from prismaudio.planner.detect.foreground import AnalyserConfig
from prismaudio.planner.repair.rests import RestConfig, extend_over_rests, ghost_box, last_rest, place_difference, resting_run
from prismaudio.planner.track.objects import analyse_frames


def test_place_difference_is_the_share_of_pixels_off_the_background():
    bg = np.full((8, 8, 3), 100, np.uint8)
    frames = np.stack([bg, bg, bg])
    frames[1, 0:2, 0:4] = 200  # half of the 4x4 box
    frames[2, 0:4, 0:4] = 110  # under the threshold
    d = place_difference(frames, bg, (0, 0, 4, 4), 28.0)
    assert np.allclose(d, [0.0, 0.5, 0.0])
    assert np.allclose(place_difference(frames, bg, (2, 2, 2, 4), 28.0), 0.0)  # an empty box


def test_resting_run_counts_matching_frames_until_the_first_break():
    d = np.array([0.0, 0.9, 0.1, 0.0, 0.05, 0.6, 0.0])
    assert resting_run(d, 4, -1, 0.3) == 3  # frames 4, 3, 2; frame 1 differs
    assert resting_run(d, 2, 1, 0.3) == 3  # frames 2, 3, 4; frame 5 differs
    assert resting_run(d, 6, 1, 0.3) == 1
    assert resting_run(d, 7, 1, 0.3) == 0  # past the end


def test_last_rest_skips_the_frames_the_ghost_showed_before_the_object_was_picked_up():
    d = np.array([0.0, 0.0, 0.0, 0.7, 0.8, 0.8])
    assert last_rest(d, 5, -1, 0.3, 3) == 2  # three ghost frames back, then it still sat there
    assert last_rest(d, 5, -1, 0.3, 2) is None  # ... but not within two
    assert last_rest(d, 1, 1, 0.3, 0) == 1
    assert last_rest(d, 4, 1, 0.3, 5) is None  # the end of the clip first


def test_the_ghost_is_where_the_background_holds_what_is_no_longer_there():
    bg = np.full((20, 20, 3), 100, np.uint8)
    bg[5:9, 6:12] = 220  # the background model holds an object here
    frames = np.repeat(np.full((20, 20, 3), 100, np.uint8)[None], 10, axis=0)
    frames[:4, 5:9, 6:12] = 220  # it sat there for frames 0-3, then left
    frames[7, 15:18, 15:18] = 0  # a speck once: not persistent
    assert ghost_box(frames, bg, (0, 0, 20, 20), np.arange(4, 10), 28.0, 4) == (5, 6, 9, 12)
    assert ghost_box(frames, bg, (0, 0, 20, 20), np.arange(0, 4), 28.0, 4) is None  # while it was there: nothing missing
    assert ghost_box(frames, bg, (0, 0, 20, 20), np.arange(4, 10), 28.0, 30) is None  # smaller than asked
    assert ghost_box(frames, bg, (10, 10, 20, 20), np.arange(4, 10), 28.0, 4) is None  # not in the window
    bg[14:20, 0:10] = 30  # another object's place, larger, in the same window
    assert ghost_box(frames, bg, (0, 0, 20, 20), np.arange(4, 10), 28.0, 4) == (14, 0, 20, 10)  # the largest
    assert ghost_box(frames, bg, (0, 0, 20, 20), np.arange(4, 10), 28.0, 4, near=(4, 8, 8, 14)) == (5, 6, 9, 12)


def floor(h, w, seed=0):
    rng = np.random.default_rng(seed)
    from scipy import ndimage

    return ndimage.uniform_filter((rng.random((h, w, 3)) * 120 + 60).astype(np.uint8), (3, 3, 1))


def block_clip(rest_first: int, n: int = 100, h: int = 64, w: int = 96):
    """A red block resting on the left for `rest_first` frames, slid to the right in 8 frames,
    resting there for the rest of the clip."""
    base = floor(h, w)
    xs = [10] * rest_first + list(np.linspace(10, 70, 10)[1:-1].round().astype(int)) + [70] * n
    frames = []
    for x in xs[:n]:
        f = base.copy()
        f[40:50, x : x + 12] = (220, 30, 30)
        frames.append(f)
    return np.stack(frames), xs[:n]


def test_a_block_that_rests_most_of_the_clip_is_followed_from_the_first_frame():
    frames, xs = block_clip(rest_first=60)
    analysis = analyse_frames(frames, 25.0, AnalyserConfig(centres=False))
    (track,) = [t for t in analysis.tracks if np.ptp(t.x) > 0.3]
    assert track.start > 50  # the background model holds the resting block: it is seen only once it moves
    seen_before = track.frames[track.observed].copy()
    added = extend_over_rests(analysis, RestConfig())
    (track,) = [t for t in analysis.tracks if np.ptp(t.x) > 0.3]
    assert added >= 50 and track.start == 0
    assert abs(track.x[0] - (10 + 6) / 96) < 0.08  # where it sat, on the left
    assert not track.observed[: 50].any()  # the added frames are unseen: contacts and naming do not use them
    assert np.array_equal(track.frames[track.observed], seen_before)
    assert np.array_equal(track.frames, np.arange(track.start, track.end + 1))


def test_a_block_that_slides_in_and_rests_is_followed_to_the_end():
    frames, _ = block_clip(rest_first=60)
    analysis = analyse_frames(frames[60:], 25.0, AnalyserConfig(centres=False))  # slid in, resting 32 of 40 frames
    (track,) = [t for t in analysis.tracks if np.ptp(t.x) > 0.3]
    assert track.end < 15  # once it rests, the background model holds it
    extend_over_rests(analysis, RestConfig())
    (track,) = [t for t in analysis.tracks if np.ptp(t.x) > 0.3]
    # held where it was last seen moving: on the right, within about a box of where it rests
    assert track.end == 39 and abs(track.x[-1] - (70 + 6) / 96) < 12 / 96
    assert not track.observed[-20:].any()


def test_a_track_whose_place_was_empty_before_it_came_is_not_extended():
    base = floor(64, 96)
    frames = np.repeat(base[None], 100, axis=0)
    for k, x in enumerate(np.linspace(10, 80, 70).round().astype(int)):  # comes into view at frame 30 and keeps moving
        frames[30 + k, 40:50, x : x + 12] = (220, 30, 30)
    analysis = analyse_frames(frames, 25.0, AnalyserConfig(centres=False))
    before = [(t.start, t.end) for t in analysis.tracks]
    assert before and before[0][0] >= 30
    assert extend_over_rests(analysis, RestConfig()) == 0
    assert [(t.start, t.end) for t in analysis.tracks] == before
    frames2, _ = block_clip(rest_first=60)
    analysis = analyse_frames(frames2, 25.0, AnalyserConfig(centres=False))
    assert extend_over_rests(analysis, RestConfig(enabled=False)) == 0


def test_boxes_overlap_with_and_without_padding():
    from prismaudio.planner.tracks import boxes_overlap

    a, b = (10, 10, 20, 20), (10, 21, 20, 30)  # (top, left, bottom, right): one pixel apart
    assert not boxes_overlap(a, b)
    assert boxes_overlap(a, b, pad=2)
    assert boxes_overlap(a, (15, 15, 25, 25)) and boxes_overlap((15, 15, 25, 25), a)
    assert not boxes_overlap(a, (10, 20, 20, 30))  # touching edges (right == left) do not overlap
