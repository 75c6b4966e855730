"""Swaps of two objects that met, undone by their colours (planner/repair/swaps.py), and the
plan's smoothed positions."""

from __future__ import annotations

import numpy as np

from prismaudio.planner.tracks import Track, blob_from_pixels
from prismaudio.planner.repair.swaps import exchange_gain, meetings, repair_crossings, span_mean, splice
from prismaudio.planner.planner import smoothed
from prismaudio.planner.detect.split import colour_bins, colour_histogram, histogram_distance

RED, BLUE = (220, 40, 40), (40, 40, 220)
H, W, T = 40, 80, 40


def _scene(apart=lambda f: abs(f - 20)):
    """Red on the left, blue on the right, 2 * apart(f) + 1 pixels between them: by default
    they come together, touch at frame 20 and turn back (each stays on its own side).
    Returns frames and per-frame blobs (red, blue)."""
    frames = np.full((T, H, W, 3), 128, np.uint8)
    blobs = []
    for f in range(T):
        gap = apart(f)
        here = []
        for colour, x0 in ((RED, 30 - gap - 8), (BLUE, 31 + gap)):
            frames[f, 15:23, x0 : x0 + 8] = colour
            yy, xx = np.mgrid[15:23, x0 : x0 + 8]
            here.append(blob_from_pixels((yy * W + xx).ravel(), frames[f]))
        blobs.append(here)
    return frames, blobs


def _track(tid: int, blobs: list) -> Track:
    return Track(
        id=tid, frames=np.arange(len(blobs)), x=np.array([b.x for b in blobs]), y=np.array([b.y for b in blobs]),
        w=np.array([b.w for b in blobs]), h=np.array([b.h for b in blobs]), area=np.array([b.area for b in blobs]),
        brightness=np.array([b.brightness for b in blobs]), observed=np.ones(len(blobs), bool), boxes=[b.box for b in blobs],
    )


def _colour_at(track: Track, frame: int, blobs: list) -> tuple:
    box = track.boxes[frame - track.start]
    return next(b.colour for b in blobs[frame] if b.box == box)


def test_histogram_distance_bounds_and_symmetry():
    red = colour_histogram(colour_bins(np.array([RED] * 10)))
    blue = colour_histogram(colour_bins(np.array([BLUE] * 10)))
    both = colour_histogram(colour_bins(np.array([RED] * 5 + [BLUE] * 5)))
    assert histogram_distance(red, red) == 0.0
    assert abs(histogram_distance(red, blue) - 1.0) < 1e-9
    assert 0.0 < histogram_distance(red, both) == histogram_distance(both, red) < 1.0


def test_splice_joins_head_of_one_track_to_tail_of_another():
    _, blobs = _scene()
    a = _track(0, [b[0] for b in blobs])
    b = _track(1, [b[1] for b in blobs])
    s = splice(a, b, 20)
    assert s.id == 0 and len(s) == T and s.start == 0 and s.end == T - 1
    assert s.x[19] == a.x[19] and s.x[20] == b.x[20] and s.boxes[25] == b.boxes[25]


def test_tracks_that_left_a_meeting_with_each_others_object_are_swapped_back():
    frames, blobs = _scene()
    red = [b[0] for b in blobs]
    blue = [b[1] for b in blobs]
    # the tracker's mistake: at the meeting, each track went on with the other object
    swapped = [_track(0, red[:20] + blue[20:]), _track(1, blue[:20] + red[20:])]
    assert any(m.start <= 20 <= m.end for m in meetings(swapped))
    repaired = repair_crossings(swapped, blobs, frames)
    for track, colour in zip(repaired, (RED, BLUE)):
        assert all(np.allclose(_colour_at(track, f, blobs), colour) for f in range(T))
    # right from the start: nothing changes
    kept = repair_crossings([_track(0, red), _track(1, blue)], blobs, frames)
    assert [_colour_at(t, T - 1, blobs) for t in kept] == [red[-1].colour, blue[-1].colour]


