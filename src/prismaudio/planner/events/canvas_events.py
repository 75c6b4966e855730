"""The events of SynthCanvas-like footage (the canvas path of the events pass).

Impacts are timed by the sync encoder on the whole frame (`impacts.py`) and given to the
impact-kind track that moved most there; appearances and, for objects the head did not name,
clear trajectory kinks come from the per-track rules (`visual.py`).
"""

from __future__ import annotations

import numpy as np

from ..identify.recognise import Recognition
from ..tracks import Analysis
from .impacts import ImpactConfig, assign_impacts, impact_probability, sync_peaks
from .visual import EventConfig, VisualEvent, detect_events


def visual_events(frames: np.ndarray, analysis: Analysis, recognitions: list[Recognition], generic: set[int],
                  cfg: ImpactConfig, events: EventConfig) -> dict[int, list[VisualEvent]]:
    """Events per track: impacts timed by the sync encoder on the whole frame and given to the
    impact-kind track that moved most there; appearances from the tracks; for objects that are
    not SynthCanvas-like, clear trajectory kinks too. Without a sync encoder: the per-track scorer."""
    small = analysis.small if analysis.small is not None else frames
    prob = impact_probability(small, cfg) if len(frames) > 1 and analysis.tracks else None
    if prob is None:
        return detect_events(analysis, events, rules_for=generic)
    peaks = sync_peaks(prob, cfg.threshold, cfg.separation)
    impact_ids = {tr.id for tr, rec in zip(analysis.tracks, recognitions) if rec.kind == "impact"}
    hits = assign_impacts(peaks, analysis, frames, impact_ids, cfg)
    rules = detect_events(analysis, events, learned=False)
    sep = events.separation / analysis.fps
    # where the head named some objects, unnamed pieces beside them are mostly fragments of
    # those objects: their kinks would be false hits (the encoder already times the named ones)
    kinks = cfg.kinks_too and all(rec.origin != "canvas" for rec in recognitions)
    peak_times = [p / analysis.fps for p in peaks]
    out: dict[int, list[VisualEvent]] = {}
    for tr in analysis.tracks:
        mine = list(hits.get(tr.id, []))
        for e in rules.get(tr.id, []):
            if e.kind in ("appear", "disappear") or (tr.id in generic and kinks and e.kind == "contact" and e.strength >= events.strong_turn
                  and all(abs(e.time - t) >= sep for t in peak_times)):
                mine.append(e)
        out[tr.id] = sorted(mine, key=lambda e: e.time)
    return out
