"""Build options of a SynthCanvas dataset (loaded strictly from YAML / CLI flags)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .sprites import EMOJI_FONT

SAMPLE_RATES = (16000, 44100)


@dataclass
class CanvasConfig:
    sample_rate: int = 16000  # 16000 (default) or 44100 (paper preset)
    duration: float = 8.0  # seconds per sample
    width: int = 224
    height: int = 224
    fps: float = 25.0
    single_per_class: int = 3  # single-source samples per class (split train/val/test per class)
    multi: int = 50  # multi-source samples (2-3 sources; split 80/10/10)
    ood: int = 20  # out-of-distribution samples (4 sources, held-out backgrounds and speeds)
    degraded_fraction: float = 0.2  # fraction of samples with a degraded copy
    seed: int = 0
    workers: int = 2
    classes: list[str] = field(default_factory=list)  # subset of class names (empty: all)
    sound_bank: str | None = None  # folder of <class>/*.wav (+ optional classes.yaml)
    sound_bank_mode: Literal["replace", "extend"] = "extend"
    library: str | None = None  # a built sound library: its classes replace the built-in ones
    soundfont: str | None = None  # None: FluidR3 when installed, else TimGM6mb from pretty_midi
    emoji_font: str = EMOJI_FONT

    def __post_init__(self) -> None:
        if self.sample_rate not in SAMPLE_RATES:
            raise ValueError(f"sample_rate {self.sample_rate} is not supported (use 16000 or 44100)")
        if not self.duration > 0:
            raise ValueError(f"duration must be positive, got {self.duration}")
        if self.duration > 60:
            raise ValueError(f"duration {self.duration} s is too long (at most 60 s)")
        for name in ("width", "height"):
            v = getattr(self, name)
            if v < 32 or v > 2048 or v % 2:
                raise ValueError(f"{name} must be an even number of pixels in 32..2048, got {v}")
        if not 1 <= self.fps <= 120:
            raise ValueError(f"fps must be in 1..120, got {self.fps}")
        for name in ("single_per_class", "multi", "ood"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.single_per_class + self.multi + self.ood == 0:
            raise ValueError("nothing to build: single_per_class, multi and ood are all 0")
        if not 0.0 <= self.degraded_fraction <= 1.0:
            raise ValueError(f"degraded_fraction must be in [0, 1], got {self.degraded_fraction}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")

    def fingerprint(self) -> dict:
        """What decides the content of a build (everything but the worker count)."""
        from ..config import to_dict

        data = to_dict(self)
        data.pop("workers")
        if data["library"] is None:  # builds without a library keep the fingerprint they always had
            data.pop("library")
        return data
