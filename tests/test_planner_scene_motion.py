"""Regions that only move with the camera (or never move) are not sources."""

import numpy as np

from prismaudio.planner.tracks import Track
from prismaudio.planner.identify.scene_motion import SceneMotionConfig, agrees, moves_with_scene, scene_bound_tracks, travels


def texture(h, w, seed=0):
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    return ndimage.uniform_filter((rng.random((h, w, 3)) * 255).astype(np.uint8), (5, 5, 1))


def box_track(tid, boxes, h, w):
    n = len(boxes)
    b = np.asarray(boxes, float)
    return Track(tid, np.arange(n), (b[:, 1] + b[:, 3]) / 2 / w, (b[:, 0] + b[:, 2]) / 2 / h, (b[:, 3] - b[:, 1]) / w,
                 (b[:, 2] - b[:, 0]) / h, (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]), np.full(n, 100.0), np.ones(n, bool),
                 [tuple(int(v) for v in x) for x in b])


def parallax_pan(n=50, h=96, w=128):
    """A still scene seen by a camera moving sideways: a far backdrop (top) drifts 1 px a frame,
    the near floor (bottom) 2 px a frame."""
    far, near = texture(h, w + n + 4, 1), texture(h, w + 2 * n + 4, 2)
    frames = np.empty((n, h, w, 3), np.uint8)
    for k in range(n):
        frames[k, : h // 2] = far[: h // 2, k : k + w]
        frames[k, h // 2 :] = near[h // 2 :, 2 * k : 2 * k + w]
    return frames


def test_flows_agree_when_they_are_one_view_of_the_scene():
    assert agrees(np.array([3.0, 0.0]), np.array([3.2, 0.1]), 0.3)
    assert agrees(np.array([5.0, 0.2]), np.array([2.5, 0.0]), 0.3)  # nearer, so faster: parallax
    assert not agrees(np.array([-3.0, 0.0]), np.array([3.0, 0.0]), 0.3)  # against the scene
    assert not agrees(np.array([0.0, 4.0]), np.array([3.0, 0.0]), 0.3)


def test_a_patch_of_panning_scene_moves_with_it_and_an_object_does_not():
    frames = parallax_pan()
    h, w = frames.shape[1:3]
    gray = [f.mean(-1).astype(np.uint8) for f in frames]
    cfg = SceneMotionConfig()
    # a window on the floor that follows the floor (what a tracker of changing pixels reports)
    floor = box_track(0, [(60, 40 - 2 * k // 5, 80, 60 - 2 * k // 5) for k in range(len(frames))], h, w)
    assert moves_with_scene(floor, gray, 15, cfg)
    # a bright square crossing a still textured wall against the scene's flow
    still = np.repeat(texture(h, w, 3)[None], len(frames), 0)
    for k in range(len(frames)):
        still[k, 30:50, 10 + 2 * k : 30 + 2 * k] = np.clip((texture(20, 20, 4).astype(int) - 128) * 4 + 128, 0, 255)
    gray = [f.mean(-1).astype(np.uint8) for f in still]
    obj = box_track(1, [(30, 10 + 2 * k, 50, 30 + 2 * k) for k in range(len(frames))], h, w)
    assert not moves_with_scene(obj, gray, 15, cfg)
    assert scene_bound_tracks(still, [obj], 25.0, cfg) == set()


def test_a_region_whose_picture_never_moves_is_no_object():
    rng = np.random.default_rng(0)
    base = texture(96, 128, 5)
    lamp = np.zeros((96, 128, 3))
    lamp[40:60, 50:70] = 10
    # sensor noise and a flickering lamp: the background model sees change, nothing moves
    frames = np.stack([np.clip(base + rng.normal(0, 3, base.shape) + lamp * (k % 2), 0, 255).astype(np.uint8) for k in range(100)])
    flicker = box_track(0, [(40, 50, 60, 70)] * 100, 96, 128)
    assert scene_bound_tracks(frames, [flicker], 25.0, SceneMotionConfig()) == {0}


def test_a_camera_moving_over_a_still_3d_scene_plans_no_source():
    from prismaudio.planner.planner import plan_frames

    frames = parallax_pan(n=75)
    plan = plan_frames(frames, 25.0, 3.0)
    plan.validate()
    assert [s for s in plan.semantic.sources if not s.diffuse] == []
    assert plan.notes


def test_a_ball_thrown_past_a_moving_camera_is_still_planned():
    from prismaudio.planner.planner import plan_frames

    frames = parallax_pan(n=75)
    yy, xx = np.mgrid[:96, :128]
    for k in range(75):  # a ball bouncing across the floor: contacts every second
        t = k / 25
        x, y = 10 + 40 * t, 80 - 50 * abs(np.sin(np.pi * t))
        frames[k][(yy - y) ** 2 + (xx - x) ** 2 < 36] = (230, 30, 30)
    plan = plan_frames(frames, 25.0, 3.0)
    plan.validate()
    assert len([s for s in plan.semantic.sources if not s.diffuse]) >= 1


def test_a_small_object_whose_box_goes_with_it_moves():
    from prismaudio.planner.identify.scene_motion import box_shift

    assert box_shift((10, 10, 20, 20), (10, 14, 20, 24)) == 4.0 and box_shift((0, 0, 4, 4), (0, 0, 4, 4)) == 0.0
    # a still, textured floor; a small grey object crawls 16 px over it: its loose box holds mostly
    # floor corners (their median flow is none), but the box goes with the object
    rng = np.random.default_rng(7)
    floor = (rng.random((96, 128, 3)) * 255).astype(np.uint8)
    frames = np.repeat(floor[None], 100, axis=0).copy()
    boxes = []
    for k in range(100):
        left = 50 + int(round(16 * min(k, 60) / 60))
        frames[k, 50:56, left : left + 6] = 170
        boxes.append((38, left - 12, 68, left + 18))
    crawling = box_track(0, boxes, 96, 128)
    assert scene_bound_tracks(frames, [crawling], 25.0, SceneMotionConfig()) == set()
    assert scene_bound_tracks(frames, [crawling], 25.0, SceneMotionConfig(min_box_shift=0.0)) == {0}  # the flow alone


def test_an_object_pushed_between_two_rests_travels_and_flicker_does_not():
    # at rest for 46 frames, pushed 60 px to the right in 6 frames, at rest again (a PhysWorld push)
    lefts = [10] * 46 + [10 + 10 * k for k in range(1, 7)] + [70] * 8  # the spaced pairs (0, 15, 30) miss the push
    pushed = box_track(0, [(30, x, 40, x + 20) for x in lefts], 96, 128)
    assert travels(pushed, 15, 3.0)
    jitter = box_track(1, [(30, 10 + (k % 3), 40, 30 + (k % 3)) for k in range(60)], 96, 128)
    assert not travels(jitter, 15, 3.0)
    assert not travels(pushed, 15, 0.0)  # min_box_shift 0: never asked


def test_a_resting_then_pushed_object_is_not_taken_for_flicker():
    rng = np.random.default_rng(1)
    base = texture(96, 128, 3)
    lefts = [10] * 46 + [10 + 10 * k for k in range(1, 7)] + [70] * 8  # the spaced pairs (0, 15, 30) miss the push
    frames = []
    for x in lefts:
        f = base.astype(float) + rng.normal(0, 2, base.shape)
        f[30:40, x : x + 20] = (220, 40, 40)  # a flat red block: few corners of its own
        frames.append(np.clip(f, 0, 255).astype(np.uint8))
    track = box_track(0, [(30, x, 40, x + 20) for x in lefts], 96, 128)
    assert scene_bound_tracks(np.stack(frames), [track], 25.0, SceneMotionConfig()) == set()
