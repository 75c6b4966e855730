"""The one object the planner's passes hand on: everything known about one clip.

detect -> track -> repair -> identify -> events -> plan (`passes.py`): each pass is a function
Scene -> Scene that fills in its part of the Scene (and reads only what the passes before it
filled in), so each can be run and tested alone on a hand-built Scene.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .config import PlannerConfig
from .events.open_sources import OpenSource
from .events.settles import Changes
from .events.visual import VisualEvent
from .identify.people import People
from .identify.recognise import Recognition
from .plan import Plan
from .tracks import Analysis, ShotDetection, Track


@dataclass
class Scene:
    """Everything the passes know about one clip; each pass fills in its own fields.

    notes: why things were left out (no motion, scene-bound regions, tracks without events...);
    they end up in the plan's notes."""

    frames: np.ndarray  # decoded frames [T, H, W, 3] uint8 at analysis size, as on screen
    fps: float  # analysis frame rate
    duration: float  # seconds of the video
    config: PlannerConfig
    source_fps: float = 0.0  # the video's own constant frame rate (0: unknown)
    # detect
    shots: list[tuple[int, int]] = field(default_factory=list)  # (first, last) frame of each shot
    detections: list[ShotDetection] = field(default_factory=list)
    # track
    analysis: Analysis | None = None  # tracks of the moving objects (screen positions)
    work: np.ndarray | None = None  # the frames the tracks' boxes refer to (stabilised where the camera moved)
    # repair
    appeared: dict[int, int] = field(default_factory=dict)  # frame a track appeared at inside another's blob
    spare: list[Track] = field(default_factory=list)  # tracks past the source cap, longest-lived first (open path: they
    # take the places of tracks the scene-motion filter drops)
    # identify
    mode: str = ""  # "canvas" (SynthCanvas-like footage: the trained head names it) or "open"
    recognitions: list[Recognition] = field(default_factory=list)  # per track: the head's name, or generic
    features: list[Any] = field(default_factory=list)  # per track: its crops' image features (torch [crops, D])
    probabilities: list[np.ndarray] = field(default_factory=list)  # open: mean ImageNet probabilities per track
    kinds: list[Any] = field(default_factory=list)  # open: per track, its object kind (identify.object_kinds) or None
    homographies: np.ndarray | None = None  # open: the camera's motion frame to frame [T, 3, 3] (None: it stands still)
    changes: Changes | None = None  # open, still camera: the motion frames' changes frame to frame (events/settles.py)
    in_place: set[int] = field(default_factory=set)  # open, still camera: tracks whose picture never moves, kept because their
    # place shows a move in place (events/settles.py); their events come from that alone
    people: People = field(default_factory=People)  # open: tracks that are (parts of) people, seen by their faces or
    # silhouettes, and tall tracks that are none (identify/people.py)
    # events
    visual: dict[int, list[VisualEvent]] = field(default_factory=dict)  # canvas: events per track id
    open_sources: list[OpenSource] = field(default_factory=list)  # open: named sources with their events
    event_notes: list[str] = field(default_factory=list)  # open: why moving objects got no source
    # plan
    plan: Plan | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # each pass's wall time

    @property
    def tracks(self) -> list[Track]:
        return self.analysis.tracks if self.analysis is not None else []

    @property
    def notes(self) -> list[str]:
        """Why things were left out so far (the plan's notes will say it): a copy."""
        return (list(self.analysis.notes) if self.analysis is not None else []) + self.event_notes
