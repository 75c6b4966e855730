"""Training audio for the codec: a folder or manifest of stereo files preloaded into RAM,
or (when none is given) SynthCanvas-like clips rendered with tinysoundfont, served as random
crops drawn from the global torch RNG (so a resumed run draws exactly the same crops).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError
from ..log import progress_enabled

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
SKIP_DIRS = {"degraded", "video"}


def find_audio_files(source: str | Path, split: str | None = "train") -> list[Path]:
    """Audio files of a folder (recursively, skipping degraded/ and video/) or a manifest.jsonl.

    For a manifest (SynthCanvas `manifest.jsonl`: one JSON object per line with `split` and
    an audio path), only rows of `split` are used; `split=None` takes every row.
    """
    source = Path(source)
    if source.is_dir() and (source / "library.json").is_file():
        return library_files(source, split)
    if source.is_dir() and (source / "manifest.jsonl").is_file():
        source = source / "manifest.jsonl"
    if source.is_file() and source.suffix == ".jsonl":
        files = []
        for row in _manifest_rows(source):
            if split is not None and row.get("split") != split:
                continue
            rel = row.get("audio") or row.get("audio_path") or f"audio/{row['id']}.wav"
            files.append((source.parent / rel) if not Path(rel).is_absolute() else Path(rel))
        return files
    if source.is_dir():
        return sorted(p for p in source.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES
                      and not SKIP_DIRS.intersection(p.relative_to(source).parts[:-1]))
    if source.is_file() and source.suffix.lower() in AUDIO_SUFFIXES:
        return [source]
    raise ConfigError(f"{source}: not an audio folder, audio file or manifest.jsonl")


HELDOUT_PERCENT = 20  # of the library's real recordings, never trained on (codec eval --split heldout)


def is_heldout(relative_path: str) -> bool:
    """Whether a library recording belongs to the held-out evaluation part: a fixed hash of its
    path, so the split never changes as the library grows and needs no stored list."""
    import zlib

    return zlib.crc32(relative_path.encode("utf-8")) % 100 < HELDOUT_PERCENT


def library_files(root: Path, split: str | None) -> list[Path]:
    """Recordings of a sound library (library.json, prismaudio.library). split "train": the
    soundfont renders and the real recordings outside the held-out part; "heldout" or "test":
    the held-out real recordings; None: everything."""
    try:
        rows = json.loads((root / "library.json").read_text(encoding="utf-8"))["recordings"]
        pairs = [(str(r["path"]), str(r.get("package", ""))) for r in rows]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise ConfigError(f"{root / 'library.json'}: not a sound library index ({e})") from None
    if split not in (None, "train", "heldout", "test"):
        raise ConfigError(f"{root}: a sound library has splits train and heldout (or test), not {split!r}")
    if split is None:
        return [root / p for p, _ in pairs]
    real_heldout = [not pkg.startswith("soundfont") and is_heldout(p) for p, pkg in pairs]
    want = split != "train"
    return [root / p for (p, _), held in zip(pairs, real_heldout) if held == want]


def _manifest_rows(path: Path) -> list[dict]:
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                raise ConfigError(f"{path}:{i + 1}: not valid JSON") from None
    return rows


def load_clips(files: list[Path], sample_rate: int) -> list[torch.Tensor]:
    """Read every file as float32 stereo [2, N] at `sample_rate` (mono is duplicated)."""
    from tqdm import tqdm

    from ..media import read_audio

    clips = []
    for path in tqdm(files, desc="loading audio", disable=not progress_enabled()):
        wave = read_audio(path, sample_rate)
        if wave.shape[0] == 1:
            wave = wave.expand(2, -1)
        clips.append(wave[:2].contiguous().float())
    if not clips:
        raise ConfigError("no training audio found")
    return clips


# ---- tinysoundfont clips (used until SynthCanvas exists, and by tests) -------------------

def _soundfont() -> str:
    import pretty_midi

    return os.path.join(os.path.dirname(pretty_midi.__file__), "TimGM6mb.sf2")


def _fractional_delay(x: np.ndarray, delay: float) -> np.ndarray:
    """Delay by `delay` samples (may be fractional) with an FFT phase ramp on a padded buffer."""
    n = len(x)
    size = 1 << int(np.ceil(np.log2(n + 64)))
    spec = np.fft.rfft(x, size) * np.exp(-2j * np.pi * np.fft.rfftfreq(size) * delay)
    return np.fft.irfft(spec, size)[:n]


def render_clip(rng: np.random.Generator, sample_rate: int, seconds: float, synth=None, sfid: int = 0) -> np.ndarray:
    """One stereo clip [2, N]: 1-4 sources (GM instrument, drum or effect), each panned with
    constant power and delayed by up to 0.6 ms on the far side, as SynthCanvas does."""
    from ..optional import require

    tinysoundfont = require("tinysoundfont", "rendering codec training clips (no --data)")

    if synth is None:
        synth = tinysoundfont.Synth(samplerate=sample_rate)
        sfid = synth.sfload(_soundfont())
    n = int(seconds * sample_rate)
    out = np.zeros((2, n))
    for _ in range(int(rng.integers(1, 5))):
        drums = rng.random() < 0.25
        chan = 9 if drums else 0
        synth.program_select(chan, sfid, 128 if drums else 0, 0 if drums else int(rng.integers(0, 128)))
        start = int(rng.integers(0, max(1, n - sample_rate // 4)))
        dur = int(rng.uniform(0.1, 1.5) * sample_rate)
        key = int(rng.integers(35, 82)) if drums else int(rng.integers(40, 85))
        synth.noteon(chan, key, int(rng.integers(60, 127)))
        tone = np.frombuffer(synth.generate(dur), dtype=np.float32).reshape(-1, 2).mean(1)
        synth.noteoff(chan, key)
        tail = np.frombuffer(synth.generate(sample_rate // 5), dtype=np.float32).reshape(-1, 2).mean(1)
        synth.notes_off()
        synth.generate(sample_rate // 5)  # let the voice die before the next source
        tone = np.concatenate([tone, tail * np.linspace(1, 0, len(tail))])[: n - start].astype(np.float64)
        pan = rng.uniform(-1, 1)  # -1 left .. 1 right
        theta = (pan + 1) * np.pi / 4
        itd = 0.6e-3 * pan * sample_rate  # samples; the far ear hears it later
        left = np.cos(theta) * _fractional_delay(tone, max(0.0, itd))
        right = np.sin(theta) * _fractional_delay(tone, max(0.0, -itd))
        out[0, start : start + len(tone)] += left
        out[1, start : start + len(tone)] += right
    peak = np.abs(out).max()
    if peak > 0:
        out *= rng.uniform(0.3, 0.9) / peak
    return out.astype(np.float32)


def synth_clips(count: int, sample_rate: int, seconds: float = 4.0, seed: int = 0) -> list[torch.Tensor]:
    from ..optional import require

    tinysoundfont = require("tinysoundfont", "rendering codec training clips (no --data)")

    rng = np.random.default_rng(seed)
    synth = tinysoundfont.Synth(samplerate=sample_rate)
    sfid = synth.sfload(_soundfont())
    return [torch.from_numpy(render_clip(rng, sample_rate, seconds, synth, sfid)) for _ in range(count)]


class CropSampler:
    """Random fixed-length stereo crops (zero-padded when a clip is shorter) with random gain
    and random left/right swap, drawn from torch's global RNG."""

    def __init__(self, clips: list[torch.Tensor], crop_samples: int) -> None:
        self.clips = clips
        self.crop = crop_samples

    def batch(self, size: int) -> torch.Tensor:
        out = torch.zeros(size, 2, self.crop)
        for i in range(size):
            clip = self.clips[int(torch.randint(len(self.clips), ()))]
            n = clip.shape[-1]
            start = int(torch.randint(max(1, n - self.crop + 1), ()))
            piece = clip[:, start : start + self.crop]
            gain = 10 ** (float(torch.empty(()).uniform_(-9, 3)) / 20)
            if bool(torch.rand(()) < 0.5):
                piece = piece.flip(0)
            out[i, :, : piece.shape[-1]] = piece * gain
        return out.clamp(-1, 1)
