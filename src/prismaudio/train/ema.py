"""Exponential moving average of model weights (what samples and shipped weights use)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """shadow = decay_t * shadow + (1 - decay_t) * weights, with decay_t = min(decay, (1 + n) / (10 + n))
    so the average is not dominated by the random initialisation in the first steps."""

    def __init__(self, model: nn.Module, decay: float = 0.999):
        self.decay = decay
        self.module = copy.deepcopy(getattr(model, "module", model)).eval()
        self.updates = 0
        for p in self.module.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        source = getattr(model, "module", model)
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for ema_p, p in zip(self.module.parameters(), source.parameters()):
            ema_p.lerp_(p.detach().to(ema_p.dtype), 1 - d)
        for ema_b, b in zip(self.module.buffers(), source.buffers()):
            ema_b.copy_(b)
        self.updates += 1
