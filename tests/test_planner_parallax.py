"""The epipolar test: a still point stays on its epipolar line whatever its depth; a moving one leaves it."""

import numpy as np

from prismaudio.planner.identify.parallax import ParallaxConfig, epipole_near, parallax_only, sampson_distances


def _views(points: np.ndarray, moved: np.ndarray, t=(0.3, 0.02, 0.05)):
    """Pixels of 3D points in two views of a camera that tracks sideways and turns a little
    (224 px frames), the second view after `moved` (world offsets per point), and the views' F."""
    k = np.array([[200.0, 0, 112], [0, 200.0, 112], [0, 0, 1]])
    a = np.deg2rad(3.0)
    r = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    t = np.array(t, float)

    def project(x, rot, shift):
        cam = x @ rot.T + shift
        uv = cam @ k.T
        return uv[:, :2] / uv[:, 2:]

    tx = np.array([[0, -t[2], t[1]], [t[2], 0, -t[0]], [-t[1], t[0], 0]])
    kinv = np.linalg.inv(k)
    fundamental = kinv.T @ tx @ r @ kinv
    return project(points, np.eye(3), np.zeros(3)), project(points + moved, r, t), fundamental


def test_still_points_at_any_depth_stay_on_their_epipolar_lines():
    rng = np.random.default_rng(0)
    points = np.c_[rng.uniform(-2, 2, 50), rng.uniform(-1, 1, 50), rng.uniform(3, 12, 50)]  # near and far
    p0, p1, f = _views(points, np.zeros_like(points))
    # the image motion differs a lot with depth (parallax), the epipolar distance does not
    speed = np.linalg.norm(p1 - p0, axis=1)
    assert speed.max() > 2 * speed.min()
    assert sampson_distances(f, p0, p1).max() < 1e-6


def test_a_falling_object_leaves_its_epipolar_line():
    points = np.array([[0.2, -0.5, 5.0], [0.25, -0.5, 5.0], [0.2, -0.45, 5.1]])
    p0, p1, f = _views(points, np.tile([0.0, 0.25, 0.0], (3, 1)))  # 25 cm down between the views
    assert sampson_distances(f, p0, p1).min() > 3.0


def test_parallax_only_needs_enough_pairs_all_within_tolerance():
    cfg = ParallaxConfig(enabled=True, tolerance=3.0, min_pairs=3)
    assert parallax_only([0.2, 0.5, 1.1, 0.3], cfg)
    assert not parallax_only([0.2, 0.5, 12.0, 0.3], cfg)  # moved once: an object of its own
    assert not parallax_only([0.2, 0.5], cfg)  # too little seen to say
    assert not parallax_only([0.2, 0.5, 1.1], ParallaxConfig(enabled=False))


def test_a_dolly_puts_the_epipole_in_the_picture_and_is_not_judged():
    points = np.array([[0.2, -0.5, 5.0], [0.25, -0.5, 5.0], [0.2, -0.45, 5.1]])
    _, _, sideways = _views(points, np.zeros_like(points))
    assert not epipole_near(sideways, 224, 224, 0.5)
    # forward: the focus of expansion is near the middle, and a fall toward it stays on its line
    p0, p1, forward = _views(points, np.tile([0.0, 0.25, 0.0], (3, 1)), t=(0.0, 0.0, -0.4))
    assert epipole_near(forward, 224, 224, 0.5)
