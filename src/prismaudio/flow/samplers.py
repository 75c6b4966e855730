"""ODE samplers for a velocity field, one signature for all (k-diffusion style):

    sample_X(model, x, sigmas, extra_args=None, callback=None, disable=None) -> x at sigmas[-1]

`model(x, sigma, **extra_args)` returns the velocity eps - x0 at noise level sigma (a [B]
tensor); `sigmas` runs from 1 (noise) down to 0. `callback({"i", "x", "sigma",
"sigma_next", "velocity"})` sees every step, so a caller can draw progress or (the RL
trainer) record transitions; an SDE step with log-probability plugs in as another function
with the same signature. `GuidedVelocity` wraps a conditional model into classifier-free
guidance with both branches in one batch.
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


def euler_step(x: torch.Tensor, v: torch.Tensor, sigma: torch.Tensor, sigma_next: torch.Tensor) -> torch.Tensor:
    """x_next = x + v * (sigma_next - sigma)."""
    return x + v * (sigma_next - sigma).to(x.dtype)


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
    """A velocity model with conditions bound and classifier-free guidance applied.

    Both branches run as one batch [cond; uncond]. The unconditional branch uses every
    stream's empty embedding, except that a negative prompt's text replaces the empty text.
    With cfg_strength == 1 the unconditional branch is skipped (it would cancel out).
    """

    def __init__(self, model: Callable[[torch.Tensor, torch.Tensor, Conditions], torch.Tensor], conditions: Conditions,
                 cfg_strength: float = 1.0, negative_text: torch.Tensor | None = None,
                 negative_mask: torch.Tensor | None = None):
        self.model = model
        self.cfg_strength = float(cfg_strength)
        self.conditions = conditions
        if self.cfg_strength != 1.0:
            # type(conditions): the joint model's Conditions or the stem generator's StemConditions
            self.batched = type(conditions).cat([conditions, conditions.unconditional(negative_text, negative_mask)])
        # the conditions are fixed for this object's life: a model that can reuse their encoding does
        self._cache: dict | None = {} if "cache" in inspect.signature(getattr(model, "forward", model)).parameters else None

    def _model(self, x: torch.Tensor, sigma: torch.Tensor, conditions: Conditions) -> torch.Tensor:
        if self._cache is None:
            return self.model(x, sigma, conditions)
        return self.model(x, sigma, conditions, cache=self._cache)

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        if self.cfg_strength == 1.0:
            return self._model(x, sigma, self.conditions)
        v = self._model(torch.cat([x, x]), torch.cat([sigma, sigma]), self.batched)
        v_cond, v_uncond = v.chunk(2)
        return cfg_combine(v_cond, v_uncond, self.cfg_strength)
