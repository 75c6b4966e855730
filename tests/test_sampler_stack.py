"""One sampler stack (issue 21 item 5): Fast-GRPO's rollouts, updates and evaluation sampler use
flow/samplers.py's euler_step and GuidedVelocity. These tests keep verbatim copies of the RL
module's former private versions and show that the shared ones give the same numbers, bit
for bit, for the same seed."""

from __future__ import annotations

import pytest
import torch

from prismaudio.flow.batching import batch_cat, unconditional
from prismaudio.flow.samplers import GuidedVelocity, cfg_combine, euler_step, get_sampler
from prismaudio.flow.schedules import uniform_sigmas
from prismaudio.rl import rollout as rollout_module
from prismaudio.rl.config import GRPOConfig
from rl_toy import C, D, L, TinyVelocity


# ---- the former rl/sde.py and rl/rollout.py code, verbatim (the reference) ---------------------
def _old_per_sample(value, x):
    t = torch.as_tensor(value, dtype=torch.float32, device=x.device)
    if t.dim() == 0:
        t = t.expand(x.shape[0])
    return t.reshape(-1, *([1] * (x.dim() - 1)))


def old_euler_step(x, v, sigma, sigma_next):
    x, v = x.float(), v.float()
    dt = _old_per_sample(sigma_next, x) - _old_per_sample(sigma, x)
    return x + v * dt


class OldGuidedVelocity:
    def __init__(self, model, cfg_strength, uncond_fn=unconditional):
        self.model, self.cfg_strength, self.uncond_fn = model, float(cfg_strength), uncond_fn

    def __call__(self, x, sigma, cond):
        if self.cfg_strength == 1.0:
            return self.model(x, sigma, cond)
        both = self.model(torch.cat([x, x]), torch.cat([sigma, sigma]), batch_cat([cond, self.uncond_fn(cond)]))
        v_cond, v_uncond = both.float().chunk(2)
        return cfg_combine(v_cond, v_uncond, self.cfg_strength)


@torch.no_grad()
def old_sample_ode(policy, cond, noise, sigmas, solver="euler"):
    x = noise.float()
    b = x.shape[0]
    for i in range(len(sigmas) - 1):
        s, s_next = sigmas[i].expand(b), sigmas[i + 1].expand(b)
        v = policy(x, s, cond).float()
        x_new = old_euler_step(x, v, s, s_next)
        if solver == "heun" and float(sigmas[i + 1]) > 0:
            x_new = old_euler_step(x, 0.5 * (v + policy(x_new, s_next, cond).float()), s, s_next)
        x = x_new
    return x


def _batch(seed=0, b=5):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, C, L, generator=g), torch.randn(b, C, L, generator=g), torch.randn(b, D, generator=g)


# ---- the tests ---------------------------------------------------------------------------------
def test_euler_step_same_as_the_rl_copy_for_scalar_and_per_sample_sigmas():
    x, v, _ = _batch()
    per_sample = torch.tensor([1.0, 0.8, 0.5, 0.25, 0.1])
    nxt = torch.tensor([0.8, 0.6, 0.25, 0.0, 0.0])
    assert torch.equal(euler_step(x, v, per_sample, nxt), old_euler_step(x, v, per_sample, nxt))
    assert torch.equal(euler_step(x, v, 0.5, 0.25), old_euler_step(x, v, 0.5, 0.25))
    sig = uniform_sigmas(4)
    assert torch.equal(euler_step(x, v, sig[1], sig[2]), old_euler_step(x, v, sig[1], sig[2]))


@pytest.mark.parametrize("cfg", [1.0, 2.5])
def test_guided_velocity_per_call_same_values_and_gradients_as_the_rl_copy(cfg):
    x, _, cond = _batch(1)
    sigma = torch.full((x.shape[0],), 0.6)
    new_model, old_model = TinyVelocity(), TinyVelocity()
    new = GuidedVelocity(new_model, cfg_strength=cfg)(x, sigma, cond)
    old = OldGuidedVelocity(old_model, cfg)(x, sigma, cond)
    assert torch.equal(new, old)
    new.square().sum().backward()  # the update re-evaluates the policy under autograd
    old.square().sum().backward()
    for a, b in zip(new_model.parameters(), old_model.parameters()):
        assert torch.equal(a.grad, b.grad)


@pytest.mark.parametrize("solver", ["euler", "heun"])
def test_evaluation_sampler_same_latents_as_the_rl_copy(solver):
    noise, _, cond = _batch(2, b=3)
    model, sigmas = TinyVelocity(), uniform_sigmas(6)
    new = get_sampler(solver)(GuidedVelocity(model, cond, 2.5), noise, sigmas)
    old = old_sample_ode(OldGuidedVelocity(model, 2.5), cond, noise, sigmas, solver)
    assert torch.equal(new, old)


@pytest.mark.parametrize("solver", ["euler", "heun"])
def test_rollout_same_trees_with_the_shared_step_and_guidance(monkeypatch, solver):
    cfg = GRPOConfig(num_steps=6, branches=3, window=2, trees_per_group=1, prompts_per_iteration=2, cfg_strength=2.5,
                     noise_level=0.7, suffix_solver=solver, suffix_steps=2, seed=4)
    _, _, cond = _batch(3, b=2)
    model, sigmas = TinyVelocity(), uniform_sigmas(6)
    new = rollout_module.rollout(GuidedVelocity(model, cfg_strength=2.5), cond, [0, 1], [0, 1], (C, L), sigmas, cfg, 5)
    monkeypatch.setattr(rollout_module, "euler_step", old_euler_step)
    old = rollout_module.rollout(OldGuidedVelocity(model, 2.5), cond, [0, 1], [0, 1], (C, L), sigmas, cfg, 5)
    assert torch.equal(new.latents, old.latents) and torch.equal(new.branch_step, old.branch_step)
    for a, b in zip(new.transitions, old.transitions):
        assert torch.equal(a.x_next, b.x_next) and torch.equal(a.logp_old, b.logp_old)


def test_a_number_for_the_conditions_is_refused():
    with pytest.raises(TypeError, match="cfg_strength"):
        GuidedVelocity(TinyVelocity(), 3.0)
