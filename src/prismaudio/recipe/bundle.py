"""The recipe's last stage: the model bundle `PrismAudio.from_pretrained` loads.

The bundle holds the codec and the generator (after Fast-GRPO when that stage ran, else the
pretrained one) as safetensors with their configs inside, and an index that records, for
every component the model uses, its version and how it was trained: the derived configs the
recipe ran, the packaged planner heads and evaluators, and the evaluation results.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from ..config import load_yaml, to_dict
from .config import RecipeConfig, RecipePaths

log = logging.getLogger(__name__)


def _asset_versions(folder: Path) -> dict:
    """{file stem: kind, version, step, training config} of the packaged safetensors in `folder`
    (their headers only)."""
    from ..train.checkpoint import read_header

    out = {}
    for path in sorted(folder.glob("*.safetensors")):
        header = read_header(path)
        out[path.stem] = {"file": path.name, **{k: header[k] for k in ("kind", "version", "step", "config", "extra")
                                                if k in header}}
    return out


def portable_paths(obj, base: Path):
    """`obj` with every absolute path string under `base` made relative to it, and any other
    absolute path cut to its last two parts: a shipped bundle names no folder of the machine
    that trained it."""
    if isinstance(obj, dict):
        return {k: portable_paths(v, base) for k, v in obj.items()}
    if isinstance(obj, list):
        return [portable_paths(v, base) for v in obj]
    if isinstance(obj, str) and obj.startswith("/") and "\n" not in obj:
        path = Path(obj)
        try:
            return str(path.relative_to(base))
        except ValueError:
            return str(Path(*path.parts[-2:])) if len(path.parts) > 2 else path.name
    return obj


def component_record(cfg: RecipeConfig, paths: RecipePaths) -> dict:
    package = Path(__file__).resolve().parents[1] / "assets"
    derived = {name: load_yaml(p) for name, p in (("codec", paths.codec_run / "codec.yaml"),
                                                   ("codec_decoder", paths.decoder_run / "codec.yaml"),
                                                   ("generator", paths.generator_run / "generator.yaml"),
                                                   ("grpo", paths.grpo_run / "grpo.yaml"),
                                                   ("stem_generator", paths.stem_run / "stemgen.yaml"),
                                                   ("stem_grpo", paths.stem_grpo_run / "grpo_stem.yaml")) if p.is_file()}
    evaluators = paths.evaluators if paths.evaluators.is_dir() else package / "evaluators"
    return portable_paths({
        "recipe": to_dict(cfg),
        "training_configs": derived,
        "planner_heads": _asset_versions(package / "planner"),
        "evaluators": _asset_versions(evaluators),
    }, Path.cwd())


def write_bundle(cfg: RecipeConfig, paths: RecipePaths) -> Path:
    from ..pipeline import from_checkpoints

    generator = paths.generator_rl if paths.generator_rl.is_file() else paths.generator
    model = from_checkpoints(generator, paths.decoding_codec, device="cpu", name=cfg.name,
                             defaults={"num_steps": cfg.bundle_num_steps})
    results = json.loads(paths.results.read_text()) if paths.results.is_file() else None
    stem_model = paths.shipped_stem_model(cfg.stem_grpo_ship)
    extra = {"components": component_record(cfg, paths), "post_training": "fast-grpo" if generator == paths.generator_rl else None,
             "stem_post_training": "fast-grpo" if stem_model == paths.stem_model_rl else None,
             "results": results}
    staging = paths.bundle.with_name(paths.bundle.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_bundle(staging, extra=extra)
    # the stem engine's (after its Fast-GRPO stage when that ran), on the same codec
    for stem_part, name in ((stem_model, paths.stem_model.name), (paths.exemplar_bank, paths.exemplar_bank.name)):
        if stem_part.is_file():
            shutil.copyfile(stem_part, staging / name)
    if paths.results.with_suffix(".md").is_file():
        shutil.copyfile(paths.results.with_suffix(".md"), staging / "RESULTS.md")
    shutil.rmtree(paths.bundle, ignore_errors=True)
    staging.rename(paths.bundle)  # the bundle appears whole or not at all
    size = sum(p.stat().st_size for p in paths.bundle.iterdir()) / 1e6
    log.info("bundle written: %s (%.1f MB)", paths.bundle, size)
    return paths.bundle


def install_bundle(paths: RecipePaths, name: str) -> Path:
    """Copy the bundle into the package (src/prismaudio/assets/models/<name>), where
    `from_pretrained(name)` finds it with no download."""
    target = Path(__file__).resolve().parents[1] / "assets" / "models" / name
    staging = target.with_name(name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(paths.bundle, staging)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target
