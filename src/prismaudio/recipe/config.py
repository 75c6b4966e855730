"""The recipe's settings (configs/recipe_*.yaml) and the paths its stages write."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..presets import resolve_config


def config_file(path: str | Path) -> Path:
    """A config path as written in a recipe: relative to the working folder, else the shipped preset."""
    return resolve_config(path)


@dataclass
class RecipeConfig:
    name: str = "tiny"
    work_dir: str = "runs/recipe_tiny"
    canvas_dir: str = "data/canvas"
    canvas_config: str = "configs/canvas_default.yaml"
    codec_config: str = "configs/codec_tiny.yaml"
    codec_steps: int | None = None  # None: the codec config's max_steps
    # Decoder fine-tune with the encoder frozen (latents unchanged); off without a decoder_config or with 0 steps.
    decoder_config: str | None = None
    decoder_steps: int | None = None  # None: the decoder config's max_steps
    semantic_fps: float = 4.0  # must equal the generator's semantic_rate
    extract_workers: int = 2
    val_every_nth: int = 4  # cache every n-th validation clip (validation loss needs a few dozen)
    generator_config: str = "configs/generator_tiny.yaml"
    generator_steps: int | None = None
    evaluator_steps: int | None = None
    grpo_config: str = "configs/grpo_tiny.yaml"
    grpo_iterations: int | None = None
    # the stem generator (one source at a time) and its exemplar bank, on the recipe's codec;
    # None: stage off
    stem_config: str | None = "configs/stemgen_tiny.yaml"
    stem_steps: int | None = 6000  # None: the stem config's max_steps; 6000 steps are about 2 h on a quiet core
    library_dir: str = "data/library"  # the sound library (`make library`) the stem generator also trains on
    # Fast-GRPO on the stem generator (rewards per stem); None or 0 iterations: stage off
    stem_grpo_config: str | None = "configs/grpo_stem_tiny.yaml"
    stem_grpo_iterations: int | None = None  # None: the config's grpo.iterations
    # Ship the stem model after Fast-GRPO (else the one before it). Off: 100 CPU iterations did
    # not raise the three rewards together on held-out plans (docs/stem-grpo.md).
    stem_grpo_ship: bool = False
    eval_splits: dict[str, int] = field(default_factory=lambda: {"test": 64, "ood": 60})
    eval_num_steps: int = 24
    bundle_num_steps: int = 24  # the shipped model's default sampling steps (benchmarks/bench_steps.py)
    eval_cfg_strength: float = 3.0
    eval_batch: int = 4
    seed: int = 0

    def __post_init__(self) -> None:
        if self.extract_workers < 1 or self.val_every_nth < 1 or self.eval_batch < 1:
            raise ValueError("extract_workers, val_every_nth and eval_batch must be at least 1")
        if self.eval_num_steps < 1 or self.bundle_num_steps < 1:
            raise ValueError("eval_num_steps and bundle_num_steps must be at least 1")


@dataclass
class RecipePaths:
    """Where each stage writes (all under work_dir except the canvas)."""

    work: Path
    canvas: Path

    @classmethod
    def of(cls, cfg: RecipeConfig) -> "RecipePaths":
        return cls(Path(cfg.work_dir), Path(cfg.canvas_dir))

    @property
    def manifest(self) -> Path:
        return self.canvas / "manifest.jsonl"

    @property
    def codec_run(self) -> Path:
        return self.work / "codec"

    @property
    def codec(self) -> Path:
        return self.work / "codec.safetensors"  # the frozen codec every later stage uses

    @property
    def decoder_run(self) -> Path:
        return self.work / "codec_decoder"

    @property
    def codec_decoder(self) -> Path:
        return self.work / "codec_decoder.safetensors"  # same encoder and latents, better decoder

    @property
    def decoding_codec(self) -> Path:
        """The codec that turns latents into audio (rewards, evaluation, the bundle)."""
        return self.codec_decoder if self.codec_decoder.is_file() else self.codec

    def features(self, split: str) -> Path:
        return self.work / "features" / split

    @property
    def generator_run(self) -> Path:
        return self.work / "generator"

    @property
    def generator(self) -> Path:
        return self.work / "generator.safetensors"  # pretrained (before RL), EMA weights

    @property
    def evaluators(self) -> Path:
        return self.work / "evaluators"

    @property
    def grpo_run(self) -> Path:
        return self.work / "grpo"

    @property
    def generator_rl(self) -> Path:
        return self.grpo_run / "generator_grpo.safetensors"

    @property
    def stem_run(self) -> Path:
        return self.work / "stemgen"

    @property
    def stem_model(self) -> Path:
        return self.work / "stem_generator.safetensors"  # EMA weights, float16

    @property
    def exemplar_bank(self) -> Path:
        return self.work / "exemplar_bank.safetensors"

    @property
    def stem_grpo_run(self) -> Path:
        return self.work / "stemgen_grpo"

    @property
    def stem_model_rl(self) -> Path:
        return self.stem_grpo_run / "stem_generator_grpo.safetensors"  # EMA policy after Fast-GRPO, float16

    def shipped_stem_model(self, after_grpo: bool) -> Path:
        """The stem generator the bundle ships: after Fast-GRPO when asked and that stage ran."""
        return self.stem_model_rl if after_grpo and self.stem_model_rl.is_file() else self.stem_model

    @property
    def evaluation(self) -> Path:
        return self.work / "eval"

    @property
    def results(self) -> Path:
        return self.work / "results.json"

    @property
    def bundle(self) -> Path:
        return self.work / "bundle"
