"""Build options of a PhysWorld dataset (loaded strictly from YAML / CLI flags)."""

from __future__ import annotations

from dataclasses import dataclass, field

SAMPLE_RATES = (16000, 44100)


@dataclass
class PhysWorldConfig:
    sample_rate: int = 16000
    duration: float = 8.0                   # seconds per clip
    sizes: list[list[int]] = field(default_factory=lambda: [[256, 256], [320, 240], [224, 224]])  # [width, height], one drawn per clip
    fps: list[float] = field(default_factory=lambda: [25.0, 30.0, 24.0])  # one drawn per clip
    train: int = 200
    val: int = 40
    test: int = 60                          # held-out objects and floor / backdrop photos (see objects.py)
    max_objects: int = 4                    # 1..max_objects objects per clip
    still_fraction: float = 0.1             # clips where nothing moves (no sound event at all)
    moving_camera_fraction: float = 0.3
    seed: int = 0
    workers: int = 2
    library: str | None = None              # a sound library folder (prismaudio.library); None: SynthCanvas classes
    soundfont: str | None = None            # None: FluidR3 when installed, else TimGM6mb

    def __post_init__(self) -> None:
        if self.sample_rate not in SAMPLE_RATES:
            raise ValueError(f"sample_rate {self.sample_rate} is not supported (use 16000 or 44100)")
        if not 0 < self.duration <= 60:
            raise ValueError(f"duration must be in (0, 60] seconds, got {self.duration}")
        if not self.sizes:
            raise ValueError("sizes: give at least one [width, height]")
        for wh in self.sizes:
            if len(wh) != 2 or any(v < 32 or v > 2048 or v % 2 for v in wh):
                raise ValueError(f"sizes: each entry must be [width, height], even numbers in 32..2048, got {wh}")
        if not self.fps or any(not 5 <= f <= 120 for f in self.fps):
            raise ValueError(f"fps: give frame rates in 5..120, got {self.fps}")
        for name in ("train", "val", "test"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.train + self.val + self.test == 0:
            raise ValueError("nothing to build: train, val and test are all 0")
        if not 1 <= self.max_objects <= 4:
            raise ValueError(f"max_objects must be in 1..4, got {self.max_objects}")
        for name in ("still_fraction", "moving_camera_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")

    def fingerprint(self) -> dict:
        """What decides the content of each clip (not the worker count, not the split sizes)."""
        from ...config import to_dict

        data = to_dict(self)
        for key in ("workers", "train", "val", "test"):  # a clip does not depend on how many others there are:
            data.pop(key)                                # a rerun with larger counts grows the build
        return data
