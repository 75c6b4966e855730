"""The object view's training tubes: the exact window, windows drawn like the tracker's, stray paths."""

import numpy as np
import torch

from prismaudio.planner_training.contact_clips import WIDE, centre, jittered, stray_path


def test_centre_is_the_exact_window_of_a_wide_tube():
    wide = np.zeros((3, 96, 96), np.uint8)
    wide[:, 24:72, 24:72] = 7
    assert centre(wide).shape == (3, 96 // WIDE, 96 // WIDE) and (centre(wide) == 7).all()


def test_jittered_windows_keep_the_object_near_the_middle_and_vary():
    wide = torch.zeros(8, 96, 96)
    wide[:, 44:52, 44:52] = 1.0  # the object, in the middle of the wide tube
    rng = np.random.default_rng(0)
    draws = [jittered(wide, rng, 48) for _ in range(20)]
    assert all(d.shape == (8, 48, 48) for d in draws)
    for d in draws:
        ys, xs = np.nonzero(d[0].numpy() > 0.5)
        assert abs(ys.mean() - 23.5) < 15 and abs(xs.mean() - 23.5) < 15  # shifted at most a fifth (of the exact window: 48 / 5 / 0.7 px zoomed in)
    sizes = [float((d[0] > 0.5).sum()) for d in draws]
    assert max(sizes) > 1.5 * min(sizes)  # zoomed in and out
    frames = draws[0].numpy()
    assert np.abs(frames[1:] - frames[:-1]).max() == 0  # one window for the whole run: a still object stays still


def test_stray_paths_keep_away_from_the_objects():
    rng = np.random.default_rng(1)
    objects = [np.tile([100.0, 120.0], (50, 1)), np.full((50, 2), np.nan)]  # one object; one never seen
    for _ in range(10):
        path = stray_path(rng, 50, 224, 168, objects, 40)
        assert path.shape == (50, 2)
        assert np.hypot(*(path - objects[0]).T).min() > 40
        assert (path >= 0).all() and (path[:, 0] < 224).all() and (path[:, 1] < 168).all()
