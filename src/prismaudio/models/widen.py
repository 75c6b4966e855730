"""Warm-starting a generator on a codec latent with more channels (pure weight surgery).

When the codec gains measured channels (its pitch channels, inserted after the learned ones),
the latent channels a trained generator already models keep their meaning and their values.
So the generator keeps every weight; only the patch projections in and out grow, with zero
weights for the new channels: at step 0 it predicts exactly what it did for the old channels
and a zero velocity for the new ones, and fine-tuning only has to learn those.
"""

from __future__ import annotations

import torch


def _insert(t: torch.Tensor, dim: int, old_channels: int, patch: int, insert_at: int, count: int) -> torch.Tensor:
    """Insert `count` zero channels at `insert_at` along `dim` of a (channel, patch)-major axis."""
    shape = list(t.shape)
    grouped = t.reshape(*shape[:dim], old_channels, patch, *shape[dim + 1 :])
    zeros_shape = list(grouped.shape)
    zeros_shape[dim] = count
    parts = [grouped.narrow(dim, 0, insert_at), grouped.new_zeros(zeros_shape),
             grouped.narrow(dim, insert_at, old_channels - insert_at)]
    shape[dim] = (old_channels + count) * patch
    return torch.cat(parts, dim=dim).reshape(shape)


def widen_latent_channels(state: dict[str, torch.Tensor], old_channels: int, patch: int, insert_at: int,
                          count: int) -> dict[str, torch.Tensor]:
    """A FlowDiT state dict for `old_channels` -> the same for old_channels + count, the new
    latent channels at positions insert_at .. insert_at + count - 1 (patch features are
    channel-major: feature c * patch + j, see FlowDiT._patchify)."""
    if not 0 <= insert_at <= old_channels or count < 0:
        raise ValueError(f"cannot insert {count} channels at {insert_at} of {old_channels}")
    out = dict(state)
    out["patch_in.weight"] = _insert(state["patch_in.weight"], 1, old_channels, patch, insert_at, count)
    out["patch_out.weight"] = _insert(state["patch_out.weight"], 0, old_channels, patch, insert_at, count)
    out["patch_out.bias"] = _insert(state["patch_out.bias"], 0, old_channels, patch, insert_at, count)
    return out
