"""Training/evaluation items for the evaluators: SynthCanvas when it exists, rendered scenes otherwise.

An EvalItem is what every evaluator trainer needs: stereo 16 kHz reference audio, the plan,
the class name, the 25 fps motion-energy curve of its video, and a split.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..errors import PrismError
from ..planner.plan import Plan
from .features import motion_energy
from .synthdata import CLASSES, render_scene

log = logging.getLogger(__name__)
SAMPLE_RATE = 16000


@dataclass
class EvalItem:
    id: str
    split: str
    sound_class: str
    audio: np.ndarray  # [2, N] float32 at 16 kHz
    plan: Plan
    motion: np.ndarray  # [T] at 25 fps


@dataclass(frozen=True)
class ClassInfo:
    name: str
    kind: str
    description: str
    audioset: tuple[str, ...]


def class_table() -> dict[str, ClassInfo]:
    """Known sound classes: SynthCanvas's built-in table (when installed) over the rendered-scene classes."""
    table = {c.name: ClassInfo(c.name, c.kind, c.description, c.audioset) for c in CLASSES}
    try:
        from ..canvas.classes import builtin_classes

        for c in builtin_classes():
            table[c.name] = ClassInfo(c.name, c.kind, c.description, tuple(c.audioset))
    except Exception as e:  # the canvas package is optional for the evaluators
        log.debug("canvas class table unavailable (%s)", e)
    return table


def split_of(key: str) -> str:
    h = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % 10
    return "test" if h == 0 else "val" if h == 1 else "train"


def rendered_items(per_class: int, seed: int = 0, duration: float = 8.0) -> list[EvalItem]:
    items = []
    for c in tqdm([c for c in CLASSES for _ in range(1)], desc="render", leave=False):
        for k in range(per_class):
            s = seed * 100_000 + CLASSES.index(c) * 1000 + k
            sc = render_scene(c, s, duration, SAMPLE_RATE)
            items.append(EvalItem(sc.id, split_of(sc.id), c.name, sc.audio, sc.plan, motion_energy(sc.frames)))
    return items


def canvas_items(root: str | Path, splits: tuple[str, ...] = ("train", "val", "test"), limit: int | None = None) -> list[EvalItem]:
    """Items of a SynthCanvas folder (manifest.jsonl, audio/<id>.wav, video/<id>.mp4)."""
    from ..media import read_audio

    root = Path(root)
    manifest = root / "manifest.jsonl"
    if not manifest.is_file():
        raise PrismError(f"{manifest}: SynthCanvas manifest not found")
    rows = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("split") in splits][:limit]
    items = []
    for r in tqdm(rows, desc="canvas", leave=False):
        plan = Plan.from_dict(r["plan"]) if isinstance(r.get("plan"), dict) else Plan.load(root / r["plan"])
        audio = read_audio(root / r.get("audio", f"audio/{r['id']}.wav"), SAMPLE_RATE, 2).numpy()
        video = root / r.get("video", f"video/{r['id']}.mp4")
        motion = (video_motion(video) if video.is_file() else np.zeros(int(round(plan.duration * 25)), np.float32))
        items.append(EvalItem(r["id"], r["split"], primary_class(r, plan), audio, plan, motion))
    return items


def video_motion(path: str | Path, fps: int = 25, size: int = 32) -> np.ndarray:
    """Motion-energy curve [T] of a video file sampled at `fps`.

    Frames are scaled to size x size grey by FFmpeg while decoding (motion energy needs no
    more), and sampled like media.decode_frames: sample k shows the frame on screen at k / fps.
    """
    import av

    from ..media import check_readable

    path = check_readable(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise PrismError(f"{path}: no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            times, frames = [], []
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                times.append(float(frame.time))
                frames.append(frame.reformat(width=size, height=size, format="gray").to_ndarray())
            duration = float(stream.duration * stream.time_base) if stream.duration else (
                times[-1] + 1.0 / float(stream.average_rate or fps) if times else 0.0)
    except av.error.FFmpegError as e:
        raise PrismError(f"{path}: cannot decode video ({e})") from None
    if not frames:
        return np.zeros(0, np.float32)
    order = np.argsort(times)
    times_arr, stack = np.asarray(times)[order], np.stack(frames)[order]
    n = max(1, int(round(duration * fps)))
    pick = np.clip(np.searchsorted(times_arr, np.arange(n) / fps + 1e-6, side="right") - 1, 0, len(stack) - 1)
    return motion_energy(stack[pick].astype(np.float32) / 255.0)


def primary_class(row: dict, plan: Plan) -> str:
    """The class of a manifest row: its `class` field, SynthCanvas `sources[0].class_name`, else the plan's first label."""
    for key in ("class", "sound_class", "label"):
        if isinstance(row.get(key), str):
            return row[key]
    if isinstance(row.get("classes"), list) and row["classes"]:
        return str(row["classes"][0])
    sources = row.get("sources")
    if isinstance(sources, list) and sources and isinstance(sources[0], dict) and "class_name" in sources[0]:
        return str(sources[0]["class_name"])  # SynthCanvas rows: the first (main) source's class
    return plan.semantic.sources[0].label if plan.semantic.sources else "none"
