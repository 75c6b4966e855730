"""Rectified-flow path, schedules and samplers against closed forms."""

import pytest
import torch

from prismaudio.flow import (
    GuidedVelocity, cfg_combine, flow_matching_loss, interpolate, sample_euler, sample_heun, sample_logit_normal,
    sample_midpoint, shift_sigmas, uniform_sigmas, velocity_target,
)
from prismaudio.models import Conditions

SAMPLERS = [sample_euler, sample_heun, sample_midpoint]


def test_path_endpoints_and_target():
    x0, eps = torch.randn(3, 2, 5), torch.randn(3, 2, 5)
    torch.testing.assert_close(interpolate(x0, eps, torch.zeros(3)), x0)
    torch.testing.assert_close(interpolate(x0, eps, torch.ones(3)), eps)
    t = torch.tensor([0.1, 0.5, 0.9])
    dt = 1e-3
    numeric = (interpolate(x0, eps, t + dt) - interpolate(x0, eps, t)) / dt
    torch.testing.assert_close(numeric, velocity_target(x0, eps), atol=1e-3, rtol=1e-3)
    # the exact velocity has zero loss
    assert flow_matching_loss(lambda x, s: velocity_target(x0, eps), x0, t, eps).abs().max() == 0


def test_logit_normal_t():
    t = sample_logit_normal(20000, generator=torch.Generator().manual_seed(0))
    assert t.min() > 0 and t.max() < 1
    assert abs(float(t.median()) - 0.5) < 0.02
    assert float(((t > 0.25) & (t < 0.75)).float().mean()) > 0.6  # mass in the middle of the path


def test_schedules():
    s = uniform_sigmas(4)
    torch.testing.assert_close(s, torch.tensor([1.0, 0.75, 0.5, 0.25, 0.0]))
    shifted = uniform_sigmas(4, shift=3.0)
    assert shifted[0] == 1 and shifted[-1] == 0 and torch.all(shifted[1:-1] > s[1:-1])
    assert float(shift_sigmas(torch.tensor(0.5), 3.0)) == pytest.approx(1.5 / 2.0)
    with pytest.raises(ValueError):
        uniform_sigmas(0)


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("shift", [1.0, 3.0])
def test_samplers_exact_on_the_straight_path_to_one_point(sampler, shift):
    """v(x, s) = (x - x0) / s is the rectified-flow field of a single data point x0; its
    trajectories are straight lines, so every sampler must land on x0 exactly."""
    x0 = torch.randn(2, 3, 7, dtype=torch.float64)

    def field(x, sigma):
        return (x - x0) / sigma.to(x.dtype).view(-1, 1, 1)

    noise = torch.randn_like(x0)
    out = sampler(field, noise, uniform_sigmas(5, shift).double())
    torch.testing.assert_close(out, x0, atol=1e-10, rtol=0)


def test_heun_exact_on_a_velocity_linear_in_time_euler_is_not():
    """v(x, s) = 2 s k  =>  x(s) = x(1) + k (s^2 - 1). The trapezoid (Heun) and midpoint rules
    integrate a velocity linear in time exactly; Euler does not. The schedule stops above 0 so
    that every Heun step is a full second-order step."""
    k = torch.randn(1, 2, 3, dtype=torch.float64)

    def field(x, sigma):
        return 2 * sigma.to(x.dtype).view(-1, 1, 1) * k

    x1 = torch.randn_like(k)
    sigmas = torch.tensor([1.0, 0.6, 0.3, 0.1], dtype=torch.float64)  # ends above 0: every step is a Heun step
    expected = x1 + k * (0.1 ** 2 - 1)
    torch.testing.assert_close(sample_heun(field, x1, sigmas), expected, atol=1e-12, rtol=0)
    torch.testing.assert_close(sample_midpoint(field, x1, sigmas), expected, atol=1e-12, rtol=0)
    assert (sample_euler(field, x1, sigmas) - expected).abs().max() > 1e-2


def test_callback_sees_every_step():
    seen = []
    sample_euler(lambda x, s: torch.zeros_like(x), torch.zeros(1, 1, 2), uniform_sigmas(6), callback=lambda d: seen.append(d["i"]))
    assert seen == list(range(6))


class CondModel:
    """A velocity that depends on a conditioning stream through its drop mask (a real model's
    behaviour with its empty embedding), for testing guidance arithmetic exactly."""

    def __call__(self, x, sigma, c: Conditions):
        drop = c.drop_mask("text", x.shape[0], x.device).to(x.dtype).view(-1, 1, 1)
        text = c.text.mean(dim=(1, 2, 3)).view(-1, 1, 1)
        return x * sigma.view(-1, 1, 1) + (1 - drop) * text + drop * 7.0


def test_cfg_strength_one_is_the_conditional_prediction_and_guidance_is_batched():
    from tests.test_dit import FlowDiT, perturb, random_conditions, small_config

    cfg = small_config()
    model = FlowDiT(cfg)
    perturb(model)
    x, sigma = torch.randn(2, cfg.latent_channels, 20), torch.tensor([0.7, 0.3])
    cond = random_conditions(cfg, 2, 20)
    v_cond = model(x, sigma, cond)
    torch.testing.assert_close(GuidedVelocity(model, cond, 1.0)(x, sigma), v_cond)
    v_uncond = model(x, sigma, cond.unconditional())
    torch.testing.assert_close(cfg_combine(v_cond, v_uncond, 1.0), v_cond)
    # strength 4: one batched pass equals the two separate passes
    torch.testing.assert_close(GuidedVelocity(model, cond, 4.0)(x, sigma), v_uncond + 4.0 * (v_cond - v_uncond),
                               atol=1e-5, rtol=1e-4)


def test_negative_prompt_replaces_the_empty_text_in_the_unconditional_branch():
    x, sigma = torch.zeros(1, 1, 4), torch.tensor([0.5])
    cond = Conditions(text=torch.full((1, 4, 3, 2), 2.0), text_mask=torch.ones(1, 4, 3, dtype=torch.bool))
    neg = torch.full((1, 4, 3, 2), -1.0)
    plain = GuidedVelocity(CondModel(), cond, 3.0)(x, sigma)  # uncond uses empty text (7.0)
    assert torch.allclose(plain, torch.full_like(x, 7.0 + 3.0 * (2.0 - 7.0)))
    negative = GuidedVelocity(CondModel(), cond, 3.0, neg, torch.ones(1, 4, 3, dtype=torch.bool))(x, sigma)
    assert torch.allclose(negative, torch.full_like(x, -1.0 + 3.0 * (2.0 + 1.0)))
