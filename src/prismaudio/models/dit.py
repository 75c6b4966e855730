"""A diffusion transformer over codec latents, read top to bottom.

    latent [B, C, L] --patch--> tokens [B, N, width] (+ gated sync, + gated plan tracks)
    [time token ; tokens] --> depth x Block(self-attn with rotary, cross-attn to
    [semantic frames ; plan text], SwiGLU MLP) --> RMSNorm --> linear --> velocity [B, C, L]

Choices, each from the method notes (../shared/docs/method.md section 2): pre-norm blocks;
queries and keys RMS-normalised per head (keeps attention logits bounded when training
fast); rotary positions on part of each head; SwiGLU MLP; every residual branch's output
projection starts at zero, so a fresh block is the identity and a fresh model predicts zero
velocity; the timestep is one token prepended to the sequence.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .conditioning import ConditionEncoder, Conditions
from .config import GeneratorConfig
from .timestep import timestep_features


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return (x * self.weight.float()).to(dtype)


def rotary_tables(positions: int, rot_dim: int, device, base: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin tables [positions, rot_dim] for rotary embeddings (pairs are (i, i + rot_dim/2))."""
    inv = 1.0 / base ** (torch.arange(0, rot_dim, 2, device=device, dtype=torch.float32) / rot_dim)
    angles = torch.arange(positions, device=device, dtype=torch.float32)[:, None] * inv[None, :]
    angles = torch.cat([angles, angles], dim=-1)
    return angles.cos(), angles.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate the first cos.shape[-1] dims of x [B, H, N, hd]; the rest pass unrotated."""
    rot = cos.shape[-1]
    xr, xp = x[..., :rot], x[..., rot:]
    half = rot // 2
    rotated = torch.cat([-xr[..., half:], xr[..., :half]], dim=-1)
    xr = (xr.float() * cos + rotated.float() * sin).to(x.dtype)
    return torch.cat([xr, xp], dim=-1)


class Attention(nn.Module):
    """Multi-head attention with RMS-normalised q/k; self-attention (rotary) or cross-attention."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.head_dim = width // heads
        self.q = nn.Linear(width, width, bias=False)
        self.kv = nn.Linear(width, 2 * width, bias=False)
        self.q_norm = RMSNorm(self.head_dim)
        self.k_norm = RMSNorm(self.head_dim)
        self.out = nn.Linear(width, width, bias=False)
        nn.init.zeros_(self.out.weight)  # residual branch starts as identity

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        return x.view(b, n, self.heads, self.head_dim).transpose(1, 2)

    def keys_values(self, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised keys and values [B, H, N, hd] of `source` (for cross-attention: cacheable)."""
        k, v = self.kv(source).chunk(2, dim=-1)
        return self.k_norm(self._split(k)), self._split(v)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None, mask: torch.Tensor | None = None,
                rotary: tuple[torch.Tensor, torch.Tensor] | None = None,
                context_kv: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        q = self.q_norm(self._split(self.q(x)))
        k, v = context_kv if context_kv is not None else self.keys_values(x if context is None else context)
        if rotary is not None:
            q, k = apply_rotary(q, *rotary), apply_rotary(k, *rotary)
        attn_mask = None if mask is None else mask[:, None, None, :]  # [B, 1, 1, Nk] True = attend
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        return self.out(y.transpose(1, 2).reshape(x.shape))


class SwiGLU(nn.Module):
    def __init__(self, width: int, ratio: float):
        super().__init__()
        hidden = int(width * ratio)
        self.inp = nn.Linear(width, 2 * hidden, bias=False)
        self.out = nn.Linear(hidden, width, bias=False)
        nn.init.zeros_(self.out.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, gate = self.inp(x).chunk(2, dim=-1)
        return self.out(a * F.silu(gate))


class Block(nn.Module):
    """Pre-norm: x += self_attn(norm x); x += cross_attn(norm x, context); x += mlp(norm x)."""

    def __init__(self, width: int, heads: int, mlp_ratio: float):
        super().__init__()
        self.norm1, self.norm2, self.norm3 = RMSNorm(width), RMSNorm(width), RMSNorm(width)
        self.self_attn = Attention(width, heads)
        self.cross_attn = Attention(width, heads)
        self.mlp = SwiGLU(width, mlp_ratio)

    def forward(self, x, context, context_mask, rotary, context_kv=None):
        x = x + self.self_attn(self.norm1(x), rotary=rotary)
        x = x + self.cross_attn(self.norm2(x), context=context, mask=context_mask, context_kv=context_kv)
        return x + self.mlp(self.norm3(x))


class FlowDiT(nn.Module):
    """Velocity model v(x_sigma, sigma, conditions) for rectified flow over codec latents."""

    def __init__(self, config: GeneratorConfig):
        super().__init__()
        self.config = config
        w = config.width
        self.patch_in = nn.Linear(config.latent_channels * config.patch, w)
        self.time_mlp = nn.Sequential(nn.Linear(256, w), nn.SiLU(), nn.Linear(w, w))
        self.conditions = ConditionEncoder(config)
        self.blocks = nn.ModuleList(Block(w, config.heads, config.mlp_ratio) for _ in range(config.depth))
        self.norm_out = RMSNorm(w)
        self.patch_out = nn.Linear(w, config.latent_channels * config.patch)
        nn.init.zeros_(self.patch_out.weight)
        nn.init.zeros_(self.patch_out.bias)
        head_dim = w // config.heads
        self.rot_dim = int(head_dim * config.rope_fraction)

    # ---- latent <-> tokens ------------------------------------------------------------------
    def _patchify(self, x: torch.Tensor) -> torch.Tensor:
        b, c, length = x.shape
        p = self.config.patch
        pad = (-length) % p
        if pad:
            x = F.pad(x, (0, pad))
        n = x.shape[-1] // p
        return x.view(b, c, n, p).permute(0, 2, 1, 3).reshape(b, n, c * p)

    def _unpatchify(self, tokens: torch.Tensor, length: int) -> torch.Tensor:
        b, n, _ = tokens.shape
        c, p = self.config.latent_channels, self.config.patch
        return tokens.view(b, n, c, p).permute(0, 2, 1, 3).reshape(b, c, n * p)[..., :length]

    def forward(self, x: torch.Tensor, sigma: torch.Tensor, conditions: Conditions,
                cache: dict | None = None) -> torch.Tensor:
        """x [B, C, L] at noise level sigma [B] (or a scalar) -> predicted velocity eps - x0 [B, C, L].

        `cache`: a dict kept across the steps of one sampler run with fixed conditions. The
        conditioning streams, each block's cross-attention keys and values and the rotary
        tables depend only on the conditions and the shape, so they are computed once (used
        only without autograd: a training step always recomputes them).
        """
        b, _, length = x.shape
        if sigma.dim() == 0:
            sigma = sigma.expand(b)
        tokens = self.patch_in(self._patchify(x))
        n = tokens.shape[1]
        use_cache = cache is not None and not torch.is_grad_enabled()
        if use_cache and cache.get("shape") == (b, length, x.device):
            added, context, context_mask, rotary, kvs = cache["streams"]
        else:
            added, context, context_mask = self.conditions(conditions, length=length, num_tokens=n, batch=b)
            rotary = rotary_tables(n + 1, self.rot_dim, tokens.device) if self.rot_dim else None
            kvs = [block.cross_attn.keys_values(context) for block in self.blocks] if use_cache else [None] * len(self.blocks)
            if use_cache:
                cache.update(shape=(b, length, x.device), streams=(added, context, context_mask, rotary, kvs))
        tokens = tokens + added.to(tokens.dtype)
        time_token = self.time_mlp(timestep_features(sigma, 256).to(tokens.dtype))[:, None]
        h = torch.cat([time_token, tokens], dim=1)
        for block, kv in zip(self.blocks, kvs):
            h = block(h, context, context_mask, rotary, kv)
        out = self.patch_out(self.norm_out(h[:, 1:]))
        return self._unpatchify(out, length).to(x.dtype)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def flops_per_forward(config: GeneratorConfig, num_tokens: int, context_len: int) -> float:
    """Multiply-adds x2 of one forward pass (matmuls only: projections, attention, MLP)."""
    w, n, m = config.width, num_tokens + 1, context_len
    hidden = int(w * config.mlp_ratio)
    per_block = (
        2 * n * w * 3 * w + 2 * 2 * n * n * w + 2 * n * w * w  # self-attn: qkv, scores+values, out
        + 2 * n * w * w + 2 * m * w * 2 * w + 2 * 2 * n * m * w + 2 * n * w * w  # cross-attn
        + 2 * n * w * 2 * hidden + 2 * n * hidden * w  # SwiGLU
    )
    return float(config.depth * per_block)
