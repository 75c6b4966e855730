"""Fast-GRPO on the stem generator: a tiny random StemDiT, prompts built like the engine's
(StemConditions + a sketch latent), rollouts from the sketch at the engine's variation."""

import json

import numpy as np
import pytest
import torch

from prismaudio.errors import ConfigError
from prismaudio.rl.advantages import group_advantages
from prismaudio.rl.config import GRPOConfig
from prismaudio.rl.sde import sde_step_with_logprob
from prismaudio.rl.trainer import GRPOTrainer, Prompt, RLEnvironment
from prismaudio.stemgen.config import StemModelConfig
from prismaudio.stemgen.model import StemConditions, StemDiT

C, L = 4, 16


def tiny_stem_model(seed: int = 0) -> StemDiT:
    torch.manual_seed(seed)
    model = StemDiT(StemModelConfig(latent_channels=C, width=32, depth=1, heads=2, patch=2, text_dim=8, exemplar_dim=6))
    with torch.no_grad():  # the zero-initialised output would give velocity 0 (nothing to learn from)
        model.patch_out.weight.normal_(0.0, 0.2)
    return model


def _prompt(i: int) -> Prompt:
    g = torch.Generator().manual_seed(100 + i)
    cond = StemConditions(torch.randn(1, 8, generator=g), torch.randn(1, 6, generator=g), torch.rand(1, 5, L, generator=g),
                          torch.zeros(1, dtype=torch.bool), torch.zeros(1, dtype=torch.bool))
    return Prompt(key=f"plan{i}", cond=cond, start=torch.randn(1, C, L, generator=g), reward_sample=[f"plan{i}"])


def loudness(audio: torch.Tensor, sample) -> torch.Tensor:
    """A stand-in for a stem reward: the mean level of the (mono) stem."""
    return audio[:, 0].mean(dim=-1)


def _env(prompts: int = 3) -> RLEnvironment:
    return RLEnvironment(latent_shape=(C, L), decode=lambda z: z.float().sum(1, keepdim=True).repeat_interleave(4, -1),
                         rewards={"semantic": loudness}, train_prompts=[_prompt(i) for i in range(prompts)],
                         eval_prompts=[_prompt(9)], evaluators={"level": loudness})


def _cfg(**kw) -> GRPOConfig:
    base = dict(start_sigma=0.3, num_steps=2, window=1, branches=4, trees_per_group=2, prompts_per_iteration=2,
                cfg_strength=3.0, noise_level=0.7, clip_range=0.2, beta=0.0, lr=1e-3, weight_decay=0.0, ema_decay=0.5,
                reward_weights={"semantic": 1.0}, micro_batch=8, eval_every=0, checkpoint_every=1, iterations=2)
    base.update(kw)
    return GRPOConfig(**base)


def _trainer(tmp_path, cfg=None, **kw) -> GRPOTrainer:
    return GRPOTrainer(cfg or _cfg(**kw), tiny_stem_model(), None, _env(), out_dir=tmp_path,
                       model_config=StemModelConfig(latent_channels=C, width=32, depth=1, heads=2, patch=2, text_dim=8,
                                                    exemplar_dim=6))


def test_rollouts_start_from_the_sketch_at_the_variation(tmp_path):
    tr = _trainer(tmp_path)
    assert torch.allclose(tr.sigmas, torch.tensor([0.3, 0.15, 0.0]))
    batch, rewards, groups, keys = tr.collect(0)
    assert batch.num_samples == 2 * 2 * 4 and len(batch.transitions) == 1  # one SDE step per sample: 0.3 -> 0.15
    first = batch.transitions[0]
    assert torch.allclose(first.sigma, torch.full_like(first.sigma, 0.3))
    # every sample starts at (0.7 sketch + 0.3 noise): much nearer its own prompt's sketch than another's
    prompts = [tr.env.train_prompts[i] for i in tr.iteration_prompts(0)]
    starts = torch.cat([prompts[g].start for g in groups.tolist()])
    other = torch.cat([prompts[(g + 1) % len(prompts)].start for g in groups.tolist()])
    x0 = first.x
    order = first.sample
    assert ((x0 - 0.7 * starts[order]).pow(2).mean() * 4 < (x0 - 0.7 * other[order]).pow(2).mean())


def test_advantages_are_normalised_per_group(tmp_path):
    tr = _trainer(tmp_path)
    batch, rewards, groups, _ = tr.collect(0)
    res = group_advantages(rewards, groups, tr.config.reward_weights)
    for g in groups.unique():
        a = res.advantages[groups == g].double()
        assert abs(float(a.mean())) < 1e-5 and float(a.std(unbiased=False)) == pytest.approx(1.0, abs=1e-2)  # std + 1e-4 in the denominator
    # the highest-reward sample of a group has the largest advantage
    for g in groups.unique():
        sel = (groups == g).nonzero().flatten()
        assert int(sel[rewards["semantic"][sel].argmax()]) == int(sel[res.advantages[sel].argmax()])


