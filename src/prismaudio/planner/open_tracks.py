"""More objects for the open-world path when some of the longest tracks turn out not to be any.

The planner keeps the longest-lived tracks (`PlannerConfig.max_sources`). Under a moving
camera many of those are patches of floor or backdrop that only move with the view, and the
scene-motion test (`scene_motion.py`) takes them out afterwards, while real objects seen for
less time were cut before it could see them: a ball thrown past a tracking camera lost its
place to five patches of floor. Here the next-longest tracks (`Analysis.spare`) that move on
their own take up the freed places. Only the open-world path does this (SynthCanvas clips
keep their sources as they were).
"""

from __future__ import annotations

import numpy as np

from .analyser import Analysis
from .scene_motion import SceneMotionConfig, scene_bound_tracks


def refill_tracks(screen: np.ndarray, frames: np.ndarray, analysis: Analysis, features: list, recogniser,
                  max_tracks: int, cfg: SceneMotionConfig) -> tuple[list, list]:
    """(tracks, crop features) of `analysis` with up to `max_tracks` tracks: its own, then spare
    ones (longest first) that do not move only with the scene, their crop features taken from
    `frames` by `recogniser`. The analysis keeps the result (sorted by start)."""
    room = max_tracks - len(analysis.tracks)
    spare = list(analysis.spare)[: 2 * max_tracks]
    if room <= 0 or not spare:
        return analysis.tracks, features
    bound = scene_bound_tracks(screen, spare, analysis.fps, cfg)
    extra = [t for t in spare if t.id not in bound][:room]
    if not extra:
        return analysis.tracks, features
    pairs = sorted(zip(analysis.tracks + extra, list(features) + recogniser.track_features(frames, extra)), key=lambda p: p[0].start)
    analysis.tracks = [t for t, _ in pairs]
    return analysis.tracks, [f for _, f in pairs]
