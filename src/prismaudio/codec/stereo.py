"""Parametric stereo: analytic spatial latent channels and the renderer that applies them.

As in parametric-stereo audio coding (HE-AAC PS), the learned autoencoder codes one "mid"
signal; the encoder measures, per latent frame, the interaural level difference (ILD) in a
few frequency bands and one broadband interaural time difference (ITD, GCC-PHAT), and the
decoder renders left/right from the decoded mid spectrum with per-band gains and a
fractional-delay phase rotation. The stereo image is therefore exact by construction
instead of something a small network has to learn (feasibility.md: a plain VAE lost it).

Conventions follow prismaudio.dsp.spatial: ILD = 10 log10(E_left / E_right) (positive =
left louder); ITD = delay of the right channel relative to the left (positive = source on
the left). The mid magnitude is the power mean sqrt((|L|^2 + |R|^2) / 2), so the gains
g_L = sqrt(2 r / (1 + r)), g_R = sqrt(2 / (1 + r)) with r = 10^(ILD/10) restore both
channels' band energies exactly, and no comb filtering appears from summing delayed channels.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch

ILD_LIMIT_DB = 30.0
# Energy floor per bin and frame (for an STFT normalised by the window sum, a sine of
# amplitude a has a peak bin near a / 2): bands quieter than about -80 dBFS read as centred.
ENERGY_FLOOR = 1e-8


@lru_cache(maxsize=16)
def _window(n_fft: int) -> torch.Tensor:
    return torch.hann_window(n_fft, periodic=True)


def codec_stft(wave: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    """Complex STFT [..., N] -> [..., n_fft//2+1, N//hop + 1], centred with zero padding,
    scaled by the window sum so magnitudes do not depend on n_fft."""
    shape = wave.shape
    flat = wave.reshape(-1, shape[-1])
    window = _window(n_fft).to(wave.device, wave.dtype)
    spec = torch.stft(flat, n_fft=n_fft, hop_length=hop, window=window, center=True, pad_mode="constant",
                      return_complex=True)
    spec = spec / window.sum()
    return spec.reshape(*shape[:-1], *spec.shape[-2:])


@lru_cache(maxsize=32)
def _ola_envelope(n_fft: int, hop: int, frames: int) -> torch.Tensor:
    """Sum of squared windows at every output sample of an overlap-add of `frames` frames."""
    window = _window(n_fft)
    ratio = n_fft // hop
    env = torch.zeros(frames + ratio - 1, hop)
    for j in range(ratio):
        env[j : j + frames] += (window[j * hop : (j + 1) * hop] ** 2)[None]
    return env.reshape(-1).clamp(min=1e-11)


def codec_istft(spec: torch.Tensor, n_fft: int, hop: int, length: int) -> torch.Tensor:
    """Inverse of `codec_stft`: [..., F, T] -> [..., length] (least-squares overlap-add).

    Written as irfft + a reshape-and-add overlap-add because torch.istft was the slowest
    part of Griffin-Lim decoding here (about 5x an stft of the same size on CPU).
    """
    shape = spec.shape
    flat = spec.reshape(-1, *shape[-2:])
    if n_fft % hop:
        window = _window(n_fft).to(spec.device, flat.real.dtype)
        wave = torch.istft(flat * window.sum(), n_fft=n_fft, hop_length=hop, window=window, center=True, length=length)
        return wave.reshape(*shape[:-2], length)
    window = _window(n_fft).to(spec.device, flat.real.dtype)
    frames = torch.fft.irfft(flat * window.sum(), n=n_fft, dim=-2) * window[:, None]  # [B, n_fft, T]
    count, ratio = frames.shape[-1], n_fft // hop
    pieces = frames.reshape(frames.shape[0], ratio, hop, count).permute(0, 1, 3, 2)  # [B, r, T, hop]
    out = torch.zeros(frames.shape[0], count + ratio - 1, hop, dtype=frames.dtype, device=frames.device)
    for j in range(ratio):
        out[:, j : j + count] += pieces[:, j]
    out = out.reshape(frames.shape[0], -1) / _ola_envelope(n_fft, hop, count).to(out.device, out.dtype)
    out = out[:, n_fft // 2 :]
    if out.shape[-1] < length:
        out = torch.nn.functional.pad(out, (0, length - out.shape[-1]))
    return out[:, :length].reshape(*shape[:-2], length)


@lru_cache(maxsize=16)
def band_matrix(sample_rate: int, n_fft: int, edges_hz: tuple[float, ...]) -> torch.Tensor:
    """[bands, n_fft//2+1] 0/1 matrix assigning every STFT bin to one ILD band."""
    freqs = torch.arange(n_fft // 2 + 1, dtype=torch.float64) * sample_rate / n_fft
    edges = torch.tensor(edges_hz, dtype=torch.float64)
    idx = torch.clamp(torch.bucketize(freqs, edges[1:-1], right=True), 0, len(edges_hz) - 2)
    return torch.nn.functional.one_hot(idx, len(edges_hz) - 1).T.float()


def pool_frames(x: torch.Tensor, upsample: int, latent_frames: int) -> torch.Tensor:
    """Sum STFT frames [..., T] (T >= L*upsample) into latent frames [..., L]."""
    x = x[..., : latent_frames * upsample]
    return x.reshape(*x.shape[:-1], latent_frames, upsample).sum(-1)


def ild_from_spectra(left: torch.Tensor, right: torch.Tensor, bands: torch.Tensor, upsample: int,
                     latent_frames: int, spill: float = 0.01) -> torch.Tensor:
    """Per-band ILD in dB [B, bands, L] from complex spectra [B, F, T].

    Each band's energies get `spill` x the frame's broadband energy (per band) added, so a
    band that is nearly empty takes the frame's broadband ILD instead of reading as centred:
    if the decoder puts a little energy where the input had none, it lands on the right side.
    """
    count = bands.sum(-1)[None, :, None] * upsample
    e_left = pool_frames(torch.einsum("kf,bft->bkt", bands, left.abs() ** 2), upsample, latent_frames)
    e_right = pool_frames(torch.einsum("kf,bft->bkt", bands, right.abs() ** 2), upsample, latent_frames)
    share = spill / bands.shape[0]
    floor = ENERGY_FLOOR * count
    e_left = e_left + share * e_left.sum(1, keepdim=True) + floor
    e_right = e_right + share * e_right.sum(1, keepdim=True) + floor
    return (10.0 * torch.log10(e_left / e_right)).clamp(-ILD_LIMIT_DB, ILD_LIMIT_DB)


def itd_from_spectra(left: torch.Tensor, right: torch.Tensor, sample_rate: int, n_fft: int, upsample: int,
                     latent_frames: int, max_itd_ms: float, itd_upsample: int, context: int) -> torch.Tensor:
    """Broadband ITD in ms [B, 1, L] by GCC-PHAT on cross-spectra pooled over each latent frame
    and `context` neighbours either side (longer windows give steadier estimates)."""
    cross = pool_frames(left * right.conj(), upsample, latent_frames)  # [B, F, L]
    if context > 0:
        padded = torch.nn.functional.pad(torch.view_as_real(cross).permute(0, 1, 3, 2), (context, context))
        pooled = padded.unfold(-1, 2 * context + 1, 1).sum(-1)  # [B, F, 2, L]
        cross = torch.view_as_complex(pooled.permute(0, 1, 3, 2).contiguous())
    mag = cross.abs()
    peak = mag.amax(dim=1, keepdim=True)
    phat = cross / torch.clamp(mag, min=1e-6 * peak + 1e-20)
    size = n_fft * itd_upsample
    cc = torch.fft.irfft(phat, n=size, dim=1)  # [B, size, L]
    max_shift = max(1, int(round(max_itd_ms * 1e-3 * sample_rate * itd_upsample)))
    window = torch.cat([cc[:, -max_shift:], cc[:, : max_shift + 1]], dim=1)
    lag = window.argmax(dim=1).float() - max_shift  # [B, L]
    itd_ms = -lag / (sample_rate * itd_upsample) * 1e3
    # Frames with (almost) no energy in either channel carry no position.
    energy = pool_frames((left.abs() ** 2 + right.abs() ** 2).sum(1), upsample, latent_frames)
    silent = energy <= ENERGY_FLOOR * left.shape[1] * upsample
    return torch.where(silent, torch.zeros_like(itd_ms), itd_ms)[:, None]


def frames_to_stft_grid(params: torch.Tensor, upsample: int, frames: int) -> torch.Tensor:
    """Linearly interpolate per-latent-frame parameters [B, K, L] onto STFT frames [B, K, frames].

    Latent frame k summarises STFT frames k*u .. k*u+u-1, so its value sits at k*u + (u-1)/2.
    """
    latent = params.shape[-1]
    t = torch.arange(frames, dtype=params.dtype, device=params.device)
    pos = ((t - (upsample - 1) / 2) / upsample).clamp(0, latent - 1)
    lo = pos.floor().long()
    hi = torch.clamp(lo + 1, max=latent - 1)
    frac = pos - lo
    return params[..., lo] * (1 - frac) + params[..., hi] * frac


def render_stereo(mid: torch.Tensor, ild_db: torch.Tensor, itd_ms: torch.Tensor, bands: torch.Tensor,
                  sample_rate: int, n_fft: int, upsample: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Left and right complex spectra [B, F, T] from the mid spectrum and spatial parameters."""
    frames = mid.shape[-1]
    ild = frames_to_stft_grid(ild_db, upsample, frames)  # [B, bands, T]
    itd = frames_to_stft_grid(itd_ms, upsample, frames)  # [B, 1, T]
    ild_bins = torch.einsum("kf,bkt->bft", bands, ild)
    ratio = torch.pow(10.0, ild_bins / 10.0)
    g_left = torch.sqrt(2.0 * ratio / (1.0 + ratio))
    g_right = torch.sqrt(2.0 / (1.0 + ratio))
    omega = 2 * math.pi * torch.arange(mid.shape[-2], device=mid.device, dtype=ild.dtype) * sample_rate / n_fft
    half_phase = omega[None, :, None] * (itd * 1e-3) / 2  # right delayed by itd: +/- half each side
    rot = torch.polar(torch.ones_like(half_phase), half_phase)
    return mid * g_left * rot, mid * g_right * rot.conj()


def power_mid(left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """Mid magnitude sqrt((|L|^2 + |R|^2) / 2) [B, F, T]."""
    return torch.sqrt((left.abs() ** 2 + right.abs() ** 2) / 2 + 1e-20)
