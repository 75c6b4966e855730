"""A cached pool of rendered notes per class: what the endless training data is composed from.

tinysoundfont renders a note in tens of milliseconds, too slow to render every training
clip's notes on the fly, so each class is rendered once: `notes_per_impact_class` hits
(random key and velocity from the class's recipe, class-calibrated level) or
`renders_per_sustained_class` sustained takes of `sustained_render_seconds`, plus the
exemplar embedding of every note. One file per class under `pool_dir` (atomic; a killed
build resumes at the next missing class); a real-recordings library adds its classes the
same way (every recording a note). Deterministic by (class name, seed).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..fsutil import atomic_path
from .config import StemDataConfig

log = logging.getLogger(__name__)
POOL_VERSION = 1


@dataclass
class PoolClass:
    name: str
    kind: str  # impact | sustained
    text: str  # "label: description", what a plan's source gives the text encoder
    notes: list[np.ndarray]  # mono float32 at the codec rate
    embeddings: np.ndarray  # [len(notes), EXEMPLAR_DIM]


def class_seed(name: str, seed: int = 0) -> int:
    return int.from_bytes(hashlib.sha1(f"{name}/{seed}".encode()).digest()[:4], "little")


def source_text(label: str, description: str) -> str:
    return f"{label}: {description}" if description else label


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _save(path: Path, cls: PoolClass) -> None:
    lengths = np.array([len(n) for n in cls.notes], dtype=np.int64)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, audio=np.concatenate(cls.notes).astype(np.float32), lengths=lengths,
                     embeddings=cls.embeddings.astype(np.float32),
                     meta=np.array([cls.name, cls.kind, cls.text, str(POOL_VERSION)]))


def _load(path: Path) -> PoolClass:
    with np.load(path) as z:
        name, kind, text, version = [str(s) for s in z["meta"]]
        if int(version) != POOL_VERSION:
            raise ValueError(f"{path}: pool format {version}, expected {POOL_VERSION}")
        bounds = np.concatenate([[0], np.cumsum(z["lengths"])])
        audio = z["audio"]
        notes = [audio[bounds[i] : bounds[i + 1]].copy() for i in range(len(bounds) - 1)]
        return PoolClass(name, kind, text, notes, z["embeddings"])


def _render_builtin(sound_class, bank, cfg: StemDataConfig) -> list[np.ndarray]:
    rng = np.random.default_rng(class_seed(sound_class.name))
    if sound_class.kind == "impact":
        return [bank.render(sound_class, rng).audio for _ in range(cfg.notes_per_impact_class)]
    return [bank.render(sound_class, rng, seconds=cfg.sustained_render_seconds).audio
            for _ in range(cfg.renders_per_sustained_class)]


def build_pool(cfg: StemDataConfig, latent, progress: bool = True) -> dict[str, PoolClass]:
    """Render (or load from `cfg.pool_dir`) every class's notes; returns name -> PoolClass."""
    from tqdm.auto import tqdm

    from ..canvas.classes import BUILTIN_CLASSES
    from ..canvas.soundbank import SoundBank, default_soundfont
    from .exemplar import embed_waves

    folder = Path(cfg.pool_dir)
    folder.mkdir(parents=True, exist_ok=True)
    bank = SoundBank(latent.sample_rate, default_soundfont())
    jobs: list[tuple[str, str, str, callable]] = [
        (c.name, c.kind, source_text(c.name, c.description), lambda c=c: _render_builtin(c, bank, cfg))
        for c in BUILTIN_CLASSES]
    if cfg.library and not Path(cfg.library).is_dir():
        log.warning("data.library %s: not built (`make library`); training on the sound bank's classes only", cfg.library)
    elif cfg.library:
        from ..library.catalog import SoundLibrary

        lib = SoundLibrary.load(cfg.library)
        for c in lib.classes.values():
            recs = lib.recordings_of(c.name)
            if recs and c.name not in {j[0] for j in jobs}:
                kind = "impact" if c.kind == "impact" else "sustained"
                jobs.append((c.name, kind, source_text(c.name, c.description),
                             lambda recs=recs: [lib.audio(r, latent.sample_rate) for r in recs[:32]]))
    pool: dict[str, PoolClass] = {}
    for name, kind, text, render in tqdm(jobs, desc="note pool", unit="class", disable=not progress):
        path = folder / f"{_slug(name)}.npz"
        if path.is_file():
            try:
                pool[name] = _load(path)
                continue
            except Exception as e:  # a damaged or old file: render again
                log.warning("%s: %s; rendering again", path, e)
        notes = [n.astype(np.float32) for n in render() if len(n) and np.abs(n).max() > 1e-5]
        if not notes:
            log.warning("class '%s': no audible notes; left out of the pool", name)
            continue
        cls = PoolClass(name, kind, text, notes, embed_waves(notes, latent))
        _save(path, cls)
        pool[name] = cls
    return pool
