"""Pure functions behind the planner's crowded-scene tracking and sync-encoder impacts."""

from __future__ import annotations

import numpy as np

from prismaudio.planner.impacts import box_energy, sync_peaks
from prismaudio.planner.split import colour_bins, colour_histogram, split_by_necks, split_pixels


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
