"""Endless training data for the stem generator, rendered on the fly from the note pool.

`compose` draws one source's random choreography (impact times with gaps, or sustained
segments; a strength per event) and lays pool notes on a silent mono timeline at
sample-exact onsets. `StemBatches[step]` is the whole batch of training step `step`: a class
per row (held-out classes never drawn), its composed stem encoded to the codec mid latent,
its event track, text vector and the exemplar embedding of a *different* note of the class,
with text/exemplar dropout. Everything is drawn from a generator seeded by (seed, step), so
a batch is the same whoever makes it, in whichever process, in whatever order: a resumed
run sees exactly the batches it would have seen, and data workers can run ahead.
"""

from __future__ import annotations

import numpy as np
import torch

from ..canvas.soundbank import loop_to_length
from .config import StemDataConfig, StemModelConfig
from .pool import PoolClass
from .tracks import TrackEvent, event_track

FADE_IN, FADE_OUT = 0.01, 0.03


def _strength(rng: np.random.Generator) -> float:
    return 1.0 if rng.random() < 0.5 else float(rng.uniform(0.25, 1.0))


def _fade(x: np.ndarray, sr: int) -> np.ndarray:
    n_in, n_out = min(len(x), int(FADE_IN * sr)), min(len(x), int(FADE_OUT * sr))
    x = x.copy()
    if n_in > 1:
        x[:n_in] *= np.linspace(0, 1, n_in, dtype=np.float32)
    if n_out > 1:
        x[-n_out:] *= np.linspace(1, 0, n_out, dtype=np.float32)
    return x


def impact_times(rng: np.random.Generator, duration: float, max_count: int, min_gap: float) -> list[float]:
    """1..max_count onsets in [0, duration - 0.1), at least `min_gap` apart (pure given rng)."""
    count = int(rng.integers(1, max_count + 1))
    times, t = [], float(rng.uniform(0.0, min(2.0, duration * 0.5)))
    while len(times) < count and t < duration - 0.1:
        times.append(t)
        t += min_gap + float(rng.exponential(0.6))
    return times


def sustained_spans(rng: np.random.Generator, duration: float) -> list[tuple[float, float]]:
    """1-3 non-overlapping (onset, offset) spans; 20% one span over the whole clip."""
    if rng.random() < 0.2:
        return [(0.0, duration)]
    count = int(rng.integers(1, 4))
    starts = np.sort(rng.uniform(0.0, duration - 0.4, size=count))
    spans = []
    for i, s in enumerate(starts):
        end_limit = starts[i + 1] - 0.15 if i + 1 < count else duration
        if end_limit - s < 0.3:
            continue
        spans.append((float(s), float(min(end_limit, s + rng.uniform(0.3, duration)))))
    return spans or [(float(starts[0]), duration)]


