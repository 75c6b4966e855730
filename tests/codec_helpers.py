"""Shared tiny components for the codec tests (a micro preset that builds in milliseconds)."""

from __future__ import annotations

import math

import numpy as np
import torch

from prismaudio.codec.config import CodecConfig
from prismaudio.config import from_dict

MICRO = {
    "name": "micro", "sample_rate": 16000, "hop": 160, "upsample": 2, "mid_channels": 4,
    "ild_band_edges_hz": [0, 1000, 4000, 8000], "encoder_dim": 32, "encoder_blocks": 1,
    "decoder_dim": 48, "decoder_blocks": 1, "kernel_size": 3,
    "train": {"batch_size": 2, "crop_seconds": 0.25, "lr": 2e-3, "warmup_steps": 1, "max_steps": 100,
              "checkpoint_every_s": 1e9, "log_every": 1, "threads": 1},
    "loss": {"mel_bands": 32},
}


def micro_config(**overrides) -> CodecConfig:
    return from_dict(CodecConfig, {**MICRO, **overrides})


def panned_tone(seconds: float = 0.5, sample_rate: int = 16000, pan: float = -0.6, itd_ms: float = 0.4,
                seed: int = 0) -> torch.Tensor:
    """A decaying harmonic tone plus a little noise, louder on one side and delayed on the other
    ([2, N]); pan < 0 is left, so the right channel is delayed by itd_ms."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    tone = sum(np.sin(2 * np.pi * 220 * k * t) / k for k in range(1, 6)) * np.exp(-3 * t)
    tone = tone + 0.05 * rng.standard_normal(n)
    delay = int(round(itd_ms * 1e-3 * sample_rate))
    theta = (pan + 1) * math.pi / 4
    left = math.cos(theta) * tone
    right = math.sin(theta) * np.concatenate([np.zeros(delay), tone[: n - delay]])
    return torch.tensor(np.stack([left, right]) * 0.3, dtype=torch.float32)
