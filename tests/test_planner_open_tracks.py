"""The open-world path takes up spare tracks when some of the longest turn out to be no objects."""

import numpy as np

from prismaudio.planner.analyser import Analysis
from prismaudio.planner.open_tracks import refill_tracks
from prismaudio.planner.scene_motion import SceneMotionConfig



def box_track(tid, boxes, h, w):
    from prismaudio.planner.analyser import Track

    n = len(boxes)
    b = np.asarray(boxes, float)
    return Track(tid, np.arange(n), (b[:, 1] + b[:, 3]) / 2 / w, (b[:, 0] + b[:, 2]) / 2 / h, (b[:, 3] - b[:, 1]) / w,
                 (b[:, 2] - b[:, 0]) / h, (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]), np.full(n, 100.0), np.ones(n, bool),
                 [tuple(int(v) for v in x) for x in b])


def texture(h, w, seed=0):
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    return ndimage.uniform_filter((rng.random((h, w, 3)) * 255).astype(np.uint8), (5, 5, 1))


def test_a_ball_cut_for_floor_patches_is_taken_up_again():
    from prismaudio.planner.planner import PlannerConfig, _recogniser

    n, h, w = 75, 96, 128
    rng = np.random.default_rng(0)
    base = texture(h, w, 5)
    lamp = np.zeros((h, w, 3))
    lamp[10:30, 90:110] = 12
    # sensor noise and a flickering lamp (a longer track than the ball's, but nothing moves there)
    frames = np.stack([np.clip(base + rng.normal(0, 3, base.shape) + lamp * (k % 2), 0, 255).astype(np.uint8) for k in range(n)])
    yy, xx = np.mgrid[:h, :w]
    ball = []
    for k in range(n // 2, n):  # then a ball thrown across the floor
        x, y = 15 + 2.0 * (k - n // 2), 70 - 20 * abs(np.sin(np.pi * k / 25))
        frames[k][(yy - y) ** 2 + (xx - x) ** 2 < 36] = (230, 30, 30)
        ball.append((int(y) - 7, int(x) - 7, int(y) + 7, int(x) + 7))
    patch = [(10, 90, 30, 110)] * n
    spare = [box_track(1, patch, h, w), box_track(2, ball, h, w)]
    spare[1].frames = spare[1].frames + n // 2
    analysis = Analysis(25.0, n, w, h, [], False, False, np.zeros((h, w, 3), np.uint8), spare=spare)
    recogniser = _recogniser(PlannerConfig())
    tracks, features = refill_tracks(frames, frames, analysis, [], recogniser, 3, SceneMotionConfig())
    assert [t.id for t in tracks] == [2] and len(features) == 1 and features[0].shape[-1] == 1280
    assert analysis.tracks == tracks
    full = Analysis(25.0, n, w, h, [spare[1]], False, False, np.zeros((h, w, 3), np.uint8), spare=[spare[0]])
    assert refill_tracks(frames, frames, full, [features[0]], recogniser, 1, SceneMotionConfig())[0] == [spare[1]]  # no room
