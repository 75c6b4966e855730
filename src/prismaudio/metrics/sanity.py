"""Reference sets and deliberately broken copies, for sanity checks of metrics and rewards.

`write_reference_set` writes gt audio, 25 fps videos and a manifest (plan, class) for a list
of EvalItems; `break_audio` makes the broken predictions the issue asks for: shifted by
0.3 s, channel-swapped, noisy at 10 dB SNR, and of a wrong class (another class's audio
with the same events and positions, or another clip's audio when only a dataset is at hand).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..audio_models.data import EvalItem
from ..audio_models.degrade import add_noise
from ..audio_models.synthdata import CLASSES, VIDEO_FPS, render_frames, render_scene
from ..fsutil import atomic_path

BREAKS = ("shifted", "swapped", "noisy", "wrong_class")
SHIFT_S = 0.3
SR = 16000


def shift(audio: np.ndarray, seconds: float, sample_rate: int = SR) -> np.ndarray:
    """Delay by `seconds` (silence in front, same length)."""
    n = int(round(seconds * sample_rate))
    out = np.zeros_like(audio)
    out[..., n:] = audio[..., : audio.shape[-1] - n]
    return out


def wrong_class_audio(item: EvalItem, items: list[EvalItem], seed: int = 0) -> np.ndarray:
    """Audio of another class: re-rendered with the same plan when the class is a rendered one,
    else the audio of another clip of another class."""
    names = [c.name for c in CLASSES]
    if item.sound_class in names:
        other = CLASSES[(names.index(item.sound_class) + 5) % len(CLASSES)]
        return render_scene(other, seed, item.plan.duration, SR, plan=item.plan).audio
    others = [i for i in items if i.sound_class != item.sound_class]
    pick = others[seed % len(others)].audio
    n = item.audio.shape[-1]
    return np.pad(pick, ((0, 0), (0, max(0, n - pick.shape[-1]))))[:, :n]


def break_audio(kind: str, item: EvalItem, items: list[EvalItem], seed: int = 0) -> np.ndarray:
    if kind == "shifted":
        return shift(item.audio, SHIFT_S)
    if kind == "swapped":
        return item.audio[::-1].copy()
    if kind == "noisy":
        return np.clip(add_noise(item.audio, 10.0, np.random.default_rng(seed)), -1, 1)
    if kind == "wrong_class":
        return wrong_class_audio(item, items, seed)
    raise ValueError(f"unknown break '{kind}' (known: {', '.join(BREAKS)})")


def write_reference_set(items: list[EvalItem], root: str | Path, videos: bool = True) -> dict[str, Path]:
    """root/gt (wav), root/videos (mp4 of the motion frames), root/manifest.jsonl. Returns the paths."""
    from ..media import write_audio, write_video

    root = Path(root)
    (root / "gt").mkdir(parents=True, exist_ok=True)
    rows = []
    for it in items:
        write_audio(root / "gt" / f"{it.id}.wav", it.audio, SR)
        row = {"id": it.id, "split": it.split, "class": it.sound_class, "plan": it.plan.to_dict()}
        if videos:
            frames = render_frames(it.plan, it.plan.duration)
            rgb = (np.repeat(np.repeat(frames, 2, 1), 2, 2)[..., None].repeat(3, -1) * 255).astype(np.uint8)
            write_video(root / "videos" / f"{it.id}.mp4", rgb, VIDEO_FPS)
            row["video"] = f"videos/{it.id}.mp4"
        rows.append(row)
    with atomic_path(root / "manifest.jsonl") as tmp:
        tmp.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return {"gt": root / "gt", "videos": root / "videos", "manifest": root / "manifest.jsonl"}


def write_predictions(items: list[EvalItem], folder: str | Path, kind: str | None) -> Path:
    """Predictions folder: the references themselves (`kind` None) or a broken copy."""
    from ..media import write_audio

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for k, it in enumerate(items):
        audio = it.audio if kind is None else break_audio(kind, it, items, seed=k)
        write_audio(folder / f"{it.id}.wav", audio, SR)
    return folder
