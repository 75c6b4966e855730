"""Phase retrieval (fast Griffin-Lim) for the codec's decoder, and the baseline every codec
figure is compared with: a log-mel + Griffin-Lim round trip at the codec's frame rate.
"""

from __future__ import annotations

import torch

from ..dsp.spectral import mel_filterbank
from .stereo import codec_istft, codec_stft


def griffin_lim(mag: torch.Tensor, n_fft: int, hop: int, length: int, iterations: int = 32,
                momentum: float = 0.99, seed: int = 0) -> torch.Tensor:
    """Complex spectrum [..., F, T] with magnitude `mag` and a phase made consistent by fast
    Griffin-Lim (Perraudin et al. 2013). The start phase is drawn from a fixed seed, so the
    result is deterministic."""
    gen = torch.Generator().manual_seed(seed)
    phase = 2 * torch.pi * torch.rand(mag.shape, generator=gen, dtype=mag.dtype).to(mag.device)
    angles = torch.polar(torch.ones_like(mag), phase)
    previous = torch.zeros_like(angles)
    for _ in range(iterations):
        rebuilt = codec_stft(codec_istft(mag * angles, n_fft, hop, length), n_fft, hop)
        accelerated = rebuilt - momentum * previous
        previous = rebuilt
        angles = accelerated / accelerated.abs().clamp(min=1e-12)
    return mag * angles


def mel_griffin_lim(wave: torch.Tensor, sample_rate: int, hop: int, n_mels: int = 80, iterations: int = 48) -> torch.Tensor:
    """The baseline: [C, N] -> [C, N]; mel magnitudes (n_fft = 4 * hop) inverted by least
    squares (pseudo-inverse, clamped at zero), then Griffin-Lim, each channel separately."""
    n_fft = 4 * hop
    x = wave.double()
    n = x.shape[-1]
    spec = codec_stft(x, n_fft, hop)
    fb = mel_filterbank(sample_rate, n_fft, n_mels).double()
    mel = torch.einsum("mf,cft->cmt", fb, spec.abs())
    mag = torch.einsum("fm,cmt->cft", torch.linalg.pinv(fb), mel).clamp(min=0)
    return codec_istft(griffin_lim(mag, n_fft, hop, n, iterations), n_fft, hop, n).float()
