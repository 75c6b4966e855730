"""Pure functions behind the planner's crowded-scene tracking and sync-encoder impacts."""

from __future__ import annotations

import numpy as np

from prismaudio.planner.detect.foreground import AnalyserConfig
from prismaudio.planner.tracks import Track
from prismaudio.planner.track.objects import analyse_frames
from prismaudio.planner.events.impacts import box_energy, sync_peaks
from prismaudio.planner.detect.split import (
    colour_bins,
    colour_histogram,
    split_by_necks,
    split_pixels,
)


def test_sync_peaks_threshold_separation_and_subframe():
    p = np.zeros(30)
    p[5] = 0.9  # symmetric peak: exactly on frame 5
    p[[14, 15, 16]] = [0.6, 0.9, 0.8]  # skewed: the hit is a little after frame 15
    p[17] = 0.85  # a local maximum, but within 3 frames of the stronger peak at 15
    p[25] = 0.4  # below threshold
    peaks = sync_peaks(p, threshold=0.5, separation=3)
    assert len(sync_peaks(p, threshold=0.5, separation=2)) == 3
    assert len(peaks) == 2
    assert peaks[0] == 5.0
    assert 15.0 < peaks[1] <= 15.5


def test_box_energy_counts_inside_grown_box_only():
    diff = np.zeros((20, 20))
    diff[5, 5] = 1.0
    diff[15, 15] = 10.0
    assert box_energy(diff, (4, 4, 7, 7), 0.0) == 1.0
    assert box_energy(diff, (12, 12, 14, 14), 0.0) == 0.0
    assert box_energy(diff, (12, 12, 14, 14), 2.0) == 10.0


def test_split_pixels_uses_colour_where_position_is_ambiguous():
    red, blue = np.array([220, 30, 30]), np.array([30, 30, 220])
    hists = np.stack([colour_histogram(colour_bins(red[None])), colour_histogram(colour_bins(blue[None]))])
    centres = np.array([[10.0, 10.0], [10.0, 14.0]])
    ys = np.array([10, 10, 10, 10])
    xs = np.array([12, 12, 9, 15])
    bins = colour_bins(np.stack([red, blue, blue, red]))
    owner = split_pixels(ys, xs, bins, centres, np.array([4.0, 4.0]), hists)
    assert owner.tolist() == [0, 1, 1, 0]  # colour decides between equally near centres, and far ones too


def test_split_by_necks_cuts_two_touching_discs_but_not_one():
    yy, xx = np.mgrid[0:40, 0:60]
    one = np.hypot(yy - 20, xx - 20) <= 10
    two = one | (np.hypot(yy - 20, xx - 38) <= 10)
    ys, xs = np.nonzero(one)
    assert split_by_necks(ys, xs, min_radius=5) is None
    ys, xs = np.nonzero(two)
    owner = split_by_necks(ys, xs, min_radius=5)
    assert owner is not None and owner.max() == 1
    left = owner[xs < 25]
    right = owner[xs > 33]
    assert len(set(left.tolist())) == 1 and len(set(right.tolist())) == 1 and left[0] != right[0]


def test_background_is_the_most_frequent_colour_not_the_median():
    from prismaudio.planner.detect.foreground import background_model

    rng = np.random.default_rng(0)
    frames = np.full((40, 8, 8, 3), 100, dtype=np.uint8)
    covered = rng.random(40) < 0.7  # an object wanders over pixel (2, 2) 70% of the time, colours vary
    frames[covered, 2, 2] = rng.integers(150, 256, size=(covered.sum(), 3))
    bg = background_model(frames, samples=40)
    assert np.abs(bg[2, 2].astype(int) - 100).max() <= 2
    assert (bg[0, 0] == 100).all()


