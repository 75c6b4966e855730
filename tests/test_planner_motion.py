"""Events from motion (planner/events/motion.py), footsteps from gait (gait.py): pure functions on trajectories."""

import numpy as np
from scipy.stats import spearmanr

from prismaudio.planner.events.gait import step_times
from prismaudio.planner.events.motion import (
    MotionConfig,
    classify_contact,
    normalised_strengths,
    source_kind,
    track_activities,
    track_contacts,
)

FPS = 25.0


def bouncing(duration=4.0, floor=0.8, g=3.0, e=0.7, y0=0.1, vx=0.05, dt=1e-4):
    """Positions (frame heights) of a ball dropped onto a floor, sampled at FPS, and its true
    contacts (time, impact speed)."""
    x, y, vy, t = 0.3, y0, 0.0, 0.0
    frames, contacts, nxt = [], [], 0.0
    while len(frames) < int(duration * FPS):
        if t >= nxt - 1e-12:
            frames.append((x, y))
            nxt = len(frames) / FPS
        vy += g * dt
        y += vy * dt
        x += vx * dt
        if y >= floor and vy > 0:
            y = floor
            if vy > 0.3:  # the last, slowest landing is a contact too (it stops the ball)
                contacts.append((t, vy))
            vy = -e * vy if vy > 0.4 else 0.0
        t += dt
    return np.array(frames), contacts


def test_bounces_are_found_within_a_frame_with_strengths_ranked_like_impact_speed():
    pos, truth = bouncing()
    t = np.arange(len(pos)) / FPS
    found = track_contacts(0, t, pos, np.ones(len(pos), bool), FPS)
    times = [c.time for c in found]
    hits = [min(abs(ft - tt) for ft in times) for tt, _ in truth]
    assert len(found) == len(truth)
    assert max(hits) < 0.02  # sub-frame: well within the 40 ms the benchmark allows
    assert [c.kind for c in found] == ["bounce"] * (len(truth) - 1) + ["stop"]  # the last landing stops it
    rho = spearmanr([c.strength for c in found], [s for _, s in truth]).correlation
    assert rho > 0.9


def test_a_sliding_block_that_stops_is_a_stop_and_touching_another_is_a_collision():
    x = np.r_[np.linspace(0.1, 0.6, 30), np.full(20, 0.6)]
    pos = np.stack([x, np.full_like(x, 0.5)], 1)
    t = np.arange(len(x)) / FPS
    found = track_contacts(0, t, pos, np.ones(len(x), bool), FPS)
    assert [c.kind for c in found] == ["stop"]
    assert abs(found[0].time - t[29]) <= 1 / FPS
    touching = np.zeros(len(x), bool)
    touching[27:33] = True
    assert [c.kind for c in track_contacts(0, t, pos, np.ones(len(x), bool), FPS, touching)] == ["collision"]


def test_jitter_is_not_contacts():
    rng = np.random.default_rng(0)
    pos = 0.5 + rng.normal(0, 0.004, (100, 2))
    t = np.arange(100) / FPS
    assert track_contacts(0, t, pos, np.ones(100, bool), FPS) == []


def test_smooth_free_flight_has_no_contact():
    t = np.arange(40) / FPS
    pos = np.stack([0.1 + 0.2 * t, 0.1 + 0.5 * t + 1.5 * t ** 2], 1)  # a throw under gravity
    assert track_contacts(0, t, pos, np.ones(40, bool), FPS) == []


def test_a_launch_from_rest_is_no_contact_of_its_own():
    t = np.arange(50) / FPS
    x = np.where(t < 1.0, 0.2, 0.2 + 0.8 * (t - 1.0))  # at rest, then suddenly sliding: pushed by something unseen
    pos = np.stack([x, np.full_like(x, 0.6)], 1)
    assert track_contacts(0, t, pos, np.ones(50, bool), FPS) == []
    touching = np.zeros(50, bool)
    touching[23:28] = True  # ... a track seen touching it there: the striker's contact is the collision's sound
    assert track_contacts(0, t, pos, np.ones(50, bool), FPS, touching) == []
    # (with struck_from_rest, the struck object sounds too)
    cfg = MotionConfig(struck_from_rest=True)
    assert [c.kind for c in track_contacts(0, t, pos, np.ones(50, bool), FPS, touching, cfg)] == ["collision"]


