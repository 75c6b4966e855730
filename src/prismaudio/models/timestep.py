"""Sinusoidal timestep features, shared by the DiTs and the conditioning encoder (its own
module so that neither imports the other for it)."""

from __future__ import annotations

import math

import torch


def timestep_features(sigma: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal features of sigma in [0, 1] (scaled by 1000, as DDPM-style timesteps) -> [B, dim]."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=sigma.device, dtype=torch.float32) / half)
    args = sigma.float()[:, None] * 1000.0 * freqs[None]
    return torch.cat([args.cos(), args.sin()], dim=-1)
