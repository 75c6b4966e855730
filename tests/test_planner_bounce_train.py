"""The unseen tail of a bounce train (planner/events/bounce_train.py): pure functions."""

import numpy as np
import pytest

from prismaudio.planner.events.bounce_train import (
    BounceTrainConfig,
    at_rest_from,
    continue_trains,
    final_train,
    restitution,
    tail_times,
)
from prismaudio.planner.events.motion import Contact

ON = BounceTrainConfig(enabled=True)


def train_times(first=1.0, flight=0.5, e=0.7, n=8):
    """Contact times of a ball whose flights shrink by e: first, first + flight, + e flight..."""
    out, t = [first], first
    for _ in range(n - 1):
        t += flight
        out.append(t)
        flight *= e
    return out


def contact(t, kind="bounce", strength=1.0):
    return Contact(0, t, kind, strength, 0.9, speed_before=strength, speed_after=strength, margin=2.0, noise=0.001)


def test_restitution_is_the_ratio_of_successive_flight_times():
    assert restitution(train_times(e=0.7, n=4), ON) == pytest.approx(0.7)
    assert restitution(train_times(e=0.55, n=5), ON) == pytest.approx(0.55)


def test_irregular_or_too_short_runs_have_no_restitution():
    assert restitution([1.0, 1.5], ON) is None  # one flight: no ratio
    assert restitution([1.0, 1.5, 1.6, 2.3], ON) is None  # a tumbling box: 0.2 then 7
    assert restitution([1.0, 1.5, 1.9, 2.0], ON) is None  # 0.8 then 0.25: no steady loss
    assert restitution([1.0, 1.5, 2.0, 2.5], ON) is None  # no loss at all: a rhythm, not a bounce train


def test_the_tail_follows_the_geometric_series_until_hops_are_too_short_to_hear():
    cfg = BounceTrainConfig(enabled=True, min_flight=0.06, max_tail=20)
    tail = tail_times(2.0, 0.2, 0.7, cfg)
    want = [2.0 + 0.2 * sum(0.7 ** (k + 1) for k in range(n + 1)) for n in range(len(tail))]
    assert tail == pytest.approx(want)
    assert 0.2 * 0.7 ** len(tail) >= 0.06 > 0.2 * 0.7 ** (len(tail) + 1)  # the last planned flight is audible, the next is not
    assert tail_times(2.0, 0.2, 0.7, cfg, until=2.2) == pytest.approx([2.14])  # nothing at or after `until`
    assert len(tail_times(2.0, 0.2, 0.7, BounceTrainConfig(min_flight=0.0, max_tail=3))) == 3


def test_the_final_train_stops_at_a_collision_or_an_irregular_contact():
    times = train_times(n=5)
    bounces = [contact(t) for t in times]
    assert [c.time for c in final_train(bounces, ON)] == times
    hit_first = [contact(0.2, "collision"), *bounces]
    assert [c.time for c in final_train(hit_first, ON)] == times
    kicked = [*bounces[:3], contact(times[3], "hit"), bounces[4]]
    assert final_train(kicked, ON) == []  # two bounces after the kick: too few
    assert final_train([*bounces, contact(times[-1] + 0.5, "collision")], ON) == []  # it ends on a collision


def test_at_rest_is_found_where_the_track_stays_within_its_noise():
    t = np.arange(100) / 25.0
    pos = np.zeros((100, 2))
    pos[:50, 1] = np.linspace(0, 1, 50)  # moving until 2 s, then still
    pos[50:, 1] = 1.0
    seen = np.ones(100, bool)
    assert at_rest_from(t, pos, seen, 0.0, 0.001, 0.12) == pytest.approx(t[49])
    assert at_rest_from(t, pos, seen, 0.0, 0.001, 10.0) == np.inf  # the track ends before that long a rest


def test_a_seen_train_is_continued_and_a_ball_lying_still_is_not():
    cfg = BounceTrainConfig(enabled=True, min_flight=0.06)
    times = train_times(e=0.7, n=8)
    seen_part = [contact(t, strength=3.0 * 0.7 ** k) for k, t in enumerate(times[:4])]
    t = np.arange(200) / 25.0
    moving = np.stack([np.linspace(0.2, 0.8, 200), 0.5 + 0.01 * np.sin(40 * t)], 1)  # hopping on: never still
    seen = np.ones(200, bool)
    out = continue_trains(seen_part, t, moving, seen, cfg, end=8.0)
    planned = [c for c in out if c not in seen_part]
    assert planned, "the tail of a steady train is planned"
    assert [c.time for c in planned] == pytest.approx(times[4 : 4 + len(planned)])
    assert all(b.strength < a.strength for a, b in zip(out, out[1:]))  # loudness falls with e
    assert all(c.confidence == cfg.confidence for c in planned)
    still = np.tile([[0.5, 0.9]], (200, 1))  # lying still from the start
    assert continue_trains(seen_part, t, still, seen, cfg, end=8.0) == seen_part
    assert continue_trains(seen_part, t, moving, seen, BounceTrainConfig(), end=8.0) == seen_part  # off by default
