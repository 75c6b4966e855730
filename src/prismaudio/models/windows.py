"""Long audio from fixed-length windows: where the windows go and how they are joined (pure)."""

from __future__ import annotations

import math

import torch


def window_starts(duration: float, window: float, overlap: float) -> list[float]:
    """Start times (s) of windows of length `window` covering [0, duration], consecutive
    windows overlapping by at least `overlap`. One window when the duration fits."""
    if duration <= window + 1e-9:
        return [0.0]
    count = math.ceil((duration - overlap) / (window - overlap) - 1e-9)
    step = (duration - window) / (count - 1)
    return [k * step for k in range(count)]


def crossfade_join(waves: list[torch.Tensor], starts: list[int], total: int) -> torch.Tensor:
    """Join windows [C, n_k] placed at sample `starts[k]` into [C, total] with equal-power
    (sine/cosine) crossfades over each overlap: independently generated windows are
    uncorrelated where they overlap, so equal power keeps the level constant (a linear fade
    would dip by 3 dB in the middle of every seam)."""
    out = torch.zeros(waves[0].shape[0], total, dtype=waves[0].dtype)
    for k, (wave, start) in enumerate(zip(waves, starts)):
        n = min(wave.shape[-1], total - start)
        gain = torch.ones(n, dtype=wave.dtype)
        if k > 0:  # fade in over the overlap with the previous window
            fade = max(0, min(n, starts[k - 1] + waves[k - 1].shape[-1] - start))
            if fade:
                gain[:fade] = torch.sin(0.5 * math.pi * (torch.arange(fade, dtype=wave.dtype) + 0.5) / fade)
        if k + 1 < len(waves):  # fade out over the overlap with the next window
            fade = max(0, min(n, start + n - starts[k + 1]))
            if fade:
                gain[n - fade:] = gain[n - fade:] * torch.cos(0.5 * math.pi * (torch.arange(fade, dtype=wave.dtype) + 0.5) / fade)
        out[:, start:start + n] += wave[:, :n] * gain
    return out
