"""Sampling stems: the project's one sampler stack (flow/samplers.py: GuidedVelocity, the
k-diffusion-style ODE samplers, flow/schedules.py) run on a batch of sources at once."""

from __future__ import annotations

import torch

from ..flow.samplers import GuidedVelocity, get_sampler
from ..flow.schedules import uniform_sigmas
from .model import StemConditions, StemDiT


def partial_sigmas(steps: int, start_sigma: float, shift: float = 1.0) -> torch.Tensor:
    """`steps` + 1 noise levels from `start_sigma` down to 0 (pure): the schedule of a flow
    that starts from a noised template rather than from pure noise (start_sigma 1)."""
    return uniform_sigmas(steps, shift) * float(start_sigma)


def noise_of(rows: list[int], channels: int, frames: int, seed: int) -> torch.Tensor:
    """Starting noise [len(rows), channels, frames]: row i's from (seed, i) alone."""
    return torch.stack([torch.randn(channels, frames, generator=torch.Generator().manual_seed(seed * 1009 + i))
                        for i in rows])


@torch.no_grad()
def sample_latents(model: StemDiT, cond: StemConditions, frames: int, steps: int = 8, cfg_strength: float = 3.0,
                   seed: int = 0, sampler: str = "euler", shift: float = 1.0, rows: list[int] | None = None,
                   start: torch.Tensor | None = None, start_sigma: float = 1.0) -> torch.Tensor:
    """Mid latents [B, C, frames] for the B sources of `cond`, all in one batch. Source i's
    starting noise is drawn from (seed, rows[i]) (rows: the sources' indices in the plan,
    default 0..B-1), so a source's stem does not change when another source of the plan is
    added or removed. With `start` [B, C, frames] (template latents) the flow starts at
    noise level `start_sigma` from (1 - s) start + s noise."""
    b = cond.track.shape[0]
    device = next(model.parameters()).device
    x = noise_of(rows if rows is not None else list(range(b)), model.config.latent_channels, frames, seed)
    if start is None:
        start_sigma = 1.0
    else:
        x = (1.0 - start_sigma) * start.to(x.dtype) + start_sigma * x
    sigmas = partial_sigmas(steps, start_sigma, shift)
    guided = GuidedVelocity(model, cond.to(device), cfg_strength)
    return get_sampler(sampler)(guided, x.to(device), sigmas)
