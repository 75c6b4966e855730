"""Codec trainer: resumable (weights, EMA, optimizer, RNG, step in one safetensors file),
TensorBoard logs, DDP under torchrun (gloo on CPU).

A run folder holds step_XXXXXXXX.safetensors training states (the newest few are kept),
codec_<preset>.safetensors (EMA weights only, for shipping) and tb/ (TensorBoard).
"""

from __future__ import annotations

import copy
import logging
import signal
import threading
import time
from pathlib import Path

import torch

from ..config import to_dict
from ..dsp.spectral import mel_filterbank
from ..errors import CheckpointError, ConfigError
from ..train.checkpoint import (check_config_matches, export_weights, latest_checkpoint, load_checkpoint, prune_checkpoints,
                                restore_training_state, save_training_state)
from ..train.distributed import DistInfo, all_reduce_mean, init_distributed
from ..train.ema import ema_decay, lerp_weights
from ..train.schedule import lr_at
from .config import DECODER_KEYS, ENCODER_KEYS, PITCH_KEYS, SHAPE_KEYS, CodecConfig
from .data import CropSampler
from .losses import codec_loss
from .phase import learned_phase_terms
from .stereo_codec import CHECKPOINT_KIND, CHECKPOINT_VERSION, StereoCodec

log = logging.getLogger(__name__)


def init_from_codec(model: StereoCodec, path: str | Path) -> bool:
    """Copy a trained codec's encoder and latent normalisation into `model`, and its decoder
    when the shapes match (a resized decoder starts fresh on the same latents).

    A codec without pitch channels may seed one with them (`pitch: true`): the learned and
    spatial channels stay bit-identical, the two pitch channels are inserted after the learned
    ones (normalised by `calibrate_pitch_norm`), and a same-sized decoder is widened so
    that it starts out decoding exactly as the source did (`widen_decoder`). Returns whether
    pitch channels were added.
    """
    source = StereoCodec.load(path)
    pitch_added = model.config.pitch and not source.config.pitch
    keys = tuple(k for k in ENCODER_KEYS if not (pitch_added and k in PITCH_KEYS))
    check_config_matches(path, to_dict(source.config), model.config, keys)  # same latent space
    model.encoder.load_state_dict(source.encoder.state_dict())
    mean, std = source.latent_mean, source.latent_std
    if pitch_added:
        mid = source.config.mid_channels
        mean = torch.cat([mean[:mid], torch.zeros(2), mean[mid:]])
        std = torch.cat([std[:mid], torch.ones(2), std[mid:]])
    model.latent_mean.copy_(mean)
    model.latent_std.copy_(std)
    model.norm_updates.copy_(source.norm_updates)
    same_decoder = all(getattr(source.config, k) == getattr(model.config, k) for k in DECODER_KEYS)
    if same_decoder:
        state = source.decoder.state_dict()
        state = widen_decoder(state, model.config) if pitch_added else state
        # A phase head the source lacks starts fresh; everything else must match.
        missing, unexpected = model.decoder.load_state_dict(state, strict=False)
        if unexpected or any(not k.startswith("phase.") for k in missing):
            raise CheckpointError(f"{path}: decoder weights do not fit ({(unexpected + missing)[:3]})")
    log.info("initialised from %s (encoder%s%s)", path, " and decoder" if same_decoder else "; decoder fresh",
             "; pitch channels added" if pitch_added else "")
    return pitch_added


@torch.no_grad()
def calibrate_pitch_norm(model: StereoCodec, sampler: CropSampler, batches: int = 32, batch_size: int = 16) -> None:
    """Set the pitch channels' latent mean/std from crops of the training audio, once, before
    training: with a frozen encoder the normalisation must not move, or latents cached for the
    generator would stop matching the codec that decodes them. Leaves the training RNG as it was."""
    mid = model.config.mid_channels
    with torch.random.fork_rng():
        torch.manual_seed(0)
        pitch = torch.cat([model.analyse(sampler.batch(batch_size))[2][:, :2] for _ in range(batches)])
    flat = pitch.transpose(0, 1).reshape(2, -1)
    model.latent_mean[mid : mid + 2] = flat.mean(1)
    model.latent_std[mid : mid + 2] = flat.std(1).clamp(min=1e-3)
    log.info("pitch channels normalised by mean %s, std %s", [round(v, 3) for v in flat.mean(1).tolist()],
             [round(v, 3) for v in flat.std(1).tolist()])


ENVELOPE_START_DB = -2.0  # natural-log units below the source's prediction (see widen_decoder)


def widen_decoder(state: dict[str, torch.Tensor], cfg) -> dict[str, torch.Tensor]:
    """A pitch-less decoder's weights for a pitch decoder of the same size. The two new input
    channels get zero weights; the harmonic-envelope half of the head starts as a copy of the
    source's head lowered by 2 (a factor e^-2), so the output is at most log(1 + e^-2) = 0.13
    above the source's, on the comb's peaks only. Why not far lower (an exact copy of the
    source's output): logaddexp then saturates and the harmonic branch gets no gradient; from
    -20 the decoder still drew its old, wrongly spaced comb after 600 CPU steps."""
    state = dict(state)
    w = state["inp.weight"]
    state["inp.weight"] = torch.cat([w, w.new_zeros(w.shape[0], 2, w.shape[2])], dim=1)
    head_w, head_b = state["head.weight"], state["head.bias"]
    state["head.weight"] = torch.cat([head_w, head_w.clone()])
    state["head.bias"] = torch.cat([head_b, head_b + ENVELOPE_START_DB])
    return state


