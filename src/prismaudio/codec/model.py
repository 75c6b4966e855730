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
from .pitch import harmonic_comb
from .stereo import frames_to_stft_grid


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
    """Latent [B, C, L] -> mid log-magnitude spectrogram [B, F, L*u + 1].

    With pitch channels the head predicts two spectra, a noise part and a harmonic envelope,
    and the output is their sum in linear magnitude, the envelope gated by a harmonic comb
    drawn exactly from the measured f0 (a harmonic-plus-noise model): the network sets levels
    and timbre, the comb puts every harmonic in its bin.
    """

    def __init__(self, cfg: CodecConfig) -> None:
        super().__init__()
        self.cfg = cfg
        dim = cfg.decoder_dim
        self.inp = nn.Conv1d(cfg.mid_channels + cfg.pitch_channels, dim, cfg.kernel_size, padding=cfg.kernel_size // 2)
        self.up = nn.ConvTranspose1d(dim, dim, cfg.upsample, stride=cfg.upsample)
        self.blocks = nn.Sequential(*[ConvNeXtBlock(dim, cfg.kernel_size, 1.0 / cfg.decoder_blocks)
                                      for _ in range(cfg.decoder_blocks)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, cfg.freq_bins * (2 if cfg.pitch else 1))

    def forward(self, z: torch.Tensor, pitch: torch.Tensor | None = None) -> torch.Tensor:
        """z [B, mid, L]; pitch [B, 2, L] (f0 octaves, periodicity) when the config has pitch."""
        if self.cfg.pitch:
            if pitch is None:
                raise ValueError("this decoder draws harmonics from pitch channels: pass pitch")
            z = torch.cat([z, pitch], dim=1)
        x = self.up(self.inp(z))
        # The centred STFT of L*hop samples has L*u + 1 frames: repeat the last one.
        x = torch.cat([x, x[..., -1:]], dim=-1)
        x = self.blocks(x)
        x = self.norm(x.transpose(1, 2))
        out = self.head(x).transpose(1, 2)
        if not self.cfg.pitch:
            return out.clamp(max=4.0)
        noise, envelope = out.clamp(max=4.0).chunk(2, dim=1)
        octaves = frames_to_stft_grid(pitch[:, :1], self.cfg.upsample, out.shape[-1])[:, 0]
        comb = harmonic_comb(octaves, self.cfg.sample_rate, self.cfg.n_fft)
        return torch.logaddexp(noise, envelope + torch.log(comb + 1e-6))
