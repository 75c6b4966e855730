"""Periodic samples during generator training: the EMA model's audio for a few held-out
clips, written as WAVs and scored for onset timing against each clip's plan.

(The evaluation suite in prismaudio.metrics adds its scores here once it exists; the onset
F1 below uses only prismaudio.dsp and needs no trained evaluator.)
"""

from __future__ import annotations

import logging
from functools import lru_cache

import numpy as np
import torch

log = logging.getLogger(__name__)


@lru_cache(maxsize=2)
def _codec(path: str):
    from ..codec.stereo_codec import StereoCodec

    return StereoCodec.load(path)


@torch.no_grad()
def generate_latents(model, conditions, latent_len: int, channels: int, steps: int, cfg_strength: float, seed: int) -> torch.Tensor:
    from ..flow.samplers import GuidedVelocity, sample_euler
    from ..flow.schedules import uniform_sigmas

    b = conditions.batch_size or 1
    noise = torch.randn(b, channels, latent_len, generator=torch.Generator().manual_seed(seed))
    device = next(model.parameters()).device
    guided = GuidedVelocity(model, conditions.to(device), cfg_strength)
    return sample_euler(guided, noise.to(device), uniform_sigmas(steps))


def write_samples(trainer) -> dict[str, float]:
    cfg, run = trainer.cfg, trainer.run
    data = trainer.val_data or trainer.train_data
    n = min(cfg.sample_count, len(data))
    if n == 0:
        return {}
    idx = list(range(n))
    batch = data.batch(idx, data.window_length(idx, None))
    model = trainer.ema.module.eval()
    latents = generate_latents(model, batch.conditions, batch.latent.shape[-1], run.model.latent_channels,
                               cfg.sample_steps, cfg.sample_cfg, seed=trainer.step)
    scores: dict[str, float] = {}
    if not run.data.codec:
        log.info("step %d: samples not decoded (no data.codec)", trainer.step)
        return scores
    from ..dsp.onsets import detect_onsets, onset_prf
    from ..media import write_audio

    codec = _codec(run.data.codec)
    waves = codec.decode(latents.float().cpu())
    folder = trainer.out_dir / "samples" / f"step_{trainer.step:08d}"
    f1s = []
    for clip_id, wave in zip(batch.ids, waves):
        write_audio(folder / f"{clip_id}.wav", wave, codec.sample_rate)
        clip = next(c for c in data.clips if c.id == clip_id)
        if clip.plan is not None:
            reference = np.array([e.onset for e in clip.plan.temporal.events if e.onset < wave.shape[-1] / codec.sample_rate])
            predicted = detect_onsets(wave.mean(0).numpy(), codec.sample_rate)
            f1s.append(onset_prf(predicted, reference, 0.05)[2])
    if f1s:
        scores["sample/onset_f1"] = float(np.mean(f1s))
    for key, value in scores.items():
        trainer._log(key, value)
    log.info("step %d samples in %s %s", trainer.step, folder, scores)
    return scores
