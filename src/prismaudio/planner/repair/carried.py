"""Where an object rests while the camera turns or travels: carried along with the floor.

Where the camera moves, each frame's foreground is what moves against its neighbours
(`detect/compensated.py`), so a track covers the time its object moves and ends when it comes
to rest; yet the object is still there, and the camera carries it across the picture. Before its
first and after its last seen frame, the track is extended with the floor: its position carried
frame by frame through the camera's homographies (the floor is the plane they are fitted to, and
a resting object stands on it), until it leaves the picture. Added frames are unseen (`observed`
False), like those of the still camera's rests (`rests.py`): contacts, naming and motion come
from seen frames only; the spatial plan follows the object from where it sits.
"""

from __future__ import annotations

import numpy as np

from ..tracks import Analysis, Track, with_unseen_rows


def carried_positions(xy: tuple[float, float], start: int, stop: int, steps: np.ndarray) -> list[tuple[float, float]]:
    """Pixel positions of a point resting on the floor at frame `start`, frame by frame toward
    `stop` (exclusive; either way), through `steps` [T, 3, 3] (entry k carries frame k's
    coordinates into frame k-1's)."""
    point = np.array([xy[0], xy[1], 1.0])
    out = []
    step = -1 if stop < start else 1
    for k in range(start, stop, step):
        m = steps[k] if step < 0 else np.linalg.inv(steps[k + 1])
        point = m @ point
        point = point / (point[2] if abs(point[2]) > 1e-9 else 1e-9)
        out.append((float(point[0]), float(point[1])))
    return out


def _rows(track: Track, at: int, positions: list[tuple[float, float]], size: tuple[int, int]) -> dict:
    """Unseen rows for `positions` (pixels), inside the picture, with the box size of row `at`."""
    h, w = size
    inside = []
    for x, y in positions:
        if not (0 <= x < w and 0 <= y < h):
            break  # it left the picture: the plan holds it at the edge
        inside.append((x, y))
    k = len(inside)
    xs, ys = np.array([p[0] for p in inside]), np.array([p[1] for p in inside])
    bw, bh = track.w[at] * w, track.h[at] * h
    boxes = [(int(y - bh / 2), int(x - bw / 2), int(y + bh / 2), int(x + bw / 2)) for x, y in inside]
    return dict(x=xs / w, y=ys / h, w=np.full(k, track.w[at]), h=np.full(k, track.h[at]), area=np.full(k, track.area[at]),
                brightness=np.full(k, track.brightness[at]), boxes=boxes)


def carry_with_camera(analysis: Analysis, steps: np.ndarray) -> int:
    """Extend every track (in place) over the frames before its first and after its last seen
    frame, its object carried with the floor (module note). Returns the frames added."""
    n = min(analysis.num_frames, len(steps))
    size = (analysis.height, analysis.width)
    added, out = 0, []
    for tr in analysis.tracks:
        seen = np.flatnonzero(tr.observed)
        if not len(seen):
            out.append(tr)
            continue
        first, last, start, end = int(seen[0]), int(seen[-1]), tr.start, tr.end
        before = _rows(tr, first, carried_positions((tr.x[first] * size[1], tr.y[first] * size[0]), start, 0, steps), size)
        after = _rows(tr, last, carried_positions((tr.x[last] * size[1], tr.y[last] * size[0]), end, n - 1, steps), size)
        kb, ka = len(before["x"]), len(after["x"])
        if kb:  # (carried back frame by frame: the rows come latest first)
            rows = {name: values[::-1] for name, values in before.items()}
            tr = with_unseen_rows(tr, np.arange(start - kb, start), rows, rows["boxes"], True)
        if ka:
            tr = with_unseen_rows(tr, np.arange(end + 1, end + 1 + ka), after, after["boxes"], False)
        added += kb + ka
        out.append(tr)
    analysis.tracks = out
    return added
