"""The stem generator's configuration: model, training and data sections of one YAML preset
(configs/stemgen_tiny.yaml), loaded strictly through prismaudio.config."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import from_dict, load_yaml, merge
from ..train.flow_trainer import FlowTrainConfig

TRACK_CHANNELS = 5  # onset impulse, sustain gate, strength, fast and slow decay since the last onset
EXEMPLAR_DIM = 64  # exemplar.py: 24 mean + 24 std of the mid latent over active frames + 16 envelope
# keys that fix tensor shapes: a checkpoint loads into a model only if these agree
SHAPE_KEYS = ("preset", "latent_channels", "width", "depth", "heads", "mlp_ratio", "patch", "text_dim",
              "exemplar_dim", "track_channels")


@dataclass
class StemModelConfig:
    preset: str = "tiny"
    sample_rate: int = 16000
    hop: int = 320
    latent_channels: int = 24  # the tiny codec's learned mid channels
    duration: float = 8.0
    width: int = 256
    depth: int = 6
    heads: int = 4
    mlp_ratio: float = 4.0
    rope_fraction: float = 0.5
    patch: int = 2
    text_dim: int = 384
    exemplar_dim: int = EXEMPLAR_DIM
    track_channels: int = TRACK_CHANNELS

    def __post_init__(self) -> None:
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        if int(self.width // self.heads * self.rope_fraction) % 2:
            raise ValueError("rotary dimensions per head must be even")
        for name in ("sample_rate", "hop", "latent_channels", "width", "depth", "heads", "patch"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")

    @property
    def latent_rate(self) -> float:
        return self.sample_rate / self.hop


@dataclass
class StemDataConfig:
    pool_dir: str = "runs/stemgen/pool"  # cached rendered notes (built once, reused), relative to the current folder
    notes_per_impact_class: int = 24
    renders_per_sustained_class: int = 8
    sustained_render_seconds: float = 4.0
    # classes never seen in training (the exemplar test); >= 10
    held_out: list[str] = field(default_factory=lambda: [
        "side stick", "open hi-hat", "cowbell", "claves", "vibraphone", "koto", "steel drum", "desk bell",
        "applause", "cello", "clarinet", "warm pad"])
    library: str | None = None  # a real-recordings library (prismaudio.library); its classes join the pool
    # share of training rows drawn from classes only the library has (the rest from the sound
    # bank's classes, which SynthCanvas and the benchmark use): without it ~250 library classes
    # would take two thirds of every batch
    library_share: float = 0.5
    max_impacts: int = 8
    min_gap: float = 0.15  # seconds between two impacts of one source
    exemplar_dropout: float = 0.3
    text_dropout: float = 0.2
    reuse: int = 2  # training steps per rendered batch (fresh t and noise each): halves the data cost
    workers: int = 1  # data processes (each one torch thread); 0 = in the training process
    prefetch: int = 4  # batches queued per worker
    val_clips: int = 32

    def __post_init__(self):
        if not 0.0 <= self.library_share <= 1.0:
            raise ValueError("library_share must be within [0, 1]")


@dataclass
class StemTrainConfig(FlowTrainConfig):
    eval_every: int = 500  # sample + classify validation clips (class accuracy in the log)
    eval_clips: int = 16
    eval_steps: int = 8


@dataclass
class StemRunConfig:
    model: StemModelConfig = field(default_factory=StemModelConfig)
    train: StemTrainConfig = field(default_factory=StemTrainConfig)
    data: StemDataConfig = field(default_factory=StemDataConfig)
    # the codec whose mid latent the model generates (None: the shipped one); a stem model
    # only works with the codec it was trained on, so the recipe trains it on the recipe's codec
    codec: str | None = None


def preset_path(name: str) -> Path:
    return Path(__file__).resolve().parents[3] / "configs" / f"stemgen_{name}.yaml"


def load_stem_run(path_or_name: str | Path, overrides: dict | None = None) -> StemRunConfig:
    path = Path(path_or_name)
    if not path.suffix:
        path = preset_path(str(path_or_name))
    return from_dict(StemRunConfig, merge(load_yaml(path), overrides or {}), where=str(path))
