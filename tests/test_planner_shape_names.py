"""Objects named by what a viewer would call them: shape and bounce, the object-kind probe, balls and toys."""

import numpy as np

from prismaudio.planner.identify.naming import Naming, NamingConfig, imagenet_labels
from prismaudio.planner.identify.object_kinds import KindProbe, load_probe, nearest_similarity
from prismaudio.planner.identify.object_names import ObjectNameConfig, ball_label, named_by_itself, toy_label
from prismaudio.planner.identify.shape_motion import BounceStats, ShapeMotionConfig, ShapeStats, bounce_stats, shape_name, shape_stats
from prismaudio.planner.tracks import Track

UNSURE = Naming("whistling", "a whistle", "impact", 0.3, False, ("whistle",))


def probs_of(**mass) -> np.ndarray:
    labels = imagenet_labels()
    rest = 1 - sum(mass.values())
    p = np.full(1000, rest / (1000 - len(mass)))
    for label, m in mass.items():
        p[labels.index(label.replace("_", " "))] = m
    return p


def bouncing_path(fps=25.0, restitution=0.8, drops=3.0):
    """y (frame heights, down +) of a ball dropped from the top onto a floor at y=0.9."""
    g, y, v, t, ys = 4.0, 0.3, 0.0, 0.0, []
    while t < drops:
        ys.append(y)
        v += g / fps
        y += v / fps
        if y >= 0.9:
            y, v = 0.9, -restitution * v
        t += 1 / fps
    return np.arange(len(ys)) / fps, np.asarray(ys)


def test_bounces_and_restitution_are_read_off_the_path():
    t, y = bouncing_path(restitution=0.8)
    lively = bounce_stats(t, y, np.ones(len(t), bool), 0.15)
    assert lively.bounces >= 3 and 0.6 <= lively.restitution <= 1.0
    t, y = bouncing_path(restitution=0.0)
    dead = bounce_stats(t, y, np.ones(len(t), bool), 0.15)
    assert dead.bounces == 0  # a block dropped stays down
    assert bounce_stats(t[:3], y[:3], np.ones(3, bool), 0.15).bounces == 0  # too short to tell


def test_shape_is_read_off_the_tracks_boxes_and_areas():
    n = 10
    boxes = [(100, 100, 140, 140)] * n  # 40 x 40 px box
    disc = Track(1, np.arange(n), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n), np.full(n, np.pi / 4 * 1600 / 256 ** 2),
                 np.zeros(n), np.ones(n, bool), boxes)
    s = shape_stats(disc, 256, 256)
    assert abs(s.fill - np.pi / 4) < 0.01 and s.aspect == 1.0 and s.spread == 0.0 and s.side == 40
    edge = Track(2, np.arange(n), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n), np.full(n, 0.01), np.zeros(n),
                 np.ones(n, bool), [(0, 0, 40, 40)] * n)
    assert shape_stats(edge, 256, 256) is None  # never seen whole: no shape


def test_a_round_lively_thing_is_a_ball_and_a_dead_turning_box_a_block():
    cfg = ShapeMotionConfig()
    ball = shape_name(ShapeStats(0.78, 1.02, 0.03, 30, 50), BounceStats(3, 0.75), cfg)
    assert ball.label == "ball" and ball.confidence > 0.5
    block = shape_name(ShapeStats(0.85, 1.6, 0.2, 30, 50), BounceStats(0, 0.0), cfg)
    assert block.label == "block" and "wood block" in block.description
    assert shape_name(ShapeStats(0.5, 1.05, 0.05, 30, 50), BounceStats(0, 0.0), cfg) is None  # round, never bounces: unsure
    assert shape_name(ShapeStats(0.78, 1.0, 0.03, 4, 50), BounceStats(3, 0.8), cfg) is None  # a few pixels: nothing
    assert shape_name(None, BounceStats(3, 0.8), cfg) is None


