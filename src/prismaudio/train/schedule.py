"""The one learning-rate schedule every trainer uses (pure): the generator, stem generator and
codec trainers call `lr_at` with their train config."""

from __future__ import annotations

import math


def warmup_cosine(step: int, lr: float, lr_min: float, warmup_steps: int, max_steps: int) -> float:
    """Linear warm-up to `lr` over `warmup_steps`, then cosine from lr to lr_min at max_steps."""
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, max_steps - warmup_steps))
    return lr_min + 0.5 * (lr - lr_min) * (1 + math.cos(math.pi * progress))


def lr_at(step: int, train) -> float:
    """`warmup_cosine` with a train config's lr, lr_min, warmup_steps and max_steps."""
    return warmup_cosine(step, train.lr, train.lr_min, train.warmup_steps, train.max_steps)
