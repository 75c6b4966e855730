"""Find and track moving objects in a video: background model + connected components.

Works on any static-camera footage: a per-pixel median over time is the background; pixels
that differ from it (by more than the frame's own noise) are foreground; foreground pixels
are grouped into blobs (connected components after a small dilation, so an object whose
colours partly match the background stays one blob); blobs are linked frame to frame by
optimal assignment on predicted positions, short gaps (occlusion, merged blobs) are bridged,
and broken tracks of the same object are re-linked afterwards.

Positions are normalised: x, y in [0, 1] of the frame width/height; sizes as fractions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage
from scipy.optimize import linear_sum_assignment

from .split import colour_bins, colour_histogram, split_by_necks, split_pixels

log = logging.getLogger(__name__)


@dataclass
class AnalyserConfig:
    max_side: int = 224  # decode resolution (longer side, pixels): crops for recognition come from these
    motion_side: int = 112  # motion is analysed on frames block-averaged down to about this size (speed)
    diff_threshold: float = 28.0  # minimum |frame - background| (0..255, max over RGB) for foreground
    noise_factor: float = 4.0  # ... or this many robust standard deviations of the frame's difference
    strong_factor: float = 2.0  # foreground this many times over the threshold survives the opening
    min_area: float = 0.0012  # smallest blob, fraction of the frame area
    dilate: int = 1  # pixels of dilation that join fragments of one object
    max_jump: float = 0.18  # largest move between frames, fraction of the frame diagonal
    max_gap: int = 6  # frames a track may go unseen (occlusion, merge) and continue
    relink_gap: int = 25  # frames between a track's end and another's start that may still be one object
    min_frames: int = 3  # shorter tracks are dropped as noise
    background_samples: int = 64  # frames used for the median background
    colour_weight: float = 0.5  # weight of the mean-colour difference in frame-to-frame association
    fragment_frames: int = 25  # tracks shorter than this that hug a longer one are fragments
    fragment_share: float = 0.25  # ... or shorter than this share of the clip (crowded scenes: objects hug all the time)
    neck_radius: float = 0.06  # objects at least this deep (fraction of the frame side) touching at a narrow neck are cut apart (0: never)
    min_travel: float = 0.015  # a track whose centre moves less than this (frame fraction) is not an object


@dataclass
class Blob:
    x: float  # centroid, fraction of width
    y: float
    w: float  # bbox size, fraction of width/height
    h: float
    area: float  # fraction of the frame area
    box: tuple[int, int, int, int]  # pixel bbox (top, left, bottom, right) in analysis frames
    brightness: float  # mean luminance of the object's pixels (0..255)
    colour: tuple[float, float, float] = (0.0, 0.0, 0.0)  # mean RGB of the object's pixels
    pix: np.ndarray | None = field(default=None, repr=False)  # its pixels (flat indices into the analysis frame)
    owner: int | None = None  # a piece split from a merged blob for this track id


@dataclass
class Track:
    """One object over time: arrays indexed by `frames` (analysis frame numbers)."""

    id: int
    frames: np.ndarray
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    h: np.ndarray
    area: np.ndarray
    brightness: np.ndarray
    observed: np.ndarray  # False where the position was bridged over a gap
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def start(self) -> int:
        return int(self.frames[0])

    @property
    def end(self) -> int:
        return int(self.frames[-1])

    def __len__(self) -> int:
        return len(self.frames)


@dataclass
class Analysis:
    fps: float
    num_frames: int
    width: int  # analysis frame size
    height: int
    tracks: list[Track]
    static: bool  # nothing moved
    blank: bool  # frames carry no picture (black or one flat colour)
    background: np.ndarray  # [h, w, 3] uint8 at motion-analysis resolution
    notes: list[str] = field(default_factory=list)
    small: np.ndarray | None = field(default=None, repr=False)  # the frames at motion-analysis resolution

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps


def analysis_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(height, width) scaled so the longer side is at most `max_side`, both even, aspect kept."""
    scale = min(1.0, max_side / max(width, height))
    w = max(2, int(round(width * scale / 2)) * 2)
    h = max(2, int(round(height * scale / 2)) * 2)
    return h, w


