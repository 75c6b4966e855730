"""Flow-matching pretraining of the generator on cached features (`prismaudio train generator`).

One step: a batch of cached latents + conditions -> per-stream CFG dropout -> logit-normal
t -> rectified-flow loss -> AdamW with warm-up/cosine LR, grad clipping -> EMA. Everything
random in a step comes from a generator seeded by (seed, step), so a run killed and resumed
from its last checkpoint continues exactly. DDP under torchrun (gloo on CPU, nccl on GPU):
each rank takes its slice of the same global batch. Rank 0 logs (TensorBoard), validates,
writes samples and checkpoints.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..config import from_dict, load_yaml, to_dict
from ..errors import ConfigError
from ..flow.path import flow_matching_loss, sample_logit_normal
from ..models.conditioning import STREAMS, Conditions
from ..models.config import SHAPE_KEYS, GeneratorConfig
from ..models.dit import FlowDiT
from .checkpoint import (check_config_matches, latest_checkpoint, load_checkpoint, prune_checkpoints,
                         restore_training_state, save_training_state)
from .data import ClipDataset
from .distributed import DistInfo, all_reduce_mean, barrier, cleanup, init_distributed
from .ema import EMA
from .schedule import lr_at  # noqa: F401  (tests and callers import it from here too)

log = logging.getLogger(__name__)

CHECKPOINT_KIND = "generator"
CHECKPOINT_VERSION = 1


@dataclass
class DataConfig:
    train: str = "runs/features/train"  # folder of cached per-clip feature files
    val: str | None = "runs/features/val"
    manifest: str | None = None  # plans by clip id, for clips whose cache holds only the plan texts
    codec: str | None = None  # codec checkpoint: decodes periodic samples to audio


@dataclass
class FlowTrainConfig:
    batch_size: int = 32  # global (split across ranks)
    crop_seconds: float | None = None  # default: the model's duration
    lr: float = 3e-4
    lr_min: float = 3e-5
    warmup_steps: int = 200
    max_steps: int = 20000
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.99)
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    cfg_dropout: dict[str, float] = field(default_factory=lambda: {s: 0.1 for s in STREAMS})
    t_mean: float = 0.0  # logit-normal t
    t_std: float = 1.0
    amp: bool = True  # bf16 autocast on GPU (CPU always runs float32)
    log_every: int = 25
    val_every: int = 250
    sample_every: int = 1000
    sample_count: int = 4
    sample_steps: int = 24
    sample_cfg: float = 3.0
    checkpoint_every: int = 100
    keep_checkpoints: int = 3
    threads: int = 2
    seed: int = 0
    out_dir: str = "runs/generator"
    # Generator weights to start from (EMA when present). One made for a codec latent without
    # the codec's pitch channels is widened to take them (models/widen.py; needs data.codec).
    init_from: str | None = None

    def __post_init__(self) -> None:
        unknown = set(self.cfg_dropout) - set(STREAMS)
        if unknown:
            raise ValueError(f"cfg_dropout: unknown stream(s) {sorted(unknown)} (streams: {', '.join(STREAMS)})")


@dataclass
class GeneratorRunConfig:
    """A whole preset file: model, train and data sections."""

    model: GeneratorConfig
    train: FlowTrainConfig = field(default_factory=FlowTrainConfig)
    data: DataConfig = field(default_factory=DataConfig)


def load_run_config(path: str | Path, overrides: dict | None = None) -> GeneratorRunConfig:
    from ..config import merge

    data = load_yaml(path)
    return from_dict(GeneratorRunConfig, merge(data, overrides or {}), where=str(path))


def init_generator(model: FlowDiT, path: str | Path, codec_path: str | None) -> None:
    """Load a trained generator's weights into `model`; widen them when `model` takes the
    pitch channels that the codec at `codec_path` adds to the latent the weights were made for."""
    from ..models.widen import widen_latent_channels

    ckpt = load_checkpoint(path, kind=CHECKPOINT_KIND)
    state = ckpt.group("ema") or ckpt.group("model")
    old = int(ckpt.config.get("latent_channels", model.config.latent_channels))
    new = model.config.latent_channels
    if old != new:
        from ..codec import StereoCodec

        if not codec_path:
            raise ConfigError(f"{path}: made for {old} latent channels, the model has {new}; set data.codec to widen it")
        codec = StereoCodec.load(codec_path).config
        if new - old != codec.pitch_channels:
            raise ConfigError(f"{path}: made for {old} latent channels; the codec {codec_path} has {new} "
                              f"({codec.pitch_channels} pitch channels), which does not explain the difference")
        state = widen_latent_channels(state, old, model.config.patch, codec.mid_channels, new - old)
    check_config_matches(path, {**ckpt.config, "latent_channels": new}, model.config,
                         tuple(k for k in SHAPE_KEYS if k != "latent_channels"))
    model.load_state_dict(state)
    log.info("initialised from %s%s", path, f" (widened from {old} to {new} latent channels)" if old != new else "")


class FlowTrainer:
    def __init__(self, run: GeneratorRunConfig, dist: DistInfo | None = None, train_data: ClipDataset | None = None,
                 val_data: ClipDataset | None = None):
        self.run = run
        self.cfg = run.train
        self.dist = dist or DistInfo()
        self.device = self.dist.device
        self.out_dir = Path(self.cfg.out_dir)
        torch.manual_seed(self.cfg.seed)
        self.model = self.build_model().to(self.device)
        self.ema = EMA(self.model, self.cfg.ema_decay)
        decay, no_decay = [], []
        for name, p in self.model.named_parameters():
            (no_decay if p.dim() < 2 or "empty" in name or "norm" in name else decay).append(p)
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": self.cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=self.cfg.lr, betas=tuple(self.cfg.betas), fused=False,
        )
        self.ddp = None
        if self.dist.enabled:
            from torch.nn.parallel import DistributedDataParallel

            self.ddp = DistributedDataParallel(self.model, device_ids=[self.device] if self.device.type == "cuda" else None)
        self.train_data, self.val_data = self.build_data(train_data, val_data)
        self.step = 0
        self.writer = None
        self._last_data_s = 0.0

    # ---- what a subclass changes (the stem generator: stemgen/trainer.py) ----------------
    checkpoint_kind = CHECKPOINT_KIND
    checkpoint_version = CHECKPOINT_VERSION
    shape_keys = SHAPE_KEYS

    def build_model(self) -> torch.nn.Module:
        model = FlowDiT(self.run.model)
        if self.cfg.init_from:
            init_generator(model, self.cfg.init_from, self.run.data.codec)
        return model

    def build_data(self, train_data, val_data):
        run = self.run
        plans = None
        if (train_data is None or val_data is None) and run.data.manifest and Path(run.data.manifest).is_file():
            from .data import load_plans

            plans = load_plans(run.data.manifest)
        train = train_data if train_data is not None else ClipDataset(run.data.train, run.model, plans)
        if val_data is None and run.data.val and Path(run.data.val).exists():
            val_data = ClipDataset(run.data.val, run.model, plans)
        return train, val_data

    def write_samples(self) -> None:
        from .samples import write_samples

        write_samples(self)

    def describe(self) -> str:
        return f"generator {self.run.model.preset}: {self.model.num_params() / 1e6:.2f}M params, {len(self.train_data)} train clips"

    # ---- state ------------------------------------------------------------------------
    def save(self) -> Path | None:
        if not self.dist.is_main:
            return None
        path = self.out_dir / "checkpoints" / f"step_{self.step:08d}.safetensors"
        save_training_state(path, self.checkpoint_kind, self.checkpoint_version, self.run.model, self.step, self.model,
                            self.optimizer, self.ema.module, extra={"ema_updates": self.ema.updates, "run": to_dict(self.run)})
        prune_checkpoints(path.parent, self.cfg.keep_checkpoints)
        log.info("saved %s", path)
        return path

    def resume(self, path: str | Path | None = None) -> int:
        """Continue from `path` or the newest checkpoint in out_dir; returns the step (0 if none)."""
        path = Path(path) if path else latest_checkpoint(self.out_dir / "checkpoints")
        if path is None:
            return 0
        ckpt = load_checkpoint(path, kind=self.checkpoint_kind)
        check_config_matches(path, ckpt.config, self.run.model, self.shape_keys)
        self.step = restore_training_state(ckpt, self.model, self.optimizer, self.ema.module)
        self.ema.updates = int(ckpt.extra.get("ema_updates", self.step))
        log.info("resumed from %s at step %d", path, self.step)
        return self.step

    # ---- one step ---------------------------------------------------------------------
    def _step_generator(self, step: int, salt: int = 0) -> torch.Generator:
        return torch.Generator().manual_seed(self.cfg.seed * 1_000_003 + step * 7919 + salt)

    def _autocast(self):
        enabled = self.cfg.amp and self.device.type == "cuda"
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=enabled)

    def draw_step(self, step: int):
        """All randomness of a step for the GLOBAL batch (then each rank takes its slice), so one
        process and N DDP processes train on exactly the same numbers."""
        g = torch.Generator().manual_seed(self.cfg.seed * 1_000_003 + step * 7919)
        per_rank = max(1, self.cfg.batch_size // self.dist.world_size)
        total = per_rank * self.dist.world_size
        order = torch.randint(0, len(self.train_data), (total,), generator=g).tolist()
        length = self.train_data.window_length(order, self.cfg.crop_seconds)
        start_frac = torch.rand(total, generator=g)
        drop = {s: torch.rand(total, generator=g) < self.cfg.cfg_dropout.get(s, 0.0) for s in STREAMS}
        t = sample_logit_normal(total, self.cfg.t_mean, self.cfg.t_std, generator=g)
        eps = torch.randn(total, self.run.model.latent_channels, length, generator=g)
        mine = slice(self.dist.rank * per_rank, (self.dist.rank + 1) * per_rank)
        batch = self.train_data.batch(order[mine], length, start_frac[mine])
        cond = Conditions(**{k: v for k, v in vars(batch.conditions).items() if k != "drop"},
                          drop={s: m[mine] for s, m in drop.items()})
        return batch.latent, cond, t[mine], eps[mine]

    def train_step(self) -> float:
        self.model.train()
        started = time.time()
        x0, cond, t, eps = self.draw_step(self.step)
        self._last_data_s = time.time() - started  # time the step waited for its batch
        x0, cond, t, eps = x0.to(self.device), cond.to(self.device), t.to(self.device), eps.to(self.device)
        for group in self.optimizer.param_groups:
            group["lr"] = lr_at(self.step, self.cfg)
        net = self.ddp or self.model
        with self._autocast():
            loss = flow_matching_loss(lambda x, s: net(x, s, cond), x0, t, eps).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.optimizer.step()
        self.ema.update(self.model)
        self.step += 1
        self._last_grad_norm = float(grad_norm)
        return float(all_reduce_mean(self.dist, loss.detach()))

    @torch.no_grad()
    def validate(self, max_clips: int = 64) -> float | None:
        """Mean loss of the EMA model at fixed t (9 quantiles) and fixed noise: comparable across steps."""
        if self.val_data is None:
            return None
        model = self.ema.module.eval()
        g = torch.Generator().manual_seed(12345)
        ts = torch.linspace(0.1, 0.9, 9)
        losses = []
        n = min(len(self.val_data), max_clips)
        for start in range(0, n, 8):
            idx = list(range(start, min(n, start + 8)))
            batch = self.val_data.batch(idx, self.val_data.window_length(idx, None))
            cond = batch.conditions.to(self.device)
            x0 = batch.latent.to(self.device)
            for t in ts:
                eps = torch.randn(x0.shape, generator=g).to(self.device)
                tt = torch.full((x0.shape[0],), float(t), device=self.device)
                with self._autocast():
                    losses.append(flow_matching_loss(lambda x, s: model(x, s, cond), x0, tt, eps))
        return float(torch.cat(losses).mean())

    # ---- the loop ---------------------------------------------------------------------
    def _log(self, tag: str, value: float) -> None:
        if self.dist.is_main:
            if self.writer is None:
                from ..log import tensorboard_writer as SummaryWriter

                self.writer = SummaryWriter(str(self.out_dir / "tb"))
            self.writer.add_scalar(tag, value, self.step)

    def fit(self, max_steps: int | None = None) -> None:
        """Train to `max_steps` (default the config's) through the shared loop (train/loop.py):
        log every log_every steps, validate, write samples, checkpoint (and at the end)."""
        from ..log import progress_enabled
        from .loop import Every, run_loop

        end = self.cfg.max_steps if max_steps is None else max_steps
        meter = {"t0": time.time(), "losses": [], "waited": 0.0}

        def step(_: int) -> float:
            loss = self.train_step()
            meter["losses"].append(loss)
            meter["waited"] += self._last_data_s
            return loss

        def log_losses(done: int, _) -> dict:
            n, seconds = len(meter["losses"]), time.time() - meter["t0"]
            loss = sum(meter["losses"]) / n
            self._log("train/loss", loss)
            self._log("train/lr", lr_at(self.step, self.cfg))
            self._log("train/grad_norm", self._last_grad_norm)
            self._log("train/s_per_step", seconds / n)
            self._log("train/data_wait_s", meter["waited"] / n)
            log.info("step %d loss %.4f (%.2f s/step, %.3f s/step waiting for data)", self.step, loss, seconds / n,
                     meter["waited"] / n)
            meter.update(t0=time.time(), losses=[], waited=0.0)
            return {"loss": f"{loss:.4f}"}

        def validate(done: int, _) -> None:
            val = self.validate()
            if val is not None:
                self._log("val/loss", val)
                log.info("step %d val loss %.4f", self.step, val)

        def save(done: int, _) -> None:
            self.save()
            barrier(self.dist)

        main = self.dist.is_main
        jobs = [Every(self.cfg.log_every, log_losses), Every(self.cfg.val_every if main else 0, validate),
                Every(self.cfg.sample_every if main else 0, lambda done, _: self.write_samples()),
                Every(self.cfg.checkpoint_every, save, at_end=True)]
        if self.step < end:
            run_loop(step, self.step, end, jobs, progress=main and progress_enabled(), desc="generator")
        if self.writer is not None:
            self.writer.flush()

def train_main(config_path: str, overrides: dict | None = None, resume: bool = True, max_steps: int | None = None,
               device: str = "auto") -> FlowTrainer:
    run = load_run_config(config_path, overrides)
    dist = init_distributed(device)
    if dist.device.type == "cpu":
        torch.set_num_threads(max(1, run.train.threads // dist.world_size))
    try:
        trainer = FlowTrainer(run, dist)
        if resume:
            trainer.resume()
        if dist.is_main:
            log.info("%s", trainer.describe())
        trainer.fit(max_steps)
        return trainer
    finally:
        cleanup(dist)



def run_from_args(args) -> int:
    """The handler of `prismaudio train generator` (registered by train/generator_cli.py)."""
    overrides: dict = {"data": {}, "train": {}}
    for key, value in (("train", args.train_data), ("val", args.val_data), ("codec", args.codec)):
        if value:
            overrides["data"][key] = value
    if args.out:
        overrides["train"]["out_dir"] = args.out
    train_main(args.config, overrides, resume=not args.no_resume, max_steps=args.max_steps, device=args.device)
    return 0
