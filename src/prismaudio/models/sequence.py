"""Every sequence length of the generator, derived in one place from a duration and rates.

MMAudio's `sequence_config` habit: nothing elsewhere hard-codes 100 latent frames or 64
text tokens; it asks a `SequenceConfig`. Lengths follow the conventions of the components
that produce them: the codec gives ceil(samples / hop) latent frames, `media.decode_frames`
gives floor(duration * fps) frames (at least one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def frames_at(duration: float, rate: float) -> int:
    """Frames uniform in time at `rate` over `duration` s (as media.decode_frames samples them)."""
    return max(1, int(math.floor(duration * rate + 1e-6)))


@dataclass(frozen=True)
class SequenceConfig:
    duration: float  # seconds of audio
    sample_rate: int  # codec sample rate
    hop: int  # waveform samples per latent frame
    patch: int = 1  # latent frames per DiT token
    semantic_rate: float = 8.0  # semantic frame tokens per second
    sync_rate: float = 24.0  # sync feature tokens per second

    def __post_init__(self) -> None:
        if not self.duration > 0:
            raise ValueError(f"duration must be positive, got {self.duration}")
        if self.sample_rate <= 0 or self.hop <= 0 or self.patch <= 0:
            raise ValueError("sample_rate, hop and patch must be positive")

    @property
    def latent_rate(self) -> float:
        return self.sample_rate / self.hop

    @property
    def num_samples(self) -> int:
        return round(self.duration * self.sample_rate)

    @property
    def latent_len(self) -> int:
        return math.ceil(self.num_samples / self.hop)

    @property
    def token_len(self) -> int:
        """DiT tokens over the latent (the last token is padded when latent_len % patch != 0)."""
        return math.ceil(self.latent_len / self.patch)

    @property
    def semantic_len(self) -> int:
        return frames_at(self.duration, self.semantic_rate)

    @property
    def sync_len(self) -> int:
        return frames_at(self.duration, self.sync_rate)

    def latent_times(self):
        """Centre time (s) of every latent frame, as a numpy array [latent_len]."""
        import numpy as np

        return (np.arange(self.latent_len) + 0.5) / self.latent_rate

    def with_duration(self, duration: float) -> "SequenceConfig":
        return SequenceConfig(duration, self.sample_rate, self.hop, self.patch, self.semantic_rate, self.sync_rate)
