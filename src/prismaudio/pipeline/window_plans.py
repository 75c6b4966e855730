"""Plans of windows and the plan of the whole: cutting a plan to a window, and assembling the
windows' own plans (the planner runs per window on a long video) into one plan.

Both are pure functions over `Plan` objects. Times inside a window plan are relative to the
window's start; the assembled plan's are the video's.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from ..planner.plan import Event, Plan, Semantic, Spatial, SpatialTrack, Temporal

EPS = 1e-6


def _window_track(track: SpatialTrack, start: float, end: float) -> SpatialTrack | None:
    """The track between start and end, with points interpolated at both ends, relative to start."""
    inside = [i for i, t in enumerate(track.times) if start + EPS < t < end - EPS]
    times = [start, *[track.times[i] for i in inside], end]
    x = [float(track.x_at(start)), *[track.x[i] for i in inside], float(track.x_at(end))]
    dist = []
    if track.distance:
        dist = [float(track.distance_at(start)), *[track.distance[i] for i in inside], float(track.distance_at(end))]
    return SpatialTrack(track.source, [round(t - start, 6) for t in times], x, dist)


def slice_plan(plan: Plan, start: float, end: float) -> Plan:
    """The part of `plan` in [start, end), as a plan of its own (times from 0, duration end - start).

    An event belongs to the window its onset falls in (an impact starting before the window is
    not repeated at its start); a sustained sound that began earlier continues from 0. Sources
    are those with an event in the window, diffuse ones, and ones without any event (ambience).
    """
    duration = end - start
    events = []
    for e in plan.temporal.events:
        starts_inside = start - EPS <= e.onset < end - EPS
        carries_on = e.kind == "sustained" and e.onset < start and e.offset > start + EPS
        if starts_inside or carries_on:
            events.append(Event(e.source, round(max(0.0, e.onset - start), 6), round(min(duration, max(0.0, e.offset - start)), 6),
                                e.kind, e.strength, e.confidence))
    with_events = {e.source for e in plan.temporal.events}
    keep = {e.source for e in events} | {s.id for s in plan.semantic.sources if s.diffuse or s.id not in with_events}
    sources = [copy.deepcopy(s) for s in plan.semantic.sources if s.id in keep]
    tracks = [_window_track(t, start, end) for t in plan.spatial.tracks if t.source in keep]
    return Plan(duration=round(duration, 6), semantic=Semantic(sources), temporal=Temporal(events),
                aesthetic=copy.deepcopy(plan.aesthetic), spatial=Spatial([t for t in tracks if t is not None]),
                notes=list(plan.notes))


def window_cores(starts: list[float], window: float, duration: float) -> list[tuple[float, float]]:
    """Per window, the span it speaks for in the whole plan: from the middle of its overlap with
    the previous window to the middle of its overlap with the next (first from 0, last to the end)."""
    cuts = [0.0] + [0.5 * (b + min(a + window, duration)) for a, b in zip(starts, starts[1:])] + [duration]
    return list(zip(cuts[:-1], cuts[1:]))


@dataclass
class PlanAssembler:
    """Collects window plans (made by the planner, window by window) into the whole video's plan.

    The same sound keeps one source id across windows: in each window, the i-th source with a
    label takes the id of the i-th source with that label seen so far (new ones get new ids).
    `rename` gives the window plan in those ids (the ids the generated window is made with);
    `add` keeps the window's events and track points inside its core span.
    """

    duration: float
    by_label: dict[str, list[str]] = field(default_factory=dict)
    sources: list = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    tracks: dict[str, SpatialTrack] = field(default_factory=dict)
    first: Plan | None = None

    def rename(self, window_plan: Plan) -> Plan:
        plan = copy.deepcopy(window_plan)
        mapping, seen = {}, {}
        for s in plan.semantic.sources:
            i = seen.get(s.label, 0)
            seen[s.label] = i + 1
            ids = self.by_label.setdefault(s.label, [])
            if i == len(ids):
                ids.append(f"s{len(self.sources)}")  # s0, s1, ... in order of first appearance
                self.sources.append(copy.deepcopy(s))
                self.sources[-1].id = ids[i]
            mapping[s.id] = ids[i]
        for s in plan.semantic.sources:
            s.id = mapping[s.id]
        for e in plan.temporal.events:
            e.source = mapping[e.source]
        for t in plan.spatial.tracks:
            t.source = mapping[t.source]
        return plan

    def add(self, renamed: Plan, start: float, core: tuple[float, float]) -> None:
        """A window plan already in assembled ids (see `rename`), starting at `start` s."""
        self.first = self.first or renamed
        lo, hi = core
        last = hi >= self.duration - EPS
        for e in renamed.temporal.events:
            onset, offset = e.onset + start, min(self.duration, e.offset + start)
            if lo - EPS <= onset < hi - EPS or (last and onset <= hi + EPS):
                self.events.append(Event(e.source, round(onset, 6), round(offset, 6), e.kind, e.strength, e.confidence))
            elif e.kind == "sustained" and onset < lo and offset > lo + EPS:  # a sound going on across the join
                self.events.append(Event(e.source, round(lo, 6), round(offset, 6), e.kind, e.strength, e.confidence))
        for t in renamed.spatial.tracks:
            whole = self.tracks.setdefault(t.source, SpatialTrack(t.source, [], [], []))
            for i, time in enumerate(t.times):
                at = round(time + start, 6)
                if lo - EPS <= at <= hi + EPS and (not whole.times or at > whole.times[-1] + EPS):
                    whole.times.append(at)
                    whole.x.append(t.x[i])
                    whole.distance.append(t.distance[i] if t.distance else 1.0)

    def plan(self) -> Plan:
        tracks = [t for t in self.tracks.values() if t.times]
        base = self.first or Plan(duration=self.duration)
        return Plan(duration=round(self.duration, 6), semantic=Semantic(copy.deepcopy(self.sources)),
                    temporal=Temporal(merge_sustained(self.events)),
                    aesthetic=copy.deepcopy(base.aesthetic), spatial=Spatial(tracks), notes=list(base.notes))


def merge_sustained(events: list[Event], gap: float = 0.05) -> list[Event]:
    """Sustained events of one source that touch across a window join (within `gap` s) become one."""
    out: list[Event] = []
    for e in sorted(events, key=lambda e: (e.source, e.onset)):
        prev = out[-1] if out else None
        if (prev is not None and prev.source == e.source and prev.kind == e.kind == "sustained"
                and e.onset <= prev.offset + gap):
            prev.offset = max(prev.offset, e.offset)
        else:
            out.append(copy.deepcopy(e))
    return sorted(out, key=lambda e: (e.onset, e.source))


def clip_duration(plan: Plan, duration: float) -> Plan:
    """The plan of the first `duration` seconds (what `generate --duration` made)."""
    if duration >= plan.duration - EPS:
        return plan
    cut = slice_plan(plan, 0.0, duration)
    cut.run = plan.run
    # sources without events in the span stay listed: the plan still names what the video shows
    cut.semantic = copy.deepcopy(plan.semantic)
    cut.spatial = Spatial([_window_track(t, 0.0, duration) for t in plan.spatial.tracks])
    return cut