def test_one_update_moves_the_policy_toward_the_higher_reward_sample(tmp_path):
    tr = _trainer(tmp_path, grad_clip=100.0, lr=1e-5)  # small: one Adam step stays in the first-order regime
    batch, rewards, groups, _ = tr.collect(0)
    res = group_advantages(rewards, groups, tr.config.reward_weights)
    tr_ = batch.transitions[0]

    def logp():
        with torch.no_grad():
            v = tr.policy(tr_.x, tr_.sigma, batch.cond.select(tr_.sample.tolist()))
            return sde_step_with_logprob(tr_.x, v, tr_.sigma, tr_.sigma_next, tr.config.noise_level, float(tr.sigmas[1]),
                                         prev_sample=tr_.x_next).logp

    before = logp()
    stats = tr.update(batch, res.advantages, res.trained, 0)
    assert stats["optimizer_steps"] == 1 and stats["transitions"] == 16
    gain = logp() - before
    adv = res.advantages[tr_.sample]
    best = [int((groups[tr_.sample] == g).nonzero().flatten()[adv[groups[tr_.sample] == g].argmax()]) for g in groups.unique()]
    assert gain[adv > 0].mean() > 0 > gain[adv < 0].mean()
    assert all(gain[i] > 0 for i in best)  # every group's best sample became more likely


def test_resume_continues_the_iteration_count(tmp_path):
    _trainer(tmp_path).train(iterations=2)
    again = _trainer(tmp_path)  # a new process: weights, optimiser and EMA from the checkpoint
    assert again.resume() == 2
    rows = _trainer(tmp_path).train(iterations=3)
    assert [r["iteration"] for r in rows] == [2]
    logged = [json.loads(x)["iteration"] for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert logged == [0, 1, 2]


def test_the_exported_policy_loads_as_a_stem_generator(tmp_path):
    from prismaudio.stemgen.engine import load_stem_model
    from prismaudio.stemgen.grpo import export_stem_model
    from prismaudio.train.checkpoint import latest_checkpoint

    tr = _trainer(tmp_path)
    tr.train(iterations=1)
    out = export_stem_model(latest_checkpoint(tmp_path), tmp_path / "stem.safetensors")
    loaded = load_stem_model(out)
    for a, b in zip(loaded.parameters(), tr.ema.parameters()):
        assert torch.equal(a, b)


def test_a_prompt_without_a_sketch_is_a_clear_error(tmp_path):
    env = _env()
    env.train_prompts[0].start = None
    tr = GRPOTrainer(_cfg(prompts_per_iteration=3), tiny_stem_model(), None, env, out_dir=tmp_path)
    with pytest.raises(ConfigError, match="start latent"):
        tr.collect(0)


def test_random_plans_follow_the_training_choreographies():
    from prismaudio.canvas.classes import BUILTIN_CLASSES
    from prismaudio.stemgen.grpo import StemPlansConfig, random_plan

    cfg = StemPlansConfig(seconds=4.0, max_impacts=5)
    impact = next(c for c in BUILTIN_CLASSES if c.kind == "impact")
    sustained = next(c for c in BUILTIN_CLASSES if c.kind != "impact")
    for cls in (impact, sustained):
        a = random_plan(cls, np.random.default_rng(3), cfg)
        b = random_plan(cls, np.random.default_rng(3), cfg)
        assert a.to_dict() == b.to_dict()  # pure given the generator
        assert [s.label for s in a.semantic.sources] == [cls.name]
        assert a.temporal.events and all(0 <= e.onset < e.offset <= 4.0 for e in a.temporal.events)
        a.validate()
    imp = random_plan(impact, np.random.default_rng(5), cfg)
    onsets = [e.onset for e in imp.temporal.events]
    assert len(onsets) <= 5 and all(b - a >= 0.15 for a, b in zip(onsets, onsets[1:]))


def test_config_refuses_a_spatial_reward_and_a_path_the_engine_does_not_run(tmp_path):
    from prismaudio.stemgen.grpo import load_stem_grpo

    run = load_stem_grpo("tiny")
    assert run.grpo.start_sigma == 0.3 and run.grpo.num_steps == 2 and "spatial" not in run.grpo.reward_weights
    with pytest.raises(ConfigError, match="spatial"):
        load_stem_grpo("tiny", {"grpo": {"reward_weights": {"semantic": 1.0, "spatial": 0.4}}})
    with pytest.raises(ConfigError, match="num_steps"):
        load_stem_grpo("tiny", {"grpo": {"num_steps": 8}})
    with pytest.raises(ConfigError, match="unknown key"):
        load_stem_grpo("tiny", {"plans": {"sedd": 1}})


def test_cli_bad_config_is_one_line_and_exit_2(tmp_path, capsys):
    from prismaudio.cli import main

    bad = tmp_path / "grpo_stem.yaml"
    bad.write_text("plans: {seconds: 4.0}\ngrpo: {reward_weights: {spatial: 1.0}}\n")
    assert main(["train", "stems-grpo", "--config", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "spatial" in err[0] and str(bad) in err[0]
    assert main(["train", "stems-grpo", "--config", str(tmp_path / "none.yaml")]) == 2
    assert "not found" in capsys.readouterr().err


def test_training_never_writes_into_the_package(capsys):
    from pathlib import Path

    import prismaudio
    from prismaudio.cli import main

    inside = Path(prismaudio.__file__).parent / "assets" / "models" / "tiny"
    assert main(["train", "stems-grpo", "--out", str(inside)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "inside the installed prismaudio package" in err[0]
