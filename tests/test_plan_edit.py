"""Plan edits: each does what it says, leaves its input untouched, and reaches the generator's
conditioning (tracks and module texts); bad arguments are one-line PlanErrors."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from prismaudio.models.conditioning import (
    TRACK_FEATURES,
    label_bucket,
    module_texts,
    plan_tracks,
)
from prismaudio.models.sequence import SequenceConfig
from prismaudio.planner.edit import (
    add_event,
    change_class,
    move_to_other_side,
    remove_event,
    shift_event,
)
from prismaudio.planner.plan import (
    Event,
    Plan,
    PlanError,
    Semantic,
    Source,
    Spatial,
    SpatialTrack,
    Temporal,
)

X, ONSET = TRACK_FEATURES.index("x"), TRACK_FEATURES.index("onset")
RATE = 50.0  # latent frames per second of the tiny preset (16 kHz / hop 320)


def _plan() -> Plan:
    return Plan(
        duration=8.0,
        semantic=Semantic([Source("s0", "snare drum", "a crisp snare drum hit"), Source("s1", "violin", "a bowed violin"),
                           Source("s2", "shaker", "")]),
        temporal=Temporal([Event("s0", 0.5, 1.2), Event("s1", 2.0, 5.0, "sustained"), Event("s0", 6.0, 6.7),
                           Event("s2", 7.0, 8.0)]),
        spatial=Spatial([SpatialTrack("s0", [0.0, 4.0, 8.0], [-0.6, -0.5, -0.4], [1.0, 1.2, 1.4]),
                         SpatialTrack("s1", [2.0, 5.0], [0.7, 0.3]),
                         SpatialTrack("s2", [0.0, 8.0], [0.1, -0.15])]),
    ).validate()


def _tracks(plan: Plan):
    seq = SequenceConfig(sample_rate=16000, hop=320, duration=8.0)
    return plan_tracks(plan, seq, max_sources=4, label_buckets=1024)


@pytest.fixture
def plan():
    return _plan()


def test_flip_mirrors_only_that_source_and_reaches_tracks_and_text(plan):
    before = copy.deepcopy(plan)
    out = move_to_other_side(plan, "s0")
    assert plan == before  # input untouched
    assert out.track("s0").x == [0.6, 0.5, 0.4] and out.track("s0").distance == [1.0, 1.2, 1.4]
    assert out.track("s1").x == plan.track("s1").x
    assert "snare drum stays left" in plan.spatial_text() and "snare drum stays right" in out.spatial_text()
    f0, _ = _tracks(plan)
    f1, _ = _tracks(out)
    assert np.allclose(f1[:, 0, X], -f0[:, 0, X]) and np.allclose(f1[:, 1:], f0[:, 1:])  # slot 0 = s0 (first onset)
    assert move_to_other_side(out, "s0") == plan  # flipping twice gives the plan back


def test_flip_of_a_centred_or_unknown_source_says_why(plan):
    with pytest.raises(PlanError, match="stays centred.*no side to flip"):
        move_to_other_side(plan, "s2")
    with pytest.raises(PlanError, match="unknown source id 'nope'"):
        move_to_other_side(plan, "nope")
    plan.spatial.tracks.pop()
    with pytest.raises(PlanError, match="no spatial track"):
        move_to_other_side(plan, "s2")


def test_shift_moves_onset_and_offset_and_the_onset_track(plan):
    before = copy.deepcopy(plan)
    out = shift_event(plan, 0, 1.0)
    assert plan == before
    assert (out.temporal.events[0].onset, out.temporal.events[0].offset) == (1.5, 2.2)
    assert out.temporal.events[1:] == plan.temporal.events[1:]
    assert "snare drum hits at 1.50 s" in out.temporal_text() and "0.50 s" not in out.temporal_text()
    f, _ = _tracks(out)
    assert set(np.flatnonzero(f[:, 0, ONSET]).tolist()) == {int(1.5 * RATE), int(6.0 * RATE)}
    back = shift_event(plan, 2, -1.0)
    assert back.temporal.events[2].onset == pytest.approx(5.0)


def test_shift_outside_the_video_is_an_error_not_a_clamp(plan):
    with pytest.raises(PlanError, match=r"past the end of the video \(8.00 s\)"):
        shift_event(plan, 3, 0.5)
    with pytest.raises(PlanError, match="before the start"):
        shift_event(plan, 0, -1.0)
    with pytest.raises(PlanError, match="out of range: the plan has 4 event"):
        shift_event(plan, 4, 1.0)
    with pytest.raises(PlanError, match="must be finite"):
        shift_event(plan, 0, float("nan"))
    with pytest.raises(PlanError, match="does not match the video"):  # the plan of another video
        shift_event(plan, 0, 1.0, duration=5.0)


def test_add_event_inserts_in_onset_order_and_marks_the_onset(plan):
    before = copy.deepcopy(plan)
    out, i = add_event(plan, "s0", 3.5)
    assert plan == before
    assert i == 2 and out.temporal.events[i] == Event("s0", 3.5, 4.0, "impact")
    assert [e.onset for e in out.temporal.events] == sorted(e.onset for e in out.temporal.events)
    f, _ = _tracks(out)
    assert f[int(3.5 * RATE), 0, ONSET] == 1.0
    late, j = add_event(plan, "s1", 7.5, kind="sustained")
    assert late.temporal.events[j].offset == 8.0  # cut at the end of the video
    with pytest.raises(PlanError, match="outside the video"):
        add_event(plan, "s0", 8.5)
    with pytest.raises(PlanError, match="kind must be"):
        add_event(plan, "s0", 1.0, kind="loud")
    with pytest.raises(PlanError, match="length must be positive"):
        add_event(plan, "s0", 1.0, length=0)
    with pytest.raises(PlanError, match="unknown source id"):
        add_event(plan, "s9", 1.0)


def test_remove_event(plan):
    before = copy.deepcopy(plan)
    out = remove_event(plan, 2)
    assert plan == before
    assert out.temporal.events == [plan.temporal.events[i] for i in (0, 1, 3)]
    assert "6.00 s" not in out.temporal_text()
    f, _ = _tracks(out)
    assert f[int(6.0 * RATE), 0, ONSET] == 0.0
    assert remove_event(plan, -1).temporal.events == plan.temporal.events[:3]
    with pytest.raises(PlanError, match="out of range"):
        remove_event(plan, 7)
    with pytest.raises(PlanError, match="must be an integer"):
        remove_event(plan, "0")


def test_change_class_changes_label_bucket_and_texts(plan):
    before = copy.deepcopy(plan)
    out = change_class(plan, "s0", "kick drum", "a deep bass drum thump")
    assert plan == before
    assert (out.source("s0").label, out.source("s0").description) == ("kick drum", "a deep bass drum thump")
    texts = " ".join(module_texts(out))
    assert "snare" not in texts and "kick drum hits at 0.50 s" in texts
    _, labels0 = _tracks(plan)
    _, labels1 = _tracks(out)
    assert labels1[0] == label_bucket("kick drum", 1024) != labels0[0] and labels1[1] == labels0[1]
    bare = change_class(plan, "s0", " cowbell ")
    assert (bare.source("s0").label, bare.source("s0").description) == ("cowbell", "cowbell")
    with pytest.raises(PlanError, match="already a 'snare drum'"):
        change_class(plan, "s0", "Snare Drum")
    with pytest.raises(PlanError, match="non-empty string"):
        change_class(plan, "s0", "  ")
    with pytest.raises(PlanError, match="unknown source id"):
        change_class(plan, "s5", "cowbell")
