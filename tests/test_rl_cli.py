import torch
import yaml

from prismaudio.cli import main
from prismaudio.models import FlowDiT, GeneratorConfig
from prismaudio.train.checkpoint import export_weights


def _write(tmp_path, **cfg):
    path = tmp_path / "grpo.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def _tiny_generator(path):
    cfg = GeneratorConfig(preset="test", sample_rate=16000, hop=320, latent_channels=4, duration=1.0, width=32, depth=1,
                          heads=2, semantic_dim=8, sync_dim=8, text_dim=8, text_tokens=4, label_buckets=8)
    torch.manual_seed(0)
    export_weights(path, "generator", 1, cfg, FlowDiT(cfg))
    return str(path)


def test_window_that_does_not_fit_is_one_line_error(tmp_path, capsys):
    assert main(["grpo", "--config", _write(tmp_path, num_steps=4, window=6)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "window of 6 SDE steps does not fit in 4 steps" in err


def test_unknown_key_and_bad_mode(tmp_path, capsys):
    assert main(["grpo", "--config", _write(tmp_path, windw=2)]) == 2
    assert "did you mean 'window'" in capsys.readouterr().err


def test_missing_generator_and_reference_checkpoints(tmp_path, capsys):
    assert main(["grpo", "--config", _write(tmp_path, generator_checkpoint=str(tmp_path / "nope.safetensors"))]) == 2
    assert "checkpoint not found" in capsys.readouterr().err
    gen = _tiny_generator(tmp_path / "gen.safetensors")
    cfg = _write(tmp_path, generator_checkpoint=gen, reference_checkpoint=str(tmp_path / "ref.safetensors"), beta=0.04)
    assert main(["grpo", "--config", cfg]) == 2
    err = capsys.readouterr().err
    assert "ref.safetensors: reference checkpoint not found" in err and "KL" in err
    # with the reference present, the next missing part is named
    cfg = _write(tmp_path, generator_checkpoint=gen, beta=0.04)
    assert main(["grpo", "--config", cfg, "--mode", "flow-grpo"]) == 2
    assert "codec_checkpoint is required" in capsys.readouterr().err


def test_rollout_on_the_real_dit_with_conditions_and_cfg():
    from prismaudio.models import Conditions
    from prismaudio.rl.batching import batch_cat, batch_index
    from prismaudio.rl.config import GRPOConfig
    from prismaudio.rl.rollout import GuidedVelocity, rollout
    from prismaudio.rl.sde import sde_step_with_logprob, timestep_schedule

    cfg = GeneratorConfig(preset="test", sample_rate=16000, hop=320, latent_channels=4, duration=0.4, width=32, depth=1,
                          heads=2, semantic_dim=8, sync_dim=8, text_dim=8, text_tokens=4, label_buckets=8)
    torch.manual_seed(0)
    model = FlowDiT(cfg).eval()
    with torch.no_grad():
        model.patch_out.weight.normal_(0, 0.1)
    conds = [Conditions(semantic=torch.randn(1, 4, 8)) for _ in range(2)]
    cond = batch_cat(conds)
    assert torch.equal(batch_index(cond, torch.tensor([1])).semantic, conds[1].semantic)
    grpo = GRPOConfig(num_steps=6, branches=3, window=2, trees_per_group=1, cfg_strength=3.0)
    policy = GuidedVelocity(model, cfg_strength=grpo.cfg_strength)
    sigmas = timestep_schedule(6)
    batch = rollout(policy, cond, [0, 1], [0, 1], (4, 20), sigmas, grpo, iteration=0)
    tr = batch.transitions[1]
    with torch.no_grad():
        v = policy(tr.x, tr.sigma, batch_index(batch.cond, tr.sample))
    re = sde_step_with_logprob(tr.x, v, tr.sigma, tr.sigma_next, grpo.noise_level, float(sigmas[1]), prev_sample=tr.x_next)
    torch.testing.assert_close(torch.exp(re.logp - tr.logp_old), torch.ones(6), rtol=0, atol=1e-5)
