"""Network blocks of the codec: a ConvNeXt encoder over mid log-spectra and a ConvNeXt
decoder that predicts the mid log-magnitude spectrogram (Vocos-style spectral head).

Why a spectral head: feasibility.md found that a mirror-of-the-encoder decoder with
transposed convolutions did not learn in CPU budgets, while a spectral head did once the
posterior noise started small (`logvar_offset`). Phase is not learned here: on these shared
2-core machines a magnitude regression trains several times faster per step than waveform
losses through a learned phase, and the phase is recovered by Griffin-Lim at decode time
(griffinlim.py), which the mel + Griffin-Lim baseline shows to be good enough for timbre.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import CodecConfig


class ConvNeXtBlock(nn.Module):
    """Depthwise conv -> LayerNorm -> pointwise MLP, residual with a small layer scale."""

    def __init__(self, dim: int, kernel_size: int, layer_scale: float) -> None:
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pw1 = nn.Linear(dim, 3 * dim)
        self.act = nn.GELU()
        self.pw2 = nn.Linear(3 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, D, T]
        y = self.dwconv(x).transpose(1, 2)
        y = self.pw2(self.act(self.pw1(self.norm(y))))
        return x + (self.gamma * y).transpose(1, 2)


class MidEncoder(nn.Module):
    """Log-magnitude mid spectra [B, F, L*u] -> posterior mean and log-variance [B, C, L]."""

    def __init__(self, cfg: CodecConfig) -> None:
        super().__init__()
        dim = cfg.encoder_dim
        self.inp = nn.Conv1d(cfg.freq_bins, dim, 3, padding=1)
        self.blocks = nn.Sequential(*[ConvNeXtBlock(dim, cfg.kernel_size, 1.0 / cfg.encoder_blocks)
                                      for _ in range(cfg.encoder_blocks)])
        # Strided conv: `upsample` STFT frames become one latent frame.
        self.down = nn.Conv1d(dim, dim, cfg.upsample, stride=cfg.upsample)
        self.post = ConvNeXtBlock(dim, 3, 1.0 / cfg.encoder_blocks)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.out = nn.Conv1d(dim, 2 * cfg.mid_channels, 1)
        self.logvar_offset = cfg.logvar_offset

    def forward(self, logmag: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.blocks(self.inp(logmag))
        x = self.post(self.down(x))
        x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        mean, logvar = self.out(x).chunk(2, dim=1)
        return mean, (logvar + self.logvar_offset).clamp(-30.0, 10.0)


class MidDecoder(nn.Module):
    """Latent [B, C, L] -> mid log-magnitude spectrogram [B, F, L*u + 1]."""

    def __init__(self, cfg: CodecConfig) -> None:
        super().__init__()
        dim = cfg.decoder_dim
        self.inp = nn.Conv1d(cfg.mid_channels, dim, cfg.kernel_size, padding=cfg.kernel_size // 2)
        self.up = nn.ConvTranspose1d(dim, dim, cfg.upsample, stride=cfg.upsample)
        self.blocks = nn.Sequential(*[ConvNeXtBlock(dim, cfg.kernel_size, 1.0 / cfg.decoder_blocks)
                                      for _ in range(cfg.decoder_blocks)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, cfg.freq_bins)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.up(self.inp(z))
        # The centred STFT of L*hop samples has L*u + 1 frames: repeat the last one.
        x = torch.cat([x, x[..., -1:]], dim=-1)
        x = self.blocks(x)
        x = self.norm(x.transpose(1, 2))
        return self.head(x).transpose(1, 2).clamp(max=4.0)
