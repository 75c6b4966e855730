"""Joining the saved windows of a streamed generate into one (unmastered) audio file, holding
one window at a time: each window is crossfaded into the previous one's tail over their overlap
(`render.crossfade`: the fade law follows the measured correlation) and written out."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf

from ..fsutil import atomic_path
from ..render.crossfade import crossfade


def join_windows(load: Callable[[int], np.ndarray], starts: list[int], total: int, out_path: Path,
                 sample_rate: int) -> Path:
    """Windows `load(k)` ([C, n_k] float32) placed at sample `starts[k]`, crossfaded where they
    overlap, written as float32 to `out_path` (exactly `total` samples, atomically)."""
    pending: np.ndarray | None = None  # the audio from `written` on that is not final yet
    written = 0
    with atomic_path(out_path) as tmp:
        with sf.SoundFile(str(tmp), "w", samplerate=sample_rate, channels=2, format="W64", subtype="FLOAT") as out:
            for k, start in enumerate(starts):
                wave = np.asarray(load(k), dtype=np.float32)
                if pending is None:
                    pending = wave
                    written = start
                    continue
                overlap = max(0, min(written + pending.shape[1] - start, wave.shape[1]))
                ready = start - written  # samples of the previous window before this one starts
                if ready > 0:
                    out.write(pending[:, :ready].T)
                    written += ready
                tail = pending[:, ready:ready + overlap]
                joined = crossfade(tail, wave[:, :overlap]) if overlap else np.zeros((wave.shape[0], 0), np.float32)
                pending = np.concatenate([joined, wave[:, overlap:]], axis=1)
            if pending is not None:
                out.write(pending[:, : max(0, total - written)].T)
                written += min(pending.shape[1], max(0, total - written))
            if written < total:  # windows end before the duration (rounding): silence to the sample
                out.write(np.zeros((total - written, 2), dtype=np.float32))
    return out_path
