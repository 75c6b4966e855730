"""Frames of many time spans of one video in ONE decoding pass, span by span.

A long video is generated window by window; each window needs its frames at several rates
and sizes (planner, semantic and sync encoders). `iter_span_frames` decodes the video once,
front to back, and yields each span's frame sets as soon as its last frame has been seen, so
at most the spans that overlap the current frame are held in memory, whatever the length.
Sample k of a span starting at s shows the frame on screen at s + k / fps (the latest frame
whose timestamp is not after it), as `decode_frames` does for one span.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

import numpy as np
import torch
from av.video.reformatter import VideoReformatter

from ..errors import MediaError
from .container import open_media
from .probe import VideoInfo, probe


def fit_image(image: np.ndarray, size: tuple[int, int], mode: Literal["pad", "crop", "stretch"]) -> np.ndarray:
    """Resize an HxWx3 image to `size` (H, W) keeping aspect by padding (black) or centre crop."""
    from PIL import Image

    target_h, target_w = size
    h, w = image.shape[:2]
    if (h, w) == (target_h, target_w):
        return image  # (PIL would only copy it: a video already at the analysis size is most of them)
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
class Span:
    start: float
    duration: float | None = None  # None: to the end of the video


def sample_times(span: Span, fps: float, video_duration: float) -> np.ndarray:
    """The times (s) span samples at `fps`: at least one, none past the video's end."""
    end = video_duration if span.duration is None else min(video_duration, span.start + span.duration)
    return span.start + np.arange(max(1, int(math.floor((end - span.start) * fps + 1e-6)))) / fps


def iter_span_frames(path: str | Path, specs: list, spans: list[Span], info: VideoInfo | None = None,
                     skip: set[int] | frozenset = frozenset()) -> Iterator[tuple[int, list[torch.Tensor]]]:
    """(span index, one uint8 [T, H, W, 3] tensor per FrameSpec) for each span not in `skip`,
    in order of the spans' ends (spans sorted by start, as windows are)."""
    for spec in specs:
        if spec.fps <= 0:
            raise MediaError(f"{path}: fps must be positive, got {spec.fps}")
    info = info or probe(path)
    todo = [k for k in range(len(spans)) if k not in skip]
    if not todo:
        return
    targets = {k: [sample_times(spans[k], spec.fps, info.duration) for spec in specs] for k in todo}
    outputs: dict[int, list[list[np.ndarray]]] = {k: [[] for _ in specs] for k in todo}
    pointers = {k: [0] * len(specs) for k in todo}
    rgb = VideoReformatter()  # one colour converter for the whole pass (a new one per frame is ~20x slower)

    def convert(frame, i: int, cache: dict) -> np.ndarray:
        if i not in cache:  # converted (RGB, resized) only when a sample shows it, once per spec
            image = rgb.reformat(frame, format="rgb24").to_ndarray()
            if info.rotation:
                image = np.ascontiguousarray(np.rot90(image, k=-(info.rotation // 90)))
            cache[i] = fit_image(image, specs[i].size, specs[i].resize_mode) if specs[i].size is not None else image
        return cache[i]

    def fill(k: int, t: float | None, frame, cache: dict) -> bool:
        """Emit `frame` for span k's samples before time t (all remaining when t is None); True when k is complete."""
        done = True
        for i, times in enumerate(targets[k]):
            while pointers[k][i] < len(times) and (t is None or times[pointers[k][i]] < t - 1e-6):
                outputs[k][i].append(convert(frame, i, cache))
                pointers[k][i] += 1
            done &= pointers[k][i] >= len(times)
        return done

    def finish(k: int) -> tuple[int, list[torch.Tensor]]:
        frames = outputs.pop(k)
        if not frames or not frames[0]:
            raise MediaError(f"{path}: no decodable frames")
        del targets[k], pointers[k]
        return k, [torch.from_numpy(np.stack(f)) for f in frames]

    with open_media(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        first_pts: float | None = None
        current, cache = None, {}
        open_spans = list(todo)  # spans not yet yielded, sorted by start
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            t = float(frame.pts * stream.time_base)
            if first_pts is None:
                first_pts = t
            t -= first_pts  # timestamps relative to the first frame
            if current is not None:
                while open_spans:
                    k = open_spans[0]
                    complete = fill(k, t, current, cache)
                    for later in open_spans[1:]:  # overlapping spans started before t take the same frame
                        if spans[later].start >= t - 1e-6:
                            break
                        fill(later, t, current, cache)
                    if not complete:
                        break
                    open_spans.pop(0)
                    yield finish(k)
            if not open_spans:
                break
            current, cache = frame, {}
        if current is None:
            raise MediaError(f"{path}: no decodable frames")
        for k in open_spans:
            fill(k, None, current, cache)
            yield finish(k)