def test_two_discs_that_cross_keep_their_own_tracks():
    from prismaudio.planner.track.objects import analyse_frames
    from prismaudio.planner_training.devclips import DevSource, disc, render_clip

    red, blue = disc(14, (230, 40, 40)), disc(14, (40, 60, 230))
    # they pass close enough to touch (one foreground blob) while crossing
    clip = render_clip([DevSource(red, 0.15, 0.45, 0.25, 0.0), DevSource(blue, 0.85, 0.56, -0.25, 0.0)],
                       duration=2.4, gravity=0.0, floor=2.0)
    tracks = analyse_frames(clip.frames, 25).tracks
    long = [t for t in tracks if len(t) > 50]
    assert len(long) == 2
    starts_left = min(long, key=lambda t: t.x[0])
    assert starts_left.x[0] < 0.3 and starts_left.x[-1] > 0.6  # the red disc went through to the right
    for track, truth in ((starts_left, clip.x[0]), (max(long, key=lambda t: t.x[0]), clip.x[1])):
        # followed while the two were one blob too (not stuck at the merged centroid)
        assert np.abs(track.x - truth[track.frames]).max() < 0.03


def _parting_squares(t: int = 40, part_at: int = 20) -> np.ndarray:
    """Two squares glued side by side that move right together and part at `part_at`."""
    h, w = 96, 160
    frames = np.full((t, h, w, 3), 30, np.uint8)
    for i in range(t):
        x = 20 + 2 * i
        dy = 2 * max(0, i - part_at)
        frames[i, 38 - dy : 58 - dy, x : x + 20] = (220, 60, 60)
        frames[i, 38 + dy : 58 + dy, x + 20 : x + 40] = (60, 90, 230)
    return frames


def test_objects_that_part_mid_clip_are_two_tracks_from_the_start():

    frames = _parting_squares()
    tracks = analyse_frames(frames, 25.0).tracks
    assert len(tracks) == 2
    assert all(tr.start == 0 and tr.end == len(frames) - 1 for tr in tracks)
    # while glued, each track is on its own square (red left of blue), not on the pair's centre
    left, right = sorted(tracks, key=lambda tr: tr.x[0])
    assert abs(left.x[5] - (20 + 10 + 10) / 160) < 0.03 and abs(right.x[5] - (20 + 30 + 10) / 160) < 0.03
    # the forward pass alone sees one object until they part
    forward = analyse_frames(frames, 25.0, AnalyserConfig(backward=False)).tracks
    assert min(tr.start for tr in forward) == 0 and max(tr.start for tr in forward) >= 15


def test_a_fragment_that_keeps_its_distance_is_not_a_parting_object():
    from prismaudio.planner.track.tracking import separations

    def tr(start, n, x, vx, area):
        f = np.arange(start, start + n)
        return Track(0, f, x + vx * (f - start), np.full(n, 0.5), np.full(n, 0.1), np.full(n, 0.1), np.full(n, area),
                     np.full(n, 100.0), np.ones(n, bool), [(40, int(100 * (x + vx * (k)) - 10), 60, int(100 * (x + vx * k) + 10)) for k in range(n)])

    parent = tr(0, 40, 0.3, 0.01, 0.03)
    assert separations([parent, tr(20, 20, 0.5, 0.03, 0.03)], 0.08) == 1  # born inside it and moving away
    assert separations([parent, tr(20, 20, 0.5, 0.01, 0.03)], 0.08) == 0  # moving with it: a piece of it
    assert separations([parent, tr(20, 20, 0.5, 0.03, 0.001)], 0.08) == 0  # a speck


def test_a_lost_track_does_not_jump_to_a_far_object_of_another_colour():
    h, w, t = 96, 160, 30
    frames = np.full((t, h, w, 3), 30, np.uint8)
    for i in range(t):
        if i < 10:  # a red square moving right, then gone (left the picture, hidden)
            frames[i, 38:58, 10 + 2 * i : 30 + 2 * i] = (220, 60, 60)
        elif i >= 13:  # a blue one that turns up further on
            x = 98 + 2 * (i - 13)
            frames[i, 38:58, x : x + 20] = (60, 90, 230)
    tracks = analyse_frames(frames, 25.0).tracks
    assert len(tracks) == 2
    red, blue = sorted(tracks, key=lambda tr: tr.start)
    assert red.end <= 10 and blue.start >= 12
    # without the colour check the lost red track would take up the blue square
    assert len(analyse_frames(frames, 25.0, AnalyserConfig(max_colour_change=1.0)).tracks) == 1


