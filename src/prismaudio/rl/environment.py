"""The real RL world: the pretrained generator, its frozen reference, the codec, the cached
prompts, the rewards and the evaluation suite, built from a GRPOConfig.

Only this module knows where the parts come from; the trainer sees an RLEnvironment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..config import from_dict
from ..errors import CheckpointError, ConfigError
from .config import GRPOConfig
from .trainer import Prompt, RLEnvironment

log = logging.getLogger(__name__)


@dataclass
class ClipContext:
    """What rewards and evaluators read about one prompt (lists: one item per batch row)."""

    ids: list[str]
    plans: list[Any]
    reference: torch.Tensor | None  # [B, 2, N] codec reconstruction of the clip's own latent


def load_generator(path: str | Path, device: torch.device | str = "cpu"):
    """FlowDiT with the EMA weights (else the raw ones) of a generator checkpoint."""
    from ..models import FlowDiT, GeneratorConfig
    from ..train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path, kind="generator")
    config = from_dict(GeneratorConfig, ckpt.config, where=f"{path} config")
    model = FlowDiT(config)
    try:
        model.load_state_dict(ckpt.group("ema") or ckpt.group("model"))
    except RuntimeError as e:
        raise CheckpointError(f"{path}: weights do not fit the generator config inside ({str(e).splitlines()[0][:160]})") from None
    return model.to(device).eval(), config


def random_generator(preset: str = "tiny", seed: int = 0, device: torch.device | str = "cpu"):
    """A randomly initialised generator of a preset (benchmarks of speed; never for results).
    The zero-initialised output layer gets small random weights so the velocity is not 0."""
    from ..models import FlowDiT, load_model_config

    config = load_model_config(preset)
    torch.manual_seed(seed)
    model = FlowDiT(config)
    with torch.no_grad():
        model.patch_out.weight.normal_(0.0, 0.02)
    return model.to(device).eval(), config


def _policy_and_reference(cfg: GRPOConfig, device):
    if cfg.generator_checkpoint is None:
        if not cfg.random_init:
            raise ConfigError("generator_checkpoint is required (the pretrained generator RL starts from)")
        model, mcfg = random_generator(cfg.random_preset, cfg.seed, device)
        reference = random_generator(cfg.random_preset, cfg.seed, device)[0] if cfg.beta > 0 else None
        return model, reference, mcfg
    model, mcfg = load_generator(cfg.generator_checkpoint, device)
    reference = None
    if cfg.beta > 0:
        ref_path = cfg.reference_checkpoint or cfg.generator_checkpoint
        if not Path(ref_path).is_file():
            raise CheckpointError(f"{ref_path}: reference checkpoint not found (needed for the KL term, beta = {cfg.beta})")
        reference, ref_cfg = load_generator(ref_path, device)
        if ref_cfg.preset != mcfg.preset or ref_cfg.latent_channels != mcfg.latent_channels:
            raise CheckpointError(f"{ref_path}: reference is a '{ref_cfg.preset}' generator, the policy a '{mcfg.preset}' one")
    return model, reference, mcfg


def _prompts(folder: str, mcfg, codec, limit: int | None, seconds: float | None) -> list[Prompt]:
    from ..train.data import ClipDataset

    ds = ClipDataset(folder, mcfg)
    count = len(ds) if limit is None else min(limit, len(ds))
    prompts = []
    for i in range(count):
        length = ds.window_length([i], seconds)
        b = ds.batch([i], length)
        ref = codec.decode(b.latent) if codec is not None else None
        prompts.append(Prompt(key=b.ids[0], cond=b.conditions, reward_sample=ClipContext(b.ids, [ds.clips[i].plan], ref)))
    return prompts


def _rewards(names: list[str], device) -> dict[str, Any]:
    try:
        from ..rewards import build_rewards  # the rewards issue's registry: names -> score(audio, sample)
    except ImportError:
        raise ConfigError("no reward models in this checkout (prismaudio.rewards.build_rewards is missing)") from None
    return build_rewards(names, device=device)


def metric_suite(audio: torch.Tensor, prompts: list[Prompt]) -> dict[str, float]:
    """The evaluation suite (metrics/, not the rewards) on generated audio vs the references."""
    import numpy as np

    from ..audio_models.yamnet import shared
    from ..metrics.base import EvalPair
    from ..metrics.evaluate import cached_analyze, run_metrics

    pairs = []
    for k, p in enumerate(prompts):
        ctx: ClipContext = p.reward_sample
        gt = ctx.reference[0].cpu().numpy().astype(np.float32) if ctx.reference is not None else None
        pairs.append(EvalPair(p.key, audio[k].cpu().numpy().astype(np.float32), gt, ctx.plans[0]))
    yam = shared()
    for pair, o in zip(pairs, cached_analyze(yam, [q.pred for q in pairs], None)):
        pair.pred_yamnet = o
    if all(q.gt is not None for q in pairs):
        for pair, g in zip(pairs, cached_analyze(yam, [q.gt for q in pairs], None)):
            pair.gt_yamnet = g
    problems: list[str] = []
    result = run_metrics(pairs, ("semantic", "temporal", "aesthetic", "spatial"), problems)
    for line in problems:
        log.debug("evaluation: %s", line)
    return {k: v for k, v in result.summary.items() if isinstance(v, (int, float))}


def build_environment(cfg: GRPOConfig, device: torch.device | str = "cpu"):
    """-> (policy model, frozen reference or None, RLEnvironment, generator config)."""
    from ..codec.stereo_codec import StereoCodec

    model, reference, mcfg = _policy_and_reference(cfg, device)
    if cfg.codec_checkpoint is None:
        raise ConfigError("codec_checkpoint is required (rewards read decoded audio)")
    codec = StereoCodec.load(cfg.codec_checkpoint).to(device)
    if codec.latent_channels != mcfg.latent_channels:
        raise ConfigError(f"codec has {codec.latent_channels} latent channels, the generator {mcfg.latent_channels}")
    if cfg.data is None:
        raise ConfigError("data is required: a folder of cached generator features (prismaudio extract)")
    train = _prompts(cfg.data, mcfg, codec, None, cfg.clip_seconds)
    held_out = _prompts(cfg.eval_data, mcfg, codec, cfg.eval_size, cfg.clip_seconds) if cfg.eval_data else []
    latent_len = min(int(p.reward_sample.reference.shape[-1] // codec.hop) for p in train)
    if len({int(p.reward_sample.reference.shape[-1]) for p in train}) > 1:
        raise ConfigError(f"{cfg.data}: clips of different lengths; set clip_seconds to crop them alike")
    env = RLEnvironment(
        latent_shape=(mcfg.latent_channels, latent_len), decode=lambda z: codec.decode(z),
        rewards=_rewards(list(cfg.reward_weights), device), train_prompts=train, eval_prompts=held_out,
        suite=metric_suite if held_out else None,
    )
    return model, reference, env, mcfg
