"""Two objects seen together under one name: the less certain one is renamed (planner/repair/namesakes.py)."""

import numpy as np

from prismaudio.planner.tracks import Track
from prismaudio.planner.repair.namesakes import NamesakeConfig, distinct_objects, rename_namesakes
from prismaudio.planner.identify.recognise import Recognition


def _track(tid: int, x: float, frames=range(0, 100), area: float = 0.01) -> Track:
    f = np.asarray(list(frames))
    n = len(f)
    return Track(tid, f, np.full(n, x), np.full(n, 0.5), np.full(n, 0.1), np.full(n, 0.1), np.full(n, area),
                 np.full(n, 100.0), np.ones(n, bool), [(0, 0, 1, 1)] * n)


class _Names:
    def named(self, label: str, confidence: float) -> Recognition:
        return Recognition(label, f"the sound of a {label}", "impact", confidence, "canvas")


def _rec(label: str, confidence: float, alternatives=()) -> Recognition:
    return Recognition(label, "", "impact", confidence, "canvas", tuple(alternatives))


def test_two_objects_apart_are_distinct_a_piece_or_a_later_one_is_not():
    cfg = NamesakeConfig()
    assert distinct_objects(_track(0, 0.3), _track(1, 0.7), cfg)
    assert not distinct_objects(_track(0, 0.3), _track(1, 0.31), cfg)  # on top of it: a piece
    assert not distinct_objects(_track(0, 0.3), _track(1, 0.7, range(100, 150)), cfg)  # never together


def test_the_less_certain_namesake_takes_its_next_free_choice():
    tracks = [_track(0, 0.2), _track(1, 0.8), _track(2, 0.5, range(0, 100), 0.01)]
    recs = [_rec("cowbell", 0.9, [("triangle", 0.05)]),
            _rec("cowbell", 0.6, [("triangle", 0.2), ("agogo", 0.1)]),
            _rec("triangle", 0.99)]
    out = rename_namesakes(tracks, recs, _Names(), NamesakeConfig())
    assert [r.label for r in out] == ["cowbell", "agogo", "triangle"]  # triangle was taken
    assert out[1].description == "the sound of a agogo" and out[1].confidence == 0.1
    assert rename_namesakes(tracks, recs, _Names(), NamesakeConfig(enabled=False)) == recs


def test_a_much_smaller_namesake_is_left_as_a_piece():
    tracks = [_track(0, 0.2, area=0.02), _track(1, 0.8, area=0.005)]
    recs = [_rec("cowbell", 0.9, [("triangle", 0.05)]), _rec("cowbell", 0.95, [("agogo", 0.1)])]
    assert [r.label for r in rename_namesakes(tracks, recs, _Names(), NamesakeConfig())] == ["cowbell", "cowbell"]