def test_imagenets_balls_together_name_a_round_object_and_toys_name_animals_that_fall():
    cfg = ObjectNameConfig()
    split = probs_of(soccer_ball=0.2, croquet_ball=0.2)
    label, mass = ball_label(split, None, cfg)
    assert label == "ball" and abs(mass - 0.4) < 0.01  # no single ball is sure, together they are
    assert ball_label(probs_of(soccer_ball=0.45), None, cfg)[0] == "soccer ball"
    assert ball_label(split, ShapeStats(0.6, 2.0, 0.1, 30, 20), cfg) is None  # an elongated thing is no ball
    bear = probs_of(brown_bear=0.5)
    assert toy_label(bear, BounceStats(0, 0.0), ["bounce", "stop"], cfg)[0] == "teddy bear"
    assert toy_label(bear, BounceStats(0, 0.0), ["moving"], cfg) is None  # a bear that walks is a bear
    assert toy_label(probs_of(brown_bear=0.95), BounceStats(2, 0.5), ["bounce"], cfg) is None  # surely a real one
    assert toy_label(probs_of(soccer_ball=0.5), BounceStats(2, 0.5), ["bounce"], cfg) is None


def probe_of(classes, centres):
    """A probe whose classes are the nearest of `centres` (unit features), sure of it."""
    c = np.asarray(centres, float)
    return KindProbe(list(classes), [f"a {k}" for k in classes], np.zeros(c.shape[1]), np.ones(c.shape[1]), 20 * c,
                     np.zeros(len(classes)), c / np.linalg.norm(c, axis=1, keepdims=True), 0.8, 0.6)


def test_the_kind_probe_names_known_looks_and_leaves_new_ones_alone():
    probe = probe_of(["ball", "block"], [[1, 0, 0], [0, 1, 0]])
    k = probe.kind(np.array([[0.9, 0.1, 0.0], [1.0, 0.05, 0.0]]))
    assert k.label == "ball" and k.probability > 0.9 and k.similarity > 0.9
    assert probe.kind(np.array([[0.0, 0.0, 1.0]])) is None  # like nothing it was trained on
    assert probe.kind(np.zeros((0, 3))) is None
    assert abs(nearest_similarity(np.array([2.0, 0, 0]), probe.known) - 1.0) < 1e-9


def test_the_probe_overrules_a_sure_wrong_imagenet_label_but_keeps_a_specific_one():
    from prismaudio.planner.identify.object_kinds import ObjectKind

    block = ObjectKind("block", "a hard block like a wood block", 0.9, 0.8)
    brick, dead = ShapeStats(0.85, 1.5, 0.1, 24, 40), BounceStats(0, 0.0)
    named = named_by_itself(UNSURE, probs_of(plectrum=0.9), ["hit", "stop"], NamingConfig(), brick, dead, kind=block)
    assert named.label == "block" and named.confidence == 0.9
    # never seen whole (no shape): the probe is not believed; ImageNet near certain: it names the object
    assert named_by_itself(UNSURE, probs_of(plectrum=0.9), ["hit"], NamingConfig(), None, dead, kind=block).label == "plectrum"
    assert named_by_itself(UNSURE, probs_of(switch=0.99), ["hit"], NamingConfig(), brick, dead, kind=block).label == "switch"
    ball, disc = ObjectKind("ball", "a ball", 0.8, 0.8), ShapeStats(0.78, 1.0, 0.03, 30, 40)
    assert named_by_itself(UNSURE, probs_of(soccer_ball=0.9), ["bounce"], NamingConfig(), disc, kind=ball).label == "soccer ball"
    assert named_by_itself(UNSURE, probs_of(soccer_ball=0.3, croquet_ball=0.1), ["bounce"], NamingConfig(), disc,
                           kind=ball).label == "soccer ball"
    # a "ball" whose box is tall and thin (a far-off walker) is no ball
    tall = ShapeStats(0.7, 2.5, 0.3, 16, 200)
    assert named_by_itself(UNSURE, probs_of(ski=0.2), ["bounce"], NamingConfig(), tall, dead, kind=ball).label != "ball"
    swinging = ShapeStats(0.7, 1.8, 0.4, 16, 200)  # a walker's box swings with the gait
    assert named_by_itself(UNSURE, probs_of(ski=0.2), ["bounce"], NamingConfig(), swinging, dead, kind=ball).label != "ball"
    # a sustained class it is surer is wrong is renamed too (the events stay the source's)
    whistle = Naming("whistling", "a whistle", "sustained", 0.5, False, ("whistle",))
    assert named_by_itself(whistle, probs_of(whistle=0.5), ["on screen"], NamingConfig(), brick, dead, kind=block).label == "block"
    engine = Naming("car passing", "a car engine", "sustained", 0.95)
    assert named_by_itself(engine, probs_of(sports_car=0.95), ["on screen"], NamingConfig(), brick, dead, kind=block) is engine
    # no kind: ImageNet's sure label, as before
    assert named_by_itself(UNSURE, probs_of(coffee_mug=0.9), ["hit"], NamingConfig()).label == "coffee mug"
    # a walker, an engine: never renamed
    walker = Naming("footsteps", "a person walking", "impact", 0.8, person=True)
    assert named_by_itself(walker, probs_of(jeans=0.5), ["step"], NamingConfig(), kind=block) is walker


