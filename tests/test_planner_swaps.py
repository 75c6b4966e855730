"""A track that swapped onto a newcomer is cut at the swap and its second part named again."""

from __future__ import annotations

import numpy as np

from prismaudio.planner.tracks import Track
from prismaudio.planner.identify.recognise import Recognition
from prismaudio.planner.repair.swaps import SwapConfig, cut_track, repair_swaps, swap_points


def _track(tid: int, start: int, end: int, x: float = 0.5) -> Track:
    f = np.arange(start, end + 1)
    n = len(f)
    return Track(tid, f, np.full(n, x), np.full(n, 0.5), np.full(n, 0.1), np.full(n, 0.1), np.full(n, 0.01),
                 np.full(n, 100.0), np.ones(n, bool), [(0, 0, 10, 10)] * n)


def _rec(label: str, origin: str = "canvas") -> Recognition:
    return Recognition(label, "", "impact", 0.99, origin)


class _Namer:
    """Names a track by where it starts (a stand-in for the recognition head)."""

    def __init__(self, by_start: dict[int, Recognition]):
        self.by_start = by_start
        self.calls: list[list[int]] = []

    def recognise(self, frames, tracks):
        self.calls.append([t.start for t in tracks])
        return [self.by_start[t.start] for t in tracks]


def test_cut_track_splits_every_array_at_the_frame():
    a, b = cut_track(_track(3, 10, 39), 25, 7)
    assert (a.id, a.start, a.end, len(a.boxes)) == (3, 10, 24, 15)
    assert (b.id, b.start, b.end, len(b.boxes)) == (7, 25, 39, 15)


def test_swap_points_where_a_namesake_begins_inside_a_track():
    tracks = [_track(0, 0, 199), _track(1, 74, 199), _track(2, 0, 199), _track(3, 195, 199)]
    labels = ["kick drum", "kick drum", "flute", "flute"]
    assert swap_points(tracks, labels, SwapConfig()) == {0: 74}  # track 2 would keep only 5 frames after the cut
    assert swap_points(tracks, [None, None, "flute", "flute"], SwapConfig()) == {}  # unnamed by the head


def test_a_swapped_track_is_cut_when_its_second_part_is_something_else():
    tracks = [_track(0, 0, 199), _track(1, 74, 199)]
    recs = [_rec("kick drum"), _rec("kick drum")]
    namer = _Namer({74: _rec("flute")})
    out_t, out_r = repair_swaps(None, tracks, recs, namer)
    assert namer.calls == [[74]]
    assert [(t.id, t.start, t.end) for t in out_t] == [(0, 0, 73), (2, 74, 199), (1, 74, 199)]
    assert [r.label for r in out_r] == ["kick drum", "flute", "kick drum"]
    # the second part looks like the same thing: a ghost or a piece, not a swap; nothing changes
    same_t, same_r = repair_swaps(None, tracks, recs, _Namer({74: _rec("kick drum")}))
    assert same_t == tracks and same_r == recs
    off_t, _ = repair_swaps(None, tracks, recs, namer, SwapConfig(enabled=False))
    assert off_t == tracks
