"""A self-contained RL world on the REAL generator architecture with random weights, for the
GRPO benchmarks when no trained generator/codec/rewards exist (speed does not depend on the
weights; reward figures from this world prove the scripts run and mean nothing else).

Prompts: random semantic features and plan tracks; decoder: a fixed random linear map of the
latent channels to stereo at the codec's hop; rewards and evaluators: four simple,
measurable DSP properties of the stereo output, named as proxies.
"""

from __future__ import annotations

import torch

from prismaudio.models import Conditions
from prismaudio.rl.environment import random_generator
from prismaudio.rl.trainer import Prompt, RLEnvironment


def _proxies():
    def loudness(audio, s):  # "semantic" proxy: overall level (dB of RMS)
        return 20 * torch.log10(audio.pow(2).mean(dim=(1, 2)).sqrt() + 1e-6)

    def onset_contrast(audio, s):  # "temporal" proxy: frame-energy rise contrast
        frames = audio.mean(1).unfold(-1, 320, 320).pow(2).mean(-1)
        return (frames[:, 1:] - frames[:, :-1]).clamp(min=0).mean(-1) / (frames.mean(-1) + 1e-6)

    def left_bias(audio, s):  # "spatial" proxy: level difference left - right, dB
        lv, rv = audio[:, 0].pow(2).mean(-1), audio[:, 1].pow(2).mean(-1)
        return 10 * torch.log10((lv + 1e-8) / (rv + 1e-8))

    def smoothness(audio, s):  # "aesthetic" proxy: less sample-to-sample roughness
        d = audio[..., 1:] - audio[..., :-1]
        return -d.abs().mean(dim=(1, 2)) / (audio.abs().mean(dim=(1, 2)) + 1e-6)

    return {"semantic": loudness, "temporal": onset_contrast, "spatial": left_bias, "aesthetic": smoothness}


def random_world(seconds: float = 2.0, num_prompts: int = 8, seed: int = 0, eval_prompts: int = 4):
    model, mcfg = random_generator("tiny", seed)
    seq = mcfg.sequence(seconds)
    g = torch.Generator().manual_seed(seed + 1)
    prompts = []
    for i in range(num_prompts + eval_prompts):
        cond = Conditions(semantic=torch.randn(1, seq.semantic_len, mcfg.semantic_dim, generator=g),
                          track_features=torch.rand(1, seq.latent_len, mcfg.max_sources, 6, generator=g),
                          track_labels=torch.randint(1, mcfg.label_buckets, (1, mcfg.max_sources), generator=g))
        prompts.append(Prompt(key=f"r{i}", cond=cond, reward_sample=[f"r{i}"]))
    mix = torch.randn(2, mcfg.latent_channels, generator=g) / mcfg.latent_channels**0.5
    hop = mcfg.hop

    def decode(z):
        return torch.einsum("oc,bcl->bol", mix, z.float()).repeat_interleave(hop, dim=-1) * 0.1

    rewards = _proxies()
    env = RLEnvironment(latent_shape=(mcfg.latent_channels, seq.latent_len), decode=decode, rewards=rewards,
                        train_prompts=prompts[:num_prompts], eval_prompts=prompts[num_prompts:],
                        evaluators={f"{k}_proxy": v for k, v in rewards.items()})
    return model, mcfg, env


def load_world(config_path: str | None, random: bool, seconds: float, overrides: dict | None = None):
    """(config, model, reference, env): the real world of a GRPO config, or the random one."""
    import copy

    from prismaudio.config import load_config
    from prismaudio.rl.config import GRPOConfig

    if random:
        cfg = load_config(GRPOConfig, config_path, overrides) if config_path else GRPOConfig(**(overrides or {}))
        model, _, env = random_world(seconds)
        return cfg, model, copy.deepcopy(model), env
    from prismaudio.rl.environment import build_environment

    cfg = load_config(GRPOConfig, config_path, overrides)
    model, reference, env, _ = build_environment(cfg)
    return cfg, model, reference, env
