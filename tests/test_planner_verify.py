"""The contact verifier (planner/events/verify.py) and the camera's homographies (camera.py) on made-up input."""

import numpy as np

from prismaudio.planner.tracks import Analysis, Track
from prismaudio.planner.detect.camera import frame_homographies, own_path, picture_drifts
from prismaudio.planner.events.motion import Contact
from prismaudio.planner.events.verify import FEATURES, VERIFIER_PATH, Verifier, contact_features, load_verifier, verified


def _track(n=40, area=0.01, box=(50, 50, 70, 70)):
    frames = np.arange(n)
    return Track(0, frames, np.full(n, 0.5), np.linspace(0.2, 0.8, n), np.full(n, 0.1), np.full(n, 0.1),
                 np.full(n, area), np.full(n, 100.0), np.ones(n, bool), [box] * n)


def _analysis(tracks):
    return Analysis(25.0, 40, 224, 224, tracks, False, False, np.zeros((112, 112, 3), np.uint8))


def test_features_describe_the_track_at_the_contact():
    tr = _track()
    tr.area[20:] = 0.04  # the blob quadruples at the contact: a merge, not a bounce
    c = Contact(0, 20.5 / 25, "bounce", 1.0, 0.8, speed_before=1.0, speed_after=0.5, margin=4.0, noise=0.002)
    x = contact_features(tr, _analysis([tr]), [c], np.arange(40) / 25.0, camera_moves=True)
    f = dict(zip(FEATURES, x[0]))
    assert x.shape == (1, len(FEATURES))
    assert abs(f["area_jump"] - np.log(4.0)) < 1e-6 and f["camera_moves"] == 1.0 and f["bounce"] == 1.0 and f["border"] == 0.0
    edge = _track(box=(0, 50, 20, 70))
    assert contact_features(edge, _analysis([edge]), [c], np.arange(40) / 25.0, False)[0, FEATURES.index("border")] == 1.0


def test_the_verifier_keeps_what_it_believes_with_its_probability_as_confidence():
    k = len(FEATURES)
    w = np.zeros(k)
    w[FEATURES.index("camera_moves")] = -4.0
    v = Verifier(np.zeros(k), np.ones(k), w, 1.0, 0.5)
    cs = [Contact(0, 1.0, "bounce", 1.0, 0.9), Contact(0, 2.0, "bounce", 1.0, 0.9)]
    x = np.zeros((2, k))
    x[1, FEATURES.index("camera_moves")] = 1.0
    kept = verified(cs, x, v)
    assert [c.time for c in kept] == [1.0] and abs(kept[0].confidence - 1 / (1 + np.exp(-1.0))) < 1e-3
    assert verified(cs, x, None) == cs
    assert [c.time for c in verified(cs, x, v, threshold=0.8)] == []  # a stricter threshold: 0.73 is not enough
    assert [c.time for c in verified(cs, x, v, threshold=0.01)] == [1.0, 2.0]  # a looser one keeps the doubtful one too


def test_the_packaged_verifier_loads_with_its_features():
    v = load_verifier(str(VERIFIER_PATH))
    assert v is not None and v.weights.shape == (len(FEATURES),) and 0.0 < v.threshold < 1.0


def _textured(shift_x=0.0, n=20, size=96):
    rng = np.random.default_rng(0)
    big = rng.integers(0, 255, (size + 80, size + 80)).astype(np.float32)
    import cv2

    big = cv2.GaussianBlur(big, (0, 0), 2.0)
    out = []
    for k in range(n):
        m = np.float32([[1, 0, -40 - shift_x * k], [0, 1, -40]])
        f = cv2.warpAffine(big, m, (size, size))
        out.append(np.repeat(f[..., None], 3, -1))
    return np.clip(np.stack(out), 0, 255).astype(np.uint8)


def test_a_panning_camera_is_seen_and_taken_out_a_still_one_is_left_alone():
    still, pan = _textured(0.0), _textured(1.5)
    assert not picture_drifts(still) and picture_drifts(pan)
    steps = frame_homographies(pan)
    assert abs(steps[5][0, 2] - 1.5) < 0.2  # frame k's picture sits 1.5 px right of frame k-1's
    # a point fixed in the scene moves 1.5 px left a frame on screen: its own path stays put
    xy = np.stack([60.0 - 1.5 * np.arange(20), np.full(20, 48.0)], 1)
    assert np.abs(own_path(xy, np.arange(20), steps) - xy[0]).max() < 1.0


def test_a_pan_is_seen_even_where_a_third_of_the_picture_stays_put():
    pan = _textured(1.5).copy()
    still = _textured(0.0)
    pan[:, :, : pan.shape[2] * 2 // 5] = still[:, :, : pan.shape[2] * 2 // 5]  # a fixed overlay over the left two fifths
    assert picture_drifts(pan, percentile=50.0)  # the median corner moves with the camera
    assert not picture_drifts(pan, percentile=25.0)  # the lower quartile sits on the overlay
    assert not picture_drifts(still, percentile=50.0)
