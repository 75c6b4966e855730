"""People seen by their faces (planner/identify/people.py): a talking, swaying person is no
source of knocks; a walking one is heard by their steps."""

from dataclasses import replace

import numpy as np
import pytest

from prismaudio.planner.identify.people import (
    PeopleConfig,
    body_region,
    cascade,
    detect_faces,
    living_faces,
    person_tracks,
    search_frames,
    search_window,
    travels,
)
from prismaudio.planner.tracks import Track

needs_cascade = pytest.mark.skipif(cascade() is None, reason="this OpenCV ships no Haar cascades")


def track(tid, boxes, frames=None, observed=None):
    """A track with these (top, left, bottom, right) boxes in a 224 x 168 frame."""
    b = np.asarray(boxes, float)
    n = len(b)
    frames = np.arange(n) if frames is None else np.asarray(frames)
    y, x = (b[:, 0] + b[:, 2]) / 2 / 168, (b[:, 1] + b[:, 3]) / 2 / 224
    h, w = (b[:, 2] - b[:, 0]) / 168, (b[:, 3] - b[:, 1]) / 224
    return Track(tid, frames, x, y, w, h, w * h, np.full(n, 100.0),
                 np.ones(n, bool) if observed is None else np.asarray(observed), [tuple(map(int, r)) for r in b])


def test_a_body_hangs_below_its_face_and_reaches_beside_it():
    top, left, bottom, right = body_region(np.array([100, 50, 20, 20]), PeopleConfig())
    assert (top, left, bottom, right) == (30.0, 70.0, 190.0, 150.0)


def test_tracks_under_a_face_are_parts_of_its_person_and_a_track_far_from_it_is_not():
    faces = {k: np.array([[100.0, 30.0, 24.0, 24.0]]) for k in (0, 10, 20, 30)}
    torso = track(1, [(60, 95, 120, 130)] * 40)  # under the face
    hand = track(2, [(90, 70, 100, 80)] * 40)  # beside and below it
    ball = track(3, [(120, 190, 130, 200)] * 40)  # far to the right
    once = track(4, [(60, 95, 120, 130)] * 5 + [(120, 190, 130, 200)] * 35)  # near the face in one searched frame only
    found = person_tracks([torso, hand, ball, once], faces, PeopleConfig())
    assert set(found) == {1, 2} and found[1].share == 1.0
    assert not found[1].walks and not found[2].walks  # the face stays where it is


def test_a_person_walks_when_their_face_crosses_the_picture():
    faces = {k: np.array([[20.0 + 4 * k, 30.0, 24.0, 24.0]]) for k in (0, 10, 20, 30)}  # 120 px: five face heights
    body = track(1, [(60, 15 + 4 * k, 120, 50 + 4 * k) for k in range(40)])
    assert person_tracks([body], faces, PeopleConfig())[1].walks


def test_frames_where_no_face_was_found_are_no_evidence_either_way():
    faces = {0: np.array([[100.0, 30.0, 24.0, 24.0]]), 10: np.array([[100.0, 30.0, 24.0, 24.0]])}
    torso = track(1, [(60, 95, 120, 130)] * 40)  # (frames 20 and 30: the head turned away)
    assert person_tracks([torso], faces, PeopleConfig())[1].share == 1.0


def test_a_face_that_never_moves_is_a_picture_of_one():
    printed = {k: np.array([[40.0, 40.0, 30.0, 30.0]]) for k in (0, 10, 20, 30)}
    living = {k: np.array([[40.0 + (k % 20) / 2, 40.0, 30.0, 30.0]]) for k in (0, 10, 20, 30)}  # a head nodding 5 px
    cfg = PeopleConfig()
    assert living_faces(printed, cfg) == {}
    assert set(living_faces(living, cfg)) == {0, 10, 20, 30}
    both = {k: np.concatenate([printed[k], [[150.0, 20.0, 30.0 + k / 5, 30.0 + k / 5]]]) for k in printed}
    kept = living_faces(both, cfg)
    assert all(len(v) == 1 and v[0][0] == 150.0 for v in kept.values())


