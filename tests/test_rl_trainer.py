import copy
import json

import pytest
import torch

from prismaudio.errors import ConfigError
from prismaudio.rl.config import GRPOConfig
from prismaudio.rl.sde import sde_step_with_logprob
from prismaudio.rl.trainer import GRPOTrainer
from rl_toy import TinyVelocity, left_level, make_env


def _cfg(**kw):
    base = dict(num_steps=6, branches=4, window=2, trees_per_group=1, prompts_per_iteration=2, cfg_strength=1.0,
                noise_level=0.7, clip_range=0.2, beta=0.0, lr=3e-3, weight_decay=0.0, ema_decay=0.5,
                reward_weights={"left": 1.0}, micro_batch=8, eval_every=0, checkpoint_every=1000, iterations=3)
    base.update(kw)
    return GRPOConfig(**base)


def _trainer(tmp_path, cfg, env=None, reference=True):
    model = TinyVelocity()
    ref = copy.deepcopy(model) if reference else None
    return GRPOTrainer(cfg, model, ref, env or make_env(), out_dir=tmp_path)


def _logp(trainer, batch, tr):
    with torch.no_grad():
        v = trainer.policy(tr.x, tr.sigma, batch.cond[tr.sample])
        return sde_step_with_logprob(tr.x, v, tr.sigma, tr.sigma_next, trainer.config.noise_level,
                                     float(trainer.sigmas[1]), prev_sample=tr.x_next).logp


def test_one_update_raises_logp_of_positive_advantage_transitions(tmp_path):
    tr_ = _trainer(tmp_path, _cfg(lr=1e-3, grad_clip=100.0))
    batch, rewards, groups, _ = tr_.collect(0)
    from prismaudio.rl.advantages import group_advantages

    res = group_advantages(rewards, groups, tr_.config.reward_weights)
    before = [_logp(tr_, batch, t) for t in batch.transitions]
    stats = tr_.update(batch, res.advantages, res.trained, 0)
    assert stats["optimizer_steps"] == 1 and stats["transitions"] == 2 * 8
    assert abs(stats["ratio/mean"] - 1.0) < 1e-5  # on-policy inside the single accumulated step
    after = [_logp(tr_, batch, t) for t in batch.transitions]
    gain = torch.cat([a - b for a, b in zip(after, before)])
    adv = torch.cat([res.advantages[t.sample] for t in batch.transitions])
    assert gain[adv > 0].mean() > 0 and gain[adv < 0].mean() < 0


def test_a_few_iterations_raise_the_left_channel_level(tmp_path):
    torch.manual_seed(0)
    env = make_env(num_prompts=2)
    cfg = _cfg(iterations=12, num_steps=6, window=2, branches=6, trees_per_group=2, lr=1e-2, clip_range=0.2,
               reward_weights={"left": 1.0}, eval_every=12)
    tr_ = _trainer(tmp_path, cfg, env)
    rows = tr_.train()
    first = sum(r["reward/left/mean"] for r in rows[:3]) / 3
    last = sum(r["reward/left/mean"] for r in rows[-3:]) / 3
    assert last > first + 0.1, (first, last)
    log = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert log[0]["iteration"] == -1 and "eval/left_level" in log[0]  # evaluation before RL
    assert log[-1]["eval/left_level"] > log[0]["eval/left_level"]  # evaluator (EMA, ODE) agrees
    for key in ("reward/left/std", "advantage/std", "ratio/min", "ratio/max", "clip_fraction", "kl",
                "time/rollout_s", "time/update_s", "dropped_samples", "flat_groups"):
        assert key in log[1]
    assert any(p.name.startswith("events") for p in (tmp_path / "tb").iterdir())


def test_kl_to_reference_grows_from_zero(tmp_path):
    tr_ = _trainer(tmp_path, _cfg(beta=0.04, iterations=3, lr=1e-2))
    rows = tr_.train()
    assert rows[0]["kl"] == pytest.approx(0.0, abs=1e-10) and rows[-1]["kl"] > 0


def test_exact_resume(tmp_path):
    cfg = _cfg(iterations=4, checkpoint_every=2, beta=0.04)
    full_trainer = _trainer(tmp_path / "a", cfg)
    full = full_trainer.train()
    part = _trainer(tmp_path / "b", cfg)
    part.train(iterations=2)
    again = _trainer(tmp_path / "b", cfg)  # fresh process: weights from the checkpoint
    rest = again.train()
    assert len(rest) == 2
    for a, b in zip(full[2:], rest):
        assert a["reward/left/mean"] == b["reward/left/mean"] and a["kl"] == b["kl"]
    for pa, pb in zip(full_trainer.model.parameters(), again.model.parameters()):
        assert torch.equal(pa, pb)
    for pa, pb in zip(full_trainer.ema.parameters(), again.ema.parameters()):
        assert torch.equal(pa, pb)
    lines = (tmp_path / "b" / "log.jsonl").read_text().splitlines()
    assert [json.loads(x)["iteration"] for x in lines] == [0, 1, 2, 3]


def test_nan_reward_sample_dropped_and_run_goes_on(tmp_path):
    def flaky(audio, sample):
        out = left_level(audio, sample)
        out[1] = float("nan")
        out[5] = float("inf")
        return out

    env = make_env(rewards={"left": flaky})
    tr_ = _trainer(tmp_path, _cfg(iterations=2), env)
    before = [p.clone() for p in tr_.model.parameters()]
    rows = tr_.train()
    assert all(r["dropped_samples"] == 2 for r in rows) and all(r["optimizer_steps"] == 1 for r in rows)
    assert all(torch.isfinite(p).all() for p in tr_.model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, tr_.model.parameters()))
    assert rows[0]["transitions"] == 2 * (8 - 2)  # the dropped samples' transitions are not trained


def test_all_equal_group_gives_no_update(tmp_path):
    env = make_env(rewards={"left": lambda audio, s: torch.ones(audio.shape[0])})
    tr_ = _trainer(tmp_path, _cfg(iterations=2), env)
    before = [p.clone() for p in tr_.model.parameters()]
    rows = tr_.train()
    assert all(r["flat_groups"] == 2 and r["optimizer_steps"] == 0 for r in rows)
    assert all(torch.equal(a, b) for a, b in zip(before, tr_.model.parameters()))


def test_non_finite_gradient_never_reaches_the_weights(tmp_path):
    tr_ = _trainer(tmp_path, _cfg(iterations=1))
    hook = tr_.model.out.weight.register_hook(lambda g: g * float("nan"))
    before = [p.clone() for p in tr_.model.parameters()]
    rows = tr_.train()
    hook.remove()
    assert rows[0]["skipped_steps"] == 1 and rows[0]["optimizer_steps"] == 0
    assert all(torch.equal(a, b) for a, b in zip(before, tr_.model.parameters()))


def test_bad_configurations_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="reference"):
        GRPOTrainer(_cfg(beta=0.04), TinyVelocity(), None, make_env(), out_dir=tmp_path)
    with pytest.raises(ConfigError, match="reward_weights"):
        GRPOTrainer(_cfg(reward_weights={"semantic": 1.0}), TinyVelocity(), None, make_env(), out_dir=tmp_path)
