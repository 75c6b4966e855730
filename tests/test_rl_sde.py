import math

import pytest
import torch

from prismaudio.rl.config import GRPOConfig
from prismaudio.rl.loss import kl_to_reference, ppo_clip_loss
from prismaudio.rl.rollout import GuidedVelocity, rollout
from prismaudio.rl.sde import euler_step, sde_step_with_logprob, timestep_schedule
from rl_toy import C, D, L, TinyVelocity


def _xv(b=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, C, L, generator=g), torch.randn(b, C, L, generator=g)


def test_noise_level_zero_is_exactly_euler():
    x, v = _xv()
    for sigma, nxt in [(1.0, 0.95), (0.6, 0.55), (0.1, 0.0)]:
        step = sde_step_with_logprob(x, v, sigma, nxt, noise_level=0.0, sigma_at_one=0.95, noise=torch.randn_like(x))
        assert torch.equal(step.x_next, euler_step(x, v, sigma, nxt))
        dt = torch.tensor(nxt, dtype=torch.float32) - torch.tensor(sigma, dtype=torch.float32)
        assert torch.equal(step.x_next, x + v * dt)  # the Euler step in float32, written out
        assert torch.isnan(step.logp).all()  # no density for a deterministic step


def test_logp_equals_independent_gaussian_density():
    x, v = _xv(b=4)
    sigmas = timestep_schedule(10)
    for i in [0, 3, 7]:
        s, sn = float(sigmas[i]), float(sigmas[i + 1])
        step = sde_step_with_logprob(x, v, s, sn, 0.7, float(sigmas[1]), generator=torch.Generator().manual_seed(i))
        # independent: float64, the formula of method.md section 4 written out, torch.distributions
        x64, v64 = x.double(), v.double()
        denom = 1 - (float(sigmas[1]) if s == 1.0 else s)
        std_t = 0.7 * math.sqrt(s / denom)
        dt = sn - s
        mean = x64 + (v64 + std_t**2 / (2 * s) * (x64 + (1 - s) * v64)) * dt
        scale = std_t * math.sqrt(-dt)
        ref = torch.distributions.Normal(mean, scale).log_prob(step.x_next.double()).mean(dim=(1, 2))
        torch.testing.assert_close(step.logp.double(), ref, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(step.mean.double(), mean, rtol=1e-5, atol=1e-5)


def test_sde_noise_scale_and_last_step_degenerate():
    x, v = _xv(b=2)
    step = sde_step_with_logprob(x, v, 0.5, 0.25, 0.7, 0.9, noise=torch.ones_like(x))
    s = 0.7 * math.sqrt(0.5 / 0.5) * math.sqrt(0.25)
    torch.testing.assert_close(step.x_next - step.mean, torch.full_like(x, s))
    last = sde_step_with_logprob(x, v, 0.1, 0.0, 0.7, 0.9, noise=torch.ones_like(x))
    assert torch.equal(last.x_next, euler_step(x, v, 0.1, 0.0)) and torch.isnan(last.logp).all()
    # per-sample sigmas: each row equals its own scalar step
    both = sde_step_with_logprob(x, v, torch.tensor([0.5, 0.8]), torch.tensor([0.25, 0.7]), 0.7, 0.9, noise=torch.ones_like(x))
    one = sde_step_with_logprob(x[1:], v[1:], 0.8, 0.7, 0.7, 0.9, noise=torch.ones_like(x[1:]))
    torch.testing.assert_close(both.logp[1:], one.logp)


def test_sde_float32_inside_for_half_inputs():
    x, v = _xv()
    step = sde_step_with_logprob(x.bfloat16(), v.bfloat16(), 0.5, 0.4, 0.7, 0.9, noise=torch.zeros_like(x))
    assert step.x_next.dtype == torch.float32 and step.logp.dtype == torch.float32


@pytest.mark.parametrize("mode", ["fast-grpo", "flow-grpo", "mix-grpo"])
def test_rollout_shapes_and_on_policy_ratio_is_one(mode):
    cfg = GRPOConfig(mode=mode, num_steps=8, branches=3, window=2, trees_per_group=1, cfg_strength=2.0)
    model = TinyVelocity().eval()
    policy = GuidedVelocity(model, cfg_strength=cfg.cfg_strength)
    cond = torch.randn(2, D)
    sigmas = timestep_schedule(cfg.num_steps)
    batch = rollout(policy, cond, [0, 1], [0, 1], (C, L), sigmas, cfg, iteration=5)
    assert batch.latents.shape == (6, C, L) and torch.isfinite(batch.latents).all()
    assert len(batch.transitions) == (7 if mode == "flow-grpo" else 2)
    lo, hi = cfg.branch_range
    assert all(lo <= int(k) <= hi for k in batch.branch_step)
    for tr in batch.transitions:
        assert tr.x.shape == (6, C, L) and (tr.sigma_next > 0).all()  # never the last step
        with torch.no_grad():
            v = policy(tr.x, tr.sigma, batch.cond[tr.sample])
            re = sde_step_with_logprob(tr.x, v, tr.sigma, tr.sigma_next, cfg.noise_level, float(sigmas[1]), prev_sample=tr.x_next)
        ratio = torch.exp(re.logp - tr.logp_old)
        torch.testing.assert_close(ratio, torch.ones_like(ratio), rtol=0, atol=1e-5)
    if mode != "flow-grpo":  # the M branches of a tree share the ODE prefix, then diverge
        tr = batch.transitions[0]
        first = tr.x[tr.sample // 3 == 0]
        assert torch.allclose(first[0], first[1]) and not torch.allclose(tr.x_next[0], tr.x_next[1])


def test_branch_step_drawn_afresh_and_reproducible():
    cfg = GRPOConfig(num_steps=24, branches=2, window=2, trees_per_group=1)
    sigmas = timestep_schedule(cfg.num_steps)
    model = TinyVelocity().eval()
    ks = set()
    for it in range(6):
        b = rollout(model, torch.randn(1, D), [0], [0], (C, L), sigmas, cfg, iteration=it)
        ks.add(int(b.branch_step[0]))
        again = rollout(model, torch.randn(1, D) * 0 + b.cond[:1], [0], [0], (C, L), sigmas, cfg, iteration=it)
        assert torch.equal(again.latents, b.latents)
    assert len(ks) > 1 and max(ks) <= 12


def test_window_not_fitting_is_a_config_error():
    with pytest.raises(ValueError, match="does not fit"):
        GRPOConfig(num_steps=4, window=4)
    from prismaudio.config import from_dict
    from prismaudio.errors import ConfigError

    with pytest.raises(ConfigError, match="window"):
        from_dict(GRPOConfig, {"num_steps": 3, "window": 5})


def test_ppo_clip_and_kl_arithmetic():
    logp_old = torch.zeros(4)
    logp = torch.log(torch.tensor([1.0, 1.5, 0.5, 1.5]))
    adv = torch.tensor([1.0, 1.0, 1.0, -1.0])
    terms = ppo_clip_loss(logp, logp_old, adv, clip_range=0.2)
    torch.testing.assert_close(terms.loss, torch.tensor([-1.0, -1.2, -0.5, 1.5]))
    assert terms.clipped.tolist() == [False, True, False, False]
    mean, ref = torch.zeros(2, 3, 4), torch.full((2, 3, 4), 0.2)
    kl = kl_to_reference(mean, ref, torch.tensor([0.1, 0.2]))
    torch.testing.assert_close(kl, torch.tensor([0.04 / 0.02, 0.04 / 0.08]))
    # equals the KL of two Gaussians with the step's covariance, by torch.distributions
    p = torch.distributions.Normal(mean[1], 0.2)
    q = torch.distributions.Normal(ref[1], 0.2)
    torch.testing.assert_close(kl[1], torch.distributions.kl_divergence(p, q).mean())


def test_suffix_grid_spreads_the_steps_left_and_ends_at_zero_noise():
    from prismaudio.rl.rollout import suffix_grid, tree_schedule

    assert suffix_grid(4, 12, 0) == list(range(4, 13))  # every grid step
    assert suffix_grid(4, 12, 20) == list(range(4, 13))  # more steps than left: every grid step
    coarse = suffix_grid(2, 24, 5)
    assert coarse[0] == 2 and coarse[-1] == 24 and len(coarse) == 6 and coarse == sorted(set(coarse))
    sched = tree_schedule(3, 2, 24, 4)
    assert [s.sde for s in sched] == [False] * 3 + [True] * 2 + [False] * 4
    assert all(a.to == b.frm for a, b in zip(sched, sched[1:])) and sched[-1].to == 24


class _Counting:
    def __init__(self, model):
        self.model, self.rows = model, 0

    def __call__(self, x, sigma, cond):
        self.rows += x.shape[0]
        return self.model(x, sigma, cond)


def test_coarse_suffix_keeps_the_trained_steps_and_lands_near_the_same_sample():
    """A coarse ODE suffix changes nothing that is trained (same branch steps, same stored
    transitions and log-probs), costs fewer model evaluations, and its samples stay close to
    the full-grid ones (much closer than two branches of one tree are to each other)."""
    model = TinyVelocity().eval()
    cond = torch.randn(2, D, generator=torch.Generator().manual_seed(3))
    sigmas = timestep_schedule(24)
    out = {}
    for steps in (0, 6):
        cfg = GRPOConfig(num_steps=24, branches=4, window=2, trees_per_group=1, suffix_steps=steps)
        policy = _Counting(model)
        out[steps] = (rollout(policy, cond, [0, 1], [0, 1], (C, L), sigmas, cfg, iteration=2), policy.rows)
    (full, full_rows), (coarse, coarse_rows) = out[0], out[6]
    assert torch.equal(full.branch_step, coarse.branch_step)
    for a, b in zip(full.transitions, coarse.transitions):
        assert torch.equal(a.x_next, b.x_next) and torch.equal(a.logp_old, b.logp_old)
    assert coarse_rows < 0.7 * full_rows
    gap = (coarse.latents - full.latents).norm(dim=(1, 2))
    spread = (full.latents[:4] - full.latents[:4].mean(0)).norm(dim=(1, 2)).mean()
    assert gap.max() < 0.25 * spread


def test_negative_suffix_steps_is_a_config_error():
    with pytest.raises(ValueError, match="suffix_steps"):
        GRPOConfig(suffix_steps=-1)
