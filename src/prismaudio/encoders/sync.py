"""Sync/motion encoder: when things move and hit, at 25 tokens per second.

Input: frames at 25 fps. Each frame is compared with the previous one (grey, 64x64):
- motion-energy statistics (parameter-free): mean/max/spread of |difference|, the
  fraction of changed pixels, energy per third of the width (left/centre/right) and per
  cell of a 3x3 grid, and the brightness change;
- a small conv net over the difference image and a temporal conv over the sequence,
  trained on SynthCanvas to predict "an impact happens at this frame"
  (`planner_training/train_heads.train_sync`), whose hidden states are the learned features.
`encode(frames) -> [B, T, D]` with `rate = 25` and `D = 16 + hidden` (one token per frame).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError

SYNC_PATH = Path(__file__).resolve().parent.parent / "assets" / "planner" / "sync_encoder.safetensors"
SYNC_KIND = "sync-encoder"
STAT_DIM = 16
MOTION_CHUNK = 32  # frames turned to float at a time (motion_inputs)


@dataclass
class SyncConfig:
    size: int = 64
    hidden: int = 48
    fps: float = 25.0


def motion_inputs(frames: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 [B, T, H, W, 3] -> (difference images [B, T, 2, size, size], statistics [B, T, 16]).

    Channel 0 is |grey_t - grey_{t-1}|, channel 1 the signed brightening; frame 0 compares with itself.
    """
    b, t = frames.shape[:2]
    flat = frames.reshape(b * t, *frames.shape[2:])
    # in chunks of frames: the float copies of a whole 8 s window (three of them, 30 MB each at
    # 112 x 112) were the planner's largest allocation; every operation here is per frame, so
    # the numbers are the same bit for bit
    greys = []
    for i in range(0, flat.shape[0], MOTION_CHUNK):
        x = flat[i : i + MOTION_CHUNK].permute(0, 3, 1, 2).float() / 255.0
        grey = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2])[:, None]
        greys.append(F.interpolate(grey, size=(size, size), mode="area"))
    grey = torch.cat(greys).reshape(b, t, size, size)
    prev = torch.cat([grey[:, :1], grey[:, :-1]], dim=1)
    diff = grey - prev
    mag = diff.abs()
    flat = mag.flatten(2)
    third_energy = torch.stack([mag[..., : size // 3].mean((2, 3)), mag[..., size // 3 : 2 * size // 3].mean((2, 3)),
                                mag[..., 2 * size // 3 :].mean((2, 3))], dim=-1)
    grid = F.adaptive_avg_pool2d(mag.reshape(b * t, 1, size, size), 3).reshape(b, t, 9)
    stats = torch.cat([
        flat.mean(-1, keepdim=True) * 10, flat.amax(-1, keepdim=True), flat.std(-1, keepdim=True) * 10,
        (flat > 0.08).float().mean(-1, keepdim=True) * 10, third_energy * 10, grid * 10,
    ], dim=-1)  # 4 + 3 + 9 = 16
    return torch.stack([mag, diff], dim=2), stats


class SyncNet(nn.Module):
    def __init__(self, hidden: int = 48):
        super().__init__()
        self.frame = nn.Sequential(
            nn.Conv2d(2, 16, 5, stride=2, padding=2), nn.GELU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(32, hidden, 3, stride=2, padding=1), nn.GELU(),
        )
        self.temporal = nn.Sequential(
            nn.Conv1d(hidden + STAT_DIM, hidden, 5, padding=2), nn.GELU(), nn.Conv1d(hidden, hidden, 3, padding=1), nn.GELU(),
        )
        self.impact = nn.Conv1d(hidden, 1, 1)

    def forward(self, diffs: torch.Tensor, stats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (features [B, T, hidden], impact logits [B, T])."""
        b, t = diffs.shape[:2]
        f = self.frame(diffs.reshape(b * t, *diffs.shape[2:]))
        f = torch.cat([f.amax((2, 3)).reshape(b, t, -1), stats], dim=-1).transpose(1, 2)
        h = self.temporal(f)
        return h.transpose(1, 2), self.impact(h)[:, 0]


@lru_cache(maxsize=2)
def _load(path: str) -> tuple[SyncNet, SyncConfig]:
    from ..config import from_dict
    from ..train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path, kind=SYNC_KIND)
    cfg = from_dict(SyncConfig, ckpt.config, where=f"{path}: config")
    net = SyncNet(cfg.hidden)
    net.load_state_dict(ckpt.group("model"))
    net.eval()
    return net, cfg


class SyncEncoder:
    """Motion statistics + learned impact features, one token per input frame (25 per second)."""

    def __init__(self, path: str | Path | None = None, net: SyncNet | None = None, cfg: SyncConfig | None = None):
        if net is None:
            net, cfg = _load(str(path or SYNC_PATH))
        self.net, self.cfg = net, cfg or SyncConfig()
        self.rate = self.cfg.fps
        self.dim = STAT_DIM + self.cfg.hidden

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 frames [B, T, H, W, 3] (or [T, H, W, 3]) at 25 fps -> [B, T, 16 + hidden]."""
        return self.encode_with_impacts(frames)[0]

    def encode_with_impacts(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Features [B, T, D] and the per-frame impact probability [B, T]."""
        if frames.ndim == 4:
            frames = frames[None]
        if frames.ndim != 5 or frames.shape[-1] != 3:
            raise ConfigError(f"sync encoder: expected frames [B, T, H, W, 3], got {tuple(frames.shape)}")
        diffs, stats = motion_inputs(frames, self.cfg.size)
        with torch.inference_mode():
            feats, logits = self.net(diffs, stats)
        return torch.cat([stats, feats], dim=-1), torch.sigmoid(logits)

    def encode_video(self, path: str | Path) -> torch.Tensor:
        from ..media import decode_frames

        return self.encode(decode_frames(path, fps=self.rate, size=(self.cfg.size * 2, self.cfg.size * 2)))
