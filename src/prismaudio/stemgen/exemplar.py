"""Exemplar embeddings: what a recording sounds like, pooled over time so it cannot be copied
in time (issue 21 item 3), and the shipped bank of one embedding per sound-bank class.

embedding (EXEMPLAR_DIM = 64) of a mono recording, from its codec mid latent:
  24 mean and 24 standard deviation of the latent over the active frames (frame RMS within
  30 dB of the loudest), and 16 values of the level envelope from the loudest frame on
  (dB below the peak / 60, clipped to [0, 1]: a hit decays, a held note stays).
The recording is peak-normalised first, so the embedding describes timbre, not level: the
plan's strength and the class calibration set the level.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError, PrismError
from .config import EXEMPLAR_DIM

ACTIVE_DB = 30.0
ENVELOPE_FRAMES = 16
PEAK = 0.5
MAX_SECONDS = 30.0
MIN_SECONDS = 0.05


class ExemplarError(PrismError):
    """An exemplar recording that cannot steer generation (empty, silent, too long, unreadable)."""


def frame_rms_db(wave: np.ndarray, hop: int, frames: int) -> np.ndarray:
    """RMS level in dB of each hop-long frame (frames beyond the wave are silent)."""
    x = np.zeros(frames * hop, dtype=np.float64)
    n = min(len(wave), len(x))
    x[:n] = wave[:n]
    rms = np.sqrt((x.reshape(frames, hop) ** 2).mean(1) + 1e-12)
    return 20 * np.log10(rms)


def pool_embedding(latent: np.ndarray, level_db: np.ndarray) -> np.ndarray:
    """[EXEMPLAR_DIM] from a normalised mid latent [C, L] and per-frame levels [L] (pure)."""
    level_db = level_db[: latent.shape[1]]
    active = level_db >= level_db.max() - ACTIVE_DB
    z = latent[:, active]
    peak = int(np.argmax(level_db))
    env = (level_db.max() - level_db[peak : peak + ENVELOPE_FRAMES]) / 60.0
    env = np.pad(np.clip(env, 0, 1), (0, ENVELOPE_FRAMES - len(env)), constant_values=1.0)
    out = np.concatenate([z.mean(1), z.std(1), env]).astype(np.float32)
    assert out.shape == (EXEMPLAR_DIM,), out.shape
    return out


def check_exemplar(wave: np.ndarray, sample_rate: int, where: str) -> np.ndarray:
    """A usable mono float32 exemplar or one clear ExemplarError naming `where`."""
    wave = np.asarray(wave, dtype=np.float32)
    if wave.ndim == 2:
        wave = wave.mean(0)
    if wave.ndim != 1 or wave.size == 0:
        raise ExemplarError(f"{where}: exemplar is empty")
    if not np.isfinite(wave).all():
        raise ExemplarError(f"{where}: exemplar contains NaN or inf samples")
    seconds = wave.size / sample_rate
    if seconds < MIN_SECONDS:
        raise ExemplarError(f"{where}: exemplar is too short ({seconds:.3f} s; at least {MIN_SECONDS} s)")
    if seconds > MAX_SECONDS:
        raise ExemplarError(f"{where}: exemplar is too long ({seconds:.1f} s; at most {MAX_SECONDS:.0f} s: trim it to the sound)")
    if float(np.abs(wave).max()) < 1e-4:
        raise ExemplarError(f"{where}: exemplar is silent")
    return wave


def embed_waves(waves: list[np.ndarray], latent) -> np.ndarray:
    """Embeddings [B, EXEMPLAR_DIM] of mono waves at the codec's rate (`latent`: MonoLatent)."""
    if not waves:
        return np.zeros((0, EXEMPLAR_DIM), dtype=np.float32)
    normed = [w.astype(np.float32) * (PEAK / max(float(np.abs(w).max()), 1e-6)) for w in waves]
    n = max(len(w) for w in normed)
    batch = np.zeros((len(normed), n), dtype=np.float32)
    for i, w in enumerate(normed):
        batch[i, : len(w)] = w
    lat = latent.encode(torch.from_numpy(batch)).numpy()
    out = []
    for i, w in enumerate(normed):
        frames = latent.frames(len(w))
        out.append(pool_embedding(lat[i, :, :frames], frame_rms_db(w, latent.hop, frames)))
    return np.stack(out)


class ExemplarBank:
    """One embedding per class name (the inference fallback for a source without an exemplar)."""

    def __init__(self, names: list[str], vectors: np.ndarray):
        if len(names) != len(vectors) or (len(vectors) and vectors.shape[1] != EXEMPLAR_DIM):
            raise ConfigError(f"exemplar bank: {len(names)} names for vectors of shape {vectors.shape}")
        self.names = list(names)
        self.vectors = vectors.astype(np.float32)
        self._index = {n.lower(): i for i, n in enumerate(self.names)}

    def get(self, name: str) -> np.ndarray | None:
        i = self._index.get(name.strip().lower())
        return None if i is None else self.vectors[i]

    def save(self, path: str | Path) -> Path:
        import json

        from safetensors.numpy import save_file

        from ..fsutil import atomic_path

        with atomic_path(path) as tmp:
            save_file({"vectors": self.vectors}, str(tmp), metadata={"prismaudio": json.dumps(
                {"kind": "exemplar_bank", "version": 1, "names": self.names, "dim": EXEMPLAR_DIM})})
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> "ExemplarBank":
        import json

        from safetensors import safe_open

        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: exemplar bank not found")
        try:
            with safe_open(str(path), framework="numpy") as f:
                header = json.loads((f.metadata() or {})["prismaudio"])
                vectors = f.get_tensor("vectors")
        except Exception as e:  # corrupt file, foreign file, missing header
            raise ConfigError(f"{path}: not a PrismAudio exemplar bank ({str(e).splitlines()[0][:100]})") from None
        if header.get("kind") != "exemplar_bank":
            raise ConfigError(f"{path}: is a '{header.get('kind')}' file, not an exemplar bank")
        return cls(header["names"], vectors)
