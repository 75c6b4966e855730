"""A source's event track at the latent frame rate (pure functions).

Channels (TRACK_CHANNELS = 5), each [L] at `rate` frames per second:
  0 onset:  the event's strength at the frame holding its onset (an impulse; 0 elsewhere)
  1 gate:   1 while a sustained event sounds
  2 level:  the strength of the event sounding now (the last onset's, held to its offset)
  3 fast:   exp(-time since the last onset / 0.05 s)  (where the attack is)
  4 slow:   exp(-time since the last onset / 0.4 s)   (how far into its decay)
Times are frame centres, so an onset inside frame k marks frame k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FAST_TAU = 0.05
SLOW_TAU = 0.4


@dataclass(frozen=True)
class TrackEvent:
    onset: float
    offset: float
    kind: str = "impact"  # impact | sustained
    strength: float = 1.0


def event_track(events: list[TrackEvent], frames: int, rate: float) -> np.ndarray:
    """[5, frames] float32 track of `events` (seconds) at `rate` frames per second."""
    track = np.zeros((5, frames), dtype=np.float32)
    t = (np.arange(frames) + 0.5) / rate
    since = np.full(frames, np.inf)
    for e in sorted(events, key=lambda e: e.onset):
        k = int(np.floor(e.onset * rate))
        if not 0 <= k < frames:
            if k < 0 and e.offset > 0:  # an event that started before the window still sounds
                k = 0
            else:
                continue
        track[0, k] = max(track[0, k], e.strength)
        start, stop = k, max(k + 1, min(frames, int(np.ceil(e.offset * rate))))
        if e.kind == "sustained":
            track[1, start:stop] = 1.0
        track[2, start:stop] = e.strength
        after = t >= k / rate
        since = np.where(after, np.minimum(since, np.maximum(t - e.onset, 0.0)), since)
    finite = np.isfinite(since)
    track[3, finite] = np.exp(-since[finite] / FAST_TAU)
    track[4, finite] = np.exp(-since[finite] / SLOW_TAU)
    return track


def plan_events(plan, source_id: str) -> list[TrackEvent]:
    """The plan's events of one source as TrackEvents."""
    return [TrackEvent(e.onset, e.offset, e.kind, float(getattr(e, "strength", 1.0) or 1.0)) for e in plan.events_of(source_id)]
