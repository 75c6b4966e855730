"""Temporal metrics.

- `onset-F1` (+ `-impact`, `-sustained`): onsets detected in the prediction against the
  manifest's event onsets within +-50 ms, impact and sustained events scored separately
  (a detector finds sharp attacks; slow attacks are scored on their own so they do not hide
  impact errors). Needs a plan.
- `onset-F1-ref`: detected onsets of the prediction against those of the reference (a
  reference against itself gives exactly 1).
- `DeSync`: mean |offset| (s) predicted by the `offset_eval` model (trained apart from the
  reward's, with another architecture) on the first and last 4.8 s. Needs the video.
"""

from __future__ import annotations

import numpy as np

from ..audio_models.assets import load_model
from ..audio_models.sync import desync_seconds, offset_logits
from ..dsp.onsets import detect_onsets, onset_prf
from .base import SAMPLE_RATE, EvalPair, mean_or_none

TOLERANCE_S = 0.05
KEYS = ("onset-F1", "onset-F1-impact", "onset-F1-sustained", "onset-F1-ref", "DeSync")


def event_f1(detected: np.ndarray, events, kind: str | None, tolerance: float = TOLERANCE_S) -> float | None:
    """F1 of detected onsets against the onsets of `events` of `kind` (all kinds when None).

    For one kind, detections near events of the other kind are neither hits nor false alarms.
    """
    mine = np.array([e.onset for e in events if kind is None or e.kind == kind])
    if kind is None:
        return onset_prf(detected, mine, tolerance)[2]
    if mine.size == 0:
        return None
    others = np.array([e.onset for e in events if e.kind != kind])
    if others.size:
        keep = np.min(np.abs(detected[:, None] - others[None, :]), axis=1) > tolerance if detected.size else np.zeros(0, bool)
        near_mine = np.min(np.abs(detected[:, None] - mine[None, :]), axis=1) <= tolerance if detected.size else np.zeros(0, bool)
        detected = detected[keep | near_mine]
    return onset_prf(detected, mine, tolerance)[2]


class TemporalMetrics:
    name = "temporal"

    def __init__(self, model: str = "offset_eval"):
        self.offset = load_model(model)
        self.values: dict[str, list] = {k: [] for k in KEYS}

    def prepare(self, pairs: list[EvalPair]) -> None:
        """All clips' offset windows in one batch."""
        with_video = [p for p in pairs if p.motion is not None and len(p.motion)]
        logits = offset_logits(self.offset.module, self.offset.config, [p.motion for p in with_video],
                               [p.pred_mono for p in with_video], SAMPLE_RATE)
        self._desync = {id(p): desync_seconds(l, self.offset.config) for p, l in zip(with_video, logits)}

    def update(self, pair: EvalPair) -> dict:
        out: dict = {k: None for k in KEYS}
        detected = detect_onsets(pair.pred_mono, SAMPLE_RATE)
        if pair.plan is not None:
            events = pair.plan.temporal.events
            out["onset-F1"] = event_f1(detected, events, None)
            out["onset-F1-impact"] = event_f1(detected, events, "impact")
            out["onset-F1-sustained"] = event_f1(detected, events, "sustained")
        if pair.gt is not None:
            out["onset-F1-ref"] = onset_prf(detected, detect_onsets(pair.gt_mono, SAMPLE_RATE), TOLERANCE_S)[2]
        if pair.motion is not None and len(pair.motion):
            if id(pair) not in getattr(self, "_desync", {}):
                self.prepare([pair])
            out["DeSync"] = self._desync[id(pair)]
        for k in KEYS:
            self.values[k].append(out[k])
        return out

    def compute(self) -> dict:
        return {k: mean_or_none(v) for k, v in self.values.items()}
