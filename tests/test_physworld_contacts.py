"""PhysWorld's pure parts: contact points -> impacts and spans, loudness, camera projection."""

from __future__ import annotations

import numpy as np

from prismaudio.canvas.physics.camera import CameraPath, look_at, perspective, project
from prismaudio.canvas.physics.contacts import (
    STATIC, PairContact, find_impacts, impact_gain, relative_strengths, sustained_spans,
)

DT = 1.0 / 250


def _resting(start: int, stop: int, a: int = 0, force: float = 1.0) -> list[PairContact]:
    return [PairContact(s, a, STATIC, force, 0.04) for s in range(start, stop)]


def test_resting_contact_makes_no_sound():
    assert find_impacts(_resting(1, 500), DT) == []


def test_each_bounce_is_one_impact_at_its_first_step_with_its_impulse():
    contacts = []
    for start, speed in ((100, 4.0), (300, 2.0), (400, 1.0)):
        contacts += [PairContact(start, 0, STATIC, 500.0, speed), PairContact(start + 1, 0, STATIC, 300.0, speed * 0.2)]
    impacts = find_impacts(contacts, DT)
    assert [i.step for i in impacts] == [100, 300, 400]
    assert [i.visual for i in impacts] == ["drop", "bounce", "bounce"]
    assert np.isclose(impacts[0].impulse, 800.0 * DT)
    assert impacts[0].speed == 4.0


def test_box_that_lands_on_an_edge_then_slaps_flat_makes_two_impacts():
    contacts = [PairContact(100, 0, STATIC, 200.0, 2.0)] + _resting(101, 150) + [PairContact(150, 0, STATIC, 200.0, 1.5)]
    contacts = [c for c in contacts if not (c.step == 150 and c.approach < 1)]
    assert [i.step for i in find_impacts(contacts, DT)] == [100, 150]


def test_a_second_hit_within_the_rearm_time_is_the_same_impact():
    contacts = [PairContact(100, 0, STATIC, 200.0, 2.0), PairContact(101, 0, STATIC, 100.0, 1.0), PairContact(103, 0, STATIC, 10.0, 0.5)]
    assert len(find_impacts(contacts, DT)) == 1


def test_collision_is_the_sound_of_the_faster_body():
    c = PairContact(50, 0, 1, 100.0, 3.0, speed_a=0.0, speed_b=3.0)
    (imp,) = find_impacts([c], DT)
    assert (imp.source, imp.partner, imp.visual) == (1, 0, "collision")


def test_gentle_meeting_is_silent():
    assert find_impacts([PairContact(10, 0, STATIC, 5.0, 0.2)], DT) == []


def test_loudness_grows_with_the_speed_change_and_stays_bounded():
    assert impact_gain(0.1, 0.1) < impact_gain(0.4, 0.1) < impact_gain(0.8, 0.1)
    assert impact_gain(100.0, 0.1) == 1.25 and impact_gain(0.0, 1.0) == 0.04
    assert relative_strengths([2.0, 1.0, 0.5]) == [1.0, 0.5, 0.25]


def test_rolling_and_sliding_spans():
    fps, T = 25.0, 100
    contact, speed = np.ones(T), np.zeros(T)
    speed[10:40] = 1.0   # 1.2 s rolling
    speed[60:64] = 1.0   # 0.16 s: too short
    speed[70:90] = 0.8   # 0.8 s sliding
    ratio = np.where(np.arange(T) < 50, 1.0, 0.1)
    spans = sustained_spans(0, contact, speed, ratio, fps)
    assert [(s.kind, s.start_frame, s.end_frame) for s in spans] == [("roll", 10, 39), ("slide", 70, 89)]
    assert sustained_spans(0, np.zeros(T), speed, ratio, fps) == []  # flying, not touching


def test_projection_puts_the_target_at_the_centre_and_the_left_on_the_left():
    cam = CameraPath(((0, 0, 0.2), (0, 0, 0.2)), (0.0, 0.0), (20.0, 20.0), (2.0, 2.0), 50.0)
    eye, target = cam.pose(0.0)
    view, proj = look_at(eye, target), perspective(cam.fov, 1.0)
    x, y, front = project(np.array([target, [-0.5, 0, 0.2], [0.5, 0, 0.2], [0, 0, 1.0]]), view, proj)
    assert np.allclose([x[0], y[0]], 0.0, atol=1e-9) and front.all()
    assert x[1] < -0.2 and x[2] > 0.2 and y[3] < -0.2  # left, right, higher is up (negative y)
    _, _, front = project(eye + (eye - target), view, proj)
    assert not front[0]  # behind the camera


def test_a_touching_object_that_rises_or_sinks_is_not_rolling():
    contact, speed, ratio = np.ones(50), np.full(50, 0.5), np.ones(50)
    assert len(sustained_spans(0, contact, speed, ratio, 25.0)) == 1
    assert sustained_spans(0, contact, speed, ratio, 25.0, vertical=np.full(50, -0.4)) == []
