"""Training/evaluation items for the evaluators, read from a SynthCanvas build.

An EvalItem is what every evaluator trainer needs: stereo 16 kHz reference audio, the plan,
the class name (single-source samples only: a multi-source mix has no one class), the 25 fps
motion-energy curve of its video, a split, and the typed manifest row (its degraded copies).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..canvas.manifest import CanvasSample, load_manifest
from ..errors import PrismError
from ..planner.plan import Plan
from .features import motion_energy

log = logging.getLogger(__name__)
SAMPLE_RATE = 16000


@dataclass
class EvalItem:
    id: str
    split: str
    sound_class: str | None  # the class of a single-source sample; None for a mix
    audio: np.ndarray  # [2, N] float32 at 16 kHz
    plan: Plan
    motion: np.ndarray  # [T] at 25 fps
    sample: CanvasSample | None = None  # the manifest row (degraded copies, video path)


@dataclass(frozen=True)
class ClassInfo:
    name: str
    kind: str
    description: str
    audioset: tuple[str, ...]


@lru_cache(maxsize=1)
def class_table() -> dict[str, ClassInfo]:
    """SynthCanvas's built-in sound classes by name (description, AudioSet labels)."""
    from ..canvas.classes import builtin_classes

    return {c.name: ClassInfo(c.name, c.kind, c.description, tuple(c.audioset)) for c in builtin_classes()}


def sample_class(sample: CanvasSample) -> str | None:
    """The class of a single-source sample, else None."""
    return sample.sources[0].class_name if sample.group == "single" and sample.sources else None


def read_wave(path: str | Path) -> np.ndarray:
    """[2, N] float32 at 16 kHz from any audio file (mono copied to both channels)."""
    from ..media import read_audio

    return read_audio(path, SAMPLE_RATE, channels=2).numpy()


def item_of(sample: CanvasSample) -> EvalItem:
    audio = read_wave(sample.audio_path)
    video = sample.video_path
    motion = video_motion(video) if video.is_file() else np.zeros(int(round(sample.plan.duration * 25)), np.float32)
    return EvalItem(sample.id, sample.split, sample_class(sample), audio, sample.plan, motion, sample)


def canvas_items(root: str | Path, splits: tuple[str, ...] = ("train", "val", "test"), limit: int | None = None,
                 groups: tuple[str, ...] = ("single", "multi", "ood")) -> list[EvalItem]:
    """Items of a SynthCanvas folder, through the typed manifest loader (`limit`: that many,
    evenly spread over the sorted ids so every group and class range is represented)."""
    samples = [s for s in load_manifest(root) if s.split in splits and s.group in groups]
    if limit is not None and len(samples) > limit:
        samples = [samples[int(k)] for k in np.linspace(0, len(samples) - 1, limit).round()]
    if not samples:
        raise PrismError(f"{root}: no SynthCanvas samples in split(s) {', '.join(splits)}")
    return [item_of(s) for s in tqdm(samples, desc="canvas", leave=False)]


LUMA_FIRST = ("yuv", "yuvj", "nv12", "nv21", "gray")


def _luma(frame) -> np.ndarray:
    """[H, W] uint8 brightness of a decoded frame: the Y plane as is for YUV/grey formats (no
    colour conversion or scaling; that was 90 % of the decode time), else FFmpeg's grey."""
    if frame.format.name.startswith(LUMA_FIRST) and frame.format.name[-2:] not in ("le", "be"):
        plane = frame.planes[0]
        return np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)[:, : frame.width]
    return frame.to_ndarray(format="gray")


def block_means(frames: np.ndarray, size: int) -> np.ndarray:
    """[T, H, W] uint8 -> [T, size, size] float32 in [0, 1], means of equal pixel blocks (the
    rows and columns that do not fill a block are dropped)."""
    t, h, w = frames.shape
    kh, kw = max(1, h // size), max(1, w // size)
    rows, cols = min(size, h), min(size, w)
    x = frames[:, : kh * rows, : kw * cols].astype(np.uint16)
    x = x.reshape(t * rows, kh, kw * cols).sum(1, dtype=np.uint32)
    x = x.reshape(t * rows * cols, kw).sum(1, dtype=np.uint32).reshape(t, rows, cols)
    return x.astype(np.float32) / (255.0 * kh * kw)


def video_motion(path: str | Path, fps: int = 25, size: int = 32) -> np.ndarray:
    """Motion-energy curve [T] of a video file sampled at `fps`.

    Motion energy needs only coarse brightness: each frame's luma plane is averaged over
    size x size blocks, and frames are sampled like media.decode_frames: sample k shows the
    frame on screen at k / fps.
    """
    import av

    from ..media import check_readable

    path = check_readable(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise PrismError(f"{path}: no video stream")
            stream = container.streams.video[0]
            times, frames = [], []
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                times.append(float(frame.time))
                frames.append(_luma(frame))
            duration = float(stream.duration * stream.time_base) if stream.duration else (
                times[-1] + 1.0 / float(stream.average_rate or fps) if times else 0.0)
    except av.error.FFmpegError as e:
        raise PrismError(f"{path}: cannot decode video ({e})") from None
    if not frames:
        return np.zeros(0, np.float32)
    order = np.argsort(times)
    times_arr = np.asarray(times)[order]
    n = max(1, int(round(duration * fps)))
    pick = np.clip(np.searchsorted(times_arr, np.arange(n) / fps + 1e-6, side="right") - 1, 0, len(frames) - 1)
    stack = block_means(np.stack(frames), size)[order]
    return motion_energy(stack[pick])
