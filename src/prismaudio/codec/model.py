"""Network blocks of the codec: a ConvNeXt encoder over mid log-spectra and a ConvNeXt
decoder that predicts the mid log-magnitude spectrogram (Vocos-style spectral head).

Why a spectral head: feasibility.md found that a mirror-of-the-encoder decoder with
transposed convolutions did not learn in CPU budgets, while a spectral head did once the
posterior noise started small (`logvar_offset`). Phase is not learned here: on these shared
2-core machines a magnitude regression trains several times faster per step than waveform
losses through a learned phase, and the phase is recovered by Griffin-Lim at decode time
(griffinlim.py), which the mel + Griffin-Lim baseline shows to be good enough for timbre.
With `phase_decoder: learned` a PhaseHead on the same backbone predicts the phase instead
(phase.py: why, and its losses); Griffin-Lim stays available on the same magnitudes.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import CodecConfig
from .griffinlim import phase_vocoder_start
from .phase import wrap
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


class PhaseHead(nn.Module):
    """Backbone features [B, D, T] and the phase to correct [B, F, T] -> a correction [B, F, T]
    in (-pi, pi]: ConvNeXt blocks over the features and the (cos, sin) of that phase (a
    correction blind to what it corrects learned nothing in 800 CPU steps), then a linear map
    to a vector (x, y) per bin whose angle is the correction (APNet's parallel estimation). It
    starts at zero: x = 1, y = 0 (see MidDecoder.forward_with_phase)."""

    def __init__(self, in_dim: int, dim: int, blocks: int, kernel_size: int, freq_bins: int) -> None:
        super().__init__()
        self.inp = nn.Conv1d(in_dim + 2 * freq_bins, dim, 1)
        self.blocks = nn.Sequential(*[ConvNeXtBlock(dim, kernel_size, 1.0 / max(1, blocks)) for _ in range(blocks)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.out = nn.Linear(dim, 2 * freq_bins)
        with torch.no_grad():
            self.out.weight.mul_(0.1)
            self.out.bias.zero_()
            self.out.bias[:freq_bins] = 1.0

    def forward(self, features: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.inp(torch.cat([features, torch.cos(base), torch.sin(base)], dim=1)))
        real, imag = self.out(self.norm(x.transpose(1, 2))).transpose(1, 2).chunk(2, dim=1)
        return torch.atan2(imag, real)


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
        self.phase = (PhaseHead(dim, cfg.phase_dim, cfg.phase_blocks, cfg.kernel_size, cfg.freq_bins)
                      if cfg.phase_decoder == "learned" else None)
        self.magnitude_frozen = False

    def freeze_magnitude(self) -> None:
        """Fix everything but the phase head (and run the backbone without autograd)."""
        for name, p in self.named_parameters():
            p.requires_grad_(name.startswith("phase."))
        self.magnitude_frozen = True

    def forward(self, z: torch.Tensor, pitch: torch.Tensor | None = None) -> torch.Tensor:
        """z [B, mid, L]; pitch [B, 2, L] (f0 octaves, periodicity) when the config has pitch."""
        return self.forward_with_phase(z, pitch, phase=False)[0]

    def forward_with_phase(self, z: torch.Tensor, pitch: torch.Tensor | None = None,
                           phase: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(log-magnitude [B, F, T], phase [B, F, T] or None without a phase head / phase=False)."""
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.magnitude_frozen):
            features = self._features(z, pitch)
            logmag = self._magnitude(features, pitch)
        if not phase or self.phase is None:
            return logmag, None
        # The head corrects a peak-locked phase-vocoder phase of the decoded magnitudes
        # (griffinlim.phase_vocoder_start): every bin turns with its partial's frequency and
        # attacks restart as impulses. Why not predict the phase outright: the network is
        # convolutional in time, so steady features give a steady output, while a steady
        # tone's phase turns by its frequency times the hop every frame; predicted outright,
        # the instantaneous-frequency loss stayed near chance (pi / 2) on CPU runs.
        cfg = self.cfg
        base = torch.angle(phase_vocoder_start(logmag.detach().exp(), cfg.n_fft, cfg.stft_hop))
        return logmag, wrap(base + self.phase(features, base))

    def _features(self, z: torch.Tensor, pitch: torch.Tensor | None) -> torch.Tensor:
        if self.cfg.pitch:
            if pitch is None:
                raise ValueError("this decoder draws harmonics from pitch channels: pass pitch")
            z = torch.cat([z, pitch], dim=1)
        x = self.up(self.inp(z))
        # The centred STFT of L*hop samples has L*u + 1 frames: repeat the last one.
        x = torch.cat([x, x[..., -1:]], dim=-1)
        return self.norm(self.blocks(x).transpose(1, 2)).transpose(1, 2)  # what both heads read

    def _magnitude(self, features: torch.Tensor, pitch: torch.Tensor | None) -> torch.Tensor:
        out = self.head(features.transpose(1, 2)).transpose(1, 2)
        if not self.cfg.pitch:
            return out.clamp(max=4.0)
        noise, envelope = out.clamp(max=4.0).chunk(2, dim=1)
        octaves = frames_to_stft_grid(pitch[:, :1], self.cfg.upsample, out.shape[-1])[:, 0]
        comb = harmonic_comb(octaves, self.cfg.sample_rate, self.cfg.n_fft)
        return torch.logaddexp(noise, envelope + torch.log(comb + 1e-6))