def compose(pc: PoolClass, rng: np.random.Generator, duration: float, sr: int, cfg: StemDataConfig
            ) -> tuple[np.ndarray, list[TrackEvent], set[int]]:
    """(mono stem [N], its events, indices of the pool notes used)."""
    n = int(round(duration * sr))
    wave = np.zeros(n, dtype=np.float32)
    events, used = [], set()
    if pc.kind == "impact":
        for onset in impact_times(rng, duration, cfg.max_impacts, cfg.min_gap):
            i = int(rng.integers(len(pc.notes)))
            used.add(i)
            s = _strength(rng)
            start = int(round(onset * sr))
            note = pc.notes[i][: n - start]
            wave[start : start + len(note)] += s * note
            events.append(TrackEvent(onset, min(duration, onset + len(pc.notes[i]) / sr), "impact", s))
    else:
        for onset, offset in sustained_spans(rng, duration):
            i = int(rng.integers(len(pc.notes)))
            used.add(i)
            s = _strength(rng)
            start, stop = int(round(onset * sr)), int(round(offset * sr))
            src = pc.notes[i]
            skip = int(rng.integers(0, max(1, len(src) // 2)))
            seg = loop_to_length(src[skip:], stop - start, sr) if len(src) - skip < stop - start else src[skip : skip + stop - start]
            wave[start:stop] += s * _fade(seg.astype(np.float32), sr)
            events.append(TrackEvent(onset, offset, "sustained", s))
    return wave, events, used


def other_note(pc: PoolClass, used: set[int], rng: np.random.Generator) -> int:
    """A pool note of the class not used in the clip (when there is one): the exemplar."""
    free = [i for i in range(len(pc.notes)) if i not in used]
    return int(rng.choice(free)) if free else int(rng.integers(len(pc.notes)))


class StemBatches(torch.utils.data.Dataset):
    """Map-style: index = training step -> that step's batch (see module doc)."""

    def __init__(self, pool: dict[str, PoolClass], classes: list[str], text_vectors: dict[str, np.ndarray],
                 model: StemModelConfig, data: StemDataConfig, batch_size: int, seed: int, length: int = 10**9,
                 latent_path: str | None = None, weights: np.ndarray | None = None):
        self.pool = {c: pool[c] for c in classes}
        self.classes = list(classes)
        # probability of each class per row (None: uniform, drawn as before weights existed)
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float64) / np.sum(weights)
        self.text = text_vectors
        self.model = model
        self.data = data
        self.batch_size = batch_size
        self.seed = seed
        self.length = length
        self.latent_path = latent_path
        self._latent = None

    def __len__(self) -> int:
        return self.length

    @property
    def latent(self):
        if self._latent is None:  # loaded lazily: in a data worker, after the fork
            from .latent import MonoLatent

            self._latent = MonoLatent.load(self.latent_path)
        return self._latent

    def sample(self, rng: np.random.Generator, class_name: str | None = None) -> dict:
        """One row: class, composed stem, events, exemplar note index and embedding."""
        if class_name is None:
            pick = rng.integers(len(self.classes)) if self.weights is None else rng.choice(len(self.classes), p=self.weights)
            class_name = self.classes[int(pick)]
        name = class_name
        pc = self.pool[name]
        wave, events, used = compose(pc, rng, self.model.duration, self.model.sample_rate, self.data)
        ex = other_note(pc, used, rng)
        return {"class": name, "wave": wave, "events": events, "exemplar_note": ex, "exemplar": pc.embeddings[ex]}

    def __getitem__(self, step: int) -> dict:
        rng = np.random.default_rng([self.seed, int(step)])
        rows = [self.sample(rng) for _ in range(self.batch_size)]
        return self.collate(rows, rng, step)

    def collate(self, rows: list[dict], rng: np.random.Generator | None, step: int = -1) -> dict:
        """Tensors of a list of rows; dropout drawn from `rng` (None: nothing dropped)."""
        b = len(rows)
        frames = int(np.ceil(self.model.duration * self.model.latent_rate))
        latent = self.latent.encode(torch.from_numpy(np.stack([r["wave"] for r in rows])))[..., :frames]
        track = np.stack([event_track(r["events"], frames, self.model.latent_rate) for r in rows])
        drop_t = rng.random(b) < self.data.text_dropout if rng is not None else np.zeros(b, bool)
        drop_e = rng.random(b) < self.data.exemplar_dropout if rng is not None else np.zeros(b, bool)
        return {
            "step": step,
            "latent": latent,
            "track": torch.from_numpy(track),
            "text": torch.from_numpy(np.stack([self.text[r["class"]] for r in rows])),
            "exemplar": torch.from_numpy(np.stack([r["exemplar"] for r in rows])),
            "drop_text": torch.from_numpy(drop_t),
            "drop_exemplar": torch.from_numpy(drop_e),
            "classes": [r["class"] for r in rows],
        }


def class_weights(classes: list[str], library_only: set[str], library_share: float) -> np.ndarray | None:
    """Per-class draw probabilities giving library-only classes `library_share` of the rows
    together (pure; None when one group is empty: uniform over all classes)."""
    n_lib = sum(c in library_only for c in classes)
    n_bank = len(classes) - n_lib
    if n_lib == 0 or n_bank == 0:
        return None
    return np.array([library_share / n_lib if c in library_only else (1 - library_share) / n_bank for c in classes])


def worker_init(_worker_id: int) -> None:
    torch.set_num_threads(1)  # the data worker must not compete with the trainer's thread
