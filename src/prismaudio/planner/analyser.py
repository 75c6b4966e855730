"""Find and track moving objects in a video: background model + connected components.

Works on any static-camera footage: the colour each pixel shows most often is the
background (`background_model`); pixels that differ from it (by more than the frame's own
noise) are foreground; foreground pixels are grouped into blobs (connected components after a
one-pixel dilation, so an object whose colours partly match the background stays one blob);
a blob where the centre net (`centres.py`, trained on SynthCanvas) sees two or more object
centres is cut into one piece per centre (objects touching from the start, crowded scenes);
a blob that several live tracks entered is split between them by colour and position, and
one no track claims is cut at narrow necks (`split.py`); blobs are linked frame to frame by
optimal assignment on predicted positions (and mean colour), short gaps (occlusion) are
bridged, broken tracks of the same object are re-linked afterwards, and two tracks that met
and went on with each other's objects get them back by their colours (`crossings.py`).

When an object parts from another mid-clip (the forward pass saw them as one until then), the
clip is tracked backwards too, where the two are seen apart first and split while merged; that
result is kept when it accounts for more object-frames.

Positions are normalised: x, y in [0, 1] of the frame width/height; sizes as fractions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

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
    max_colour_change: float = 0.25  # a lost track takes up a far blob only if its mean colour is this close (RGB diagonal)
    fragment_frames: int = 25  # tracks shorter than this that hug a longer one are fragments
    fragment_share: float = 0.25  # ... or shorter than this share of the clip (crowded scenes: objects hug all the time)
    fragment_pass: float = 1.0  # ... and end up less than this many of their own sizes away from where they began, relative to it
    fragment_pass_area: float = 0.4  # ... (or are smaller than this share of its area: a piece flung off it)
    neck_radius: float = 0.06  # objects at least this deep (fraction of the frame side) touching at a narrow neck are cut apart (0: never)
    min_travel: float = 0.015  # a track whose centre moves less than this (frame fraction) is not an object
    crossings: bool = True  # undo swaps of two objects that met, by their colours before and after (crossings.py)
    centres: bool = True  # cut blobs where the centre net (centres.py) sees several objects in one
    backward: bool = True  # when an object parts from another mid-clip, also track the clip backwards
    backward_gain: float = 0.1  # ... and keep that when its tracks cover this much more object-frames
    backward_min_side: float = 0.08  # ... when both are at least this big (sqrt of the area fraction; smaller: fragments)


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


def motion_factor(height: int, width: int, motion_side: int) -> int:
    """How much frames are block-averaged for motion analysis (longer side to about `motion_side`)."""
    return max(1, int(np.ceil(max(height, width) / motion_side - 1e-9)))


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


def objects(blobs: list[list[Blob]], small: np.ndarray, factor: int, aspect: float, cfg: AnalyserConfig) -> list[Track]:
    """Tracks of the moving objects in per-frame `blobs` (frames `small` in the same order)."""
    from .tracking import drop_fragments, track_blobs

    tracks = track_blobs(blobs, aspect=aspect, cfg=cfg, frames=small, factor=factor)
    # A track that barely moves and never changes size is a flicker or texture, not an object
    # (also the "ghost" a moving object leaves where the median background still holds it).
    moving = [tr for tr in tracks if max(np.ptp(tr.x), np.ptp(tr.y)) > cfg.min_travel]
    return drop_fragments(moving, len(blobs), cfg)


def coverage(tracks: list[Track], max_iou: float = 0.5) -> int:
    """Object-frames the tracks account for: seen frames, not counting a frame where a longer
    track's box nearly coincides (a duplicate or ghost of that object, not another object)."""
    total = 0
    for tr in tracks:
        for i in np.flatnonzero(tr.observed):
            f = tr.frames[i]
            dup = False
            for other in tracks:
                j = f - other.start
                if other is tr or len(other) < len(tr) or not 0 <= j < len(other) or not other.observed[j]:
                    continue
                if box_iou(tr.boxes[i], other.boxes[j]) > max_iou:
                    dup = True
                    break
            total += not dup
    return total


def box_iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def split_crowded(blobs: list[list[Blob]], masks: np.ndarray, small: np.ndarray, factor: int,
                  cfg: AnalyserConfig) -> list[list[Blob]]:
    """Per-frame blobs with each blob that holds several object centres (the centre net's
    peaks) cut into one piece per object; unchanged when the net is not installed."""
    from .centres import load_detector, split_blobs

    detector = load_detector()
    if detector is None or not any(len(b) for b in blobs):
        return blobs
    centres = detector(small, masks)
    min_pixels = max(1.0, cfg.min_area * small.shape[1] * small.shape[2])
    return [split_blobs(b, c, f, factor, min_pixels) for b, c, f in zip(blobs, centres, small)]


def analyse_frames(frames: np.ndarray, fps: float, cfg: AnalyserConfig | None = None) -> Analysis:
    """Track moving objects in uint8 frames [T, H, W, 3] (already at analysis resolution)."""
    from .tracking import (  # (tracking builds on this module's types)
        reversed_track,
        separations,
    )

    cfg = cfg or AnalyserConfig()
    frames = np.asarray(frames)
    t, h, w = frames.shape[:3]
    factor = motion_factor(h, w, cfg.motion_side)
    small = block_mean(frames, factor)
    background = background_model(small, cfg.background_samples)
    notes: list[str] = []
    # (every 2nd pixel of 16 frames: a flat picture is as flat there, at a quarter of the cost)
    spread = float(frames[:: max(1, t // 16), ::2, ::2].astype(np.float32).std(axis=(1, 2)).max())
    blank = spread < 2.0
    if blank:
        level = float(frames.mean())
        notes.append("the picture is black" if level < 16 else "the picture is a blank, flat colour")
    if t < 2:
        notes.append("the video has a single frame, so nothing can move")
        return Analysis(fps, t, w, h, [], True, blank, background, notes)
    masks, grown = foreground_masks(small, background, cfg)
    blobs = [find_blobs(m, g, f, cfg, factor) for m, g, f in zip(masks, grown, small)]
    if cfg.centres:
        blobs = split_crowded(blobs, masks, small, factor, cfg)
    moving = objects(blobs, small, factor, w / h, cfg)
    if cfg.backward and separations(moving, cfg.backward_min_side):
        # Objects that part only later were one blob, one track, until then: tracked from the
        # end they are seen apart first and split while merged. Kept when they cover more.
        back = [reversed_track(tr, t) for tr in objects(blobs[::-1], small[::-1], factor, w / h, cfg)]
        if coverage(back) > (1 + cfg.backward_gain) * coverage(moving):
            moving = sorted(back, key=lambda tr: tr.start)
            for i, tr in enumerate(moving):
                tr.id = i
    static = not moving
    if static and not blank:
        notes.append("nothing moves in the video")
    return Analysis(fps, t, w, h, moving, static, blank, background, notes, small)