def block_mean(frames: np.ndarray, factor: int) -> np.ndarray:
    """[T, H, W, 3] uint8 reduced by `factor`: the mean of the two diagonal pixels of each block
    (nearly as smooth as a full block mean at a fraction of the cost)."""
    if factor == 1:
        return frames
    a = frames[:, ::factor, ::factor]
    b = frames[:, factor // 2 :: factor, factor // 2 :: factor]
    n = min(a.shape[1], b.shape[1]), min(a.shape[2], b.shape[2])
    return ((a[:, : n[0], : n[1]].astype(np.uint16) + b[:, : n[0], : n[1]]) // 2).astype(np.uint8)


def background_model(frames: np.ndarray, samples: int, levels: int = 16, min_share: float = 0.15) -> np.ndarray:
    """Per pixel, the colour it shows most often among up to `samples` evenly spaced frames.

    The most frequent coarse colour (`levels` per channel) and then the mean of the frames
    in it: unlike the median, this keeps the background where objects cover a pixel most of
    the time but with changing colours (objects wandering about one place). Where no colour
    holds `min_share` of the frames (noise, texture), the median is used.
    """
    idx = np.unique(np.linspace(0, len(frames) - 1, min(samples, len(frames))).round().astype(int))
    x = frames[idx]
    n, h, w = x.shape[:3]
    median = np.median(x, axis=0).astype(np.uint8)
    if n < 3:
        return median
    q = (x.astype(np.int32) * levels) >> 8
    codes = ((q[..., 0] * levels + q[..., 1]) * levels + q[..., 2]).reshape(n, -1)
    s = np.sort(codes, axis=0)
    rows = np.arange(n)[:, None]
    start = np.ones_like(s, dtype=bool)
    start[1:] = s[1:] != s[:-1]
    run_start = np.maximum.accumulate(np.where(start, rows, 0), axis=0)
    length = rows - run_start + 1
    best = length.argmax(axis=0)
    cols = np.arange(s.shape[1])
    mode, share = s[best, cols], length[best, cols] / n
    inside = (codes == mode[None]).reshape(n, h, w)
    weight = inside[..., None].astype(np.float32)
    mean = (x.astype(np.float32) * weight).sum(0) / np.maximum(weight.sum(0), 1.0)
    use = (share >= min_share).reshape(h, w)
    return np.where(use[..., None], np.clip(np.round(mean), 0, 255).astype(np.uint8), median)


def foreground_masks(frames: np.ndarray, background: np.ndarray, cfg: AnalyserConfig) -> tuple[np.ndarray, np.ndarray]:
    """Foreground [T, H, W] (bool, small specks opened away) and the dilated mask whose
    components are objects (fragments of one object joined). Batched in torch for speed."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(frames)).to(torch.int16)
    bg = torch.from_numpy(background).to(torch.int16)
    diff = (x - bg).abs().amax(dim=-1).float()  # [T, H, W]
    flat = diff[:, ::3, ::3].flatten(1)  # a subsample estimates the statistics well enough
    # Robust noise floor per frame (compression noise, flicker): median + k * MAD.
    med = flat.median(dim=1).values
    mad = (flat - med[:, None]).abs().median(dim=1).values * 1.4826
    thr = torch.clamp(med + cfg.noise_factor * mad, min=cfg.diff_threshold)
    mask = (diff > thr[:, None, None]).numpy()
    # opening (3x3): erosion then dilation removes isolated noisy pixels; pixels far above the
    # threshold stay (thin objects - sticks, strings - would be opened away)
    strong = (diff > cfg.strong_factor * thr[:, None, None]).numpy()
    mask = dilate(~dilate(~mask, 1), 1) | strong
    return mask, dilate(mask, cfg.dilate)


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation of [..., H, W] by a (2r+1)^2 square, separable, by shifted ORs (fast)."""
    out = mask.copy()
    for axis in (-2, -1):
        src = out.copy()
        n = out.shape[axis]
        for r in range(1, radius + 1):
            if r >= n:
                break
            a = [slice(None)] * out.ndim
            b = [slice(None)] * out.ndim
            a[axis], b[axis] = slice(r, None), slice(None, -r)
            out[tuple(a)] |= src[tuple(b)]
            out[tuple(b)] |= src[tuple(a)]
    return out


_EIGHT = np.ones((3, 3), dtype=bool)


def blob_from_pixels(flat: np.ndarray, frame: np.ndarray, factor: int = 1) -> Blob:
    """Statistics of the object made of pixels `flat` (flat indices into `frame` [h, w, 3]);
    the box is in pixels of frames `factor` times larger (the decode resolution)."""
    h, w = frame.shape[:2]
    ys, xs = np.divmod(flat, w)
    rgb = frame.reshape(-1, 3)[flat].astype(np.float32)
    colour = rgb.mean(0)
    top, bottom = int(ys.min()), int(ys.max()) + 1
    left, right = int(xs.min()), int(xs.max()) + 1
    box = (top * factor, left * factor, min(h * factor, bottom * factor), min(w * factor, right * factor))
    return Blob(
        x=float((xs.mean() + 0.5) / w), y=float((ys.mean() + 0.5) / h), w=(right - left) / w, h=(bottom - top) / h,
        area=float(len(flat) / (h * w)), box=box, brightness=float(colour @ np.array([0.299, 0.587, 0.114], np.float32)),
        colour=(float(colour[0]), float(colour[1]), float(colour[2])), pix=flat,
    )


def find_blobs(mask: np.ndarray, grown: np.ndarray, frame: np.ndarray, cfg: AnalyserConfig, factor: int = 1) -> list[Blob]:
    """Connected components of one (dilated) foreground mask; statistics from the real pixels."""
    h, w = mask.shape
    if not mask.any():
        return []
    labels, count = ndimage.label(grown, structure=_EIGHT)
    labels = np.where(mask, labels, 0).ravel()
    flat = np.flatnonzero(labels)
    lab = labels[flat]
    order = np.argsort(lab, kind="stable")
    flat, lab = flat[order], lab[order]
    bounds = np.searchsorted(lab, np.arange(1, count + 2))
    min_pixels = max(1, cfg.min_area * h * w)
    return [blob_from_pixels(flat[a:b], frame, factor) for a, b in zip(bounds[:-1], bounds[1:]) if b - a >= min_pixels]


class _Builder:
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
        hist = colour_histogram(colour_bins(frame.reshape(-1, 3)[b.pix]))
        self.hist = hist if self.hist is None else 0.8 * self.hist + 0.2 * hist

    def build(self) -> Track:
        cols = list(zip(*self.rows))
        return Track(
            id=self.id, frames=np.asarray(cols[0], dtype=int), x=np.asarray(cols[1]), y=np.asarray(cols[2]),
            w=np.asarray(cols[3]), h=np.asarray(cols[4]), area=np.asarray(cols[5]), brightness=np.asarray(cols[6]),
            observed=np.asarray(cols[7], dtype=bool), boxes=list(cols[8]),
        )


def _neck_pieces(b: Blob, frame: np.ndarray, factor: int, min_radius: float) -> list[Blob]:
    """A blob that no two tracks claim, cut at narrow necks (objects touching from the start)."""
    w = frame.shape[1]
    if min_radius <= 0 or len(b.pix) < 2 * np.pi * min_radius**2:
        return [b]
    ys, xs = np.divmod(b.pix, w)
    owner = split_by_necks(ys, xs, min_radius)
    if owner is None:
        return [b]
    return [blob_from_pixels(b.pix[owner == k], frame, factor) for k in range(int(owner.max()) + 1) if (owner == k).any()]


def split_merged(blobs: list[Blob], active: list[_Builder], f: int, frame: np.ndarray, factor: int,
                 neck_radius: float = 0.0) -> list[Blob]:
    """Blobs of frame `f`, where a blob that two or more live tracks have entered (their
    predicted centres fall inside it and it is bigger than either alone) is cut into one
    piece per track by `split_pixels` (colour model + position prior)."""
    h, w = frame.shape[:2]
    min_radius = neck_radius * max(h, w)
    out: list[Blob] = []
    for b in blobs:
        if b.pix is None:
            out.append(b)
            continue
        top, left, bottom, right = (v / factor for v in b.box)
        gy, gx = 0.15 * (bottom - top), 0.15 * (right - left)
        inside = []
        for tr in active:
            if tr.missed > 2 or tr.hist is None or not tr.typical_area:
                continue
            px, py = tr.predict(f)
            if left - gx <= px * w <= right + gx and top - gy <= py * h <= bottom + gy:
                inside.append((tr, px * w - 0.5, py * h - 0.5))
        if len(inside) < 2 or b.area < 1.3 * max(tr.typical_area for tr, _, _ in inside):
            out.extend(_neck_pieces(b, frame, factor, min_radius))
            continue
        ys, xs = np.divmod(b.pix, w)
        centres = np.array([[cy, cx] for _, cx, cy in inside])
        sigmas = np.array([0.5 * np.sqrt(tr.typical_area * h * w) for tr, _, _ in inside])
        hists = np.stack([tr.hist for tr, _, _ in inside])
        owner = split_pixels(ys, xs, colour_bins(frame.reshape(-1, 3)[b.pix]), centres, sigmas, hists)
        for k, (tr, _, _) in enumerate(inside):
            mine = b.pix[owner == k]
            if len(mine) >= max(4, 0.25 * tr.typical_area * h * w):  # less: hidden behind the others
                piece = blob_from_pixels(mine, frame, factor)
                piece.owner = tr.id
                out.append(piece)
    return out


def track_blobs(blobs_per_frame: list[list[Blob]], aspect: float, cfg: AnalyserConfig,
                frames: np.ndarray | None = None, factor: int = 1) -> list[Track]:
    """Link blobs over frames by optimal assignment on constant-velocity predictions.

    With the analysis `frames` (blob pixels index them), blobs that several tracks entered
    are split between those tracks (touching objects stay separate)."""
    active: list[_Builder] = []
    done: list[_Builder] = []
    next_id = 0
    diag = np.hypot(1.0, 1.0 / aspect)
    for f, blobs in enumerate(blobs_per_frame):
        frame = frames[f] if frames is not None else None
        if frame is not None:
            blobs = split_merged(blobs, active, f, frame, factor, cfg.neck_radius)
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
                    cost[i, j] = d + 0.02 * np.log(size_ratio) + cfg.colour_weight * dc
        matched_tracks, matched_blobs = set(), set()
        if cost.size:
            rows, cols = linear_sum_assignment(cost)
            for i, j in zip(rows, cols):
                if cost[i, j] < 1e6:
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
                tr = _Builder(next_id)
                next_id += 1
                tr.add(f, b)
                tr.learn_appearance(b, frame)
                active.append(tr)
    done.extend(active)
    tracks = [t.build() for t in done if sum(r[7] for r in t.rows) >= cfg.min_frames]
    return relink(sorted(tracks, key=lambda t: t.start), aspect, cfg)


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
                n = min(len(a), 4)
                vx = (a.x[-1] - a.x[-n]) / max(1, n - 1)
                vy = (a.y[-1] - a.y[-n]) / max(1, n - 1)
                d = np.hypot(a.x[-1] + vx * gap - b.x[0], (a.y[-1] + vy * gap - b.y[0]) / aspect)
                ratio = max(a.area[-1], b.area[0]) / max(1e-9, min(a.area[-1], b.area[0]))
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
    """Drop short tracks that spend most of their life touching a longer track: the ghost an
    object leaves in the background model, or a piece split off an object while it merged."""
    keep = []
    for tr in tracks:
        if len(tr) >= max(cfg.fragment_frames, cfg.fragment_share * num_frames):
            keep.append(tr)
            continue
        touching = 0
        for i, f in enumerate(tr.frames):
            a = tr.boxes[i]
            for other in tracks:
                if other is tr or len(other) <= len(tr):
                    continue
                j = int(f) - other.start
                if 0 <= j < len(other):
                    b = other.boxes[j]
                    pad = 0.25 * max(b[2] - b[0], b[3] - b[1])
                    if a[0] - pad < b[2] and b[0] - pad < a[2] and a[1] - pad < b[3] and b[1] - pad < a[3]:
                        touching += 1
                        break
        if touching < 0.5 * len(tr):
            keep.append(tr)
    return keep


def analyse_frames(frames: np.ndarray, fps: float, cfg: AnalyserConfig | None = None) -> Analysis:
    """Track moving objects in uint8 frames [T, H, W, 3] (already at analysis resolution)."""
    cfg = cfg or AnalyserConfig()
    frames = np.asarray(frames)
    t, h, w = frames.shape[:3]
    factor = max(1, int(np.ceil(max(h, w) / cfg.motion_side - 1e-9)))
    small = block_mean(frames, factor)
    background = background_model(small, cfg.background_samples)
    notes: list[str] = []
    spread = float(frames[:: max(1, t // 16)].astype(np.float32).std(axis=(1, 2)).max())
    blank = spread < 2.0
    if blank:
        level = float(frames.mean())
        notes.append("the picture is black" if level < 16 else "the picture is a blank, flat colour")
    if t < 2:
        notes.append("the video has a single frame, so nothing can move")
        return Analysis(fps, t, w, h, [], True, blank, background, notes)
    masks, grown = foreground_masks(small, background, cfg)
    blobs = [find_blobs(m, g, f, cfg, factor) for m, g, f in zip(masks, grown, small)]
    tracks = track_blobs(blobs, aspect=w / h, cfg=cfg, frames=small, factor=factor)
    # A track that barely moves and never changes size is a flicker or texture, not an object.
    moving = []
    for tr in tracks:
        # (also the "ghost" a moving object leaves where the median background still holds it)
        extent = max(np.ptp(tr.x), np.ptp(tr.y))
        if extent > cfg.min_travel:
            moving.append(tr)
    moving = drop_fragments(moving, t, cfg)
    static = not moving
    if static and not blank:
        notes.append("nothing moves in the video")
    return Analysis(fps, t, w, h, moving, static, blank, background, notes, small)
