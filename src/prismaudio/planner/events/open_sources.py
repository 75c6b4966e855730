"""The open-world path's sources and events, as the events pass hands them to the plan."""

from __future__ import annotations

from dataclasses import dataclass

from ..identify.naming import Naming


@dataclass
class PlannedEvent:
    onset: float
    offset: float
    kind: str  # impact | sustained
    strength: float  # (0, 1]
    confidence: float
    what: str = ""  # bounce, stop, collision, hit, step, rolling or sliding...


@dataclass
class OpenSource:
    tracks: list[int]  # track ids
    naming: Naming
    kind: str  # impact | sustained
    events: list[PlannedEvent]
    confidence: float
