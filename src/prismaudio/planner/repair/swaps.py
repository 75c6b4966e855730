"""Undo track swaps: a track that went on with another object than the one it began on.

Two cues find the swap point; both repair it by the same surgery on the finished tracks
(`splice`: one track's frames before the point joined to another's after it; `cut_track`):

- colours where two tracked objects met (`repair_crossings`, run by the tracker). When two
  objects touch or pass each other, background subtraction sees one blob, or pieces cut from
  one blob, for a while; when they part, each track takes the piece nearest its prediction,
  and objects that turned (bounce, oscillate) or crossed go on with each other's tracks.
  Positions alone cannot tell, but appearance can. For every meeting of two tracks, every
  frame in it is a candidate swap point: each track's colour histogram (mean over up to a
  second of frames where its blob is about its usual size, i.e. holds it alone) before that
  frame is compared with both tracks' histograms after it. Where the crossed pairing explains
  the colours clearly better than the kept one, the tracks exchange their tails there.
  Objects that touch for seconds can part anywhere in the meeting, hence the search.
- names, where an object popped in next to a tracked one (`repair_swaps`, run in the identify
  pass on SynthCanvas-like footage). The tracker sometimes moves the old track onto the
  newcomer and gives the old object a new track (fast objects, one blob for a few frames).
  The old track then shows one object before the swap and another after it; the head, seeing
  mostly the first, names both tracks alike, and the plan keeps the longer one: the swapped
  track. Its swap point is where the other namesake begins. Cut there, the part after the
  swap is named again on its own: when it is confidently something else, the two parts become
  two tracks (the part before then joins its namesake as one object, the part after is the
  newcomer).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..detect.split import NUM_BINS, histogram_distance, pixels_histogram
from ..tracks import Blob, Track


@dataclasses.dataclass
class Meeting:
    """Frames [start, end] where tracks `a` and `b` (indices into the track list) touch."""

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


def _rows(track: Track, rows: slice) -> dict:
    """Every per-frame field of `track` over `rows` (indices into its frames), copied."""
    out = {}
    for f in dataclasses.fields(Track):
        if f.name != "id":
            v = getattr(track, f.name)
            out[f.name] = v[rows].copy() if isinstance(v, np.ndarray) else list(v[rows])
    return out


def splice(a: Track, b: Track, frame: int) -> Track:
    """`a` before `frame` and `b` from `frame` on (both must cover `frame`), with a's id."""
    head, tail = _rows(a, slice(0, frame - a.start)), _rows(b, slice(frame - b.start, None))
    return Track(a.id, **{k: np.concatenate([head[k], tail[k]]) if isinstance(head[k], np.ndarray) else head[k] + tail[k]
                          for k in head})


def cut_track(track: Track, frame: int, new_id: int) -> tuple[Track, Track]:
    """`track` before `frame` (same id) and from `frame` on (`new_id`)."""
    k = frame - track.start
    return Track(track.id, **_rows(track, slice(0, k))), Track(new_id, **_rows(track, slice(k, None)))


