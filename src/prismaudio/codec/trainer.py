"""Codec trainer: resumable (weights, EMA, optimizer, RNG, step in one safetensors file),
TensorBoard logs, DDP under torchrun (gloo on CPU).

A run folder holds step_XXXXXXXX.safetensors training states (the newest few are kept),
codec_<preset>.safetensors (EMA weights only, for shipping) and tb/ (TensorBoard).
"""

from __future__ import annotations

import copy
import logging
import math
import signal
import threading
import time
from pathlib import Path

import torch

from ..config import to_dict
from ..dsp.spectral import mel_filterbank
from ..errors import CheckpointError, ConfigError
from ..train.checkpoint import (check_config_matches, export_weights, latest_checkpoint, load_checkpoint,
                                restore_training_state, save_training_state)
from ..train.distributed import DistInfo, all_reduce_mean, init_distributed
from .config import DECODER_KEYS, ENCODER_KEYS, SHAPE_KEYS, CodecConfig
from .data import CropSampler
from .losses import codec_loss
from .stereo_codec import CHECKPOINT_KIND, CHECKPOINT_VERSION, StereoCodec

log = logging.getLogger(__name__)


def learning_rate(step: int, cfg: CodecConfig) -> float:
    """Linear warm-up, then cosine decay from lr to lr_min over max_steps."""
    t = cfg.train
    if step < t.warmup_steps:
        return t.lr * (step + 1) / t.warmup_steps
    progress = min(1.0, (step - t.warmup_steps) / max(1, t.max_steps - t.warmup_steps))
    return t.lr_min + 0.5 * (t.lr - t.lr_min) * (1 + math.cos(math.pi * progress))


@torch.no_grad()
def update_ema(ema: torch.nn.Module, model: torch.nn.Module, step: int, decay: float = 0.999) -> None:
    d = min(decay, (1 + step) / (10 + step))
    for pe, pm in zip(ema.parameters(), model.parameters()):
        pe.lerp_(pm, 1 - d)
    for be, bm in zip(ema.buffers(), model.buffers()):
        be.copy_(bm)


def init_from_codec(model: StereoCodec, path: str | Path) -> None:
    """Copy a trained codec's encoder and latent normalisation into `model`, and its decoder
    when the shapes match (a resized decoder starts fresh on the same latents)."""
    source = StereoCodec.load(path)
    check_config_matches(path, to_dict(source.config), model.config, ENCODER_KEYS)  # same latent space
    model.encoder.load_state_dict(source.encoder.state_dict())
    for name in ("latent_mean", "latent_std", "norm_updates"):
        getattr(model, name).copy_(getattr(source, name))
    same_decoder = all(getattr(source.config, k) == getattr(model.config, k) for k in DECODER_KEYS)
    if same_decoder:
        model.decoder.load_state_dict(source.decoder.state_dict())
    log.info("initialised from %s (encoder%s)", path, " and decoder" if same_decoder else "; decoder fresh")