def test_cascade_match_gives_an_object_to_the_track_that_just_saw_it():
    from scipy.optimize import linear_sum_assignment

    from prismaudio.planner.track.tracking import cascade_match

    # track 0 was seen last frame and sits on blob 0; track 1 has been lost for 4 frames and its
    # extrapolated prediction happens to fall on blob 0 too; blob 1 is a sliver that only
    # track 0 could reach
    cost = np.array([[0.0, 0.15], [0.02, 1e6]])
    rows, cols = linear_sum_assignment(cost)
    assert sorted(zip(rows.tolist(), cols.tolist())) == [(0, 1), (1, 0)]  # one joint assignment swaps them
    assert cascade_match(cost, [0, 4]) == [(0, 0)]
    assert cascade_match(np.zeros((0, 3)), []) == []


def test_a_track_alone_where_predicted_is_not_cut_out_of_a_merged_blob_nearby():
    from prismaudio.planner.tracks import blob_from_pixels
    from prismaudio.planner.detect.split import colour_bins, colour_histogram
    from prismaudio.planner.detect.split import split_between_tracks
    from prismaudio.planner.track.tracking import TrackBuilder

    h = w = 60
    frame = np.full((h, w, 3), 30, np.uint8)
    frame[5:45, 5:35] = (60, 90, 230)  # two objects glued into one big blob,
    frame[15:30, 28:35] = (220, 60, 60)  # one with a patch the colour of the small object
    frame[20:27, 36:43] = (220, 60, 60)  # a small object beside it (one pixel apart), in the big blob's grown box
    big_mask, small_mask = np.zeros((h, w), bool), np.zeros((h, w), bool)
    big_mask[5:45, 5:35] = True
    small_mask[20:27, 36:43] = True
    big, small = (blob_from_pixels(np.flatnonzero(m), frame) for m in (big_mask, small_mask))

    def builder(tid, blob, area):
        b = TrackBuilder(tid)
        b.add(0, blob)
        b.typical_area = area
        b.hist = colour_histogram(colour_bins(frame.reshape(-1, 3)[blob.pix]))
        return b

    lone = builder(0, small, small.area)
    inside = builder(1, big, 0.2)
    other = builder(2, big, 0.2)
    other.rows[-1] = (0, 0.2, 0.4, *other.rows[-1][3:])  # a second object in the big blob
    out = split_between_tracks([big, small], [lone, inside, other], 1, frame, 1)
    assert not any(b.owner == 0 for b in out)  # the small object keeps its own blob
    assert {b.owner for b in out if b.owner is not None} == {1, 2}  # the big blob is still split between its two


def test_a_short_track_that_passes_a_longer_one_by_is_not_its_fragment():
    from prismaudio.planner.track.tracking import drop_fragments

    def tr(tid, start, n, x, vx, area, side=0.1):
        f = np.arange(start, start + n)
        xs = x + vx * (f - start)
        return Track(tid, f, xs, np.full(n, 0.5), np.full(n, side), np.full(n, side), np.full(n, area), np.full(n, 100.0),
                     np.ones(n, bool), [(40, int(100 * v) - 10, 60, int(100 * v) + 10) for v in xs])

    cfg = AnalyserConfig()
    parent = tr(0, 0, 100, 0.5, 0.0, 0.02)  # a long track that stays put
    passing = tr(1, 10, 20, 0.35, 0.015, 0.015)  # crosses it: 0.3 of the frame in 20 frames
    piece = tr(2, 10, 20, 0.55, 0.0, 0.015)  # sits on it
    speck = tr(3, 10, 20, 0.35, 0.015, 0.002)  # crosses it, but tiny: a piece flung off
    kept = drop_fragments([parent, passing, piece, speck], 100, cfg)
    assert [t.id for t in kept] == [0, 1]
