"""The GRPO update's loss terms, as pure functions of per-transition tensors.

PPO clip on the likelihood ratio (method.md section 5):
    ratio = exp(logp - logp_old);  L = max(-A ratio, -A clamp(ratio, 1 - eps, 1 + eps))
The log-probabilities are element means (sde.py), hence the tiny public clip range 1e-4.

KL to the frozen reference, per transition. Both policies' steps are Gaussians with the same
covariance s^2 I, s^2 = std_t^2 * (-dt), differing only in the mean, so
    KL = mean over elements of (mean_theta - mean_ref)^2 / (2 s^2)
is the exact per-element KL of the transition. (The public code divides by 2 std_t^2 without
the -dt factor: that is a per-unit-time rate, off by 1/(-dt) per step; not copied.)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class PPOTerms:
    loss: torch.Tensor  # [N] per-transition clipped policy loss
    ratio: torch.Tensor  # [N]
    clipped: torch.Tensor  # [N] bool: the clipped branch was the one taken (no gradient)


def ppo_clip_loss(logp: torch.Tensor, logp_old: torch.Tensor, advantages: torch.Tensor, clip_range: float) -> PPOTerms:
    ratio = torch.exp(logp - logp_old)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - clip_range, 1.0 + clip_range)
    return PPOTerms(loss=torch.maximum(unclipped, clipped), ratio=ratio.detach(), clipped=(clipped > unclipped).detach())


def kl_to_reference(mean: torch.Tensor, mean_ref: torch.Tensor, step_std: torch.Tensor) -> torch.Tensor:
    """[N] KL(policy step || reference step) per element, averaged: (mu - mu_ref)^2 / (2 s^2).
    `step_std` [N] is s = std_t sqrt(-dt) from `sde_step_with_logprob`."""
    s2 = step_std.float().reshape(-1, *([1] * (mean.dim() - 1))) ** 2
    return ((mean.float() - mean_ref.float()) ** 2 / (2 * s2)).mean(dim=tuple(range(1, mean.dim())))
