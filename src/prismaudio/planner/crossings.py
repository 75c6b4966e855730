"""Undo identity swaps where two tracked objects met.

When two objects touch or pass each other, background subtraction sees one blob for a while;
when they part, each track takes the piece nearest its prediction, and objects that turned
(bounce, oscillate) or crossed leave with each other's tracks. Positions alone cannot tell,
but appearance can: each track's colour histogram just before the meeting (while it was
alone) is compared with both tracks' histograms just after. When the crossed pairing
explains the colours clearly better, the tracks exchange their tails from the middle of the
meeting on.

Pure post-processing of finished tracks; the pixels come from the blobs they were made of.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .analyser import Blob, Track
from .split import colour_bins, colour_histogram, histogram_distance


@dataclasses.dataclass
class Meeting:
    """Frames [start, end] where tracks `a` and `b` touch, with both seen alone around it."""

    a: int
    b: int
    start: int
    end: int


def touching(a: Track, b: Track, pad: float = 0.1) -> np.ndarray:
    """Per frame from the later start to the earlier end: whether the two boxes, each grown
    by `pad` of its size, overlap."""
    lo, hi = max(a.start, b.start), min(a.end, b.end)
    if hi < lo:
        return np.zeros(0, bool)
    ia, ib = np.arange(lo, hi + 1) - a.start, np.arange(lo, hi + 1) - b.start
    ba, bb = np.asarray(a.boxes, float)[ia], np.asarray(b.boxes, float)[ib]
    ga = pad * np.maximum(ba[:, 2] - ba[:, 0], ba[:, 3] - ba[:, 1])
    gb = pad * np.maximum(bb[:, 2] - bb[:, 0], bb[:, 3] - bb[:, 1])
    g = ga + gb
    return ((ba[:, 0] - g < bb[:, 2]) & (bb[:, 0] - g < ba[:, 2]) & (ba[:, 1] - g < bb[:, 3]) & (bb[:, 1] - g < ba[:, 3]))


def meetings(tracks: list[Track], min_gap: int = 3) -> list[Meeting]:
    """Every run of touching frames of every pair of tracks (runs closer than `min_gap` joined)."""
    out = []
    for i, a in enumerate(tracks):
        for j in range(i + 1, len(tracks)):
            b = tracks[j]
            mask = touching(a, b)
            if not mask.any():
                continue
            lo = max(a.start, b.start)
            idx = np.flatnonzero(mask)
            runs = np.split(idx, np.flatnonzero(np.diff(idx) > min_gap) + 1)
            out += [Meeting(i, j, lo + int(r[0]), lo + int(r[-1])) for r in runs]
    return sorted(out, key=lambda m: m.start)


def splice(a: Track, b: Track, frame: int) -> Track:
    """`a` before `frame` and `b` from `frame` on (both must cover `frame`), with a's id."""
    ka, kb = frame - a.start, frame - b.start
    values = {}
    for f in dataclasses.fields(Track):
        va, vb = getattr(a, f.name), getattr(b, f.name)
        if f.name == "id":
            values["id"] = a.id
        elif isinstance(va, np.ndarray):
            values[f.name] = np.concatenate([va[:ka], vb[kb:]])
        else:
            values[f.name] = list(va[:ka]) + list(vb[kb:])
    return Track(**values)


class Appearance:
    """Mean colour histogram of a track over frames where it is alone, from its blobs' pixels."""

    def __init__(self, blobs_per_frame: list[list[Blob]], frames: np.ndarray):
        self.by_box = [{b.box: b.pix for b in blobs if b.pix is not None} for blobs in blobs_per_frame]
        self.frames = frames
        self.cache: dict[tuple, np.ndarray] = {}

    def _blob_histogram(self, f: int, box: tuple) -> np.ndarray | None:
        key = (f, box)
        if key not in self.cache:
            pix = self.by_box[f].get(box)
            self.cache[key] = None if pix is None else colour_histogram(colour_bins(self.frames[f].reshape(-1, 3)[pix]))
        return self.cache[key]

    def histogram(self, tr: Track, first: int, last: int, alone: np.ndarray, min_frames: int) -> np.ndarray | None:
        """Over the track's frames in [first, last] marked `alone` (per track frame)."""
        hists = []
        for f in range(max(first, tr.start), min(last, tr.end) + 1):
            k = f - tr.start
            if not (tr.observed[k] and alone[k]):
                continue
            hist = self._blob_histogram(f, tr.boxes[k])
            if hist is not None:
                hists.append(hist)
        if len(hists) < min_frames:
            return None
        return np.mean(hists, axis=0)


def alone_frames(tracks: list[Track], low: float = 0.6, high: float = 1.6) -> list[np.ndarray]:
    """Per track, per frame: its blob is about its usual size (between `low` and `high` times
    its median area), so it holds this object alone. (Touching another track's box is allowed:
    in crowded scenes objects touch most of the time, and a box may touch without the blob
    taking in the other object.)"""
    out = []
    for tr in tracks:
        med = float(np.median(tr.area[tr.observed])) if tr.observed.any() else 0.0
        out.append((tr.area > low * med) & (tr.area < high * med))
    return out


def repair_crossings(tracks: list[Track], blobs_per_frame: list[list[Blob]], frames: np.ndarray,
                     window: int = 25, min_frames: int = 6, margin: float = 0.1) -> list[Track]:
    """Tracks with the tails of each pair that met exchanged where their colours (alone, up to
    `window` frames before and after the meeting, at least `min_frames` each) say the tracks
    left with each other's objects: the crossed pairing closer by `margin` (Hellinger, summed)."""
    if len(tracks) < 2:
        return tracks
    tracks = list(tracks)
    looks = Appearance(blobs_per_frame, frames)
    done: set[tuple[int, int, int]] = set()
    for _ in range(4 * len(tracks)):  # each exchange changes the tracks: look again (bounded)
        alone = alone_frames(tracks)
        swapped = False
        for m in meetings(tracks):
            key = (m.a, m.b, m.start)
            if key in done:
                continue
            done.add(key)
            a, b = tracks[m.a], tracks[m.b]
            before = [looks.histogram(t, m.start - window, m.start - 1, al, min_frames) for t, al in ((a, alone[m.a]), (b, alone[m.b]))]
            after = [looks.histogram(t, m.end + 1, m.end + window, al, min_frames) for t, al in ((a, alone[m.a]), (b, alone[m.b]))]
            if any(h is None for h in before + after):
                continue
            keep = histogram_distance(before[0], after[0]) + histogram_distance(before[1], after[1])
            cross = histogram_distance(before[0], after[1]) + histogram_distance(before[1], after[0])
            if cross + margin < keep:
                mid = (m.start + m.end) // 2
                tracks[m.a], tracks[m.b] = splice(a, b, mid), splice(b, a, mid)
                swapped = True
                break
        if not swapped:
            break
    return tracks
