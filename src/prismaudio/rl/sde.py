"""Flow-matching sampling steps for RL: the SDE step with its log-probability, and ODE steps.

Convention (../shared/docs/method.md section 3): sigma is the noise level (1 = noise, 0 =
data), x_sigma = (1 - sigma) x0 + sigma eps, v = eps - x0, dt = sigma_next - sigma < 0.

The SDE step is the Flow-GRPO form (method.md section 4). It is one pure function, computed
in float32 whatever the network's precision (bf16 rounding of the mean pushes the on-policy
ratio away from 1), and with `noise_level = 0` it is exactly the Euler step (flow/samplers.py's,
the ODE steps' too).
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import torch

from ..flow.samplers import euler_step  # noqa: F401  (the one Euler step: sampling and RL alike)
from ..flow.schedules import uniform_sigmas as timestep_schedule  # noqa: F401  (one schedule for sampling and RL)

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _per_sample(value, x: torch.Tensor) -> torch.Tensor:
    """A scalar or [B] tensor as float32 [B, 1, ..., 1] broadcastable against x [B, ...]."""
    t = torch.as_tensor(value, dtype=torch.float32, device=x.device)
    if t.dim() == 0:
        t = t.expand(x.shape[0])
    return t.reshape(-1, *([1] * (x.dim() - 1)))


@dataclass
class SDEStep:
    x_next: torch.Tensor  # [B, ...] float32
    logp: torch.Tensor  # [B] mean log-density of x_next over non-batch elements; NaN where degenerate
    mean: torch.Tensor  # [B, ...] the Gaussian's mean
    std: torch.Tensor  # [B] the step's standard deviation s = std_t * sqrt(-dt) (0 where degenerate)


def sde_step_with_logprob(
    x: torch.Tensor,
    v: torch.Tensor,
    sigma,
    sigma_next,
    noise_level: float,
    sigma_at_one: float,
    prev_sample: torch.Tensor | None = None,
    noise: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> SDEStep:
    """One reverse-SDE step of rectified flow and the log-density of its outcome.

        std_t  = a sqrt(sigma / (1 - sigma))      (sigma_at_one replaces sigma in the denominator
                                                    when sigma == 1: pass the schedule's sigmas[1])
        mean   = x + (v + std_t^2 / (2 sigma) (x + (1 - sigma) v)) dt
        s      = std_t sqrt(-dt);  x_next = mean + s * noise
        logp   = mean over non-batch elements of -(x_next - mean)^2 / (2 s^2) - log s - log sqrt(2 pi)

    `prev_sample` given: evaluate its log-density instead of sampling (the update step).
    Otherwise `noise` (or N(0, I) drawn from `generator`) makes x_next.
    Degenerate Gaussians (s == 0: noise_level 0, or the last step to sigma = 0) take the
    deterministic step (the Euler step, exactly) and report logp NaN so that nothing can
    train on them by accident; the last step is never an SDE step in a rollout.
    """
    x, v = x.float(), v.float()
    sig = _per_sample(sigma, x)
    sig_next = _per_sample(sigma_next, x)
    dt = sig_next - sig
    terminal = sig_next <= 0  # the Gaussian to sigma = 0 would have to collapse onto the data
    denom = 1 - torch.where(sig >= 1, torch.full_like(sig, float(sigma_at_one)), sig)
    std_t = noise_level * torch.sqrt(sig / denom)
    std_t = torch.where(terminal, torch.zeros_like(std_t), std_t)
    drift = v + std_t**2 / (2 * sig) * (x + (1 - sig) * v) if noise_level != 0 else v
    mean = x + drift * dt
    s = std_t * torch.sqrt(-dt)
    if prev_sample is None:
        if noise is None:
            noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=torch.float32)
        x_next = mean + s * noise.float() if noise_level != 0 else mean
    else:
        x_next = prev_sample.float()
    degenerate = (s == 0).flatten()
    safe_s = torch.where(s == 0, torch.ones_like(s), s)
    elementwise = -((x_next - mean) ** 2) / (2 * safe_s**2) - torch.log(safe_s) - _LOG_SQRT_2PI
    logp = elementwise.mean(dim=tuple(range(1, x.dim())))
    logp = torch.where(degenerate, torch.full_like(logp, float("nan")), logp)
    return SDEStep(x_next=x_next, logp=logp, mean=mean, std=s.flatten())
