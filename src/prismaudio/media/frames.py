"""Decoding frames uniformly in time at a requested rate and size."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from av.video.reformatter import VideoReformatter

from ..errors import MediaError
from .container import open_media
from .probe import probe


def _fit(image: np.ndarray, size: tuple[int, int], mode: Literal["pad", "crop", "stretch"]) -> np.ndarray:
    """Resize an HxWx3 image to `size` (H, W) keeping aspect by padding (black) or centre crop."""
    from PIL import Image

    target_h, target_w = size
    h, w = image.shape[:2]
    if mode == "stretch":
        return np.asarray(Image.fromarray(image).resize((target_w, target_h), Image.BILINEAR))
    scale = min(target_w / w, target_h / h) if mode == "pad" else max(target_w / w, target_h / h)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    resized = np.asarray(Image.fromarray(image).resize((new_w, new_h), Image.BILINEAR))
    if mode == "pad":
        out = np.zeros((target_h, target_w, 3), dtype=np.uint8)
        top, left = (target_h - new_h) // 2, (target_w - new_w) // 2
        out[top : top + new_h, left : left + new_w] = resized
        return out
    top, left = (new_h - target_h) // 2, (new_w - target_w) // 2
    return np.ascontiguousarray(resized[top : top + target_h, left : left + target_w])


@dataclass(frozen=True)
class FrameSpec:
    """One way to sample a video's frames: rate, size (H, W) or None for native, resize mode."""

    fps: float
    size: tuple[int, int] | None = None
    resize_mode: Literal["pad", "crop", "stretch"] = "pad"


def decode_frames(
    path: str | Path,
    fps: float,
    size: tuple[int, int] | None = None,
    resize_mode: Literal["pad", "crop", "stretch"] = "pad",
    start: float = 0.0,
    duration: float | None = None,
) -> torch.Tensor:
    """Frames sampled uniformly in time at `fps` as uint8 [T, H, W, 3].

    Sample k shows the frame on screen at time `start + k / fps` (the latest frame whose
    timestamp is not after it), so variable-frame-rate files are resampled correctly.
    `size` is (height, width); aspect is kept by padding or centre-cropping (`resize_mode`).
    """
    return decode_frame_sets(path, [FrameSpec(fps, size, resize_mode)], start, duration)[0]


def decode_frame_sets(path: str | Path, specs: list[FrameSpec], start: float = 0.0,
                      duration: float | None = None) -> list[torch.Tensor]:
    """Several samplings of one video (e.g. the planner's, the semantic and the sync encoders')
    in ONE decoding pass: each spec's frames exactly as `decode_frames` would give them."""
    for spec in specs:
        if spec.fps <= 0:
            raise MediaError(f"{path}: fps must be positive, got {spec.fps}")
    info = probe(path)
    end = info.duration if duration is None else min(info.duration, start + duration)
    targets = [start + np.arange(max(1, int(math.floor((end - start) * spec.fps + 1e-6)))) / spec.fps for spec in specs]
    outputs: list[list[np.ndarray]] = [[] for _ in specs]
    # One reformatter for the whole clip: `frame.to_ndarray(format="rgb24")` builds a new
    # colour-conversion context per frame, about 20x slower here (same pixels either way).
    rgb = VideoReformatter()

    def convert(frame, spec: FrameSpec) -> np.ndarray:
        image = rgb.reformat(frame, format="rgb24").to_ndarray()
        if info.rotation:
            image = np.ascontiguousarray(np.rot90(image, k=-(info.rotation // 90)))
        return _fit(image, spec.size, spec.resize_mode) if spec.size is not None else image

    def emit(frame, cache: dict, i: int) -> None:
        if i not in cache:  # converted (RGB, resized) only when a sample shows it, once per spec
            cache[i] = convert(frame, specs[i])
        outputs[i].append(cache[i])

    with open_media(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        first_pts: float | None = None
        current = None  # the latest decoded frame
        cache: dict[int, np.ndarray] = {}
        ks = [0] * len(specs)
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            t = float(frame.pts * stream.time_base)
            if first_pts is None:
                first_pts = t
            t -= first_pts  # timestamps relative to the first frame
            for i, target in enumerate(targets):
                while ks[i] < len(target) and target[ks[i]] < t - 1e-6 and current is not None:
                    emit(current, cache, i)
                    ks[i] += 1
            if all(k >= len(target) for k, target in zip(ks, targets)):
                break
            current, cache = frame, {}
        for i, target in enumerate(targets):
            while ks[i] < len(target) and current is not None:
                emit(current, cache, i)
                ks[i] += 1
    if not outputs or not outputs[0]:
        raise MediaError(f"{path}: no decodable frames")
    return [torch.from_numpy(np.stack(frames)) for frames in outputs]
