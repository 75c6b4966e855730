"""Mono audio <-> the shipped codec's mid latent (the stem generator's audio representation).

The tiny codec's latent is [24 learned mid channels | 7 band ILD | 1 ITD] at 50 frames/s.
A mono stem is a centred source: its ILD and ITD are zero by construction, so the generator
makes only the 24 mid channels (normalised by the codec's own statistics) and the spatial
renderer places the decoded mono signal. Encoding skips the ILD/ITD analysis (a third of
the codec's encoding time) and decoding skips the stereo synthesis: the mid magnitude goes
straight through Griffin-Lim to one channel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..codec import StereoCodec
from ..codec import stereo as codec_stereo
from ..codec.griffinlim import griffin_lim
from .detail import SketchDetail, apply_residual, codec_residual, magnitude_floor


def default_codec_path() -> Path:
    return Path(__file__).resolve().parents[1] / "assets" / "models" / "tiny" / "codec.safetensors"


class MonoLatent:
    """Encode mono waves [B, N] to normalised mid latents [B, mid, L] and back."""

    def __init__(self, codec: StereoCodec, phase_iterations: int | None = None):
        self.codec = codec.eval()
        cfg = codec.config
        self.sample_rate = cfg.sample_rate
        self.hop = cfg.hop
        self.channels = cfg.mid_channels
        self.latent_rate = cfg.sample_rate / cfg.hop
        self.phase_iterations = cfg.phase_iterations if phase_iterations is None else int(phase_iterations)
        self._mean = codec.latent_mean[: cfg.mid_channels, None].clone()
        self._std = codec.latent_std[: cfg.mid_channels, None].clone()

    @classmethod
    def load(cls, path: str | Path | None = None, phase_iterations: int | None = None) -> "MonoLatent":
        return cls(StereoCodec.load(path or default_codec_path()), phase_iterations)

    def frames(self, num_samples: int) -> int:
        return self.codec.latent_length(num_samples)

    @torch.no_grad()
    def encode(self, wave: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Mono [B, N] (or [N]) at the codec's rate -> normalised mid latent [B, mid, ceil(N / hop)]."""
        wave = torch.as_tensor(np.asarray(wave, dtype=np.float32)) if not isinstance(wave, torch.Tensor) else wave.float()
        if wave.dim() == 1:
            wave = wave[None]
        cfg = self.codec.config
        frames = self.frames(wave.shape[-1])
        padded = torch.nn.functional.pad(wave, (0, frames * cfg.hop - wave.shape[-1]))
        spec = codec_stereo.codec_stft(padded, cfg.n_fft, cfg.stft_hop)
        # a dual-mono signal's power mid is |X|: the same input the codec's encoder sees for it
        logmag = torch.log(spec.abs() + cfg.magnitude_floor)
        mean, _ = self.codec.encoder(logmag[..., : frames * cfg.upsample])
        return (mean - self._mean) / self._std

    @torch.no_grad()
    def encode_each(self, wave: np.ndarray) -> torch.Tensor:
        """`encode`, one wave [B, N] row at a time (the stem engine's way: see decode_each)."""
        return torch.cat([self.encode(wave[j : j + 1]) for j in range(len(wave))])

    @torch.no_grad()
    def decode_each(self, latent: torch.Tensor, length: int, sketches: np.ndarray | None = None,
                    sketch_latents: torch.Tensor | None = None) -> np.ndarray:
        """Mono waves [B, length] (float32) of latents [B, mid, L], each row decoded on its own;
        with `sketches` [B, N] and their latents, each with its sketch's detail (sketch_detail).

        One row at a time, the codec's arrays are one source's ([321, 801] at 8 s; Griffin-Lim
        keeps a dozen at once) whatever the batch, and each row's audio is what it would be
        alone: batched, the elementwise kernels round the batch's last few values differently
        from the rest. Not slower: Griffin-Lim on 7 rows of 8 s (16 iterations) took 1.45 s of
        CPU as one batch and 1.22 s row by row (the arrays stay in cache)."""
        out = np.zeros((latent.shape[0], length), np.float32)
        for j in range(latent.shape[0]):
            detail = None if sketches is None else self.sketch_detail(sketches[j : j + 1], sketch_latents[j : j + 1])
            out[j] = self.decode(latent[j : j + 1], length, detail=detail)[0].numpy()
        return out

    def _magnitude(self, latent: torch.Tensor) -> torch.Tensor:
        cfg = self.codec.config
        mag = self.codec.decoder(latent.float() * self._std + self._mean, None).exp()
        return torch.where(mag <= 2 * cfg.magnitude_floor, torch.zeros_like(mag), mag)

    @torch.no_grad()
    def sketch_detail(self, wave: torch.Tensor | np.ndarray, latent: torch.Tensor) -> SketchDetail:
        """What decoding loses of the sketches `wave` [B, N] (their latents `latent` [B, mid, L]),
        for `decode(..., detail=)` to add back (detail.py)."""
        cfg = self.codec.config
        wave = torch.as_tensor(np.asarray(wave, dtype=np.float32)) if not isinstance(wave, torch.Tensor) else wave.float()
        full = latent.shape[-1] * cfg.hop
        padded = torch.nn.functional.pad(wave, (0, max(0, full - wave.shape[-1])))[..., :full]
        spec = codec_stereo.codec_stft(padded, cfg.n_fft, cfg.stft_hop)
        decoded = self._magnitude(latent)
        spec = spec[..., : decoded.shape[-1]]
        return SketchDetail(codec_residual(spec.abs(), decoded), torch.angle(spec), magnitude_floor(spec.abs()))

    @torch.no_grad()
    def decode(self, latent: torch.Tensor, length: int, detail: SketchDetail | None = None) -> torch.Tensor:
        """Normalised mid latent [B, mid, L] -> mono waves [B, length] (float32). With `detail`
        (sketch_detail of the sketches these latents were generated from), the decoder's error
        on each sketch is added back and Griffin-Lim starts from the sketch's phase."""
        cfg = self.codec.config
        full = latent.shape[-1] * cfg.hop
        mag = self._magnitude(latent)
        start = None
        if detail is not None:
            mag = apply_residual(mag, detail.residual, detail.floor)
            start = detail.phase
        spec = griffin_lim(mag, cfg.n_fft, cfg.stft_hop, full, self.phase_iterations, start=start)
        wave = codec_stereo.codec_istft(spec, cfg.n_fft, cfg.stft_hop, full)
        if length > full:
            wave = torch.nn.functional.pad(wave, (0, length - full))
        return wave[..., :length]
