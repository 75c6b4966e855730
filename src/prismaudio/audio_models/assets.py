"""Loading the trained evaluator weights shipped as package data (safetensors, config inside).

Reward and evaluator twins are trained separately (other seed, other data split, and for the
offset model another architecture) so an RL gain measured by the metrics cannot come from
gaming the reward model. Set PRISMAUDIO_EVALUATORS to a folder to use retrained copies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

from ..config import from_dict
from ..errors import CheckpointError
from ..train.checkpoint import export_weights, load_checkpoint
from .nets import (ClapConfig, ClapProjection, ClassHead, ClassHeadConfig, OffsetConfig, QualityConfig,
                   QualityHead, build_offset_net)

ASSET_VERSION = 1
KINDS = {
    "clap": (ClapConfig, ClapProjection),
    "classifier": (ClassHeadConfig, ClassHead),
    "quality": (QualityConfig, QualityHead),
    "offset": (OffsetConfig, build_offset_net),
}
# name -> kind; "<kind>_reward" feeds prismaudio.rewards, "<kind>_eval" and "classifier" feed metrics.
EVALUATORS = {
    "clap_reward": "clap", "clap_eval": "clap",
    "offset_reward": "offset", "offset_eval": "offset",
    "quality_reward": "quality", "quality_eval": "quality",
    "classifier": "classifier",
}


def assets_dir() -> Path:
    override = os.environ.get("PRISMAUDIO_EVALUATORS")
    return Path(override) if override else Path(__file__).resolve().parents[1] / "assets" / "evaluators"


@dataclass
class LoadedModel:
    name: str
    module: torch.nn.Module
    config: object
    extra: dict


def save_model(name: str, module: torch.nn.Module, config, extra: dict, folder: Path | None = None) -> Path:
    kind = EVALUATORS[name]
    path = Path(folder or assets_dir()) / f"{name}.safetensors"
    path.parent.mkdir(parents=True, exist_ok=True)
    return export_weights(path, f"evaluator.{kind}", ASSET_VERSION, config, module, extra=extra)


@lru_cache(maxsize=16)
def load_model(name: str, folder: str | None = None) -> LoadedModel:
    """A trained evaluator in eval mode; a missing file is a one-line CheckpointError saying how to train it."""
    if name not in EVALUATORS:
        raise CheckpointError(f"unknown evaluator '{name}' (known: {', '.join(EVALUATORS)})")
    kind = EVALUATORS[name]
    path = Path(folder or assets_dir()) / f"{name}.safetensors"
    if not path.is_file():
        raise CheckpointError(f"{path}: evaluator '{name}' not found; train it with `prismaudio train evaluators`")
    ckpt = load_checkpoint(path, kind=f"evaluator.{kind}")
    if ckpt.version != ASSET_VERSION:
        raise CheckpointError(f"{path}: evaluator format {ckpt.version}, this code reads {ASSET_VERSION}; retrain it")
    cfg_cls, builder = KINDS[kind]
    cfg = from_dict(cfg_cls, ckpt.config, where=str(path))
    module = builder(cfg)
    module.load_state_dict(ckpt.group("model"))
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return LoadedModel(name, module, cfg, ckpt.extra)
