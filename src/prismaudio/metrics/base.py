"""What every metric reads (one EvalPair per paired clip) and the update/compute protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..planner.plan import Plan

SAMPLE_RATE = 16000


@dataclass
class EvalPair:
    """One prediction with its reference and context, all audio float32 [C, N] at 16 kHz.

    `pred_yamnet` / `gt_yamnet` hold per-patch YAMNet outputs (filled in batches by the driver).
    `notes` collects per-sample reasons ("mono prediction: spatial metrics n/a", ...).
    """

    id: str
    pred: np.ndarray
    gt: np.ndarray | None = None
    plan: Plan | None = None
    sound_class: str | None = None
    motion: np.ndarray | None = None  # video motion energy at 25 fps
    pred_yamnet: object | None = None
    gt_yamnet: object | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def pred_mono(self) -> np.ndarray:
        return self.pred.mean(0)

    @property
    def gt_mono(self) -> np.ndarray | None:
        return None if self.gt is None else self.gt.mean(0)


class Metric(Protocol):
    name: str

    def update(self, pair: EvalPair) -> dict[str, float | None]:
        """Consume one pair; return its per-sample values (None = n/a)."""

    def compute(self) -> dict[str, float | None]:
        """Summary over all pairs seen (None = n/a)."""


def mean_or_none(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(vals)) if vals else None
