"""Link blobs into tracks: optimal assignment on predicted positions, merged blobs split
between the tracks that entered them, gaps bridged, broken tracks re-linked, fragments dropped."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..detect.foreground import AnalyserConfig
from ..detect.split import pixels_histogram, split_between_tracks
from ..tracks import Blob, Track, boxes_overlap
from ..repair.swaps import repair_crossings


class TrackBuilder:
    def __init__(self, tid: int):
        self.id = tid
        self.rows: list[tuple] = []  # (frame, x, y, w, h, area, brightness, observed, box)
        self.missed = 0
        self.colour: np.ndarray | None = None  # running mean colour (appearance for association)
        self.hist: np.ndarray | None = None  # colour histogram learnt while alone (splits merged blobs)
        self.typical_area = 0.0  # area while alone (a blob much bigger than this holds other objects too)

    def predict(self, frame: int) -> tuple[float, float]:
        f, x, y = self.rows[-1][:3]
        if len(self.rows) >= 2:
            f0, x0, y0 = self.rows[-2][:3]
            # damped: a centroid that jumped while two objects merged should not fling the track
            vx, vy = 0.7 * (x - x0) / max(1, f - f0), 0.7 * (y - y0) / max(1, f - f0)
            return x + vx * (frame - f), y + vy * (frame - f)
        return x, y

    def add(self, frame: int, b: Blob) -> None:
        last = self.rows[-1] if self.rows else None
        if last is not None and frame - last[0] > 1:  # bridge the gap linearly
            for g in range(last[0] + 1, frame):
                a = (g - last[0]) / (frame - last[0])
                self.rows.append((g, *(last[i] + a * (v - last[i]) for i, v in zip(range(1, 7), (b.x, b.y, b.w, b.h, b.area, b.brightness))), False, last[8]))
        self.rows.append((frame, b.x, b.y, b.w, b.h, b.area, b.brightness, True, b.box))
        self.missed = 0
        c = np.asarray(b.colour, dtype=float)
        self.colour = c if self.colour is None else 0.8 * self.colour + 0.2 * c

    def learn_appearance(self, b: Blob, frame: np.ndarray | None) -> None:
        """Update size and colour model from a blob that is this object alone."""
        if b.owner is not None or frame is None or b.pix is None:
            return
        if self.typical_area and not 0.6 < b.area / self.typical_area < 1.6:
            return  # merged with something, or half hidden
        self.typical_area = b.area if not self.typical_area else 0.8 * self.typical_area + 0.2 * b.area
        hist = pixels_histogram(frame, b.pix)
        self.hist = hist if self.hist is None else 0.8 * self.hist + 0.2 * hist

    def build(self) -> Track:
        cols = list(zip(*self.rows))
        return Track(
            id=self.id, frames=np.asarray(cols[0], dtype=int), x=np.asarray(cols[1]), y=np.asarray(cols[2]),
            w=np.asarray(cols[3]), h=np.asarray(cols[4]), area=np.asarray(cols[5]), brightness=np.asarray(cols[6]),
            observed=np.asarray(cols[7], dtype=bool), boxes=list(cols[8]),
        )


def track_blobs(blobs_per_frame: list[list[Blob]], aspect: float, cfg: AnalyserConfig,
                frames: np.ndarray | None = None, factor: int = 1) -> list[Track]:
    """Link blobs over frames by optimal assignment on constant-velocity predictions.

    With the analysis `frames` (blob pixels index them), blobs that several tracks entered
    are split between those tracks (touching objects stay separate)."""
    active: list[TrackBuilder] = []
    done: list[TrackBuilder] = []
    next_id = 0
    diag = np.hypot(1.0, 1.0 / aspect)
    for f, blobs in enumerate(blobs_per_frame):
        frame = frames[f] if frames is not None else None
        if frame is not None:
            blobs = split_between_tracks(blobs, active, f, frame, factor, cfg.neck_radius)
        cost = np.full((len(active), len(blobs)), 1e6)
        for i, tr in enumerate(active):
            owned = [j for j, b in enumerate(blobs) if b.owner == tr.id]
            if owned:  # a piece of a merged blob cut out for this track
                cost[i, owned[0]] = 0.0
                continue
            px, py = tr.predict(f)
            last_area = tr.rows[-1][5]
            for j, b in enumerate(blobs):
                if b.owner is not None:
                    continue
                d = np.hypot(b.x - px, (b.y - py) / aspect) / diag
                size_ratio = max(b.area, last_area) / max(1e-9, min(b.area, last_area))
                if d < cfg.max_jump * (1 + tr.missed) and size_ratio < 6:
                    dc = 0.0 if tr.colour is None else float(np.linalg.norm(tr.colour - np.asarray(b.colour))) / 441.7
                    if tr.missed and d > cfg.max_jump and dc > cfg.max_colour_change:
                        continue  # lost, and this far blob looks different: another object, not this one back
                    cost[i, j] = d + 0.02 * np.log(size_ratio) + cfg.colour_weight * dc
        matched_tracks, matched_blobs = set(), set()
        for i, j in cascade_match(cost, [tr.missed for tr in active]):
            active[i].add(f, blobs[j])
            active[i].learn_appearance(blobs[j], frame)
            matched_tracks.add(i)
            matched_blobs.add(j)
        still = []
        for i, tr in enumerate(active):
            if i not in matched_tracks:
                tr.missed += 1
            (still if tr.missed <= cfg.max_gap else done).append(tr)
        active = still
        for j, b in enumerate(blobs):
            if j not in matched_blobs and b.owner is None:
                tr = TrackBuilder(next_id)
                next_id += 1
                tr.add(f, b)
                tr.learn_appearance(b, frame)
                active.append(tr)
    done.extend(active)
    tracks = [t.build() for t in done if sum(r[7] for r in t.rows) >= cfg.min_frames]
    tracks = relink(sorted(tracks, key=lambda t: t.start), aspect, cfg)
    if frames is not None and cfg.crossings:
        tracks = repair_crossings(tracks, blobs_per_frame, frames)
    return tracks


def cascade_match(cost: np.ndarray, missed: list[int], infeasible: float = 1e6) -> list[tuple[int, int]]:
    """(track, blob) pairs: tracks seen in the previous frame choose first, lost ones take what is left.

    One joint assignment must match min(tracks, blobs) pairs, so a lost track whose (long,
    extrapolated) prediction happens to fall on an object that a live track follows can take it
    over, the live track being pushed onto whatever is left (a fragment, another object): a swap.
    Matching in order of how long a track has gone unseen (a cascade, as in DeepSORT) gives an
    object to the track that just saw it; a lost track only gets blobs nobody fresher wants.
    """
    pairs: list[tuple[int, int]] = []
    if not cost.size:
        return pairs
    free = list(range(cost.shape[1]))
    for level in sorted(set(missed)):
        rows = [i for i, m in enumerate(missed) if m == level]
        if not free:
            break
        sub = cost[np.ix_(rows, free)]
        r, c = linear_sum_assignment(sub)
        taken = set()
        for a, b in zip(r, c):
            if sub[a, b] < infeasible:
                pairs.append((rows[a], free[b]))
                taken.add(free[b])
        free = [j for j in free if j not in taken]
    return pairs


def relink(tracks: list[Track], aspect: float, cfg: AnalyserConfig) -> list[Track]:
    """Join a track that ends with one that starts soon after near where it should be (same size)."""
    merged = True
    while merged:
        merged = False
        for a in tracks:
            best, best_d = None, np.inf
            for b in tracks:
                gap = b.start - a.end
                if b is a or gap < 0 or gap > cfg.relink_gap:
                    continue
                if _at_border(b, 0) and not _at_border(a, -1):
                    continue  # b enters the picture: a new object, not a's continuation
                n = min(len(a), 4)
                vx = (a.x[-1] - a.x[-n]) / max(1, n - 1)
                vy = (a.y[-1] - a.y[-n]) / max(1, n - 1)
                d = np.hypot(a.x[-1] + vx * gap - b.x[0], (a.y[-1] + vy * gap - b.y[0]) / aspect)
                # sizes over a few frames: a track often begins or ends merged with something
                end_area, start_area = float(np.median(a.area[-5:])), float(np.median(b.area[:5]))
                ratio = max(end_area, start_area) / max(1e-9, min(end_area, start_area))
                if d < cfg.max_jump * (1 + 0.25 * gap) and ratio < 2.5 and d < best_d:
                    best, best_d = b, d
            if best is not None:
                tracks = [t for t in tracks if t is not a and t is not best] + [_join(a, best)]
                tracks.sort(key=lambda t: t.start)
                merged = True
                break
    for i, t in enumerate(tracks):
        t.id = i
    return tracks


def _at_border(tr: Track, i: int, margin: float = 0.02) -> bool:
    """Whether the object reaches the edge of the picture at index `i` (its centre plus or
    minus half its box size)."""
    return bool(min(tr.x[i] - tr.w[i] / 2, tr.y[i] - tr.h[i] / 2) < margin
                or max(tr.x[i] + tr.w[i] / 2, tr.y[i] + tr.h[i] / 2) > 1 - margin)


def _join(a: Track, b: Track) -> Track:
    if b.start <= a.end:  # touching tracks (one frame shared): keep the earlier track's frame
        keep = b.frames > a.end
        b = Track(b.id, b.frames[keep], b.x[keep], b.y[keep], b.w[keep], b.h[keep], b.area[keep], b.brightness[keep],
                  b.observed[keep], [bx for bx, k in zip(b.boxes, keep) if k])
    gap = np.arange(a.end + 1, b.start)
    alpha = (gap - a.end) / (b.start - a.end)

    def cat(name):
        va, vb = getattr(a, name), getattr(b, name)
        return np.concatenate([va, va[-1] + alpha * (vb[0] - va[-1]), vb])

    return Track(
        id=a.id, frames=np.concatenate([a.frames, gap, b.frames]), x=cat("x"), y=cat("y"), w=cat("w"), h=cat("h"),
        area=cat("area"), brightness=cat("brightness"),
        observed=np.concatenate([a.observed, np.zeros(len(gap), bool), b.observed]),
        boxes=a.boxes + [a.boxes[-1]] * len(gap) + b.boxes,
    )


def drop_fragments(tracks: list[Track], num_frames: int, cfg: AnalyserConfig) -> list[Track]:
    """Drop short tracks that spend most of their life touching a longer track and moving with
    it: the ghost an object leaves in the background model, or a piece split off an object while
    it merged. A short track that travels and passes the other by (moves, and moves relative to
    it, by more than its own size over its life, and is not much smaller: a fast object crossing
    the picture near others) is an object of its own."""
    keep = []
    for tr in tracks:
        if len(tr) >= max(cfg.fragment_frames, cfg.fragment_share * num_frames):
            keep.append(tr)
            continue
        touching = np.zeros(len(tr), dtype=bool)
        size = max(float(np.median(tr.w)), float(np.median(tr.h)))
        travels = np.hypot(tr.x[-1] - tr.x[0], tr.y[-1] - tr.y[0]) >= cfg.fragment_pass * size
        for other in tracks:
            if other is tr or len(other) <= len(tr):
                continue
            here = np.zeros(len(tr), dtype=bool)
            for i, f in enumerate(tr.frames):
                j = int(f) - other.start
                if 0 <= j < len(other):
                    b = other.boxes[j]
                    here[i] = boxes_overlap(tr.boxes[i], b, 0.25 * max(b[2] - b[0], b[3] - b[1]))
            passes = travels and relative_shift(tr, other) >= cfg.fragment_pass * size
            if here.any() and not (passes and np.median(tr.area) >= cfg.fragment_pass_area * np.median(other.area)):
                touching |= here
        if touching.sum() < 0.5 * len(tr):
            keep.append(tr)
    return keep


def relative_shift(tr: Track, other: Track) -> float:
    """How far (frame fractions) `tr` moved relative to `other` from its first to its last frame
    that both cover: a piece of `other` (or its ghost) ends where it began, relative to it; an
    object passing by does not."""
    both = np.flatnonzero((tr.frames >= other.start) & (tr.frames <= other.end))
    if len(both) < 2:
        return 0.0
    a, b = int(both[0]), int(both[-1])
    ja, jb = int(tr.frames[a]) - other.start, int(tr.frames[b]) - other.start
    return float(np.hypot((tr.x[b] - other.x[jb]) - (tr.x[a] - other.x[ja]), (tr.y[b] - other.y[jb]) - (tr.y[a] - other.y[ja])))


def reversed_track(tr: Track, num_frames: int) -> Track:
    """A track found on the reversed clip, in the clip's own frame order."""
    return Track(
        id=tr.id, frames=(num_frames - 1 - tr.frames)[::-1].copy(), x=tr.x[::-1].copy(), y=tr.y[::-1].copy(),
        w=tr.w[::-1].copy(), h=tr.h[::-1].copy(), area=tr.area[::-1].copy(), brightness=tr.brightness[::-1].copy(),
        observed=tr.observed[::-1].copy(), boxes=tr.boxes[::-1],
    )


