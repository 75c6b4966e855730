"""ODE samplers for a velocity field, one signature for all (k-diffusion style):

    sample_X(model, x, sigmas, extra_args=None, callback=None, disable=None) -> x at sigmas[-1]

`model(x, sigma, **extra_args)` returns the velocity eps - x0 at noise level sigma (a [B]
tensor); `sigmas` runs from 1 (noise) down to 0. `callback({"i", "x", "sigma",
"sigma_next", "velocity"})` sees every step, so a caller can draw progress or (the RL
trainer) record transitions; an SDE step with log-probability plugs in as another function
with the same signature. `GuidedVelocity` wraps a conditional model into classifier-free
guidance with both branches in one batch.

This is the project's one sampler stack: inference (pipeline/joint.py, stemgen/sampling.py),
training samples (train/samples.py) and Fast-GRPO (rl/rollout.py: rollouts, updates and the
evaluation sampler) all use this `euler_step` and this `GuidedVelocity`.
"""

from __future__ import annotations

import inspect

from typing import Callable

import torch
from tqdm.auto import tqdm

from ..models.conditioning import Conditions

VelocityModel = Callable[..., torch.Tensor]


def _sigma_batch(sigma: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return sigma.to(x.device).expand(x.shape[0])  # the schedule's dtype (float32 unless a test asks for 64)


def _steps(sigmas: torch.Tensor, disable: bool | None):
    return tqdm(range(len(sigmas) - 1), desc="sampling", unit="step", leave=False, disable=True if disable is None else disable)


def euler_step(x: torch.Tensor, v: torch.Tensor, sigma, sigma_next) -> torch.Tensor:
    """x_next = x + v * (sigma_next - sigma); sigma and sigma_next are numbers, 0-d tensors or
    one per sample ([B], as the RL rollout's rows each carry their own step)."""
    dt = (torch.as_tensor(sigma_next, device=x.device) - torch.as_tensor(sigma, device=x.device)).to(x.dtype)
    if dt.dim() == 1:
        dt = dt.reshape(-1, *([1] * (x.dim() - 1)))
    return x + v * dt


@torch.no_grad()
def sample_euler(model: VelocityModel, x: torch.Tensor, sigmas: torch.Tensor, extra_args: dict | None = None,
                 callback: Callable[[dict], None] | None = None, disable: bool | None = None) -> torch.Tensor:
    extra_args = extra_args or {}
    for i in _steps(sigmas, disable):
        v = model(x, _sigma_batch(sigmas[i], x), **extra_args)
        if callback is not None:
            callback({"i": i, "x": x, "sigma": sigmas[i], "sigma_next": sigmas[i + 1], "velocity": v})
        x = euler_step(x, v, sigmas[i], sigmas[i + 1])
    return x


@torch.no_grad()
def sample_heun(model: VelocityModel, x: torch.Tensor, sigmas: torch.Tensor, extra_args: dict | None = None,
                callback: Callable[[dict], None] | None = None, disable: bool | None = None) -> torch.Tensor:
    """Heun's second-order method (trapezoid on the velocity); the last step to sigma 0 is Euler
    (as in Karras et al. 2022), so N steps cost 2N - 1 model calls."""
    extra_args = extra_args or {}
    for i in _steps(sigmas, disable):
        s, s_next = sigmas[i], sigmas[i + 1]
        v = model(x, _sigma_batch(s, x), **extra_args)
        if callback is not None:
            callback({"i": i, "x": x, "sigma": s, "sigma_next": s_next, "velocity": v})
        x_euler = euler_step(x, v, s, s_next)
        if float(s_next) == 0.0:
            x = x_euler
        else:
            v_next = model(x_euler, _sigma_batch(s_next, x), **extra_args)
            x = euler_step(x, (v + v_next) / 2, s, s_next)
    return x


@torch.no_grad()
def sample_midpoint(model: VelocityModel, x: torch.Tensor, sigmas: torch.Tensor, extra_args: dict | None = None,
                    callback: Callable[[dict], None] | None = None, disable: bool | None = None) -> torch.Tensor:
    """Explicit midpoint: the velocity half a step ahead moves the whole step (2 calls per step)."""
    extra_args = extra_args or {}
    for i in _steps(sigmas, disable):
        s, s_next = sigmas[i], sigmas[i + 1]
        v = model(x, _sigma_batch(s, x), **extra_args)
        if callback is not None:
            callback({"i": i, "x": x, "sigma": s, "sigma_next": s_next, "velocity": v})
        s_mid = (s + s_next) / 2
        v_mid = model(euler_step(x, v, s, s_mid), _sigma_batch(s_mid, x), **extra_args)
        x = euler_step(x, v_mid, s, s_next)
    return x


SAMPLERS = {"euler": sample_euler, "heun": sample_heun, "midpoint": sample_midpoint}


def get_sampler(name: str):
    from ..errors import ConfigError

    if name not in SAMPLERS:
        raise ConfigError(f"unknown sampler '{name}' (known: {', '.join(SAMPLERS)})")
    return SAMPLERS[name]


def cfg_combine(v_cond: torch.Tensor, v_uncond: torch.Tensor, cfg_strength: float) -> torch.Tensor:
    """Classifier-free guidance: v_u + s (v_c - v_u); s = 1 is the conditional prediction."""
    return v_uncond + cfg_strength * (v_cond - v_uncond)


class GuidedVelocity:
    """A velocity model with classifier-free guidance: v_u + s (v_c - v_u), both branches in one
    batch [cond; uncond], the guidance computed in float32. With cfg_strength == 1 the
    unconditional branch is skipped (it would cancel out).

    Conditions bound at construction (sampling: `GuidedVelocity(model, cond, 3.0)(x, sigma)`):
    the batched branches are built once and a model that can cache their encoding (a `cache`
    argument) does. Conditions per call (the RL policy, whose rows change every call:
    `GuidedVelocity(model, cfg_strength=3.0)(x, sigma, cond)`): nothing is cached, so the call
    can run under autograd. The unconditional branch is the conditioning's own
    `unconditional()` (every stream empty; a negative prompt's text replaces the empty text),
    or zeros for a plain tensor (flow/batching.py).
    """

    def __init__(self, model: Callable, conditions=None, cfg_strength: float = 1.0,
                 negative_text: torch.Tensor | None = None, negative_mask: torch.Tensor | None = None):
        if isinstance(conditions, (int, float)):
            raise TypeError("GuidedVelocity(model, conditions, cfg_strength): got a number for conditions "
                            "(pass cfg_strength=... by keyword)")
        self.model = model
        self.cfg_strength = float(cfg_strength)
        self.conditions = conditions
        self.negative = (negative_text, negative_mask)
        self.batched = self._branches(conditions) if conditions is not None and self.cfg_strength != 1.0 else None
        # the bound conditions are fixed for this object's life: a model that can reuse their encoding does
        takes_cache = "cache" in inspect.signature(getattr(model, "forward", model)).parameters
        self._cache: dict | None = {} if conditions is not None and takes_cache else None

    def _branches(self, cond):
        from .batching import batch_cat, unconditional

        text, mask = self.negative
        uncond = cond.unconditional(text, mask) if text is not None else unconditional(cond)
        return batch_cat([cond, uncond])

    def _model(self, x: torch.Tensor, sigma: torch.Tensor, conditions, cache: dict | None) -> torch.Tensor:
        if cache is None:
            return self.model(x, sigma, conditions)
        return self.model(x, sigma, conditions, cache=cache)

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor, cond=None) -> torch.Tensor:
        if cond is None:
            if self.conditions is None:
                raise TypeError("GuidedVelocity: no conditions bound and none given to the call")
            cond, batched, cache = self.conditions, self.batched, self._cache
        else:
            batched = self._branches(cond) if self.cfg_strength != 1.0 else None
            cache = None
        if self.cfg_strength == 1.0:
            return self._model(x, sigma, cond, cache)
        v = self._model(torch.cat([x, x]), torch.cat([sigma, sigma]), batched, cache)
        v_cond, v_uncond = v.float().chunk(2)
        return cfg_combine(v_cond, v_uncond, self.cfg_strength)
