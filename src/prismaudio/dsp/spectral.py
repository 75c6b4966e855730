"""Spectral transforms and distances (torch, differentiable where it matters)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    """HTK mel scale."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


@lru_cache(maxsize=32)
def mel_filterbank_np(sample_rate: int, n_fft: int, n_mels: int, f_min: float, f_max: float) -> np.ndarray:
    bins = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None] - lower) / np.maximum(centre - lower, 1e-9)
    falling = (upper - bins[None]) / np.maximum(upper - centre, 1e-9)
    return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)  # [n_mels, n_fft//2+1]


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, f_min: float = 0.0, f_max: float | None = None) -> torch.Tensor:
    """Triangular HTK mel filters [n_mels, n_fft // 2 + 1]."""
    return torch.from_numpy(mel_filterbank_np(sample_rate, n_fft, n_mels, f_min, f_max or sample_rate / 2))


def stft(wave: torch.Tensor, n_fft: int, hop: int, win: int | None = None) -> torch.Tensor:
    """Complex STFT of [..., N] -> [..., n_fft // 2 + 1, frames] (Hann window, centred, reflect pad)."""
    win = win or n_fft
    shape = wave.shape
    flat = wave.reshape(-1, shape[-1]).float()
    pad_mode = "reflect" if flat.shape[-1] > n_fft // 2 else "constant"
    spec = torch.stft(
        flat, n_fft=n_fft, hop_length=hop, win_length=win,
        window=torch.hann_window(win, device=wave.device), center=True, pad_mode=pad_mode, return_complex=True,
    )
    return spec.reshape(*shape[:-1], *spec.shape[-2:])


def log_mel(wave: torch.Tensor, sample_rate: int, n_mels: int = 64, n_fft: int = 1024, hop: int = 256,
            f_min: float = 0.0, f_max: float | None = None, eps: float = 1e-5) -> torch.Tensor:
    """Natural-log mel magnitude spectrogram of [..., N] -> [..., n_mels, frames]."""
    mag = stft(wave, n_fft, hop).abs()
    fb = mel_filterbank(sample_rate, n_fft, n_mels, f_min, f_max).to(mag.device)
    return torch.log(torch.clamp(torch.einsum("mf,...ft->...mt", fb, mag), min=eps))


def log_mel_l1(pred: torch.Tensor, target: torch.Tensor, sample_rate: int, **kwargs) -> torch.Tensor:
    """Mean absolute difference of log-mel spectrograms (the codec's timbre figure)."""
    return (log_mel(pred, sample_rate, **kwargs) - log_mel(target, sample_rate, **kwargs)).abs().mean()


def multi_resolution_stft_distance(
    pred: torch.Tensor, target: torch.Tensor, resolutions: tuple[tuple[int, int], ...] = ((2048, 512), (1024, 256), (512, 128), (256, 64)),
    eps: float = 1e-7,
) -> torch.Tensor:
    """Spectral convergence + log-magnitude L1, averaged over STFT resolutions (Yamamoto et al. 2020)."""
    total = pred.new_zeros(())
    for n_fft, hop in resolutions:
        p, t = stft(pred, n_fft, hop).abs(), stft(target, n_fft, hop).abs()
        convergence = torch.linalg.vector_norm(t - p) / torch.clamp(torch.linalg.vector_norm(t), min=eps)
        log_l1 = (torch.log(p + eps) - torch.log(t + eps)).abs().mean()
        total = total + convergence + log_l1
    return total / len(resolutions)


def db(x: float | np.ndarray, floor: float = 1e-12) -> np.ndarray:
    """Power ratio to decibels."""
    return 10.0 * np.log10(np.maximum(np.asarray(x, dtype=np.float64), floor))


def rms_db(wave: np.ndarray) -> float:
    """RMS level of a signal in dBFS."""
    return float(db(np.mean(np.square(np.asarray(wave, dtype=np.float64))) + 1e-20))


def frames_per_second(sample_rate: int, hop: int) -> float:
    return sample_rate / hop


def next_pow2(n: int) -> int:
    return 1 << max(0, math.ceil(math.log2(max(1, n))))