def separations(tracks: list[Track], min_side: float, pad: int = 2, window: int = 15, min_speed: float = 0.006) -> int:
    """How many tracks start out of another live track's box after the first frame and move
    differently from it: an object that was merged with that one until then (the forward pass
    could not split it out earlier, having never seen the two apart). Both must be object-sized
    (sqrt of the area at least `min_side` of the frame) and part at `min_speed` (frame fraction
    per frame): small pieces that keep their distance are fragments of one object whose colours
    match the background in places."""
    count = 0
    for tr in tracks:
        if tr.start == 0:
            continue
        for other in tracks:
            j = tr.start - other.start
            if other is tr or not 0 < j < len(other) or not boxes_overlap(tr.boxes[0], other.boxes[j], pad):
                continue
            n = min(window, len(tr), len(other) - j)
            if n < 3:
                continue
            sizes = np.sqrt(np.median(tr.area[:n])), np.sqrt(np.median(other.area[j : j + n]))
            dvx = np.diff(tr.x[:n]).mean() - np.diff(other.x[j : j + n]).mean()
            dvy = np.diff(tr.y[:n]).mean() - np.diff(other.y[j : j + n]).mean()
            if min(sizes) >= min_side and np.hypot(dvx, dvy) >= min_speed:
                count += 1
                break
    return count
