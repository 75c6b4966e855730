"""The real RL world: the pretrained generator, its frozen reference, the codec, the cached
prompts, the rewards and the evaluation suite, built from a GRPOConfig.

Only this module knows where the parts come from; the trainer sees an RLEnvironment. Each
prompt's reward input is a `prismaudio.rewards.RewardSample` (batch of 1: the clip's plan,
its cached sync features as the video features, and the codec reconstruction of its own
latent as the reference), which the trainer concatenates and repeats like any dataclass.
The rewards come from `prismaudio.rewards.build_rewards`; periodic evaluation runs the
evaluation suite's metrics (the evaluator twins, never the reward models).
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from ..errors import CheckpointError, ConfigError
from ..rewards import RewardSample, RewardsConfig, build_rewards
from .config import GRPOConfig
from .trainer import Prompt, RLEnvironment

log = logging.getLogger(__name__)


def load_generator(path: str | Path, device: torch.device | str = "cpu"):
    """FlowDiT with the EMA weights (else the raw ones) of a generator checkpoint, and its config."""
    from ..pipeline import load_generator as load

    model = load(path)
    return model.to(device).eval(), model.config


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


def check_inputs(cfg: GRPOConfig) -> None:
    """One line naming every input file the config points at that does not exist, and how to make them."""
    inputs = {"generator_checkpoint": cfg.generator_checkpoint, "codec_checkpoint": cfg.codec_checkpoint,
              "data": cfg.data, "eval_data": cfg.eval_data, "manifest": cfg.manifest}
    missing = [f"{k} not found: {v}" for k, v in inputs.items() if v is not None and not Path(v).exists()]
    if missing:
        raise ConfigError(f"{'; '.join(missing)}. RL starts from a pretrained generator and cached "
                          "features; make them with `prismaudio recipe tiny --until evaluators` (configs/grpo_tiny.yaml "
                          "reads its outputs under runs/recipe_tiny/), or point the config at your own")


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


def _prompts(folder: str, mcfg, codec, limit: int | None, seconds: float | None, plans: dict | None) -> list[Prompt]:
    from ..train.data import ClipDataset

    ds = ClipDataset(folder, mcfg, plans)
    count = len(ds) if limit is None else min(limit, len(ds))
    prompts = []
    for i in range(count):
        if ds.clips[i].plan is None:
            raise ConfigError(f"{folder}: clip {ds.clips[i].id} has no plan (the rewards read it): set `manifest` to the SynthCanvas manifest.jsonl")
        length = ds.window_length([i], seconds)
        b = ds.batch([i], length)
        with torch.no_grad():
            ref = codec.decode(b.latent).float() if codec is not None else None
        sync = b.conditions.sync
        sample = RewardSample(sample_rate=codec.sample_rate if codec is not None else mcfg.sample_rate,
                              plan=[ds.clips[i].plan], video_features=sync, video_rate=mcfg.sync_rate if sync is not None else None,
                              reference=ref)
        prompts.append(Prompt(key=b.ids[0], cond=b.conditions, reward_sample=sample))
    return prompts


def _pair(key: str, audio: torch.Tensor, sample: RewardSample):
    """An EvalPair of one generated clip (audio [2, N] at the sample's rate -> 16 kHz)."""
    from ..metrics.base import EvalPair
    from ..rewards.base import to_eval_rate

    plan = sample.plans(1)[0]
    labels = {s.label for s in plan.semantic.sources}
    motion = sample.motion_curves(1)
    ref = to_eval_rate(sample.reference, sample.sample_rate)[0] if sample.reference is not None else None
    return EvalPair(key, to_eval_rate(audio[None], sample.sample_rate)[0], ref, plan,
                    next(iter(labels)) if len(labels) == 1 else None, motion[0] if motion is not None else None)


def metric_suite(audio: torch.Tensor, prompts: list[Prompt]) -> dict[str, float]:
    """The evaluation suite (metrics/: classifier, clap_eval, offset_eval, quality_eval, ITD
    errors; not the rewards) on generated audio against the codec references."""
    from ..audio_models.yamnet import shared
    from ..metrics.evaluate import cached_analyze, run_metrics

    pairs = [_pair(p.key, audio[k], p.reward_sample) for k, p in enumerate(prompts)]
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

    check_inputs(cfg)
    model, reference, mcfg = _policy_and_reference(cfg, device)
    if cfg.codec_checkpoint is None:
        raise ConfigError("codec_checkpoint is required (rewards read decoded audio)")
    codec = StereoCodec.load(cfg.codec_checkpoint).to(device)
    if codec.latent_channels != mcfg.latent_channels:
        raise ConfigError(f"codec has {codec.latent_channels} latent channels, the generator {mcfg.latent_channels}")
    if cfg.data is None:
        raise ConfigError("data is required: a folder of cached generator features (prismaudio extract)")
    plans = None
    if cfg.manifest:
        from ..train.data import load_plans

        if not Path(cfg.manifest).is_file():
            raise ConfigError(f"manifest {cfg.manifest}: not found")
        plans = load_plans(cfg.manifest)
    train = _prompts(cfg.data, mcfg, codec, None, cfg.clip_seconds, plans)
    held_out = _prompts(cfg.eval_data, mcfg, codec, cfg.eval_size, cfg.clip_seconds, plans) if cfg.eval_data else []
    latent_len = min(int(p.reward_sample.reference.shape[-1] // codec.hop) for p in train)
    if len({int(p.reward_sample.reference.shape[-1]) for p in train}) > 1:
        raise ConfigError(f"{cfg.data}: clips of different lengths; set clip_seconds to crop them alike")
    env = RLEnvironment(
        latent_shape=(mcfg.latent_channels, latent_len), decode=lambda z: codec.decode(z),
        rewards=build_rewards(list(cfg.reward_weights), cfg=RewardsConfig(weights=dict(cfg.reward_weights))),
        train_prompts=train, eval_prompts=held_out,
        suite=metric_suite if held_out else None,
    )
    return model, reference, env, mcfg