def test_a_face_that_only_moves_as_the_camera_carries_it_is_a_picture_of_one():
    steps = np.tile(np.eye(3), (40, 1, 1))
    steps[:, 0, 2] = 0.5  # each frame's pixels sit half a pixel right in the frame before: the picture drifts left
    cfg = PeopleConfig()
    on_the_floor = {k: np.array([[100.0 - 0.5 * k, 40.0, 30.0, 30.0]]) for k in (0, 10, 20, 30)}
    assert living_faces(on_the_floor, cfg, steps) == {}
    walking_against_it = {k: np.array([[100.0 + 0.5 * k, 40.0, 30.0, 30.0]]) for k in (0, 10, 20, 30)}
    assert set(living_faces(walking_against_it, cfg, steps)) == {0, 10, 20, 30}
    assert set(living_faces(on_the_floor, cfg)) == {0, 10, 20, 30}  # (a still camera: it moves)


def test_a_walker_travels_and_a_swaying_head_does_not():
    n = 50
    heights = np.full(n, 0.3)
    walk = np.stack([np.linspace(0.2, 1.2, n), np.full(n, 0.5)], 1)
    sway = np.stack([0.6 + 0.05 * np.sin(np.arange(n) / 2.0), 0.5 + 0.02 * np.cos(np.arange(n) / 3.0)], 1)
    seen = np.ones(n, bool)
    assert travels(walk, heights, seen, 1.0)
    assert not travels(sway, heights, seen, 1.0)
    assert not travels(walk[:3], heights[:3], seen[:3], 1.0)  # too few frames to tell


def test_faces_are_searched_a_few_times_a_second_and_only_near_moving_things():
    assert list(search_frames(30, 25.0, 0.4)) == [0, 10, 20]
    cfg = PeopleConfig()
    assert search_window([], 168, 224, cfg) is None
    assert search_window([(80, 100, 86, 106)], 168, 224, cfg) is None  # a 6 px speck: no face fits near it
    top, left, bottom, right = search_window([(80, 100, 120, 130)], 168, 224, cfg)
    assert top == 20 and bottom == 140 and left == 60 and right == 170


def swaying_person(frames: int = 100) -> np.ndarray:
    """A real photo of a person (scikit-image's astronaut, head and shoulders) in front of a
    brick wall, swaying and bobbing as someone talking does, filmed by a still camera."""
    import cv2
    from skimage import data

    person = cv2.resize(data.astronaut()[20:400, 60:400], (84, 96), interpolation=cv2.INTER_AREA)
    wall = cv2.resize(np.stack([data.brick()] * 3, -1), (224, 168))
    out = []
    for k in range(frames):
        t = k / 25.0
        s = np.sin(2 * np.pi * t / 1.1)
        dx, dy = int(round(10 * np.sign(s) * min(1.0, 3 * abs(s)))), int(round(4 * np.sin(2 * np.pi * t / 0.7)))
        f = wall.copy()
        f[50 + dy : 146 + dy, 70 + dx : 154 + dx] = person
        out.append(f)
    return np.stack(out)


@needs_cascade
def test_the_face_of_a_real_photo_is_found_and_its_torso_track_is_a_person():
    frames = swaying_person(30)
    torso = track(1, [(100, 75, 146, 150)] * 30)
    faces = detect_faces(frames, [torso], 25.0, replace(PeopleConfig(), every_seconds=0.2))
    assert faces, "no face found on the astronaut photo"
    assert all(75 <= f[0] <= 150 and 50 <= f[1] <= 110 for v in faces.values() for f in v)
    assert 1 in person_tracks([torso], faces, PeopleConfig())


@needs_cascade
def test_a_talking_swaying_person_gets_no_invented_knocks():
    from prismaudio.planner.config import PlannerConfig
    from prismaudio.planner.passes import run
    from prismaudio.planner.scene import Scene

    frames = swaying_person()
    cfg = PlannerConfig()
    off = replace(cfg, open_world=replace(cfg.open_world, people=replace(cfg.open_world.people, enabled=False)))
    blind = run(Scene(frames, 25.0, 4.0, off))
    middle = {t.id for t in blind.analysis.tracks if 0.35 <= float(np.median(t.x)) <= 0.6}  # where the photo's person is
    assert any(set(s.tracks) & middle for s in blind.open_sources), \
        "without faces the swaying person is planned as an object (the failure this guards against)"
    seen = run(Scene(frames, 25.0, 4.0, cfg))
    assert any(p.by == "face" for p in seen.people.parts.values()), "the person's tracks are found by the face"
    assert not any(set(s.tracks) & set(seen.people.parts) for s in seen.open_sources)
    assert any("people who do not walk" in n for n in seen.plan.notes)


