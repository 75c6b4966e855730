"""The small trained audio models behind the rewards and the metrics.

All read frozen features (YAMNet embeddings, MiniLM sentence vectors, 25 fps event curves)
so they train in minutes on a CPU and ship as a few MB of safetensors.

- ClapProjection: CLAP-like pair of projections (YAMNet 1024 -> d, MiniLM 384 -> d) with a
  learned temperature; score = cosine.
- ClassHead: classifier of the canvas sound class from pooled YAMNet embeddings.
- QualityHead: PQ-like 1..10 score from pooled YAMNet embeddings + analytic checks.
- CorrelationOffsetNet (reward): Synchformer-like; per-modality temporal convs, then the
  cross-correlation of the two sequences over lags +-2 s feeds a classifier over offsets.
- FusionOffsetNet (evaluator, deliberately another architecture): early fusion of the two
  curves through dilated convs and a global pool.
Offsets are classes on linspace(-max_offset, max_offset, num_offsets) (Synchformer: 21 over
+-2 s); a positive offset means the audio comes late.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class ClapConfig:
    audio_dim: int = 1024
    text_dim: int = 384
    hidden: int = 256
    dim: int = 128


class ClapProjection(nn.Module):
    def __init__(self, cfg: ClapConfig):
        super().__init__()
        self.cfg = cfg
        self.audio = nn.Sequential(nn.Linear(cfg.audio_dim, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, cfg.dim))
        self.text = nn.Sequential(nn.Linear(cfg.text_dim, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, cfg.dim))
        self.log_scale = nn.Parameter(torch.tensor(float(np.log(10.0))))

    def embed_audio(self, emb: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.audio(emb), dim=-1)

    def embed_text(self, emb: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.text(emb), dim=-1)

    def similarity(self, audio_emb: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor:
        """Paired cosine [B]."""
        return (self.embed_audio(audio_emb) * self.embed_text(text_emb)).sum(-1)


@dataclass
class ClassHeadConfig:
    classes: list[str] = field(default_factory=list)
    in_dim: int = 2048  # mean and max pooled YAMNet embeddings
    hidden: int = 128


class ClassHead(nn.Module):
    def __init__(self, cfg: ClassHeadConfig):
        super().__init__()
        self.cfg = cfg
        self.net = nn.Sequential(nn.LayerNorm(cfg.in_dim), nn.Linear(cfg.in_dim, cfg.hidden), nn.GELU(),
                                 nn.Dropout(0.2), nn.Linear(cfg.hidden, len(cfg.classes)))

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.net(pooled)


@dataclass
class QualityConfig:
    in_dim: int = 1024
    side_dim: int = 5
    hidden: int = 128


class QualityHead(nn.Module):
    """Predicts a quality score in [1, 10]."""

    def __init__(self, cfg: QualityConfig):
        super().__init__()
        self.cfg = cfg
        self.net = nn.Sequential(nn.Linear(cfg.in_dim + cfg.side_dim, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, 1))

    def forward(self, emb: torch.Tensor, side: torch.Tensor) -> torch.Tensor:
        return 1.0 + 9.0 * torch.sigmoid(self.net(torch.cat([emb, side], -1)).squeeze(-1))


@dataclass
class OffsetConfig:
    arch: str = "correlation"  # "correlation" (reward) or "fusion" (evaluator)
    fps: int = 25
    window_s: float = 4.8
    max_offset_s: float = 2.0
    num_offsets: int = 21
    channels: int = 32
    video_features: int = 1
    audio_features: int = 2

    @property
    def window_frames(self) -> int:
        return int(round(self.window_s * self.fps))

    def offsets(self) -> np.ndarray:
        return np.linspace(-self.max_offset_s, self.max_offset_s, self.num_offsets)


def _conv_stack(c_in: int, c: int, dilations: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, d in enumerate(dilations):
        layers += [nn.Conv1d(c_in if i == 0 else c, c, 5, padding=2 * d, dilation=d), nn.GELU()]
    return nn.Sequential(*layers)


def _standardise(x: torch.Tensor) -> torch.Tensor:
    """Per-window, per-channel standardisation: the curves' absolute scale means nothing."""
    return (x - x.mean(-1, keepdim=True)) / (x.std(-1, keepdim=True) + 1e-3)


class CorrelationOffsetNet(nn.Module):
    def __init__(self, cfg: OffsetConfig):
        super().__init__()
        self.cfg = cfg
        self.video = _conv_stack(cfg.video_features, cfg.channels, (1, 2))
        self.audio = _conv_stack(cfg.audio_features, cfg.channels, (1, 2))
        self.max_lag = int(round(cfg.max_offset_s * cfg.fps))
        self.head = nn.Sequential(nn.Linear(2 * self.max_lag + 1, 128), nn.GELU(), nn.Linear(128, cfg.num_offsets))

    def forward(self, video: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """video [B, Fv, T], audio [B, Fa, T] -> logits over offsets [B, K]."""
        v = F.normalize(self.video(_standardise(video)), dim=1)
        a = F.normalize(self.audio(_standardise(audio)), dim=1)
        t = v.shape[-1]
        a_pad = F.pad(a, (self.max_lag, self.max_lag))
        # corr[lag] = mean_t <v(t), a(t + lag)>: audio late by `lag` frames peaks at +lag.
        corr = torch.stack([(v * a_pad[..., k : k + t]).sum(1).mean(-1) for k in range(2 * self.max_lag + 1)], -1)
        return self.head(corr * 10)


class FusionOffsetNet(nn.Module):
    def __init__(self, cfg: OffsetConfig):
        super().__init__()
        self.cfg = cfg
        self.body = _conv_stack(cfg.video_features + cfg.audio_features, cfg.channels, (1, 2, 4, 8, 16))
        self.head = nn.Sequential(nn.Linear(2 * cfg.channels, 128), nn.GELU(), nn.Linear(128, cfg.num_offsets))

    def forward(self, video: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        h = self.body(torch.cat([_standardise(video), _standardise(audio)], 1))
        return self.head(torch.cat([h.mean(-1), h.amax(-1)], -1))


def build_offset_net(cfg: OffsetConfig) -> nn.Module:
    nets = {"correlation": CorrelationOffsetNet, "fusion": FusionOffsetNet}
    if cfg.arch not in nets:
        raise ValueError(f"offset arch '{cfg.arch}' is not one of {sorted(nets)}")
    return nets[cfg.arch](cfg)


def pooled_embedding(per_patch: np.ndarray) -> np.ndarray:
    """[2048] mean and max over patches of YAMNet embeddings (the classifier's input)."""
    return np.concatenate([per_patch.mean(0), per_patch.max(0)]).astype(np.float32)