def test_quick_successive_bounces_are_each_found():
    # a block landing on one edge then slapping flat 0.12 s later: two sounds, 3 frames apart
    t = np.arange(60) / FPS
    y = np.where(t < 1.0, 0.2 + 2.0 * t ** 2 * 0.5, 0.0)
    y = np.where(t >= 1.0, 1.2 - 0.6 * (t - 1.0) + 2.0 * (t - 1.0) ** 2, y)  # bounced up
    land = 1.0 + 0.3
    y = np.where(t >= land, y[np.searchsorted(t, land)], y)
    pos = np.stack([np.full_like(t, 0.4), y], 1)
    found = track_contacts(0, t, pos, np.ones(60, bool), FPS)
    assert len(found) == 2
    assert abs(found[0].time - 1.0) < 0.03 and abs(found[1].time - land) < 0.04


def test_resampled_frames_keep_their_own_times():
    from prismaudio.planner.events.motion import shown_times

    t = shown_times(50, 25.0, 24.0)  # 24 fps shown at 25: one frame a second is shown twice
    assert len(np.unique(t)) == 48 and np.all(np.diff(t) >= 0)
    assert np.allclose(shown_times(5, 25.0), np.arange(5) / 25.0)
    t30 = shown_times(25, 25.0, 30.0)  # 30 fps at 25: one frame in six is skipped
    assert np.allclose(np.diff(t30)[:5], [1 / 30, 1 / 30, 1 / 30, 1 / 30, 2 / 30])


def test_a_frame_shown_twice_is_not_a_stop():
    from prismaudio.planner.events.motion import shown_times

    t = shown_times(100, 25.0, 24.0)
    pos = np.stack([0.1 + 0.5 * t, 0.1 + 0.3 * t + 1.0 * t ** 2], 1)  # smooth flight, sampled at the shown times
    assert track_contacts(0, t, pos, np.ones(100, bool), FPS) == []


def test_classify_contact():
    assert classify_contact(np.array([0.0, 1.0]), np.array([0.0, -0.7]), False, 0.3) == "bounce"
    assert classify_contact(np.array([1.0, 0.0]), np.array([0.05, 0.0]), False, 0.3) == "stop"
    assert classify_contact(np.array([1.0, 0.0]), np.array([0.5, 0.8]), False, 0.3) == "hit"
    assert classify_contact(np.array([1.0, 0.0]), np.array([0.0, 0.0]), True, 0.3) == "collision"


def test_continuous_motion_is_a_sustained_activity():
    t = np.arange(100) / FPS
    rolling = np.stack([0.1 + 0.2 * t, np.full_like(t, 0.7)], 1)
    acts = track_activities(0, t, rolling, FPS)
    assert len(acts) == 1 and acts[0].kind == "rolling or sliding"
    assert acts[0].end - acts[0].start > 3.5
    shaking = np.stack([0.5 + 0.03 * np.sin(2 * np.pi * 3 * t), np.full_like(t, 0.5)], 1)
    assert [a.kind for a in track_activities(0, t, shaking, FPS)] == ["shaking"]
    still = np.full((100, 2), 0.5)
    assert track_activities(0, t, still, FPS) == []


def test_a_short_push_across_the_floor_is_an_activity_but_a_short_twitch_is_not():
    t = np.arange(100) / FPS
    # pushed: half a frame height in 0.4 s, then at rest (shorter than sustain_seconds)
    pushed = np.stack([0.2 + 0.5 * np.clip((t - 2.0) / 0.4, 0, 1), np.full_like(t, 0.7)], 1)
    acts = track_activities(0, t, pushed, FPS)
    assert len(acts) == 1 and acts[0].kind == "rolling or sliding" and 1.8 < acts[0].start < 2.4
    # moving for 0.3 s as well, but only a few pixels far: a nudge or jitter, not a slide
    twitch = np.stack([0.2 + 0.05 * np.clip((t - 2.0) / 0.3, 0, 1), np.full_like(t, 0.7)], 1)
    assert track_activities(0, t, twitch, FPS) == []
    # a track that bridges a gap between two blobs half a frame apart has not seen anything slide
    gap = np.ones(len(t), bool)
    gap[48:60] = False
    assert track_activities(0, t, pushed, FPS, seen=gap) == []


