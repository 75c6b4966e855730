"""Undo a track swap that left two tracks with one name.

When an object pops in next to a tracked one, the tracker sometimes moves the old track onto
the newcomer and gives the old object a new track (fast objects, one blob for a few frames).
The old track then shows one object before the swap and another after it; the head, seeing
mostly the first, names both tracks alike, and the plan keeps the longer one: the swapped
track. Its swap point is where the other namesake begins. Cut there, the part after the swap
is named again on its own: when it is confidently something else, the two parts become two
tracks (the part before then joins its namesake as one object, the part after is the newcomer).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .analyser import Track


@dataclass
class SwapConfig:
    enabled: bool = True
    min_frames: int = 10  # both parts of a cut track must be seen at least this many frames
    min_confidence: float = 0.6  # the part after the swap must be named this surely (and differently)


def cut_track(track: Track, frame: int, new_id: int) -> tuple[Track, Track]:
    """`track` before `frame` (same id) and from `frame` on (`new_id`)."""
    k = frame - track.start

    def part(sl: slice, tid: int) -> Track:
        return Track(tid, track.frames[sl].copy(), track.x[sl].copy(), track.y[sl].copy(), track.w[sl].copy(), track.h[sl].copy(),
                     track.area[sl].copy(), track.brightness[sl].copy(), track.observed[sl].copy(), list(track.boxes[sl]))

    return part(slice(0, k), track.id), part(slice(k, None), new_id)


def swap_points(tracks: list[Track], labels: list[str | None], cfg: SwapConfig) -> dict[int, int]:
    """Index of a track -> the frame to cut it at: it started before a namesake (same label, not
    None) began and was still on screen, seen at least `min_frames` on either side, after."""
    cuts: dict[int, int] = {}
    for i, a in enumerate(tracks):
        for j, b in enumerate(tracks):
            if i == j or labels[i] is None or labels[i] != labels[j] or not a.start < b.start <= a.end:
                continue
            k = b.start - a.start
            if a.observed[:k].sum() >= cfg.min_frames and a.observed[k:].sum() >= cfg.min_frames:
                cuts[i] = min(cuts.get(i, b.start), b.start)
    return cuts


def repair_swaps(frames: np.ndarray, tracks: list[Track], recognitions: list, recogniser, cfg: SwapConfig | None = None):
    """(tracks, recognitions) with swapped tracks cut in two (see the module). `recogniser` names
    the parts after the cut (`Recogniser.recognise`)."""
    cfg = cfg or SwapConfig()
    if not cfg.enabled or len(tracks) < 2:
        return tracks, recognitions
    labels = [r.label if r.origin == "canvas" else None for r in recognitions]
    cuts = swap_points(tracks, labels, cfg)
    if not cuts:
        return tracks, recognitions
    next_id = max(t.id for t in tracks) + 1
    parts = {i: cut_track(tracks[i], f, next_id + n) for n, (i, f) in enumerate(sorted(cuts.items()))}
    after = recogniser.recognise(frames, [parts[i][1] for i in sorted(parts)])
    out_tracks, out_recs = [], []
    named = dict(zip(sorted(parts), after))
    for i, (tr, rec) in enumerate(zip(tracks, recognitions)):
        new = named.get(i)
        if new is not None and new.origin == "canvas" and new.label != rec.label and new.confidence >= cfg.min_confidence:
            out_tracks += list(parts[i])
            out_recs += [rec, new]
        else:
            out_tracks.append(tr)
            out_recs.append(rec)
    return out_tracks, out_recs
