"""Rectified-flow objective, sampling schedules and ODE samplers."""

from .path import flow_matching_loss, interpolate, sample_logit_normal, velocity_target
from .samplers import GuidedVelocity, cfg_combine, get_sampler, sample_euler, sample_heun, sample_midpoint
from .schedules import shift_sigmas, uniform_sigmas

__all__ = [
    "GuidedVelocity", "cfg_combine", "flow_matching_loss", "get_sampler", "interpolate", "sample_euler",
    "sample_heun", "sample_logit_normal", "sample_midpoint", "shift_sigmas", "uniform_sigmas", "velocity_target",
]

