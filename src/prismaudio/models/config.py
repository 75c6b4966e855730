"""The generator's configuration: one dataclass, presets as YAML data (configs/generator_*.yaml).

A preset file holds a `model:` section (this dataclass) and a `train:` section (the
trainer's, see prismaudio.train.flow_trainer). `preset` names the size; a checkpoint of
another preset is refused by name and shape before any weight is copied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import from_dict, load_yaml
from ..errors import ConfigError
from ..presets import presets_dir
from .sequence import SequenceConfig

CONFIG_DIR = presets_dir()  # configs/ in a checkout, prismaudio/presets/ in a wheel
TEXT_MODULES = ("semantic", "temporal", "aesthetic", "spatial")
# Config keys that define tensor shapes: two checkpoints can share weights only if these agree.
SHAPE_KEYS = (
    "preset", "latent_channels", "width", "depth", "heads", "mlp_ratio", "patch",
    "semantic_dim", "sync_dim", "text_dim", "text_modules", "plan_tracks", "max_sources", "label_buckets",
)


@dataclass
class GeneratorConfig:
    preset: str
    # the audio latent (facts of the codec this generator was trained with)
    sample_rate: int
    hop: int
    latent_channels: int
    duration: float  # training clip length in seconds; longer videos are generated in windows
    # backbone
    width: int
    depth: int
    heads: int
    mlp_ratio: float = 4.0
    rope_fraction: float = 0.5  # rotary positions on this fraction of each head's dimensions
    patch: int = 1  # latent frames per token
    # conditioning streams (dims and rates of the encoders that feed them)
    semantic_dim: int = 1280
    semantic_rate: float = 8.0
    sync_dim: int = 256
    sync_rate: float = 24.0
    text_dim: int = 384
    text_tokens: int = 64
    text_modules: list[str] = field(default_factory=lambda: list(TEXT_MODULES))
    # time-aligned plan tracks (per-source onset/offset markers, label, position, distance)
    plan_tracks: bool = True
    max_sources: int = 4
    label_buckets: int = 1024
    onset_spread: float = 0.5  # seconds over which an onset marker decays

    def __post_init__(self) -> None:
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        head_dim = self.width // self.heads
        if int(head_dim * self.rope_fraction) % 2:
            raise ValueError("rotary dimensions per head must be even")
        for name in ("sample_rate", "hop", "latent_channels", "width", "depth", "heads", "patch", "max_sources"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if not self.duration > 0:
            raise ValueError("duration must be positive")

    @property
    def latent_rate(self) -> float:
        return self.sample_rate / self.hop

    def sequence(self, duration: float | None = None) -> SequenceConfig:
        return SequenceConfig(
            duration=self.duration if duration is None else duration, sample_rate=self.sample_rate, hop=self.hop,
            patch=self.patch, semantic_rate=self.semantic_rate, sync_rate=self.sync_rate,
        )


def preset_path(name: str) -> Path:
    return CONFIG_DIR / f"generator_{name}.yaml"


def load_model_config(name_or_path: str | Path) -> GeneratorConfig:
    """The `model:` section of a preset name (`tiny`, `paper`) or of a YAML file."""
    path = Path(name_or_path)
    if not path.suffix:
        path = preset_path(str(name_or_path))
        if not path.is_file():
            known = sorted(p.stem.removeprefix("generator_") for p in CONFIG_DIR.glob("generator_*.yaml"))
            raise ConfigError(f"unknown generator preset '{name_or_path}' (known: {', '.join(known) or 'none'})")
    data = load_yaml(path)
    if "model" not in data:
        raise ConfigError(f"{path}: no 'model:' section")
    return from_dict(GeneratorConfig, data["model"], where=f"{path}:model")
