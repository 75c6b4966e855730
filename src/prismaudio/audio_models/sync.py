"""Audio-visual offset estimation with a trained offset model (first and last window, as Synchformer in av-benchmark)."""

from __future__ import annotations

import numpy as np
import torch

from .features import FPS, onset_envelope
from .nets import OffsetConfig


def window_starts(num_frames: int, cfg: OffsetConfig) -> list[int]:
    """First and last `window_s` of the clip (one window when the clip is not longer)."""
    w = cfg.window_frames
    return [0] if num_frames <= w else [0, num_frames - w]


def offset_logits(model: torch.nn.Module, cfg: OffsetConfig, motions: list[np.ndarray], monos: list[np.ndarray],
                  sample_rate: int) -> list[torch.Tensor]:
    """Per clip, logits over the offset classes for each window [W, K] (all windows in one batch)."""
    from ..audio_models.training import _crop

    vs, aus, owners = [], [], []
    for i, (motion, mono) in enumerate(zip(motions, monos)):
        env = onset_envelope(mono, sample_rate, FPS, len(motion))
        for s in window_starts(len(motion), cfg):
            vs.append(_crop(np.asarray(motion, np.float32)[None], s, cfg.window_frames))
            aus.append(_crop(env, s, cfg.window_frames))
            owners.append(i)
    if not vs:
        return []
    with torch.no_grad():
        logits = model(torch.from_numpy(np.stack(vs)), torch.from_numpy(np.stack(aus)))
    owners_t = torch.tensor(owners)
    return [logits[owners_t == i] for i in range(len(motions))]


def desync_seconds(logits: torch.Tensor, cfg: OffsetConfig) -> float:
    """Mean |argmax offset| over windows (av-benchmark's DeSync)."""
    off = cfg.offsets()
    return float(np.mean(np.abs(off[logits.argmax(-1).numpy()])))


def expected_abs_offset(logits: torch.Tensor, cfg: OffsetConfig) -> float:
    """Mean over windows of E|offset| under the softmax (a smooth version for rewards)."""
    off = torch.from_numpy(np.abs(cfg.offsets())).float()
    return float((logits.softmax(-1) * off).sum(-1).mean())
