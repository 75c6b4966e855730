"""Find moving objects in a shot: background model + connected components (the detect pass).

Works on any static-camera footage: the colour each pixel shows most often is the
background (`background_model`); pixels that differ from it (by more than the frame's own
noise) are foreground; foreground pixels are grouped into blobs (connected components after a
one-pixel dilation, so an object whose colours partly match the background stays one blob);
a blob where the centre net (`centres.py`, trained on SynthCanvas) sees two or more object
centres is cut into one piece per centre (objects touching from the start, crowded scenes).
The track pass (`track/objects.py`) links the blobs into tracks.

Positions are normalised: x, y in [0, 1] of the frame width/height; sizes as fractions.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage

from ..tracks import Blob, Foreground, blob_from_pixels

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
    crossings: bool = True  # undo swaps of two objects that met, by their colours before and after (repair/swaps.py)
    centres: bool = True  # cut blobs where the centre net (centres.py) sees several objects in one
    backward: bool = True  # when an object parts from another mid-clip, also track the clip backwards
    backward_gain: float = 0.1  # ... and keep that when its tracks cover this much more object-frames
    backward_min_side: float = 0.08  # ... when both are at least this big (sqrt of the area fraction; smaller: fragments)


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
    """Foreground [T, H, W] (bool, small specks opened away; `background` [H, W, 3] or one per
    frame, [T, H, W, 3]) and the dilated mask whose
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


def split_crowded(blobs: list[list[Blob]], masks: np.ndarray, small: np.ndarray, factor: int,
                  cfg: AnalyserConfig) -> list[list[Blob]]:
    """Per-frame blobs with each blob that holds several object centres (the centre net's
    peaks) cut into one piece per object; unchanged when the net is not installed."""
    from .centres import load_detector
    from .split import split_at_centres

    detector = load_detector()
    if detector is None or not any(len(b) for b in blobs):
        return blobs
    centres = detector(small, masks)
    min_pixels = max(1.0, cfg.min_area * small.shape[1] * small.shape[2])
    return [split_at_centres(b, c, f, factor, min_pixels) for b, c, f in zip(blobs, centres, small)]



def detect_blobs(frames: np.ndarray, cfg: AnalyserConfig | None = None, camera_steps: np.ndarray | None = None) -> Foreground:
    """The moving pixels of uint8 frames [T, H, W, 3] (one shot, at analysis resolution)
    grouped into blobs frame by frame, crowded blobs cut at the centre net's object centres.
    `camera_steps` (frame-to-frame homographies of a camera that turns or travels): each frame
    is compared with a background of its own, its neighbours carried into its view
    (`compensated.py`); otherwise with one background model of the whole shot."""
    cfg = cfg or AnalyserConfig()
    frames = np.asarray(frames)
    t, h, w = frames.shape[:3]
    factor = motion_factor(h, w, cfg.motion_side)
    small = block_mean(frames, factor)
    if camera_steps is not None:
        from .compensated import scaled, warped_backgrounds

        backgrounds = warped_backgrounds(small, scaled(camera_steps, factor))
        background = backgrounds[t // 2]
        # no thin lines survive the opening here: a high-contrast edge the homographies carry a
        # pixel off (the horizon over a 3D floor, parallax) is a strong thin line, not a stick
        cfg = replace(cfg, strong_factor=float("inf"))
    else:
        background = backgrounds = background_model(small, cfg.background_samples)
    notes: list[str] = []
    # (every 2nd pixel of 16 frames: a flat picture is as flat there, at a quarter of the cost)
    spread = float(frames[:: max(1, t // 16), ::2, ::2].astype(np.float32).std(axis=(1, 2)).max())
    blank = spread < 2.0
    if blank:
        level = float(frames.mean())
        notes.append("the picture is black" if level < 16 else "the picture is a blank, flat colour")
    found = Foreground(t, w, h, small, factor, background, blank, notes=notes)
    if t < 2:
        notes.append("the video has a single frame, so nothing can move")
        return found
    masks, grown = foreground_masks(small, backgrounds, cfg)
    blobs = [find_blobs(m, g, f, cfg, factor) for m, g, f in zip(masks, grown, small)]
    if cfg.centres:
        blobs = split_crowded(blobs, masks, small, factor, cfg)
    found.blobs = blobs
    return found
