"""Per-object screen tracks and the sound events of a simulated clip (pure numpy on a
Recording): what the manifest, the reference plan and the audio are made from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .camera import project
from .contacts import Impact, Span, find_impacts, impact_gain, sustained_spans

REFERENCE_DISTANCE = 2.0  # metres: the manifest's scale 1 (distance / REFERENCE_DISTANCE is the plan's distance)
MIN_PIXELS = 6            # an object is visible on a frame when at least this many of its pixels show
SUSTAIN_LEVEL = 0.5       # rolling / sliding loudness at 1 m/s (relative to an impact of gain 1)


@dataclass
class ObjectTrack:
    x: np.ndarray         # [T] screen x in [-1, 1]
    y: np.ndarray         # [T] screen y in [-1 top, 1 bottom]
    distance: np.ndarray  # [T] metres from the camera
    visible: np.ndarray   # [T] bool

    @property
    def scale(self) -> np.ndarray:
        return REFERENCE_DISTANCE / np.maximum(self.distance, 1e-3)


def object_tracks(rec) -> list[ObjectTrack]:
    T, N = rec.position.shape[:2]
    tracks = []
    for i in range(N):
        x, y, front = np.zeros(T), np.zeros(T), np.zeros(T, bool)
        for k in range(T):
            xs, ys, fs = project(rec.position[k, i][None], rec.views[k], rec.projections[k])
            x[k], y[k], front[k] = xs[0], ys[0], fs[0]
        distance = np.linalg.norm(rec.position[:, i] - rec.eye, axis=1)
        visible = front & (rec.pixels[:, i] >= MIN_PIXELS)
        tracks.append(ObjectTrack(np.clip(x, -1, 1), np.clip(y, -1, 1), distance, visible))
    return tracks


def spin_ratio(rec, i: int) -> np.ndarray:
    """Spin surface speed over linear speed (1 for rolling without slipping)."""
    return rec.spin[:, i] * rec.radius[i] / np.maximum(rec.speed[:, i], 1e-6)


@dataclass
class ClipEvents:
    impacts: list[Impact]
    spans: list[Span]
    gains: list[float]    # one per impact


def clip_events(rec, masses: list[float]) -> ClipEvents:
    """Impacts (before the clip's end) with their loudness, and rolling / sliding spans."""
    impacts = find_impacts(rec.contacts, rec.dt)
    T = rec.position.shape[0]
    impacts = [imp for imp in impacts if imp.time < T / rec.fps]
    spans = []
    for i in range(rec.position.shape[1]):
        vertical = np.gradient(rec.position[:, i, 2]) * rec.fps if T > 1 else None
        spans += sustained_spans(i, rec.floor_contact[:, i], rec.speed[:, i], spin_ratio(rec, i), rec.fps, vertical)
    gains = [impact_gain(imp.impulse, masses[imp.source]) for imp in impacts]
    return ClipEvents(impacts, sorted(spans, key=lambda s: (s.start_frame, s.source)), gains)


def sustain_gain(mean_speed: float) -> float:
    return float(SUSTAIN_LEVEL * np.clip(mean_speed, 0.2, 1.5))
