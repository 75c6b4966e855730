"""Two objects on screen together that the recognition head gives the same name.

A SynthCanvas-style scene shows each sprite once, so the plan keeps one source per name and
treats a smaller same-named track as a piece or ghost of it (`build_plan`). That is right
for pieces, but since crowded scenes are cut into one track per object (`centres.py`), two
real objects can get one name when the head confuses them; one of them was then dropped
from the plan, sound, position and all. Here, of two same-named tracks that are seen
together most of the time and stay apart (more than part of one object would), the less
certain one takes its next choice of name that no other object holds, unless one of the two
is much smaller or shorter-lived than the other (a piece or ghost, left to `build_plan`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..tracks import Track
from ..identify.recognise import Recogniser, Recognition


@dataclass
class NamesakeConfig:
    enabled: bool = True
    min_shared: float = 0.3  # seen together in this share of the shorter track's seen frames
    min_apart: float = 0.6  # ... with their centres this many object sizes apart (median)
    min_probability: float = 0.0  # the next choice must be at least this likely
    min_size: float = 0.6  # both at least this big (area) next to the other: smaller is a piece
    min_seen: float = 0.5  # ... and seen at least this share of the other's frames


def distinct_objects(a: Track, b: Track, cfg: NamesakeConfig) -> bool:
    """Whether two tracks are two objects seen together, not one object and a piece of it
    (or its ghost): seen together enough, apart, and neither much smaller or shorter-lived."""
    fa = a.frames[a.observed]
    fb = b.frames[b.observed]
    areas = sorted((float(np.median(a.area)), float(np.median(b.area))))
    seen = sorted((len(fa), len(fb)))
    if areas[0] < cfg.min_size * areas[1] or seen[0] < cfg.min_seen * seen[1]:
        return False
    shared = np.intersect1d(fa, fb)
    if len(shared) < cfg.min_shared * min(len(fa), len(fb)) or not len(shared):
        return False
    ia, ib = shared - a.start, shared - b.start
    apart = np.hypot(a.x[ia] - b.x[ib], a.y[ia] - b.y[ib])
    size = max(float(np.sqrt(np.median(a.area[ia]))), float(np.sqrt(np.median(b.area[ib]))))
    return float(np.median(apart)) >= cfg.min_apart * size


def rename_namesakes(tracks: list[Track], recognitions: list[Recognition], recogniser: Recogniser,
                     cfg: NamesakeConfig) -> list[Recognition]:
    """`recognitions` with the less certain of each pair of distinct same-named objects renamed."""
    recs = list(recognitions)
    if not cfg.enabled:
        return recs
    for _ in range(len(tracks)):
        changed = False
        for i in range(len(tracks)):
            for j in range(i + 1, len(tracks)):
                if recs[i].origin != "canvas" or recs[j].origin != "canvas" or recs[i].label != recs[j].label:
                    continue
                if not distinct_objects(tracks[i], tracks[j], cfg):
                    continue
                k = i if recs[i].confidence < recs[j].confidence else j
                taken = {r.label for r in recs if r.origin == "canvas"}
                choice = next(((label, p) for label, p in recs[k].alternatives
                               if label not in taken and p >= cfg.min_probability), None)
                if choice is None:
                    continue
                named = recogniser.named(*choice)
                recs[k] = replace(named, alternatives=tuple(a for a in recs[k].alternatives if a[0] != choice[0]))
                changed = True
        if not changed:
            break
    return recs