class CodecTrainer:
    def __init__(self, cfg: CodecConfig, clips: list[torch.Tensor], out_dir: str | Path,
                 dist: DistInfo | None = None) -> None:
        self.cfg = cfg
        self.out = Path(out_dir)
        self.dist = dist or init_distributed()
        torch.manual_seed(cfg.train.seed + self.dist.rank)
        self.model = StereoCodec(cfg)
        self.sampler = CropSampler(clips, int(round(cfg.train.crop_seconds * cfg.sample_rate)))
        if cfg.train.init_from and init_from_codec(self.model, cfg.train.init_from):
            calibrate_pitch_norm(self.model, self.sampler)
        if cfg.train.freeze_encoder:
            if not cfg.train.init_from:
                raise ConfigError("train.freeze_encoder needs train.init_from (a trained codec whose latents to keep)")
            self.model.freeze_encoder()
        if cfg.train.freeze_magnitude:
            if cfg.phase_decoder != "learned" or not cfg.train.init_from:
                raise ConfigError("train.freeze_magnitude needs phase_decoder: learned and train.init_from "
                                  "(a trained codec whose magnitudes to keep)")
            self.model.decoder.freeze_magnitude()
        self.model = self.model.to(self.dist.device).train()
        self.ema = copy.deepcopy(self.model).eval()
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(trainable, lr=cfg.train.lr, betas=(0.8, 0.99),
                                           weight_decay=cfg.train.weight_decay)
        self.net = self.model
        if self.dist.enabled:
            self.net = torch.nn.parallel.DistributedDataParallel(self.model)
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
        prune_checkpoints(self.out, self.cfg.train.keep_checkpoints)
        log.info("saved %s", path)
        return path

    # ---- loop ----------------------------------------------------------------------------
    def train_step(self) -> dict[str, float]:
        cfg = self.cfg
        lr = lr_at(self.step, cfg.train)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        batch = self.sampler.batch(cfg.train.batch_size).to(self.dist.device)
        out = self.net(batch)
        terms = codec_loss(out.pred_logmag, out.target_logmag, out.mean, out.logvar, self.mel_fb,
                           cfg.magnitude_floor, cfg.loss)
        if out.pred_phase is not None:
            phase = learned_phase_terms(out.pred_logmag, out.pred_phase, out.target_logmag, out.target_phase,
                                        cfg.n_fft, cfg.stft_hop)
            weights = {"ip": cfg.loss.phase_ip, "gd": cfg.loss.phase_gd, "iaf": cfg.loss.phase_iaf,
                       "mrstft": cfg.loss.mrstft}
            terms.total = terms.total + sum(weights[k] * v for k, v in phase.items())
            terms.parts.update({k: float(v.detach()) for k, v in phase.items()})
        self.optimizer.zero_grad(set_to_none=True)
        terms.total.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.optimizer.param_groups[0]["params"], cfg.train.grad_clip)
        self.optimizer.step()
        self.step += 1
        lerp_weights(self.ema, self.model, ema_decay(0.999, self.step))
        parts = dict(terms.parts, loss=float(terms.total.detach()), grad_norm=float(grad_norm), lr=lr)
        return parts

    def fit(self, max_steps: int | None = None) -> dict[str, float]:
        """Train to `max_steps` (default the config's) through the shared loop (train/loop.py):
        log every log_every steps, checkpoint every checkpoint_every_s seconds and at the end;
        a SIGTERM finishes the current step, saves and returns."""
        from ..train.loop import Every, run_loop

        cfg = self.cfg
        stop = max_steps if max_steps is not None else cfg.train.max_steps
        if self.dist.is_main:
            from ..log import tensorboard_writer as SummaryWriter

            self.out.mkdir(parents=True, exist_ok=True)
            self.writer = SummaryWriter(str(self.out / "tb"))
        clock = {"saved": time.time(), "t0": time.time(), "start": self.step}
        self._stop_requested = False
        previous = self._catch_sigterm()

        def step(_: int) -> dict[str, float]:
            parts = self.train_step()
            if self.dist.enabled:
                parts["loss"] = float(all_reduce_mean(self.dist, torch.tensor(parts["loss"])))
            return parts

        def log_parts(done: int, parts: dict[str, float]) -> dict | None:
            if self.writer is None:
                return None
            for k, v in parts.items():
                self.writer.add_scalar(f"train/{k}", v, done)
            rate = (done - clock["start"]) / max(1e-9, time.time() - clock["t0"])
            extra = "".join(f"  {k} {parts[k]:.4f}" for k in ("ip", "gd", "iaf", "mrstft") if k in parts)
            log.info("step %d  loss %.4f  logmag %.4f  mel %.4f  kl %.3f%s  %.2f steps/s", done,
                     parts["loss"], parts["logmag"], parts["mel"], parts["kl"], extra, rate)
            return None

        def save_when_due(done: int, _) -> None:
            # Checkpoints by wall time (a CPU run's speed varies with the machine's load), and at the end.
            if done == stop or self._stop_requested or time.time() - clock["saved"] >= cfg.train.checkpoint_every_s:
                self.save()
                clock["saved"] = time.time()

        rows = []
        if self.step < stop:
            rows = run_loop(step, self.step, stop, [Every(cfg.train.log_every, log_parts),
                                                     Every(1, save_when_due, at_end=True)],
                            stop=lambda: self._stop_requested)
        else:
            self.save()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if self._stop_requested:
            log.info("stopped by SIGTERM at step %d (saved; rerun the same command to resume)", self.step)
        if self.writer is not None:
            self.writer.close()
        return rows[-1] if rows else {}

    def _catch_sigterm(self):
        """On SIGTERM, finish the current step, save, and return (a kill loses nothing)."""
        if threading.current_thread() is not threading.main_thread():
            return None

        def request_stop(signum, frame):  # noqa: ARG001
            self._stop_requested = True

        return signal.signal(signal.SIGTERM, request_stop)