def test_a_long_bridge_between_two_blobs_is_no_continuous_motion():
    """A track that loses its blob and takes up another far away is carried across the gap by
    interpolation: 0.8 s of fast "motion" nobody saw (a pan over a checkered floor). Seen, the
    same path is continuous motion; bridged for most of its frames, it is none."""
    t = np.arange(200) / FPS
    carried = np.stack([0.1 + 0.4 * np.clip((t - 5.0) / 0.8, 0, 1), 0.4 + 0.5 * np.clip((t - 5.0) / 0.8, 0, 1)], 1)
    assert len(track_activities(0, t, carried, FPS)) == 1
    bridged = np.ones(len(t), bool)
    bridged[126:144] = False  # the object unseen from 5.04 to 5.76 s
    assert track_activities(0, t, carried, FPS, seen=bridged) == []
    partly = np.ones(len(t), bool)
    partly[130:136] = False  # a short occlusion inside seen motion leaves it motion
    assert len(track_activities(0, t, carried, FPS, seen=partly)) == 1


def test_impact_or_sustained_comes_from_the_motion_with_the_class_as_prior():
    pos, _ = bouncing()
    t = np.arange(len(pos)) / FPS
    contacts = track_contacts(0, t, pos, np.ones(len(pos), bool), FPS)
    # a bouncing ball makes impacts even if its class says sustained
    assert source_kind(contacts, [], 4.0, prior="sustained") == "impact"
    rolling = np.stack([0.1 + 0.2 * t, np.full_like(t, 0.7)], 1)
    assert source_kind([], track_activities(0, t, rolling, FPS), 4.0, prior="impact") == "sustained"
    assert source_kind([], [], 4.0, prior="sustained") == "sustained"
    pushed = np.stack([0.1 + 0.2 * np.clip(t - 1.0, 0, 1.0), np.full_like(t, 0.7)], 1)  # slides for 1 s of 4, hits nothing
    assert source_kind([], track_activities(0, t, pushed, FPS), 4.0, prior="impact") == "sustained"


def test_normalised_strengths():
    assert normalised_strengths([2.0, 1.0, 0.0]) == [1.0, 0.5, 0.05]
    assert normalised_strengths([]) == []
    # a source whose strongest found contact is a gentle one is not at full loudness
    assert normalised_strengths([0.5], full=2.0) == [0.25]
    assert normalised_strengths([4.0, 1.0], full=2.0) == [1.0, 0.25]


def test_footsteps_follow_the_gait():
    t = np.arange(200) / FPS
    width = 10 + 3 * np.maximum(0, np.sin(2 * np.pi * 1.0 * t)) ** 2 + 3 * np.maximum(0, -np.sin(2 * np.pi * 1.0 * t)) ** 2
    height = np.full_like(t, 30.0)
    steps, conf = step_times(t, width, height, np.full_like(t, 0.2), FPS)
    gaps = np.diff(steps)
    assert conf >= 0.25
    assert abs(np.median(gaps) - 0.5) < 0.05  # two steps per stride of 1 s
    assert len(steps) >= 14
    standing, _ = step_times(t, width, height, np.zeros_like(t), FPS)
    assert standing == []


def test_motion_config_loads_from_yaml(tmp_path):
    from prismaudio.config import load_config
    from prismaudio.planner.planner import PlannerConfig

    p = tmp_path / "planner.yaml"
    p.write_text("open_world:\n  motion:\n    min_change: 0.3\ngate:\n  enabled: false\n")
    cfg = load_config(PlannerConfig, p)
    assert cfg.open_world.motion.min_change == 0.3 and cfg.gate.enabled is False
    assert isinstance(cfg.open_world.motion, MotionConfig)


def test_corners_of_one_small_object_do_not_make_a_moving_camera():
    import numpy as np

    from prismaudio.planner.detect.camera import spread_over_picture

    disc = np.array([[40.0, 30.0], [52.0, 30.0], [46.0, 41.0]])  # a 12 px object in a 224 px picture
    scene = np.array([[10.0, 20.0], [200.0, 30.0], [120.0, 180.0]])
    assert not spread_over_picture(disc, (224, 224))
    assert spread_over_picture(scene, (224, 224))
    assert not spread_over_picture(np.zeros((0, 2)), (224, 224))