def test_shape_and_motion_name_what_imagenet_cannot_and_unknown_stays_honest():
    cfg = NamingConfig()
    flat = np.full(1000, 1e-3)
    unknown = Naming("unknown object", "an object", None, 0.0)
    ball = named_by_itself(unknown, flat, ["bounce", "bounce"], cfg, ShapeStats(0.78, 1.0, 0.03, 30, 40), BounceStats(3, 0.8))
    assert ball.label == "ball" and ball.kind is None
    assert named_by_itself(unknown, flat, ["bounce"], cfg, None, None) is unknown  # nothing supports a name


def test_installed_probe_loads_with_its_kinds():
    probe = load_probe()
    assert probe is not None and {"ball", "block"} <= set(probe.classes)
    assert probe.weights.shape == (len(probe.classes), probe.mean.shape[0]) and 0 < probe.min_similarity < 1


def test_a_kind_on_an_object_too_small_to_see_is_not_believed():
    from prismaudio.planner.identify.object_kinds import ObjectKind

    block, dead = ObjectKind("block", "a hard block like a wood block", 0.9, 0.8), BounceStats(0, 0.0)
    unknown = Naming("unknown object", "an object", None, 0.0)
    far = ShapeStats(0.68, 1.8, 0.1, 10, 200)  # a far-off walker, 10 px wide: upscaled noise to the probe
    assert named_by_itself(unknown, np.full(1000, 1e-3), ["moving"], NamingConfig(), far, dead, kind=block) is unknown
    near = ShapeStats(0.68, 1.8, 0.1, 24, 200)
    assert named_by_itself(unknown, np.full(1000, 1e-3), ["moving"], NamingConfig(), near, dead, kind=block).label == "block"


def test_the_open_set_threshold_balances_unseen_objects_of_known_kinds_against_new_kinds():
    from prismaudio.planner_training.object_kinds import balanced_threshold

    unseen = np.array([0.6, 0.65, 0.7, 0.75, 0.5])  # a new ball among known balls: should pass
    novel = np.array([0.4, 0.45, 0.55, 0.52, 0.62])  # a kind never trained on: should not
    t, accepted, rejected = balanced_threshold(unseen, novel)
    assert 0.55 < t <= 0.65 and (accepted + rejected) / 2 == 0.8  # 0.6 and 0.65 balance alike
    assert balanced_threshold(np.array([0.9]), np.array([0.1]))[1:] == (1.0, 1.0)  # apart: both right
    assert balanced_threshold(np.array([]), novel) == (-1.0, 1.0, 0.0)  # nothing to set it on: accept all


