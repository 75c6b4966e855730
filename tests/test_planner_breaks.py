"""Piecewise-parabola fits of trajectories (planner/events/breaks.py): where a path breaks, and how."""

import numpy as np

from prismaudio.planner.events.breaks import breaks, optimal_cuts, track_noise

FPS = 25.0


def test_noise_is_measured_on_the_track_and_ignores_a_kink():
    rng = np.random.default_rng(1)
    t = np.arange(200) / FPS
    y = 0.5 + 0.2 * t - 0.3 * t ** 2 + rng.normal(0, 0.003, 200)
    y[100:] += 0.8 * (t[100:] - t[100])  # a kink: one outlier among the third differences
    noise = track_noise(np.stack([t * 0, y], 1), floor=1e-4)
    assert 0.002 < noise < 0.0045
    assert track_noise(np.zeros((3, 2)), floor=0.01) == 0.01


def test_one_parabola_is_one_segment_even_with_noise():
    rng = np.random.default_rng(2)
    t = np.arange(120) / FPS
    pos = np.stack([0.1 + 0.1 * t, 0.2 + 0.4 * t + 0.5 * t ** 2], 1) + rng.normal(0, 0.002, (120, 2))
    assert optimal_cuts(t, pos, 0.002, penalty=30.0, max_len=200) == []


def test_a_bounce_is_cut_between_the_right_frames_with_its_time_and_velocities():
    t = np.arange(50) / FPS
    tc = 0.913  # between frames 22 and 23
    g, v0 = 2.0, 1.2
    y = np.where(t < tc, 0.2 + 0.5 * g * t ** 2, 0.0)
    vin = g * tc
    y_c = 0.2 + 0.5 * g * tc ** 2
    y = np.where(t >= tc, y_c - v0 * (t - tc) + 0.5 * g * (t - tc) ** 2, y)
    pos = np.stack([np.full_like(t, 0.5), y], 1)
    found = breaks(t, pos, noise=0.001, penalty=30.0)
    assert len(found) == 1
    b = found[0]
    assert b.index == 23
    assert abs(b.time - tc) < 0.01  # sub-frame: the frames are 40 ms apart
    assert abs(b.before[1] - vin) < 0.1 and abs(b.after[1] + v0) < 0.1
    assert abs(b.change - (vin + v0)) < 0.15


def test_segments_are_capped_so_long_tracks_stay_cheap():
    t = np.arange(300) / FPS
    pos = np.stack([0.3 + 0.01 * np.sin(t), 0.5 + 0.2 * t], 1)
    cuts = optimal_cuts(t, pos, 0.002, penalty=30.0, max_len=100)
    assert len(cuts) >= 2  # forced cuts: the velocity does not change there
    assert all(b.change < 0.05 for b in breaks(t, pos, 0.002, 30.0, max_len=100))
