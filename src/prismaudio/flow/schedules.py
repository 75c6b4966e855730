"""Noise-level schedules for sampling: pure functions returning sigmas from 1 (noise) to 0 (data).

`shift` is the resolution-dependent timestep shift of Esser et al. 2024 (SD3, eq. 23):
shift(s) = a s / (1 + (a - 1) s); a > 1 spends more steps at high noise.
"""

from __future__ import annotations

import torch


def shift_sigmas(sigmas: torch.Tensor, shift: float) -> torch.Tensor:
    if shift <= 0:
        raise ValueError(f"shift must be positive, got {shift}")
    return shift * sigmas / (1 + (shift - 1) * sigmas)


def uniform_sigmas(num_steps: int, shift: float = 1.0) -> torch.Tensor:
    """num_steps + 1 sigmas, linspace(1, 0) (the public PrismAudio schedule), optionally shifted."""
    if num_steps < 1:
        raise ValueError(f"num_steps must be at least 1, got {num_steps}")
    sigmas = torch.linspace(1.0, 0.0, num_steps + 1, dtype=torch.float64)
    return shift_sigmas(sigmas, shift).float() if shift != 1.0 else sigmas.float()