class Appearance:
    """Colour histograms of tracks from their blobs' pixels, over frames where they are alone."""

    def __init__(self, blobs_per_frame: list[list[Blob]], frames: np.ndarray):
        self.by_box = [{b.box: b.pix for b in blobs if b.pix is not None} for blobs in blobs_per_frame]
        self.frames = frames
        self.cache: dict[tuple, np.ndarray | None] = {}

    def blob_histogram(self, f: int, box: tuple) -> np.ndarray | None:
        key = (f, box)
        if key not in self.cache:
            pix = self.by_box[f].get(box)
            self.cache[key] = None if pix is None else pixels_histogram(self.frames[f], pix)
        return self.cache[key]

    def running(self, tr: Track, alone: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Prefix sums over the track's frames of its histograms [n + 1, bins] and of how many
        frames had one [n + 1]: the mean over any span is two subtractions."""
        hists = np.zeros((len(tr), NUM_BINS))
        have = np.zeros(len(tr))
        for k in np.flatnonzero(tr.observed & alone):
            hist = self.blob_histogram(int(tr.frames[k]), tr.boxes[k])
            if hist is not None:
                hists[k], have[k] = hist, 1.0
        zero = np.zeros((1, NUM_BINS))
        return np.concatenate([zero, np.cumsum(hists, 0)]), np.concatenate([[0.0], np.cumsum(have)])


def span_mean(running: tuple[np.ndarray, np.ndarray], lo: int, hi: int, min_frames: int) -> np.ndarray | None:
    """Mean histogram over track frames [lo, hi) (clipped), None with fewer than `min_frames`."""
    sums, counts = running
    lo, hi = max(0, lo), min(len(counts) - 1, hi)
    if hi <= lo or counts[hi] - counts[lo] < min_frames:
        return None
    return (sums[hi] - sums[lo]) / (counts[hi] - counts[lo])


def exchange_gain(before: list[np.ndarray], after: list[np.ndarray]) -> float:
    """How much closer the crossed pairing of two tracks' colours before and after a frame is
    than the kept one (Hellinger distances, summed): > 0 means they swapped objects there."""
    keep = histogram_distance(before[0], after[0]) + histogram_distance(before[1], after[1])
    cross = histogram_distance(before[0], after[1]) + histogram_distance(before[1], after[0])
    return keep - cross


def best_exchange(a: Track, b: Track, runs: list, m: Meeting, window: int, min_frames: int) -> tuple[float, int]:
    """(gain, frame) of the frame in the meeting where exchanging tails explains the colours
    best: for each candidate frame, `window` frames on either side (objects may touch for
    seconds and part anywhere in between)."""
    best = (-np.inf, m.start)
    for f in range(m.start, m.end + 2):  # (end + 1: they parted right after the meeting)
        if f > min(a.end, b.end):
            break
        ka, kb = f - a.start, f - b.start
        before = [span_mean(runs[0], ka - window, ka, min_frames), span_mean(runs[1], kb - window, kb, min_frames)]
        after = [span_mean(runs[0], ka, ka + window, min_frames), span_mean(runs[1], kb, kb + window, min_frames)]
        if any(h is None for h in before + after):
            continue
        gain = exchange_gain(before, after)
        if gain > best[0]:
            best = (gain, f)
    return best


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
                     window: int = 25, min_frames: int = 6, margin: float = 0.2) -> list[Track]:
    """Tracks with the tails of each pair that met exchanged where their colours (alone, up to
    `window` frames on either side, at least `min_frames` each) say the tracks went on with
    each other's objects: the crossed pairing closer by `margin` (Hellinger, summed)."""
    if len(tracks) < 2:
        return tracks
    tracks = list(tracks)
    looks = Appearance(blobs_per_frame, frames)
    done: set[tuple[int, int, int]] = set()
    for _ in range(4 * len(tracks)):  # each exchange changes the tracks: look again (bounded)
        alone = alone_frames(tracks)
        runs: dict[int, tuple] = {}
        swapped = False
        for m in meetings(tracks):
            key = (m.a, m.b, m.start)
            if key in done:
                continue
            done.add(key)
            for i in (m.a, m.b):
                if i not in runs:
                    runs[i] = looks.running(tracks[i], alone[i])
            a, b = tracks[m.a], tracks[m.b]
            gain, frame = best_exchange(a, b, [runs[m.a], runs[m.b]], m, window, min_frames)
            if gain > margin:
                tracks[m.a], tracks[m.b] = splice(a, b, frame), splice(b, a, frame)
                swapped = True
                break
        if not swapped:
            break
    return tracks


@dataclass
class SwapConfig:
    enabled: bool = True
    min_frames: int = 10  # both parts of a cut track must be seen at least this many frames
    min_confidence: float = 0.6  # the part after the swap must be named this surely (and differently)


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