def test_leave_one_kind_out_makes_a_kind_novel_and_leave_one_object_out_keeps_it_known():
    from prismaudio.planner_training.object_kinds import balanced_threshold, leave_out_similarities

    rng = np.random.default_rng(0)
    centre = {"soccer": [1, 0.3, 0, 0], "croquet": [1, -0.3, 0, 0], "cube": [0, 0, 1, 0.3], "jenga": [0, 0, 1, -0.3]}
    kind = {"soccer": "ball", "croquet": "ball", "cube": "block", "jenga": "block"}
    examples = [(f"c{i}", kind[o], np.asarray(centre[o]) + 0.05 * rng.standard_normal((3, 4)), o)
                for i in range(10) for o in centre]
    unseen, novel = leave_out_similarities(examples, folds=5)
    assert len(unseen) == len(novel) == 40
    # a croquet ball is still like the soccer balls; a ball is unlike every block
    assert np.median(unseen) > 0.85 and np.median(novel) < 0.2
    t, accepted, rejected = balanced_threshold(unseen, novel)
    assert accepted == 1.0 and rejected == 1.0


def test_a_kind_carries_what_such_answers_were_worth_on_objects_the_probe_never_saw():
    from prismaudio.planner.identify.object_kinds import ObjectKind, calibrated
    from prismaudio.planner_training.object_kinds import confidence_calibration

    rng = np.random.default_rng(1)
    sim = rng.uniform(0.5, 0.9, 400)
    prob = rng.uniform(0.6, 1.0, 400)
    right = rng.uniform(size=400) < (sim - 0.5) / 0.4  # right more often the more alike the object
    cal = confidence_calibration(np.stack([sim, prob, right.astype(float)], 1), 0.55)
    assert cal[0] > 5 and abs(cal[1]) < cal[0]  # similarity, not the probe's sureness, says it
    assert calibrated(0.85, 0.99, cal) > 0.75 > 0.35 > calibrated(0.57, 0.99, cal)
    assert confidence_calibration(np.zeros((3, 3)), 0.5) == [0.0, 1.0, 0.0]  # too few answers: none
    # the plan's confidence is the calibrated one; without a calibration, the probe's probability
    assert ObjectKind("ball", "a ball", 0.97, 0.6, 0.41).sure == 0.41 and ObjectKind("ball", "a ball", 0.97, 0.6).sure == 0.97
    probe = probe_of(["ball", "block"], [[1, 0, 0], [0, 1, 0]])
    probe.calibration = (10.0, 0.0, -9.0)
    k = probe.kind(np.array([[1.0, 0.0, 0.0]]))
    assert k.probability > 0.99 and abs(k.confidence - calibrated(1.0, k.probability, probe.calibration)) < 1e-3


def test_installed_probe_is_calibrated_below_its_own_sureness():
    from prismaudio.planner.identify.object_kinds import calibrated

    probe = load_probe()
    assert len(probe.calibration) == 3
    assert calibrated(probe.min_similarity, 0.99, probe.calibration) < 0.8  # near the threshold: far from sure


def test_kind_probe_folds_keep_a_clip_together_and_means_are_unit_length():
    from prismaudio.planner_training.object_kinds import clip_folds, unit_means

    examples = [(f"c{i // 2}", "ball", np.full((2, 3), float(i + 1)), f"o{i}") for i in range(10)]  # 5 clips, 2 objects each
    folds = clip_folds(examples, 3)
    assert len(folds) == 3
    for train, held in folds:
        assert len(train) + len(held) == 10
        assert not {e[0] for e in train} & {e[0] for e in held}  # a clip's objects never on both sides
    assert sorted(o for _, held in folds for *_, o in held) == sorted(e[3] for e in examples)  # each held out once
    assert np.allclose(np.linalg.norm(unit_means(examples), axis=1), 1.0)
