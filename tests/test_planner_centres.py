"""The centre net's maths and the blob cutting it drives (planner/detect/centres.py, train_centres.py)."""

import numpy as np
import torch

from prismaudio.planner.tracks import blob_from_pixels
from prismaudio.planner.detect.centres import CentreConfig, find_peaks, interpolate_peaks
from prismaudio.planner.detect.split import split_at_centres
from prismaudio.planner_training.train_centres import centre_focal_loss, centre_targets


def test_targets_put_one_peak_per_object_with_its_offset():
    heat, offset = centre_targets([(10.0, 30.0, 24.0), (90.0, 50.0, 24.0)], 112, 112, 4)
    assert heat.shape == (28, 28) and offset.shape == (2, 28, 28)
    peaks = np.argwhere(heat >= 1 - 1e-6)
    assert sorted(map(tuple, peaks)) == [(7, 2), (12, 22)]  # (row, col) = (y/4 - .5, x/4 - .5) rounded
    assert np.allclose(offset[:, 7, 2], (10 / 4 - 0.5 - 2, 30 / 4 - 0.5 - 7))
    # an object whose centre is outside the frame gives no peak
    heat, _ = centre_targets([(-20.0, 30.0, 24.0)], 112, 112, 4)
    assert heat.max() < 1e-3


def test_focal_loss_rewards_peaks_where_the_objects_are():
    heat, _ = centre_targets([(40.0, 40.0, 24.0)], 112, 112, 4)
    target = torch.from_numpy(heat)[None]
    good = torch.where(target >= 1 - 1e-6, 6.0, -6.0)
    shifted = torch.roll(good, shifts=6, dims=-1)  # the peak predicted 6 cells off
    flat = torch.zeros_like(good)
    assert centre_focal_loss(good, target) < 0.05
    assert centre_focal_loss(shifted, target) > 10 * centre_focal_loss(good, target)
    assert centre_focal_loss(flat, target) > centre_focal_loss(good, target)


def test_peaks_are_found_with_their_sub_cell_offset_and_near_duplicates_merged():
    out = torch.full((1, 3, 28, 28), -8.0)
    out[0, 1:] = 0.0
    out[0, 0, 5, 6] = 4.0
    out[0, 1, 5, 6], out[0, 2, 5, 6] = 0.25, -0.25
    out[0, 0, 5, 7] = 3.0  # a neighbour of the same object (not a local maximum)
    out[0, 0, 20, 20] = 2.0
    peaks = find_peaks(out, CentreConfig())[0]
    assert len(peaks) == 2
    assert np.allclose(peaks[0], ((6 + 0.5 + 0.25) * 4, (5 + 0.5 - 0.25) * 4))
    assert np.allclose(peaks[1], (20.5 * 4, 20.5 * 4))


def test_interpolated_peaks_move_between_partners_and_keep_the_lone_ones():
    before = np.array([[10.0, 10.0], [50.0, 50.0]])
    after = np.array([[14.0, 10.0]])
    mid = interpolate_peaks(before, after, 0.5, 8.0)
    assert np.allclose(sorted(map(tuple, mid)), [(12.0, 10.0)])  # alpha 0.5: the partnerless peak of `before` is dropped
    early = interpolate_peaks(before, after, 0.25, 8.0)
    assert np.allclose(sorted(map(tuple, early)), [(11.0, 10.0), (50.0, 50.0)])


def _frame_with_two_touching_squares() -> tuple[np.ndarray, np.ndarray]:
    frame = np.zeros((40, 60, 3), np.uint8)
    frame[10:30, 10:30] = (255, 0, 0)
    frame[10:30, 30:50] = (0, 0, 255)
    ys, xs = np.nonzero(frame.any(-1))
    return frame, ys * 60 + xs


def test_a_blob_with_two_centres_is_cut_in_two_and_one_centre_leaves_it_whole():
    frame, pix = _frame_with_two_touching_squares()
    blob = blob_from_pixels(pix, frame)
    pieces = split_at_centres([blob], np.array([[20.0, 20.0], [40.0, 20.0]]), frame, 1, min_pixels=20)
    assert len(pieces) == 2
    xs = sorted(p.x * 60 for p in pieces)
    assert np.allclose(xs, [20.0, 40.0])
    assert sum(len(p.pix) for p in pieces) == len(pix)  # no pixel lost
    assert split_at_centres([blob], np.array([[20.0, 20.0]]), frame, 1, 20) == [blob]
    # a centre far from the blob does not cut it
    assert split_at_centres([blob], np.array([[20.0, 20.0], [5.0, 38.0]]), frame, 1, 20) == [blob]


def test_a_peak_seen_in_one_frame_only_is_dropped():
    from prismaudio.planner.detect.centres import persistent_peaks

    steady = np.array([[20.0, 20.0]])
    frames = [steady, np.array([[21.0, 20.0], [80.0, 80.0]]), steady + 1]
    kept = persistent_peaks(frames, 8.0)
    assert [len(k) for k in kept] == [1, 1, 1]
    assert np.allclose(kept[1], [[21.0, 20.0]])


def test_objects_touching_most_of_a_clip_get_a_track_each():
    """A crowded SynthCanvas clip (in-distribution background): two of its three sprites touch
    in 78% of the frames; the tracker alone followed two objects, with the centre net all three."""
    from prismaudio.planner.track.objects import analyse_frames
    from prismaudio.planner_training.canvas_clips import make_clip, match_tracks
    from prismaudio.planner.detect.centres import load_detector

    assert load_detector() is not None, "the packaged centre net is missing (prismaudio train planner --centres-only)"
    clip = make_clip(5646, single=False, num_sources=3, duration=4.0, speed_range=(2.0, 3.5))
    analysis = analyse_frames(clip.frames, clip.fps)
    matched = match_tracks(analysis.tracks, clip.sources, analysis.width, analysis.height, max_dist=0.12)
    assert sorted(matched.values()) == [0, 1, 2]
