"""The reference four-module plan of a rendered scene (`prismaudio.planner.Plan`)."""

from __future__ import annotations

import numpy as np

from ..planner.plan import Aesthetic, Event, Plan, Semantic, Source, Spatial, SpatialTrack, Temporal
from .choreography import Scene
from .classes import SoundClass
from .render_audio import RenderedEvent

PLAN_TRACK_HZ = 5.0  # spatial tracks in the plan are sampled at 5 Hz (the manifest keeps every frame)

REFERENCE_AESTHETIC = Aesthetic(
    quality=["clean", "well balanced", "natural dynamics"],
    style=["isolated sound events", "dry studio recording"],
    avoid=["speech", "background music", "hiss", "hum", "clipping", "reverb"],
)


def reference_plan(scene: Scene, events: list[RenderedEvent], classes: dict[str, SoundClass], duration: float) -> Plan:
    sources = [Source(s.source_id, s.class_name, classes[s.class_name].description) for s in scene.sprites]
    temporal = [Event(e.source, round(e.onset, 4), round(e.offset, 4), e.kind) for e in events]
    step = max(1, int(round(scene.fps / PLAN_TRACK_HZ)))
    tracks = []
    for s in scene.sprites:
        vis = np.flatnonzero(s.visible)
        if vis.size == 0:
            continue
        frames = sorted(set(vis[::step].tolist()) | {int(vis[-1])})
        x, _ = scene.normalised(s)
        tracks.append(SpatialTrack(
            s.source_id,
            [round(f / scene.fps, 4) for f in frames],
            [round(float(x[f]), 4) for f in frames],
            [round(1.0 / float(max(s.scale[f], 1e-3)), 4) for f in frames],
        ))
    aesthetic = Aesthetic(list(REFERENCE_AESTHETIC.quality), list(REFERENCE_AESTHETIC.style), list(REFERENCE_AESTHETIC.avoid))
    plan = Plan(duration, Semantic(sources), Temporal(temporal), aesthetic, Spatial(tracks))
    return plan.validate()
