"""Reference sets and deliberately broken copies, for sanity checks of metrics and rewards.

`write_reference_set` writes gt audio and a SynthCanvas manifest (the items' own rows, videos
pointing at the build's MP4s) for a list of EvalItems read from a SynthCanvas build;
`break_audio` makes the broken predictions the issue asks for: shifted by 0.3 s,
channel-swapped, noisy at 10 dB SNR (canvas white noise), and of a wrong class (the audio
of another clip whose classes differ).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..audio_models.data import EvalItem
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


def add_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """White noise at `snr_db` below the signal's mean power."""
    noise = rng.standard_normal(audio.shape)
    p_sig, p_noise = float(np.mean(np.square(audio, dtype=np.float64))), float(np.mean(noise**2))
    return (audio + noise * np.sqrt(p_sig / (p_noise * 10 ** (snr_db / 10)))).astype(np.float32)


def _classes(item: EvalItem) -> set[str]:
    return {item.sound_class} if item.sound_class else {s.label for s in item.plan.semantic.sources}


def wrong_class_audio(item: EvalItem, items: list[EvalItem], seed: int = 0) -> np.ndarray:
    """The audio of another clip none of whose classes is one of this clip's (same length)."""
    mine = _classes(item)
    others = [i for i in items if not (_classes(i) & mine)]
    if not others:
        raise ValueError(f"{item.id}: no clip of another class to swap in")
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


def write_reference_set(items: list[EvalItem], root: str | Path) -> dict[str, Path]:
    """root/gt (wav) and root/manifest.jsonl (the items' SynthCanvas rows; videos where the
    build has them). Returns the paths."""
    from ..media import write_audio

    root = Path(root)
    (root / "gt").mkdir(parents=True, exist_ok=True)
    lines = []
    for it in items:
        if it.sample is None:
            raise ValueError(f"{it.id}: not a SynthCanvas item (no manifest row)")
        write_audio(root / "gt" / f"{it.id}.wav", it.audio, SR)
        row = it.sample.to_dict()
        row["video"] = str(it.sample.video_path.resolve())  # absolute: read in place
        row["audio"] = f"gt/{it.id}.wav"
        row["degradations"] = []
        lines.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    with atomic_path(root / "manifest.jsonl") as tmp:
        tmp.write_text("".join(lines), encoding="utf-8")
    return {"gt": root / "gt", "manifest": root / "manifest.jsonl"}


def write_predictions(items: list[EvalItem], folder: str | Path, kind: str | None) -> Path:
    """Predictions folder: the references themselves (`kind` None) or a broken copy."""
    from ..media import write_audio

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for k, it in enumerate(items):
        audio = it.audio if kind is None else break_audio(kind, it, items, seed=k)
        write_audio(folder / f"{it.id}.wav", audio, SR)
    return folder
