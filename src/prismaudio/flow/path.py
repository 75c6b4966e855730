"""Rectified flow (Liu et al. 2022; Esser et al. 2024, "Scaling Rectified Flow Transformers").

Noise level sigma = t in [0, 1], t = 1 is pure noise:
    x_t = (1 - t) x0 + t eps,      target velocity v = dx_t/dt = eps - x0.
Training draws t from a logit-normal (sigmoid of a normal), which puts more steps in the
middle of the path where the target is hardest to predict.
"""

from __future__ import annotations

from typing import Callable

import torch


def _expand(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return t.view(-1, *([1] * (like.dim() - 1))).to(like.dtype)


def interpolate(x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """x_t = (1 - t) x0 + t eps, with t [B] broadcast over the other dims."""
    t = _expand(t, x0)
    return (1 - t) * x0 + t * eps


def velocity_target(x0: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    return eps - x0


def sample_logit_normal(n: int, mean: float = 0.0, std: float = 1.0, generator: torch.Generator | None = None,
                        device=None) -> torch.Tensor:
    """t = sigmoid(mean + std * N(0, 1)), shape [n]."""
    z = torch.randn(n, generator=generator, device="cpu").to(device) if generator is not None else torch.randn(n, device=device)
    return torch.sigmoid(mean + std * z)


def flow_matching_loss(velocity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x0: torch.Tensor,
                       t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """Per-sample mean squared error of the predicted velocity at (x_t, t): [B].

    `velocity(x_t, t)` is the model with its conditions bound. The loss is computed in
    float32 even when the network runs in lower precision.
    """
    x_t = interpolate(x0, eps, t)
    pred = velocity(x_t, t).float()
    err = (pred - velocity_target(x0, eps).float()) ** 2
    return err.flatten(1).mean(1)
