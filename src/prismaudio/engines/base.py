"""What every stem engine takes and gives: the contract of the object-based audio path.

    Plan.sources[i] -> StemEngine.render_stems -> one mono stem per source -> spatial renderer -> mix

A stem engine renders each planned source on its own, *unplaced* (mono, no pan, no distance
gain) and *not normalised*: placing and loudness belong to the renderer and the mixer, so a
spatial edit of a plan re-renders from cached stems without sampling again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from ..planner.plan import Plan


@dataclass
class StemRequest:
    """Everything an engine needs to render the stems of one clip.

    `exemplars`: source id -> a mono float32 recording (already at `sample_rate`) of the sound
    that source should make; engines that can follow an example use it, others ignore it.
    `duration`: seconds of audio wanted (normally plan.duration); every stem has
    N = round(duration * sample_rate) samples.
    """

    plan: Plan
    sample_rate: int
    seed: int
    duration: float
    exemplars: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def num_samples(self) -> int:
        return int(round(self.duration * self.sample_rate))


@runtime_checkable
class StemEngine(Protocol):
    """Renders one mono stem per planned source.

    Returns source id -> mono float32 array of exactly request.num_samples samples, for every
    source in request.plan.semantic.sources (a source the engine cannot render is silent, with
    a warning, never missing).
    """

    name: str

    def render_stems(self, request: StemRequest) -> dict[str, np.ndarray]: ...
