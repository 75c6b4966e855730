"""The plan of SynthCanvas-like footage (the canvas path of the plan pass): tracks named by the
head become sources; impact sources get one event per contact/squash/flash, sustained sources
sound from when they appear to when they leave."""

from __future__ import annotations

import numpy as np

from ..config import PlannerConfig
from ..events.visual import VisualEvent
from ..identify.recognise import Recognition
from ..plan import Aesthetic, Event, Plan, Semantic, Source, Spatial, Temporal
from ..tracks import Analysis
from .spatial import spatial_track


def _unique_labels(labels: list[str]) -> list[str]:
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        if counts[label] > 1:
            seen[label] = seen.get(label, 0) + 1
            out.append(f"{label} {seen[label]}")
        else:
            out.append(label)
    return out


def group_tracks(tracks: list, recognitions: list[Recognition], max_overlap: int = 3) -> list[list[int]]:
    """Indices of tracks that are one source: same name and (almost) never on screen together.

    The tracker may break one object into pieces (occlusion, merging with another object);
    pieces that get the same name and do not coexist are put back together.
    """
    groups: list[list[int]] = []
    for i in sorted(range(len(tracks)), key=lambda i: tracks[i].start):
        for g in groups:
            if recognitions[g[0]].label != recognitions[i].label:
                continue
            overlap = max(min(tracks[j].end, tracks[i].end) - max(tracks[j].start, tracks[i].start) + 1 for j in g)
            if overlap <= max_overlap:
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


def _spans(members: list, gap: int, appeared: dict[int, int] | None = None) -> list[tuple[int, int]]:
    """(first, last) frames the members cover, joined over gaps up to `gap`; a member that began
    inside another object's blob counts from when it appeared (`appeared`, by track id)."""
    spans: list[list[int]] = []
    for tr in sorted(members, key=lambda t: t.start):
        start = min(tr.start, (appeared or {}).get(tr.id, tr.start))
        if spans and start - spans[-1][1] <= gap:
            spans[-1] = [min(spans[-1][0], start), max(spans[-1][1], tr.end)]
        else:
            spans.append([start, tr.end])
    return [(a, b) for a, b in spans]


def build_plan(analysis: Analysis, recognitions: list[Recognition], visual: dict[int, list[VisualEvent]],
               duration: float, cfg: PlannerConfig, appeared: dict[int, int] | None = None) -> Plan:
    fps = analysis.fps
    sources, events, tracks, names = [], [], [], []
    end_time = duration
    groups = group_tracks(analysis.tracks, recognitions)
    # A SynthCanvas-style scene shows each sprite once: of several same-named groups seen at the
    # same time, the smaller ones are ghosts or pieces of it. (Other footage may show two dogs.)
    best: dict[str, list[int]] = {}
    for g in groups:
        rec = recognitions[g[0]]
        if rec.origin != "canvas":
            continue
        size = sum(int(analysis.tracks[i].observed.sum()) for i in g)
        if rec.label not in best or size > sum(int(analysis.tracks[i].observed.sum()) for i in best[rec.label]):
            best[rec.label] = g
    # ... but the impacts the sync encoder gave to such a piece are still hits: they go to the
    # object kept under that name (events are timed on the whole frame, not by the tracker)
    absorbed: dict[str, list[int]] = {}
    for g in groups:
        label = recognitions[g[0]].label
        if recognitions[g[0]].origin == "canvas" and best[label] is not g:
            absorbed.setdefault(label, []).extend(g)
    groups = [g for g in groups if recognitions[g[0]].origin != "canvas" or best[recognitions[g[0]].label] is g]
    for k, group in enumerate(sorted(groups, key=lambda g: min(analysis.tracks[i].start for i in g))):
        members = sorted((analysis.tracks[i] for i in group), key=lambda t: t.start)
        rec = max((recognitions[i] for i in group), key=lambda r: r.confidence)
        sid = f"s{k + 1}"
        sources.append(Source(sid, rec.label, rec.description))
        names.append(rec.label)
        if rec.kind == "sustained":
            for a, b in _spans(members, gap=max(2, int(0.2 * fps)), appeared=appeared):
                start = 0.0 if a == 0 else min(a / fps, end_time)
                stop = end_time if b >= analysis.num_frames - 1 else min((b + 1) / fps, end_time)
                if stop > start:
                    events.append(Event(sid, round(start, 3), round(stop, 3), "sustained"))
        else:
            pieces = [analysis.tracks[i] for i in absorbed.get(rec.label, [])] if rec.origin == "canvas" else []
            onsets: list[float] = []
            for tr in members + pieces:
                for ev in visual.get(tr.id, []):
                    if ev.kind in ("contact", "squash", "flash"):
                        onset = float(np.clip(ev.time, 0.0, end_time))
                        if all(abs(onset - o) >= 1.0 / fps for o in onsets):  # one hit, not twice
                            onsets.append(onset)
            for onset in sorted(onsets):
                stop = round(min(onset + cfg.impact_length, end_time), 3)
                if stop > round(onset, 3):  # a hit on the very last frame has no room to sound
                    events.append(Event(sid, round(onset, 3), stop, "impact"))
        tracks.append(spatial_track(sid, members, analysis, end_time, cfg.box_tolerance, cfg.smooth_frames, cfg.spatial_rate))
    for source, label in zip(sources, _unique_labels(names)):
        source.label = label
    events.sort(key=lambda e: (e.onset, e.source))
    notes = list(analysis.notes)
    if not events:
        reason = "nothing moves" if analysis.static else "no contacts or motion changes were seen"
        notes.append(f"no visual events: {reason}, so the plan has no sound onsets")
    quality = ["clean", "well balanced", "natural dynamics"]
    style = ["realistic foley", "percussive, sharp attacks" if any(e.kind == "impact" for e in events) else "smooth, continuous"]
    return Plan(
        duration=round(float(duration), 3), semantic=Semantic(sources), temporal=Temporal(events),
        aesthetic=Aesthetic(quality=quality, style=style), spatial=Spatial(tracks), notes=notes,
    )
