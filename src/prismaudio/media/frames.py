"""Decoding frames uniformly in time at a requested rate and size."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

from ..errors import MediaError
from .frame_stream import Span, iter_span_frames


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
    for _, frames in iter_span_frames(path, specs, [Span(start, duration)]):
        return frames
    raise MediaError(f"{path}: no decodable frames")
