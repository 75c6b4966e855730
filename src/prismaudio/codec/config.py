"""Codec configuration: one dataclass, presets as YAML (configs/codec_tiny.yaml, codec_paper.yaml).

Every sequence length derives from three numbers: `sample_rate`, `hop` (samples per latent
frame) and `upsample` (decoder STFT frames per latent frame). The decoder's STFT hop is
`hop // upsample` and its window `4 * hop // upsample` (75 % overlap, as in Vocos).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class TrainConfig:
    batch_size: int = 8
    crop_seconds: float = 1.0
    lr: float = 5e-4
    lr_min: float = 5e-5
    warmup_steps: int = 200
    max_steps: int = 200_000
    weight_decay: float = 1e-4
    grad_clip: float = 1.0
    checkpoint_every_s: float = 240.0
    log_every: int = 25
    keep_checkpoints: int = 3
    threads: int = 1
    seed: int = 0
    synth_clips: int = 600  # clips rendered when no --data is given (tinysoundfont)
    # Start from a trained codec's weights (encoder and latent normalisation always; the
    # decoder too when its shape matches). With `freeze_encoder` only the decoder learns, so
    # the latents stay bit-identical and a generator trained on them stays valid.
    init_from: str | None = None
    freeze_encoder: bool = False
    # With a learned phase: keep the decoder's backbone and magnitude head as init_from gave
    # them and train only the phase head (fast on CPU: no backward through the backbone).
    freeze_magnitude: bool = False


@dataclass
class LossConfig:
    logmag: float = 1.0  # L1 of mid log-magnitude spectrograms (log of magnitude + magnitude_floor)
    mel: float = 1.0  # L1 of mid log-mel spectrograms (perceptual weighting of the same)
    mel_bands: int = 64
    kl: float = 1e-5
    linear: float = 0.0  # spectral convergence on linear magnitudes (energy-weighted; see losses.py)
    # Learned-phase terms (phase.py; used only with phase_decoder: learned): anti-wrapping
    # losses on instantaneous phase, group delay, instantaneous frequency, and a multi-resolution
    # STFT loss on the re-synthesised mid waveform.
    phase_ip: float = 0.0
    phase_gd: float = 1.0
    phase_iaf: float = 1.0
    mrstft: float = 1.0


PHASE_DECODERS = ("griffin_lim", "learned")


@dataclass
class CodecConfig:
    name: str = "tiny"
    sample_rate: int = 16000
    hop: int = 320  # samples per latent frame
    upsample: int = 2  # decoder STFT frames per latent frame
    mid_channels: int = 24  # learned latent channels (the mid/mono content)
    ild_band_edges_hz: tuple[float, ...] = (0.0, 300.0, 700.0, 1400.0, 2500.0, 4000.0, 6000.0, 8000.0)
    max_itd_ms: float = 1.0
    itd_upsample: int = 16  # GCC-PHAT sub-sample resolution
    itd_context: int = 1  # latent frames either side whose cross-spectra are pooled for the ITD
    # Two measured pitch channels (f0 in octaves re 440 Hz, periodicity) after the learned ones;
    # the decoder draws a harmonic comb from them (codec/pitch.py). False = the version-1 latent.
    pitch: bool = False
    f0_min_hz: float = 50.0
    f0_max_hz: float = 2000.0
    encoder_dim: int = 256
    encoder_blocks: int = 4
    decoder_dim: int = 384
    decoder_blocks: int = 8
    kernel_size: int = 7
    logvar_offset: float = -8.0  # small initial posterior noise (feasibility.md: sigma 1 collapses)
    magnitude_floor: float = 1e-8  # about the quietest level the evaluation's log-mel can see
    phase_iterations: int = 32  # Griffin-Lim iterations at decode time
    # How the decoder gets the mid phase: "griffin_lim" (retrieved from the decoded magnitudes)
    # or "learned" (a phase head on the decoder's backbone, model.PhaseHead; one inverse STFT).
    # A learned-phase checkpoint can still decode with "griffin_lim" (same magnitudes).
    phase_decoder: str = "griffin_lim"
    learned_phase_iterations: int = 0  # Griffin-Lim iterations refining the learned phase (0: none)
    phase_dim: int = 192
    phase_blocks: int = 3
    train: TrainConfig = field(default_factory=TrainConfig)
    loss: LossConfig = field(default_factory=LossConfig)

    def __post_init__(self) -> None:
        if self.hop % self.upsample:
            raise ValueError(f"hop {self.hop} must be a multiple of upsample {self.upsample}")
        if len(self.ild_band_edges_hz) < 2 or list(self.ild_band_edges_hz) != sorted(self.ild_band_edges_hz):
            raise ValueError("ild_band_edges_hz must be at least two increasing frequencies")
        if self.ild_band_edges_hz[-1] < self.sample_rate / 2:
            raise ValueError("the last ILD band edge must reach the Nyquist frequency")
        if self.phase_decoder not in PHASE_DECODERS:
            raise ValueError(f"phase_decoder must be one of {', '.join(PHASE_DECODERS)}, got {self.phase_decoder!r}")
        if not 0 < self.f0_min_hz < self.f0_max_hz < self.sample_rate / 4:
            raise ValueError("need 0 < f0_min_hz < f0_max_hz < sample_rate / 4")

    # ---- derived sizes -------------------------------------------------------------------
    @property
    def stft_hop(self) -> int:
        return self.hop // self.upsample

    @property
    def n_fft(self) -> int:
        return 4 * self.stft_hop

    @property
    def freq_bins(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def ild_bands(self) -> int:
        return len(self.ild_band_edges_hz) - 1

    @property
    def spatial_channels(self) -> int:
        return self.ild_bands + 1  # per-band ILD + one broadband ITD

    @property
    def pitch_channels(self) -> int:
        return 2 if self.pitch else 0

    @property
    def latent_channels(self) -> int:
        return self.mid_channels + self.pitch_channels + self.spatial_channels

    @property
    def latent_rate(self) -> float:
        return self.sample_rate / self.hop

    def latent_length(self, num_samples: int) -> int:
        return max(1, math.ceil(num_samples / self.hop))


# What fixes the latent space (encoder side) and what only shapes the decoder.
ENCODER_KEYS = ("sample_rate", "hop", "upsample", "mid_channels", "ild_band_edges_hz", "max_itd_ms", "itd_upsample",
                "itd_context", "pitch", "f0_min_hz", "f0_max_hz", "encoder_dim", "encoder_blocks", "kernel_size", "logvar_offset", "magnitude_floor")
PITCH_KEYS = ("pitch", "f0_min_hz", "f0_max_hz")
DECODER_KEYS = ("decoder_dim", "decoder_blocks", "kernel_size")
SHAPE_KEYS = ("sample_rate", "hop", "upsample", "mid_channels", "ild_band_edges_hz", "pitch", "encoder_dim",
              "encoder_blocks", "decoder_dim", "decoder_blocks", "kernel_size")
