"""Sampling stems: the project's one sampler stack (flow/samplers.py: GuidedVelocity, the
k-diffusion-style ODE samplers, flow/schedules.py) run on a batch of sources at once."""

from __future__ import annotations

import torch

from ..flow.samplers import GuidedVelocity, get_sampler
from ..flow.schedules import uniform_sigmas
from .model import StemConditions, StemDiT


@torch.no_grad()
def sample_latents(model: StemDiT, cond: StemConditions, frames: int, steps: int = 8, cfg_strength: float = 3.0,
                   seed: int = 0, sampler: str = "euler", shift: float = 1.0) -> torch.Tensor:
    """Mid latents [B, C, frames] for the B sources of `cond`, all in one batch. Source i's
    starting noise is drawn from (seed, i), so a source's stem does not change when another
    source of the plan is added or removed."""
    b = cond.track.shape[0]
    device = next(model.parameters()).device
    noise = torch.stack([torch.randn(model.config.latent_channels, frames,
                                     generator=torch.Generator().manual_seed(seed * 1009 + i)) for i in range(b)])
    guided = GuidedVelocity(model, cond.to(device), cfg_strength)
    return get_sampler(sampler)(guided, noise.to(device), uniform_sigmas(steps, shift))
