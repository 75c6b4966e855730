"""Open-world sources made one where they are one sound maker: one sound per collision of
two objects, one source per object the tracker lost and found again."""

from __future__ import annotations

from ..identify.naming import UNKNOWN
from ..tracks import Analysis
from .open_sources import OpenSource


def one_sound_per_collision(sources: list[OpenSource], window: float) -> list[OpenSource]:
    """Two objects that meet both jolt: one collision, not two sounds. Of collision events of
    different sources within `window` seconds of each other, the one with the larger velocity
    change (relative strength aside: the object that was struck harder) is kept."""
    found = [(e.onset, e.strength * e.confidence, k, e) for k, s in enumerate(sources) for e in s.events
             if e.kind == "impact" and e.what == "collision"]
    drop: set[int] = set()
    for i, (t, w, k, e) in enumerate(found):
        for t2, w2, k2, e2 in found[i + 1 :]:
            if k2 != k and abs(t2 - t) <= window and id(e) not in drop and id(e2) not in drop:
                drop.add(id(e2) if (w2, -t2) < (w, -t) else id(e))
    for s in sources:
        s.events = [e for e in s.events if id(e) not in drop]
    return [s for s in sources if s.events]


def found_again(earlier, later, size: int, max_gap_s: float, fps: float, reach: float = 0.25) -> bool:
    """Whether `later` starts where `earlier` (an object the tracker lost) would be by then:
    within `max_gap_s`, and within `reach` of the frame's larger side of the point `earlier`
    was heading for at its last speed. Two objects of one generic name ("ball", "block")
    are otherwise never joined."""
    gap = later.start - earlier.end
    if gap > max_gap_s * fps:
        return False
    steps = max(gap, 0)
    vx = float(earlier.x[-1] - earlier.x[-2]) if len(earlier) > 1 else 0.0
    vy = float(earlier.y[-1] - earlier.y[-2]) if len(earlier) > 1 else 0.0
    dx = float(later.x[0]) - (float(earlier.x[-1]) + vx * steps)
    dy = float(later.y[0]) - (float(earlier.y[-1]) + vy * steps)
    return (dx * dx + dy * dy) ** 0.5 <= reach * size


def merge_namesakes(sources: list[OpenSource], analysis: Analysis, max_overlap: int = 3,
                    max_gap_s: float = 1.0) -> list[OpenSource]:
    """One source for tracks of one name that are never on screen together and where one
    picks up where the other was lost (one object the tracker lost and found again)."""
    spans = {tr.id: (tr.start, tr.end) for tr in analysis.tracks}
    by_id = {tr.id: tr for tr in analysis.tracks}
    size = max(analysis.width, analysis.height)
    out: list[OpenSource] = []
    for s in sorted(sources, key=lambda s: spans[s.tracks[0]][0]):
        for o in out:
            if o.naming.label != s.naming.label or s.naming.label == UNKNOWN or s.naming.person:
                continue
            overlap = max(min(spans[a][1], spans[b][1]) - max(spans[a][0], spans[b][0]) + 1 for a in o.tracks for b in s.tracks)
            last = max((by_id[a] for a in o.tracks), key=lambda t: t.end)
            first = min((by_id[b] for b in s.tracks), key=lambda t: t.start)
            if overlap <= max_overlap and found_again(last, first, size, max_gap_s, analysis.fps):
                o.tracks += s.tracks
                o.events = sorted(o.events + s.events, key=lambda e: e.onset)
                o.confidence = max(o.confidence, s.confidence)
                break
        else:
            out.append(s)
    return out

