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

    def update(self, model: nn.Module) -> None:
        lerp_weights(self.module, getattr(model, "module", model), ema_decay(self.decay, self.updates))
        self.updates += 1


def ema_decay(decay: float, n: int) -> float:
    """The decay of update n: min(decay, (1 + n) / (10 + n)) (pure; every trainer's EMA)."""
    return min(decay, (1 + n) / (10 + n))


@torch.no_grad()
def lerp_weights(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model for the parameters; buffers copied."""
    for ema_p, p in zip(ema.parameters(), model.parameters()):
        ema_p.lerp_(p.detach().to(ema_p.dtype), 1 - decay)
    for ema_b, b in zip(ema.buffers(), model.buffers()):
        ema_b.copy_(b)
