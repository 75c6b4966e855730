"""Class accuracy per planned source: which YAMNet patches count as a source sounding alone."""

import numpy as np

from prismaudio.metrics.source_class import (PATCH_S, SourceScore, accuracy, alone_patches, cover_seconds, heard_spans,
                                             matched_gain, score_sources)
from prismaudio.planner.plan import Event, Plan, Semantic, Source, Temporal


def _plan() -> Plan:
    sources = [Source("a", "kick drum"), Source("b", "flute")]
    events = [Event("a", 0.1, 0.15, "impact"), Event("a", 4.0, 4.05, "impact"), Event("b", 2.0, 3.0, "sustained"),
              Event("b", 4.1, 5.0, "sustained")]
    return Plan(8.0, Semantic(sources), Temporal(events))


def test_an_impact_is_heard_for_its_ring_and_a_sustained_event_for_its_span():
    plan = _plan()
    assert heard_spans(plan, "a")[0] == (0.1, 0.1 + 0.3)
    assert heard_spans(plan, "b") == [(2.0, 3.0), (4.1, 5.0)]


def test_cover_counts_the_seconds_inside_each_window():
    cover = cover_seconds([(0.0, 0.48)], np.array([0.0, 0.48, 1.0]))
    assert abs(cover[0] - 0.48) < 0.02 and cover[1] < 0.02 and cover[2] == 0.0
    assert abs(cover_seconds([(0.0, 8.0)], np.array([1.0]))[0] - PATCH_S) < 1e-6


def test_alone_patches_skip_windows_where_another_source_sounds():
    plan = _plan()
    alone = alone_patches(plan, 16)
    starts = np.arange(16) * 0.48
    assert set(alone["a"]) == {0}  # the 4.0 s hit overlaps b's 4.1 s note in every window that holds it
    a_cover = cover_seconds(heard_spans(plan, "a"), starts)
    b_cover = cover_seconds(heard_spans(plan, "b"), starts)
    assert len(alone["b"]) > 0
    assert all(a_cover[i] == 0 and b_cover[i] >= 0.2 for i in alone["b"])


def test_scores_use_only_the_alone_patches_and_skip_sources_never_alone():
    plan = Plan(8.0, Semantic([Source("a", "kick drum"), Source("b", "flute")]),
                Temporal([Event("a", 1.0, 1.05), Event("b", 0.0, 8.0, "sustained")]))
    emb = np.zeros((16, 1024), np.float32)
    seen = []
    scores = score_sources(plan, [emb, emb], lambda pooled: seen.append(len(pooled)) or "flute")
    assert [s.predicted for s in scores] == [None, "flute"] and seen == [2]
    assert accuracy(scores) == (1.0, 1, 2)
    assert accuracy([SourceScore("a", "x", "y", 3)]) == (0.0, 1, 1)


def test_matched_gain_brings_audio_to_the_reference_level_and_leaves_silence_alone():
    rng = np.random.default_rng(0)
    ref = rng.normal(0, 0.1, 1000)
    assert abs(matched_gain(ref * 0.25, ref) - 4.0) < 1e-6
    assert matched_gain(np.zeros(10), ref) == 1.0
