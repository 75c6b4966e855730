"""Optional adapters for stronger encoders (CLIP-like image towers, Synchformer, T5) behind
the same protocol. They are used only when the user points at LOCAL weights; nothing is
ever downloaded, and the default install never needs them.

Each adapter takes a local path to a TorchScript module (`torch.jit.save` output, which
loads without pickle) that maps its input to features:
- `ClipLikeAdapter(path, fps)`: frames [N, 3, size, size] float in [0, 1] -> [N, D];
- `SynchformerAdapter(path)`: 16-frame windows [N, 16, 3, 224, 224] -> [N, 8, D] (stride 8 at
  25 fps gives 24 tokens per second, as in the paper);
- `T5Adapter(path)`: token ids [B, L] -> [B, L, D] (the tokenizer is the user's: pass ids).
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import ConfigError


def _load_local(path: str | Path | None, what: str) -> torch.jit.ScriptModule:
    if not path:
        raise ConfigError(f"{what}: needs a local weights path (TorchScript .pt); it is optional and never downloaded")
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what}: weights not found at {path}")
    try:
        module = torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, ValueError) as e:
        raise ConfigError(f"{what}: {path} is not a TorchScript module ({str(e).splitlines()[0][:100]})") from None
    return module.eval()


def _probe_dim(module, example: torch.Tensor, what: str) -> int:
    with torch.inference_mode():
        out = module(example)
    if out.ndim < 2:
        raise ConfigError(f"{what}: expected features with a last dimension, got shape {tuple(out.shape)}")
    return int(out.shape[-1])


class ClipLikeAdapter:
    def __init__(self, path: str | Path | None, fps: float = 8.0, size: int = 224):
        self.module = _load_local(path, "CLIP-like adapter")
        self.rate, self.size = float(fps), size
        self.dim = _probe_dim(self.module, torch.zeros(1, 3, size, size), "CLIP-like adapter")

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 frames [B, T, H, W, 3] -> [B, T, D]."""
        b, t = frames.shape[:2]
        x = frames.reshape(b * t, *frames.shape[2:]).permute(0, 3, 1, 2).float() / 255.0
        x = torch.nn.functional.interpolate(x, size=(self.size, self.size), mode="bilinear", antialias=True)
        with torch.inference_mode():
            return self.module(x).reshape(b, t, -1)


class SynchformerAdapter:
    window, stride, tokens = 16, 8, 8

    def __init__(self, path: str | Path | None):
        self.module = _load_local(path, "Synchformer adapter")
        self.rate = 25.0 / self.stride * self.tokens  # 24 tokens per second
        self.dim = _probe_dim(self.module, torch.zeros(1, self.window, 3, 224, 224), "Synchformer adapter")

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 frames [B, T, 224, 224, 3] at 25 fps -> [B, windows * 8, D]."""
        x = frames.permute(0, 1, 4, 2, 3).float() / 255.0
        b, t = x.shape[:2]
        if t < self.window:
            raise ConfigError(f"Synchformer adapter: needs at least {self.window} frames, got {t}")
        wins = x.unfold(1, self.window, self.stride).permute(0, 1, 5, 2, 3, 4)  # [B, W, 16, 3, H, W]
        n = wins.shape[1]
        with torch.inference_mode():
            out = self.module(wins.reshape(b * n, *wins.shape[2:]))
        return out.reshape(b, n * out.shape[1], -1)


class T5Adapter:
    rate = None

    def __init__(self, path: str | Path | None):
        self.module = _load_local(path, "T5 adapter")
        self.dim = _probe_dim(self.module, torch.zeros(1, 4, dtype=torch.long), "T5 adapter")

    def encode(self, token_ids: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return self.module(token_ids)