def test_a_swap_inside_a_long_meeting_is_found_where_it_happened():
    frames, blobs = _scene(apart=lambda f: 0)  # touching from the first frame to the last
    red = [b[0] for b in blobs]
    blue = [b[1] for b in blobs]
    swapped = [_track(0, red[:12] + blue[12:]), _track(1, blue[:12] + red[12:])]
    assert [(m.start, m.end) for m in meetings(swapped)] == [(0, T - 1)]
    repaired = repair_crossings(swapped, blobs, frames)
    assert all(np.allclose(_colour_at(repaired[0], f, blobs), RED) for f in range(T))


def test_span_mean_and_exchange_gain():
    hists = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    running = (np.concatenate([np.zeros((1, 2)), np.cumsum(hists, 0)]), np.arange(5.0))
    assert span_mean(running, 0, 2, 2).tolist() == [1.0, 0.0]
    assert span_mean(running, 1, 3, 2).tolist() == [0.5, 0.5]
    assert span_mean(running, -5, 1, 2) is None  # one frame only
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert exchange_gain([a, b], [b, a]) == 2.0  # each went on with the other's colours
    assert exchange_gain([a, b], [a, b]) == -2.0
    assert exchange_gain([a, a], [a, a]) == 0.0  # alike: no evidence either way


def test_objects_that_look_alike_are_not_swapped():
    frames, blobs = _scene()
    frames[:] = np.where(frames == 220, 40, frames)  # make red and blue the same dark grey-ish colour
    frames[:, 15:23] = np.where(frames[:, 15:23] != 128, 40, 128)
    blobs = [[blob_from_pixels(b.pix, frames[f]) for b in here] for f, here in enumerate(blobs)]
    a = [b[0] for b in blobs]
    b = [b[1] for b in blobs]
    swapped = [_track(0, a[:20] + b[20:]), _track(1, b[:20] + a[20:])]
    repaired = repair_crossings(swapped, blobs, frames)
    assert [t.boxes for t in repaired] == [t.boxes for t in swapped]  # no colour evidence: left alone


def test_smoothed_removes_jitter_keeps_motion():
    rng = np.random.default_rng(0)
    ramp = np.linspace(0.2, 0.8, 50)
    noisy = ramp + rng.normal(0, 0.01, 50)
    out = smoothed(noisy, 3)
    assert np.abs(out - ramp)[1:-1].std() < np.abs(noisy - ramp)[1:-1].std()
    assert abs(out[25] - ramp[25]) < 0.02 and out.shape == ramp.shape
    assert smoothed(noisy, 1) is noisy


def _line(tid: int, frames: range, x0: float, dx: float, area: float = 0.01) -> Track:
    n = len(frames)
    x = x0 + dx * np.arange(n)
    return Track(
        id=tid, frames=np.array(list(frames)), x=x, y=np.full(n, 0.5), w=np.full(n, 0.1), h=np.full(n, 0.1),
        area=np.full(n, area), brightness=np.full(n, 100.0), observed=np.ones(n, bool), boxes=[(0, 0, 1, 1)] * n,
    )


def test_relink_joins_a_broken_track_but_not_a_newcomer_at_the_edge():
    from prismaudio.planner.detect.foreground import AnalyserConfig
    from prismaudio.planner.track.tracking import relink

    cfg = AnalyserConfig()
    # lost mid-picture for 5 frames, found again where it was heading: one object
    joined = relink([_line(0, range(0, 20), 0.3, 0.005), _line(1, range(25, 40), 0.43, 0.005)], 1.0, cfg)
    assert len(joined) == 1 and len(joined[0]) == 40
    # the same gap, but the second one comes in at the right edge of the picture: another object
    apart = relink([_line(0, range(0, 20), 0.7, 0.005), _line(1, range(25, 40), 0.94, -0.005)], 1.0, cfg)
    assert len(apart) == 2
    # a track that begins merged with something (first frame twice its size) is still the same object
    merged_start = _line(1, range(25, 40), 0.43, 0.005)
    merged_start.area[0] = 0.03
    assert len(relink([_line(0, range(0, 20), 0.3, 0.005), merged_start], 1.0, cfg)) == 1