def pedestrian(height: int, stride: float) -> np.ndarray:
    """A dark pedestrian's silhouette `height` px tall (head, torso, arms, legs apart by
    `stride` head heights) on a light ground, [1.4 h, 0.9 h, 3]."""
    import cv2

    h, w = int(height * 1.4), int(height * 0.9)
    img = np.full((h, w, 3), 200, np.uint8)
    cx, top, u, ink = w // 2, int(0.2 * height), height / 8.0, (40, 40, 40)
    cv2.ellipse(img, (cx, int(top + 0.5 * u)), (int(0.38 * u), int(0.5 * u)), 0, 0, 360, ink, -1)
    cv2.rectangle(img, (cx - int(0.2 * u), int(top + 0.9 * u)), (cx + int(0.2 * u), int(top + 1.2 * u)), ink, -1)
    cv2.fillPoly(img, [np.array([[cx - 0.85 * u, top + 1.2 * u], [cx + 0.85 * u, top + 1.2 * u],
                                 [cx + 0.7 * u, top + 4.1 * u], [cx - 0.7 * u, top + 4.1 * u]], np.int32)], ink)
    for side in (-1, 1):
        cv2.fillPoly(img, [np.array([[cx + side * 0.75 * u, top + 1.3 * u], [cx + side * 1.05 * u, top + 1.4 * u],
                                     [cx + side * 1.1 * u, top + 4.0 * u], [cx + side * 0.8 * u, top + 4.0 * u]], np.int32)], ink)
        foot = cx + side * (0.3 * u + stride * u)
        cv2.fillPoly(img, [np.array([[cx + side * 0.05 * u, top + 4.0 * u], [cx + side * 0.7 * u, top + 4.0 * u],
                                     [foot + side * 0.35 * u, top + 8 * u], [foot - side * 0.05 * u, top + 8 * u]], np.int32)], ink)
    return cv2.GaussianBlur(img, (3, 3), 0)


def test_the_people_detector_sees_a_pedestrian_and_not_a_post_of_the_same_size():
    from prismaudio.planner.identify.silhouettes import SilhouetteConfig, silhouette_shares

    frames = np.full((12, 168, 224, 3), 200, np.uint8)
    walker_boxes, post_boxes = [], []
    for k in range(12):
        person = pedestrian(40, 0.8 * abs(np.sin(k / 2.0)))  # 40 px tall: a pedestrian at 224 px
        x = 20 + 3 * k
        frames[k, 50 : 50 + person.shape[0], x : x + person.shape[1]] = person
        walker_boxes.append((58, x + 10, 90, x + 26))  # (its body: top, left, bottom, right)
        frames[k, 58:98, 150:158] = 40  # a post, as tall as the walker
        post_boxes.append((58, 150, 98, 158))
        frames[k, 100:156, 170:206] = pedestrian(40, 0.4)  # a figure standing rigid, the same in every frame
    figure = [(108, 180, 140, 196)] * 12
    shares = silhouette_shares(frames, [track(1, walker_boxes), track(2, post_boxes), track(3, [(60, 100, 66, 106)] * 12),
                                        track(4, figure)], SilhouetteConfig())
    assert shares[1] >= 0.5, shares
    assert shares[2] == 0.0, shares
    assert 3 not in shares  # a 6 px speck is not searched
    assert 4 not in shares  # a silhouette that never changes (a domino standing upright) says nothing either way


def test_a_tall_walking_shape_the_people_detector_never_saw_as_a_person_is_no_walker():
    from prismaudio.planner.identify.naming import NamingConfig, name_object

    unsure = np.full(1000, 1.0 / 1000)  # ImageNet sure of nothing: a far-off walker, or a bollard sliding by parallax
    assert name_object(unsure, 2.5, NamingConfig(), walks=True).person
    assert not name_object(unsure, 2.5, NamingConfig(), walks=True, may_be_person=False).person
