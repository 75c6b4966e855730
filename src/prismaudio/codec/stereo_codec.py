"""StereoCodec: the latent space the generator works in.

    latent = [ learned mid channels (VAE posterior mean) | f0, periodicity (with `pitch`)
               | per-band ILD (dB) | ITD (ms) ]

the channels after the learned ones are measured, not learned ("measured" below); each channel
normalised by a per-channel mean/std kept in the checkpoint (running statistics
gathered while training), so the generator sees roughly unit-variance channels.
`encode(wave[B,2,N]) -> [B,C,ceil(N/hop)]`, `decode(latent, length) -> [B,2,length]`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..config import from_dict, to_dict
from ..errors import CheckpointError, ConfigError, PrismError
from . import stereo
from .config import SHAPE_KEYS, CodecConfig
from .griffinlim import griffin_lim
from .model import MidDecoder, MidEncoder
from .phase import mid_phase
from .pitch import pitch_track

log = logging.getLogger(__name__)

CHECKPOINT_KIND = "codec"
CHECKPOINT_VERSION = 1
_NORM_MOMENTUM = 0.01


class CodecInputError(PrismError):
    """Audio that the codec cannot take (NaN/inf samples, no samples, too many channels)."""


@dataclass
class CodecOutput:
    """What the training forward pass returns (raw, un-normalised latent parts)."""

    pred_logmag: torch.Tensor  # [B, F, T] decoded mid log-magnitude
    target_logmag: torch.Tensor  # [B, F, T] the input's mid log-magnitude
    mean: torch.Tensor  # [B, mid, L]
    logvar: torch.Tensor  # [B, mid, L]
    measured: torch.Tensor  # [B, pitch + bands + 1, L]
    pred_phase: torch.Tensor | None = None  # [B, F, T] with a learned phase head
    target_phase: torch.Tensor | None = None  # [B, F, T] the input's mid phase (phase.mid_phase)


class StereoCodec(nn.Module):
    def __init__(self, config: CodecConfig) -> None:
        super().__init__()
        self.config = config
        self.sample_rate = config.sample_rate
        self.hop = config.hop
        self.latent_rate = config.latent_rate
        self.latent_channels = config.latent_channels
        self.encoder = MidEncoder(config)
        self.decoder = MidDecoder(config)
        with torch.no_grad():  # start quiet (about -100 dB)
            self.decoder.head.bias.fill_(-12.0)
        self.register_buffer("bands", stereo.band_matrix(config.sample_rate, config.n_fft, tuple(config.ild_band_edges_hz)),
                             persistent=False)
        c = config.latent_channels
        self.register_buffer("latent_mean", torch.zeros(c))
        self.register_buffer("latent_std", torch.ones(c))
        self.register_buffer("norm_updates", torch.zeros((), dtype=torch.long))
        self.encoder_frozen = False

    def freeze_encoder(self) -> None:
        """Fix the encoder and the latent normalisation: training then only moves the decoder."""
        self.encoder.requires_grad_(False)
        self.encoder_frozen = True

    # ---- sizes -------------------------------------------------------------------------
    def latent_length(self, num_samples: int) -> int:
        return self.config.latent_length(num_samples)

    # ---- analysis / synthesis (raw latents) -------------------------------------------
    def _spectra(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
        cfg = self.config
        frames = self.latent_length(wave.shape[-1])
        padded = torch.nn.functional.pad(wave, (0, frames * cfg.hop - wave.shape[-1]))
        spec = stereo.codec_stft(padded, cfg.n_fft, cfg.stft_hop)  # [B, 2, F, L*u+1]
        return spec[:, 0], spec[:, 1], frames

    def _measured(self, wave: torch.Tensor, left: torch.Tensor, right: torch.Tensor, frames: int) -> torch.Tensor:
        """The analytic channels [B, pitch + bands + 1, L]: pitch (when configured), ILD, ITD."""
        cfg = self.config
        ild = stereo.ild_from_spectra(left, right, self.bands, cfg.upsample, frames)
        itd = stereo.itd_from_spectra(left, right, cfg.sample_rate, cfg.n_fft, cfg.upsample, frames,
                                      cfg.max_itd_ms, cfg.itd_upsample, cfg.itd_context)
        parts = [ild, itd]
        if cfg.pitch:
            # Centred where frames_to_stft_grid puts a latent frame: STFT frame k*u + (u-1)/2.
            offset = (cfg.upsample - 1) * cfg.stft_hop // 2
            parts.insert(0, pitch_track(wave, cfg.sample_rate, cfg.hop, frames, cfg.f0_min_hz, cfg.f0_max_hz,
                                        offset))
        return torch.cat(parts, dim=1)

    def split_measured(self, measured: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor]:
        """[B, pitch + bands + 1, L] -> (pitch [B, 2, L] or None, spatial [B, bands + 1, L])."""
        k = self.config.pitch_channels
        return (measured[:, :k] if k else None), measured[:, k:]

    def _mid_logmag(self, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
        return torch.log(stereo.power_mid(left, right) + self.config.magnitude_floor)

    def analyse(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """[B, 2, N] -> (posterior mean, log-variance, measured [pitch, ILD dB per band, ITD ms]) at L frames."""
        left, right, frames = self._spectra(wave)
        mean, logvar = self.encoder(self._mid_logmag(left, right)[..., : frames * self.config.upsample])
        return mean, logvar, self._measured(wave, left, right, frames)

    def synthesise(self, mid: torch.Tensor, measured: torch.Tensor, length: int) -> torch.Tensor:
        """Raw mid latent [B, mid, L] + measured channels [B, pitch+bands+1, L] -> stereo wave [B, 2, length]."""
        cfg = self.config
        full = mid.shape[-1] * cfg.hop
        pitch, spatial = self.split_measured(measured)
        learned = cfg.phase_decoder == "learned"
        if learned and self.decoder.phase is None:
            raise CheckpointError("phase_decoder 'learned' needs a codec trained with a phase head")
        logmag, phase = self.decoder.forward_with_phase(mid, pitch, phase=learned)
        mag = logmag.exp()
        # Below the floor is silence: zero it so Griffin-Lim does not spread it as noise.
        mag = torch.where(mag <= 2 * cfg.magnitude_floor, torch.zeros_like(mag), mag)
        if phase is not None and cfg.learned_phase_iterations > 0:
            mid_spec = griffin_lim(mag, cfg.n_fft, cfg.stft_hop, full, cfg.learned_phase_iterations, start=phase)
        elif phase is not None:
            mid_spec = torch.polar(mag, phase)
        else:
            mid_spec = griffin_lim(mag, cfg.n_fft, cfg.stft_hop, full, cfg.phase_iterations)
        left, right = stereo.render_stereo(mid_spec, spatial[:, :-1], spatial[:, -1:], self.bands, cfg.sample_rate,
                                           cfg.n_fft, cfg.upsample)
        wave = stereo.codec_istft(torch.stack([left, right], dim=1), cfg.n_fft, cfg.stft_hop, full)
        if length > full:
            wave = torch.nn.functional.pad(wave, (0, length - full))
        return wave[..., :length]

    def forward(self, wave: torch.Tensor, sample: bool = True) -> CodecOutput:
        """Training pass: mid log-magnitude of the input and of its reconstruction."""
        left, right, frames = self._spectra(wave)
        target = self._mid_logmag(left, right)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.encoder_frozen):
            mean, logvar = self.encoder(target[..., : frames * self.config.upsample])
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar) if sample else mean
        with torch.no_grad():
            measured = self._measured(wave, left, right, frames)
        if self.training and not self.encoder_frozen:
            self._update_norm(torch.cat([mean.detach(), measured], dim=1))
        pred, pred_phase = self.decoder.forward_with_phase(z, self.split_measured(measured)[0])
        target_phase = None
        if pred_phase is not None:
            cfg = self.config
            target_phase = mid_phase(left, right, measured[:, -1:], cfg.sample_rate, cfg.n_fft, cfg.upsample)
        return CodecOutput(pred, target, mean, logvar, measured, pred_phase, target_phase)

    @torch.no_grad()
    def _update_norm(self, latent: torch.Tensor) -> None:
        """Running per-channel mean/std of the raw latent (first batch sets them, then EMA)."""
        flat = latent.transpose(0, 1).reshape(latent.shape[1], -1)
        m, s = flat.mean(1), flat.std(1).clamp(min=1e-3)
        if int(self.norm_updates) == 0:
            self.latent_mean.copy_(m)
            self.latent_std.copy_(s)
        else:
            self.latent_mean.lerp_(m, _NORM_MOMENTUM)
            self.latent_std.lerp_(s, _NORM_MOMENTUM)
        self.norm_updates += 1

    # ---- public API --------------------------------------------------------------------
    def prepare(self, wave: torch.Tensor, sample_rate: int | None = None) -> torch.Tensor:
        """Check and shape user audio to [B, 2, N] float32 at the codec's rate (see module doc)."""
        if not isinstance(wave, torch.Tensor):
            wave = torch.as_tensor(np.asarray(wave))
        if wave.dim() == 1:
            wave = wave[None, None]
        elif wave.dim() == 2:
            wave = wave[None]
        if wave.dim() != 3:
            raise CodecInputError(f"audio must be [B, 2, N], got shape {tuple(wave.shape)}")
        if wave.shape[-1] == 0:
            raise CodecInputError("audio has no samples")
        if wave.shape[1] == 1:
            log.info("mono input: upmixed to two identical channels (a centred source)")
            wave = wave.expand(-1, 2, -1)
        elif wave.shape[1] != 2:
            raise CodecInputError(f"audio must have 1 or 2 channels, got {wave.shape[1]}")
        wave = wave.float()
        if not torch.isfinite(wave).all():
            raise CodecInputError("audio contains NaN or inf samples")
        if sample_rate is not None and sample_rate != self.sample_rate:
            from scipy.signal import resample_poly

            log.info("resampling input from %d Hz to the codec's %d Hz", sample_rate, self.sample_rate)
            g = np.gcd(int(sample_rate), self.sample_rate)
            out = resample_poly(wave.cpu().numpy(), self.sample_rate // g, int(sample_rate) // g, axis=-1)
            wave = torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32)).to(wave.device)
        return wave.contiguous()

    @torch.no_grad()
    def encode(self, wave: torch.Tensor, sample_rate: int | None = None) -> torch.Tensor:
        """[B, 2, N] -> normalised latent [B, C, ceil(N / hop)] (posterior mean: deterministic)."""
        wave = self.prepare(wave, sample_rate)
        mean, _, measured = self.analyse(wave)
        latent = torch.cat([mean, measured], dim=1)
        return (latent - self.latent_mean[:, None]) / self.latent_std[:, None]

    @torch.no_grad()
    def decode(self, latent: torch.Tensor, length: int | None = None) -> torch.Tensor:
        """Normalised latent [B, C, L] -> stereo wave [B, 2, length] (default L * hop samples)."""
        if latent.dim() != 3 or latent.shape[1] != self.latent_channels:
            raise CodecInputError(f"latent must be [B, {self.latent_channels}, L], got {tuple(latent.shape)}")
        if not torch.isfinite(latent).all():
            raise CodecInputError("latent contains NaN or inf")
        raw = latent.float() * self.latent_std[:, None] + self.latent_mean[:, None]
        cfg = self.config
        mid, measured = raw[:, : cfg.mid_channels], raw[:, cfg.mid_channels :]
        pitch, spatial = self.split_measured(measured)
        # Generated latents can stray outside what the analysis ever measures: clamp to it.
        parts = [spatial[:, :-1].clamp(-stereo.ILD_LIMIT_DB, stereo.ILD_LIMIT_DB),
                 spatial[:, -1:].clamp(-cfg.max_itd_ms, cfg.max_itd_ms)]
        if pitch is not None:
            low, high = math.log2(cfg.f0_min_hz / 440.0), math.log2(cfg.f0_max_hz / 440.0)
            parts[:0] = [pitch[:, :1].clamp(low, high), pitch[:, 1:].clamp(0.0, 1.0)]
        measured = torch.cat(parts, dim=1)
        n = latent.shape[-1] * self.hop if length is None else int(length)
        if n <= 0:
            raise CodecInputError(f"length must be positive, got {n}")
        return self.synthesise(mid, measured, n)

    # ---- checkpoints -------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path, expect: CodecConfig | None = None) -> "StereoCodec":
        """Load weights (EMA when present) from a codec checkpoint; eval mode.

        `expect`: raise a CheckpointError if the file holds another preset's shapes.
        """
        from ..train.checkpoint import check_config_matches, load_checkpoint

        ckpt = load_checkpoint(path, kind=CHECKPOINT_KIND)
        try:
            config = from_dict(CodecConfig, ckpt.config, where=f"{path} config")
        except ConfigError as e:
            raise CheckpointError(f"{path}: codec config inside is invalid ({e})") from None
        if expect is not None:
            check_config_matches(path, to_dict(config), expect, SHAPE_KEYS)
        model = cls(config)
        state = ckpt.group("ema") or ckpt.group("model")
        try:
            model.load_state_dict(state)
        except RuntimeError as e:
            first = str(e).strip().splitlines()[0][:160]
            raise CheckpointError(f"{path}: weights do not fit the codec config inside ({first})") from None
        model.checkpoint_step = ckpt.step
        model.source_path = Path(path).resolve()  # who else may share these weights (the stem engine)
        return model.eval()