class CodecTrainer:
    def __init__(self, cfg: CodecConfig, clips: list[torch.Tensor], out_dir: str | Path,
                 dist: DistInfo | None = None) -> None:
        self.cfg = cfg
        self.out = Path(out_dir)
        self.dist = dist or init_distributed()
        torch.manual_seed(cfg.train.seed + self.dist.rank)
        self.model = StereoCodec(cfg)
        if cfg.train.init_from:
            init_from_codec(self.model, cfg.train.init_from)
        if cfg.train.freeze_encoder:
            if not cfg.train.init_from:
                raise ConfigError("train.freeze_encoder needs train.init_from (a trained codec whose latents to keep)")
            self.model.freeze_encoder()
        self.model = self.model.to(self.dist.device).train()
        self.ema = copy.deepcopy(self.model).eval()
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(trainable, lr=cfg.train.lr, betas=(0.8, 0.99),
                                           weight_decay=cfg.train.weight_decay)
        self.net = self.model
        if self.dist.enabled:
            self.net = torch.nn.parallel.DistributedDataParallel(self.model)
        self.sampler = CropSampler(clips, int(round(cfg.train.crop_seconds * cfg.sample_rate)))
        self.mel_fb = mel_filterbank(cfg.sample_rate, cfg.n_fft, cfg.loss.mel_bands).to(self.dist.device)
        self.step = 0
        self.writer = None

    # ---- checkpoints ---------------------------------------------------------------------
    def resume(self, path: str | Path | None = None) -> bool:
        """Continue from `path` or the newest step_*.safetensors in the run folder."""
        path = Path(path) if path else latest_checkpoint(self.out)
        if path is None:
            return False
        ckpt = load_checkpoint(path, kind=CHECKPOINT_KIND)
        check_config_matches(path, ckpt.config, self.cfg, SHAPE_KEYS)
        try:
            self.step = restore_training_state(ckpt, self.model, self.optimizer, self.ema)
        except (RuntimeError, KeyError, ValueError) as e:
            raise CheckpointError(f"{path}: cannot restore training state ({str(e).splitlines()[0][:120]})") from None
        if self.dist.rank:  # each rank draws its own crops
            torch.manual_seed(self.cfg.train.seed + 1000 * self.step + self.dist.rank)
        log.info("resumed from %s at step %d", path, self.step)
        return True

    def save(self) -> Path | None:
        if not self.dist.is_main:
            return None
        path = self.out / f"step_{self.step:08d}.safetensors"
        save_training_state(path, CHECKPOINT_KIND, CHECKPOINT_VERSION, self.cfg, self.step, self.model,
                            self.optimizer, ema=self.ema)
        export_weights(self.out / f"codec_{self.cfg.name}.safetensors", CHECKPOINT_KIND, CHECKPOINT_VERSION,
                       self.cfg, self.ema)
        for old in sorted(self.out.glob("step_*.safetensors"))[: -self.cfg.train.keep_checkpoints]:
            old.unlink(missing_ok=True)
        log.info("saved %s", path)
        return path

    # ---- loop ----------------------------------------------------------------------------
    def train_step(self) -> dict[str, float]:
        cfg = self.cfg
        lr = learning_rate(self.step, cfg)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        batch = self.sampler.batch(cfg.train.batch_size).to(self.dist.device)
        out = self.net(batch)
        terms = codec_loss(out.pred_logmag, out.target_logmag, out.mean, out.logvar, self.mel_fb,
                           cfg.magnitude_floor, cfg.loss)
        self.optimizer.zero_grad(set_to_none=True)
        terms.total.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.optimizer.param_groups[0]["params"], cfg.train.grad_clip)
        self.optimizer.step()
        self.step += 1
        update_ema(self.ema, self.model, self.step)
        parts = dict(terms.parts, loss=float(terms.total.detach()), grad_norm=float(grad_norm), lr=lr)
        return parts

    def fit(self, max_steps: int | None = None) -> dict[str, float]:
        cfg = self.cfg
        stop = max_steps if max_steps is not None else cfg.train.max_steps
        if self.dist.is_main:
            from torch.utils.tensorboard import SummaryWriter

            self.out.mkdir(parents=True, exist_ok=True)
            self.writer = SummaryWriter(str(self.out / "tb"))
        last_save, t0, start_step = time.time(), time.time(), self.step
        parts: dict[str, float] = {}
        self._stop_requested = False
        previous = self._catch_sigterm()
        while self.step < stop and not self._stop_requested:
            parts = self.train_step()
            if self.dist.enabled:
                parts["loss"] = float(all_reduce_mean(self.dist, torch.tensor(parts["loss"])))
            if self.writer is not None and self.step % cfg.train.log_every == 0:
                for k, v in parts.items():
                    self.writer.add_scalar(f"train/{k}", v, self.step)
                rate = (self.step - start_step) / max(1e-9, time.time() - t0)
                log.info("step %d  loss %.4f  logmag %.4f  mel %.4f  kl %.3f  %.2f steps/s", self.step,
                         parts["loss"], parts["logmag"], parts["mel"], parts["kl"], rate)
            if time.time() - last_save >= cfg.train.checkpoint_every_s:
                self.save()
                last_save = time.time()
        self.save()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if self._stop_requested:
            log.info("stopped by SIGTERM at step %d (saved; rerun the same command to resume)", self.step)
        if self.writer is not None:
            self.writer.close()
        return parts

    def _catch_sigterm(self):
        """On SIGTERM, finish the current step, save, and return (a kill loses nothing)."""
        if threading.current_thread() is not threading.main_thread():
            return None

        def request_stop(signum, frame):  # noqa: ARG001
            self._stop_requested = True

        return signal.signal(signal.SIGTERM, request_stop)
