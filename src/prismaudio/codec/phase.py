"""Learned phase for the codec's mid decoder (no GAN): a Vocos/APNet-style phase head and its
losses, so decoding is one inverse STFT instead of Griffin-Lim.

Why: Griffin-Lim on the decoded magnitudes caps onset F1 near 0.78 (bench_phase_ceiling.py);
held notes lose their onsets because the retrieved phase smears attacks. The head reads the
same backbone features as the magnitude head (model.PhaseHead) and predicts, per STFT bin, a vector (x, y)
whose angle is the phase (APNet's parallel estimation: atan2 keeps the output wrapped and
the gradient finite). It trains with anti-wrapping losses on instantaneous phase, group delay
(frequency derivative) and instantaneous frequency (time derivative), weighted by the
target's magnitude (a silent bin's phase is noise), plus a multi-resolution STFT loss on
the re-synthesised mid waveform (what makes the frames consistent with each other).

Every function here is pure.
"""

from __future__ import annotations

import math

import torch

from .stereo import codec_istft, codec_stft, frames_to_stft_grid


def wrap(x: torch.Tensor) -> torch.Tensor:
    """Angles to [-pi, pi)."""
    return torch.remainder(x + math.pi, 2 * math.pi) - math.pi



# ---- targets ---------------------------------------------------------------------------------

def mid_phase(left: torch.Tensor, right: torch.Tensor, itd_ms: torch.Tensor, sample_rate: int, n_fft: int,
              upsample: int) -> torch.Tensor:
    """The phase [B, F, T] of the mid signal that `stereo.render_stereo` turns back into these
    left/right spectra: render_stereo rotates the mid by +theta (left) and -theta (right) with
    theta = omega * ITD / 2, so the mid phase is the angle of L e^{-i theta} + R e^{+i theta}
    (the channels aligned on the measured ITD, then summed)."""
    itd = frames_to_stft_grid(itd_ms, upsample, left.shape[-1])  # [B, 1, T]
    omega = 2 * math.pi * torch.arange(left.shape[-2], dtype=itd.dtype, device=itd.device) * sample_rate / n_fft
    theta = omega[None, :, None] * (itd * 1e-3) / 2
    rot = torch.polar(torch.ones_like(theta), theta)
    return torch.angle(left * rot.conj() + right * rot)


# ---- losses ----------------------------------------------------------------------------------

def anti_wrap(x: torch.Tensor) -> torch.Tensor:
    """|x - 2 pi round(x / 2 pi)|: the distance between two angles whose difference is x, in [0, pi]."""
    return (x - 2 * math.pi * torch.round(x / (2 * math.pi))).abs()


def magnitude_weights(target_logmag: torch.Tensor, power: float = 0.5) -> torch.Tensor:
    """Per-bin weights [B, F, T] proportional to magnitude**power, mean 1 over the batch: a
    bin's phase matters as much as it is heard, and silent bins' (and silent crops') phase is noise."""
    w = torch.exp(power * (target_logmag - target_logmag.amax()))
    return w / w.mean().clamp(min=1e-12)


def phase_losses(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> dict[str, torch.Tensor]:
    """APNet's anti-wrapping losses, weighted: instantaneous phase (ip), group delay (gd:
    difference along frequency) and instantaneous angular frequency (iaf: along time)."""
    ip = (anti_wrap(pred - target) * weights).mean()
    gd = (anti_wrap(pred.diff(dim=1) - target.diff(dim=1)) * weights[:, 1:]).mean()
    iaf = (anti_wrap(pred.diff(dim=2) - target.diff(dim=2)) * weights[..., 1:]).mean()
    return {"ip": ip, "gd": gd, "iaf": iaf}


STFT_RESOLUTIONS = ((256, 64), (512, 128), (1024, 256))


def multi_resolution_stft_loss(pred: torch.Tensor, target: torch.Tensor,
                               resolutions: tuple[tuple[int, int], ...] = STFT_RESOLUTIONS) -> torch.Tensor:
    """Mean over resolutions of spectral convergence + log-magnitude L1 between waves [B, N].
    The convergence pools the batch: per clip, a nearly silent crop would divide by ~0."""
    total = pred.new_zeros(())
    for n_fft, hop in resolutions:
        p, t = codec_stft(pred, n_fft, hop).abs(), codec_stft(target, n_fft, hop).abs()
        sc = (p - t).norm() / t.norm().clamp(min=1e-8)
        mag = (torch.log(p + 1e-5) - torch.log(t + 1e-5)).abs().mean()
        total = total + sc + mag
    return total / len(resolutions)


def mid_wave(logmag: torch.Tensor, phase: torch.Tensor, n_fft: int, hop: int, length: int) -> torch.Tensor:
    """[B, F, T] log-magnitude and phase -> mid waveform [B, length] (one inverse STFT)."""
    return codec_istft(torch.polar(logmag.exp(), phase), n_fft, hop, length)


def learned_phase_terms(pred_logmag: torch.Tensor, pred_phase: torch.Tensor, target_logmag: torch.Tensor,
                        target_phase: torch.Tensor, n_fft: int, hop: int) -> dict[str, torch.Tensor]:
    """Every learned-phase loss term (unweighted): ip, gd, iaf and mrstft on the mid waveforms."""
    terms = phase_losses(pred_phase, target_phase, magnitude_weights(target_logmag))
    length = (pred_logmag.shape[-1] - 1) * hop
    pred_wave = mid_wave(pred_logmag, pred_phase, n_fft, hop, length)
    with torch.no_grad():
        target_wave = mid_wave(target_logmag, target_phase, n_fft, hop, length)
    terms["mrstft"] = multi_resolution_stft_loss(pred_wave, target_wave)
    return terms
