"""Foreground under a camera that zooms or turns: each frame against its neighbours carried into its view."""

import numpy as np

from prismaudio.planner.detect.camera import frame_homographies
from prismaudio.planner.detect.compensated import chained, explains_change, scaled, seen_median, warped_backgrounds
from prismaudio.planner.detect.foreground import AnalyserConfig, detect_blobs


def shift(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def test_chained_steps_carry_a_frame_into_another_frames_picture_both_ways():
    steps = np.stack([np.eye(3)] + [shift(k, -1.0) for k in range(1, 6)])  # frame k -> k-1 moves by (k, -1)
    forward = chained(steps, 5, 2)  # frame 5 into frame 2: steps 5, 4 and 3
    assert np.allclose(forward, shift(3 + 4 + 5, -3.0))
    assert np.allclose(chained(steps, 2, 5), np.linalg.inv(forward))
    assert np.allclose(chained(steps, 3, 3), np.eye(3))
    half = scaled(steps, 2)  # the same motion on frames half the size
    assert np.allclose(half[4], shift(2.0, -0.5))


def zooming_floor(frames: int = 48, size: int = 112):
    """A textured floor the camera zooms into (1% a frame, about the picture's centre, a little
    turn too) with a red ball rolling across it; the homographies frame k -> k-1."""
    import cv2
    from scipy import ndimage

    rng = np.random.default_rng(3)
    tiles = rng.integers(40, 200, (size // 8, size // 8, 1)).repeat(3, -1).astype(np.uint8)  # grey paving stones
    floor = ndimage.uniform_filter(tiles.repeat(8, 0).repeat(8, 1), (3, 3, 1))
    c = size / 2
    views = []
    for k in range(frames):
        s, a = 1.0 + 0.01 * k, 0.003 * k
        m = shift(c, c) @ np.array([[s * np.cos(a), -s * np.sin(a), 0], [s * np.sin(a), s * np.cos(a), 0], [0, 0, 1]]) @ shift(-c, -c)
        views.append(m)
    out = np.stack([cv2.warpPerspective(floor, m, (size, size), borderMode=cv2.BORDER_REFLECT) for m in views])
    balls = []
    for k in range(frames):
        x, y = 10 + 2 * k, 60
        cv2.circle(out[k], (x, y), 6, (230, 30, 30), -1)
        balls.append((x, y))
    steps = np.stack([np.eye(3)] + [views[k - 1] @ np.linalg.inv(views[k]) for k in range(1, frames)])
    return out, steps, balls


def test_a_zooming_cameras_floor_drops_out_and_the_rolling_ball_stays():
    frames, steps, balls = zooming_floor()
    backgrounds = warped_backgrounds(frames, steps)
    k = 24
    floor = np.ones(frames.shape[1:3], bool)
    floor[balls[k][1] - 9 : balls[k][1] + 10, balls[k][0] - 9 : balls[k][0] + 10] = False
    residual = np.abs(frames[k].astype(int) - backgrounds[k]).max(-1)
    assert np.median(residual[floor]) < 12  # the floor lines up
    assert residual[balls[k][1], balls[k][0]] > 60  # the ball is not in its own background
    measured = frame_homographies(frames)  # and from the picture itself, as the detect pass does
    cfg = AnalyserConfig(motion_side=112, centres=False)
    found = detect_blobs(frames, cfg, measured)
    plain = detect_blobs(frames, cfg)
    near = [any(abs((b.box[1] + b.box[3]) / 2 - balls[k][0]) < 8 and abs((b.box[0] + b.box[2]) / 2 - balls[k][1]) < 8
                for b in found.blobs[k]) for k in range(16, 32)]
    assert all(near)
    moving = [sum(b.area for b in found.blobs[k]) for k in range(16, 32)]
    assert max(moving) < 0.03  # little but the ball (a disk of radius 6: 0.009 of the picture)
    # one background for the whole shot: the stones' edges slide and are foreground all over the floor
    assert min(sum(b.area for b in plain.blobs[k]) for k in range(16, 32)) > 0.05


def test_objects_that_carry_all_the_corners_over_a_smooth_backdrop_are_no_moving_camera():
    from scipy import ndimage

    frames, steps, _ = zooming_floor()
    assert explains_change(frames, steps)  # the zoom is what changes the floor
    yy, xx = np.mgrid[:112, :112]
    backdrop = (120 + 60 * np.exp(-((yy - 56) ** 2 + (xx - 56) ** 2) / 2000.0))[..., None].repeat(3, -1)  # no corners
    rng = np.random.default_rng(1)
    patch = ndimage.uniform_filter((rng.random((20, 20, 3)) * 255).astype(np.uint8), (3, 3, 1))
    sprites = np.repeat(backdrop[None].astype(np.uint8), 48, 0)
    for k in range(48):  # four textured sprites, each its own way
        for (x0, y0), (vx, vy) in zip([(5, 5), (80, 10), (10, 80), (70, 70)], [(1.5, 0.5), (-1, 1), (1, -1.2), (-0.8, -0.6)]):
            x, y = int(x0 + vx * k) % 90, int(y0 + vy * k) % 90
            sprites[k, y : y + 20, x : x + 20] = patch
    assert not explains_change(sprites, frame_homographies(sprites))


def test_the_median_of_the_seen_views_is_numpys_nanmedian():
    rng = np.random.default_rng(5)
    values = rng.random((4, 300, 3)) * 255
    hidden = rng.random((4, 300)) < 0.4
    hidden[:, 0] = [True, True, True, False]  # one view sees it
    hidden[:, 1] = False
    values[hidden] = np.nan
    counts = (~hidden).sum(0)
    keep = counts >= 1
    assert np.allclose(seen_median(values[:, keep], counts[keep]), np.nanmedian(values[:, keep], axis=0))
