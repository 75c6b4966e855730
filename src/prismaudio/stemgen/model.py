"""StemDiT: the velocity model of one source's mono mid latent, built from the joint model's
DiT blocks (models/dit.py: pre-norm, RMS-normalised q/k, rotary, SwiGLU, zero-initialised
residual outputs).

    latent [B, 24, L] --patch--> tokens (+ event track, + source vector)
    [time token ; tokens] --> depth x Block(self-attn, cross-attn to [text ; exemplar], MLP)
    --> velocity [B, 24, L]

The conditions are one source's plan rows only (StemConditions): its text (MiniLM sentence
vector of "label: description"), its event track at the latent frame rate, and an exemplar
embedding (exemplar.py). Text and exemplar each have a learned "empty" vector used when they
are dropped (training dropout, classifier-free guidance, a source without an exemplar). The
source vector (text + exemplar) is added to every token and to the time token, and is also
the cross-attention context, so class identity reaches every position directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..models.dit import Block, RMSNorm, rotary_tables
from ..models.timestep import timestep_features
from .config import StemModelConfig


@dataclass
class StemConditions:
    """Per-source conditions of a batch of sources (one row each)."""

    text: torch.Tensor  # [B, text_dim] sentence vectors
    exemplar: torch.Tensor  # [B, exemplar_dim]
    track: torch.Tensor  # [B, track_channels, L] at the latent frame rate
    drop_text: torch.Tensor  # [B] bool: use the empty text vector
    drop_exemplar: torch.Tensor  # [B] bool: no exemplar

    def to(self, device) -> "StemConditions":
        return StemConditions(*(getattr(self, k).to(device) for k in ("text", "exemplar", "track", "drop_text", "drop_exemplar")))

    def unconditional(self, negative_text=None, negative_mask=None) -> "StemConditions":
        """The classifier-free guidance branch: no text, no exemplar, the same event track
        (timing is never guided away: both branches know when the source sounds). A negative
        prompt does not apply to one source's stem and is ignored."""
        ones = torch.ones_like(self.drop_text)
        return StemConditions(self.text, self.exemplar, self.track, ones, ones.clone())

    def select(self, rows: list[int]) -> "StemConditions":
        """The conditions of some sources only (rows of the batch, in that order)."""
        index = torch.as_tensor(rows, dtype=torch.long)
        return StemConditions(*(getattr(self, k)[index] for k in ("text", "exemplar", "track", "drop_text", "drop_exemplar")))

    @staticmethod
    def cat(items: list["StemConditions"]) -> "StemConditions":
        return StemConditions(*(torch.cat([getattr(c, k) for c in items]) for k in
                                ("text", "exemplar", "track", "drop_text", "drop_exemplar")))


class StemDiT(nn.Module):
    def __init__(self, config: StemModelConfig):
        super().__init__()
        self.config = config
        w, p = config.width, config.patch
        self.patch_in = nn.Linear(config.latent_channels * p, w)
        self.track_in = nn.Sequential(nn.Linear(config.track_channels * p, w), nn.SiLU(), nn.Linear(w, w))
        self.text_in = nn.Sequential(nn.Linear(config.text_dim, w), nn.SiLU(), nn.Linear(w, w))
        self.exemplar_in = nn.Sequential(nn.Linear(config.exemplar_dim, w), nn.SiLU(), nn.Linear(w, w))
        self.empty_text = nn.Parameter(torch.zeros(w))
        self.empty_exemplar = nn.Parameter(torch.zeros(w))
        self.source_in = nn.Sequential(nn.SiLU(), nn.Linear(2 * w, w))
        self.time_mlp = nn.Sequential(nn.Linear(256, w), nn.SiLU(), nn.Linear(w, w))
        self.blocks = nn.ModuleList(Block(w, config.heads, config.mlp_ratio) for _ in range(config.depth))
        self.norm_out = RMSNorm(w)
        self.patch_out = nn.Linear(w, config.latent_channels * p)
        nn.init.zeros_(self.patch_out.weight)
        nn.init.zeros_(self.patch_out.bias)
        self.rot_dim = int(w // config.heads * config.rope_fraction)

    def _patchify(self, x: torch.Tensor) -> torch.Tensor:
        b, c, length = x.shape
        p = self.config.patch
        x = F.pad(x, (0, (-length) % p))
        return x.view(b, c, -1, p).permute(0, 2, 1, 3).reshape(b, x.shape[-1] // p, c * p)

    def _unpatchify(self, tokens: torch.Tensor, length: int) -> torch.Tensor:
        b, n, _ = tokens.shape
        c, p = self.config.latent_channels, self.config.patch
        return tokens.view(b, n, c, p).permute(0, 2, 1, 3).reshape(b, c, n * p)[..., :length]

    def encode_conditions(self, cond: StemConditions, length: int):
        """(added per token [B, N, w], source vector [B, w], cross-attention context [B, 2, w])."""
        text = torch.where(cond.drop_text[:, None], self.empty_text[None], self.text_in(cond.text))
        ex = torch.where(cond.drop_exemplar[:, None], self.empty_exemplar[None], self.exemplar_in(cond.exemplar))
        source = self.source_in(torch.cat([text, ex], dim=-1))
        track = cond.track[..., :length]
        if track.shape[-1] < length:
            track = F.pad(track, (0, length - track.shape[-1]))
        added = self.track_in(self._patchify(track)) + source[:, None]
        return added, source, torch.stack([text, ex], dim=1)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor, cond: StemConditions, cache: dict | None = None) -> torch.Tensor:
        """x [B, C, L] at noise level sigma [B] -> velocity eps - x0 [B, C, L]. `cache` (sampling
        only) keeps the condition encodings and rotary tables across the steps of one run."""
        b, _, length = x.shape
        if sigma.dim() == 0:
            sigma = sigma.expand(b)
        tokens = self.patch_in(self._patchify(x))
        use_cache = cache is not None and not torch.is_grad_enabled()
        if use_cache and cache.get("shape") == (b, length):
            added, source, context, rotary, kvs = cache["streams"]
        else:
            added, source, context = self.encode_conditions(cond, length)
            rotary = rotary_tables(tokens.shape[1] + 1, self.rot_dim, x.device) if self.rot_dim else None
            kvs = [blk.cross_attn.keys_values(context) for blk in self.blocks] if use_cache else [None] * len(self.blocks)
            if use_cache:
                cache.update(shape=(b, length), streams=(added, source, context, rotary, kvs))
        h = torch.cat([(self.time_mlp(timestep_features(sigma, 256)) + source)[:, None], tokens + added], dim=1)
        for blk, kv in zip(self.blocks, kvs):
            h = blk(h, context, None, rotary, kv)
        return self._unpatchify(self.patch_out(self.norm_out(h[:, 1:])), length)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())
