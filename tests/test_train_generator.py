"""Generator pretraining: overfit, exact resume, DDP with two CPU processes, CLI."""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from prismaudio.models import load_model_config
from prismaudio.planner.plan import Event, Plan, Semantic, Source, Spatial, SpatialTrack, Temporal
from prismaudio.train.checkpoint import latest_checkpoint, load_checkpoint
from prismaudio.train.data import Clip, ClipDataset, DataError, write_clip
from prismaudio.train.flow_trainer import FlowTrainer, load_run_config, lr_at

REPO = Path(__file__).resolve().parents[1]
SMALL = dict(width=48, depth=2, heads=2, semantic_dim=20, sync_dim=12, text_dim=16, text_tokens=5, label_buckets=32,
             latent_channels=6, duration=1.0)


def make_clips(folder: Path, n: int, seconds: float = 1.4, seed: int = 0) -> Path:
    """Cached clips whose latent follows the plan: a burst in the source's channel after each onset."""
    cfg = load_model_config("tiny")
    rate = cfg.latent_rate
    g = torch.Generator().manual_seed(seed)
    length = int(seconds * rate)
    for i in range(n):
        onset = float(torch.rand(1, generator=g)) * (seconds - 0.3)
        plan = Plan(duration=seconds, semantic=Semantic([Source("s", ["drum", "bell", "dog"][i % 3])]),
                    temporal=Temporal([Event("s", onset, onset + 0.2)]),
                    spatial=Spatial([SpatialTrack("s", [0.0], [float(torch.rand(1, generator=g)) * 2 - 1])]))
        latent = torch.randn(SMALL["latent_channels"], length, generator=g) * 0.3
        k = int(onset * rate)
        latent[i % 3, k:k + 10] += 2.0
        write_clip(folder / f"clip{i:03d}.safetensors", Clip(
            f"clip{i:03d}", latent, torch.randn(int(seconds * 8), 20, generator=g), torch.randn(int(seconds * 24), 12, generator=g),
            torch.randn(4, 5, 16, generator=g), torch.ones(4, 5, dtype=torch.bool), plan))
    return folder


def write_config(tmp_path: Path, **train) -> Path:
    data = yaml.safe_load((REPO / "configs/generator_tiny.yaml").read_text())
    data["model"].update(SMALL)
    data["train"].update(dict(batch_size=4, warmup_steps=2, max_steps=1000, lr=2e-3, log_every=1000, val_every=1000,
                              sample_every=1000, checkpoint_every=1000, threads=1, out_dir=str(tmp_path / "run")))
    data["train"].update(train)
    data["data"] = {"train": str(make_clips(tmp_path / "train", 6)), "val": str(make_clips(tmp_path / "val", 2, seed=1)), "codec": None, "manifest": None}
    path = tmp_path / "gen.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_loss_falls_on_a_tiny_overfit(tmp_path):
    run = load_run_config(write_config(tmp_path, batch_size=4, lr=3e-3, ema_decay=0.9))
    torch.set_num_threads(1)
    trainer = FlowTrainer(run)
    before = trainer.validate()
    losses = [trainer.train_step() for _ in range(60)]
    after = trainer.validate()
    assert sum(losses[-10:]) / 10 < 0.7 * sum(losses[:5]) / 5
    assert after < 0.8 * before


def test_resume_continues_exactly(tmp_path):
    config = write_config(tmp_path)
    run = load_run_config(config)
    straight = FlowTrainer(run)
    for _ in range(4):
        straight.train_step()

    first = FlowTrainer(run)
    for _ in range(2):
        first.train_step()
    path = first.save()
    torch.manual_seed(999)  # a fresh process would have other global RNG state
    resumed = FlowTrainer(run)
    assert resumed.resume() == 2 and latest_checkpoint(Path(run.train.out_dir) / "checkpoints") == path
    for _ in range(2):
        resumed.train_step()
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    for a, b in zip(straight.ema.module.parameters(), resumed.ema.module.parameters()):
        assert torch.equal(a, b)


def test_checkpoint_of_another_preset_is_refused(tmp_path):
    config = write_config(tmp_path)
    run = load_run_config(config)
    trainer = FlowTrainer(run)
    trainer.save()
    other = dataclasses.replace(run, model=dataclasses.replace(run.model, width=64))
    from prismaudio.errors import CheckpointError

    with pytest.raises(CheckpointError, match="width"):
        FlowTrainer(other).resume()


def test_data_of_another_codec_is_refused(tmp_path):
    folder = make_clips(tmp_path / "c", 2)
    with pytest.raises(DataError, match="channels"):
        ClipDataset(folder, load_model_config("tiny"))  # tiny expects 32 latent channels
    with pytest.raises(DataError, match="no cached feature files"):
        ClipDataset(tmp_path / "empty", load_model_config("tiny"))


def test_lr_schedule():
    run = load_run_config(REPO / "configs/generator_tiny.yaml")
    cfg = run.train
    assert lr_at(0, cfg) == pytest.approx(cfg.lr / cfg.warmup_steps)
    assert lr_at(cfg.warmup_steps, cfg) == pytest.approx(cfg.lr)
    assert lr_at(cfg.max_steps, cfg) == pytest.approx(cfg.lr_min)


def test_ddp_with_two_cpu_processes_matches_one_process(tmp_path):
    """torchrun --nproc_per_node 2 (gloo) trains on the same global batch as one process."""
    config = write_config(tmp_path, checkpoint_every=3)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO / "src"))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517",
           "-m", "prismaudio", "-q", "train", "generator", "--config", str(config), "--max-steps", "3", "--out",
           str(tmp_path / "ddp")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    ddp = load_checkpoint(latest_checkpoint(tmp_path / "ddp" / "checkpoints"))
    assert ddp.step == 3

    run = load_run_config(config)
    single = FlowTrainer(run)
    for _ in range(3):
        single.train_step()
    for name, value in single.model.state_dict().items():
        torch.testing.assert_close(ddp.group("model")[name], value, atol=2e-5, rtol=1e-4, msg=name)
