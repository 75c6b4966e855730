"""The recipe's stages, in order. Each one is skipped when its output exists.

The heavy stages run the project's own commands in a child process (`python -m prismaudio
...`): exactly what a user would type, with their own resume logic, thread settings and
memory, so a killed recipe resumes inside the stage it was in. Derived configs (the preset
with the recipe's paths filled in) are written next to the outputs, so every run can be
repeated by hand.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from ..config import load_yaml, merge
from ..errors import PrismError
from ..fsutil import atomic_path
from .config import RecipeConfig, RecipePaths, config_file

log = logging.getLogger(__name__)

EVALUATOR_FILES = ("classifier", "clap_reward", "clap_eval", "quality_reward", "quality_eval", "offset_reward", "offset_eval")


class StageFailed(PrismError):
    """A recipe stage's command failed."""


@dataclass
class Stage:
    name: str
    what: str
    done: Callable[[RecipeConfig, RecipePaths], bool]
    run: Callable[[RecipeConfig, RecipePaths], None]
    enabled: Callable[[RecipeConfig], bool] = lambda cfg: True

    def status(self, cfg: RecipeConfig, paths: RecipePaths) -> str:
        if not self.enabled(cfg):
            return "off"
        return "done" if self.done(cfg, paths) else "todo"


def python_module(module: str, *args: str, env: dict | None = None) -> None:
    """Run `python -m MODULE ARGS` in a child process; its output goes to ours."""
    cmd = [sys.executable, "-m", module, *map(str, args)]
    shown = " ".join(cmd[2:] if module == "prismaudio" else cmd[1:])  # `prismaudio ...`, as a user types it
    log.info("$ %s", shown)
    code = subprocess.call(cmd, env={**os.environ, **(env or {})})
    if code != 0:
        raise StageFailed(f"`{shown}` failed (exit {code}); fix it and run the recipe again")


def prismaudio(*args: str, env: dict | None = None) -> None:
    """Run `python -m prismaudio ARGS` in a child process."""
    python_module("prismaudio", *args, env=env)


def write_yaml(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def evaluator_env(paths: RecipePaths) -> dict:
    """Rewards and evaluators come from the recipe's own folder once it has trained them."""
    return {"PRISMAUDIO_EVALUATORS": str(paths.evaluators.resolve())} if evaluators_done(None, paths) else {}


# ---- 1. SynthCanvas ------------------------------------------------------------------------
def canvas_done(cfg: RecipeConfig, paths: RecipePaths) -> bool:
    return (paths.canvas / "README.md").is_file() and paths.manifest.is_file()  # README is written last


def canvas_run(cfg: RecipeConfig, paths: RecipePaths) -> None:
    prismaudio("canvas", "build", paths.canvas, "--config", config_file(cfg.canvas_config))


# ---- 2. codec --------------------------------------------------------------------------------
def codec_done(cfg: RecipeConfig, paths: RecipePaths) -> bool:
    return paths.codec.is_file()


def codec_run(cfg: RecipeConfig, paths: RecipePaths) -> None:
    codec_cfg = load_yaml(config_file(cfg.codec_config))
    steps = cfg.codec_steps or codec_cfg["train"]["max_steps"]
    derived = write_yaml(paths.codec_run / "codec.yaml", merge(codec_cfg, {"train": {"max_steps": steps}}))
    prismaudio("train", "codec", "--config", derived, "--data", paths.canvas, "--out", paths.codec_run)
    exported = paths.codec_run / f"codec_{codec_cfg['name']}.safetensors"
    with atomic_path(paths.codec) as tmp:
        shutil.copyfile(exported, tmp)


# ---- 2b. codec decoder fine-tune -------------------------------------------------------------
def decoder_enabled(cfg: RecipeConfig) -> bool:
    return bool(cfg.decoder_config) and cfg.decoder_steps != 0


def decoder_done(cfg: RecipeConfig, paths: RecipePaths) -> bool:
    return paths.codec_decoder.is_file()


def decoder_run(cfg: RecipeConfig, paths: RecipePaths) -> None:
    decoder_cfg = load_yaml(config_file(cfg.decoder_config))
    train = {"init_from": str(paths.codec), "freeze_encoder": True}
    if cfg.decoder_steps:
        train["max_steps"] = cfg.decoder_steps
    derived = write_yaml(paths.decoder_run / "codec.yaml", merge(decoder_cfg, {"train": train}))
    prismaudio("train", "codec", "--config", derived, "--data", paths.canvas, "--out", paths.decoder_run)
    exported = paths.decoder_run / f"codec_{decoder_cfg['name']}.safetensors"
    with atomic_path(paths.codec_decoder) as tmp:
        shutil.copyfile(exported, tmp)


# ---- 3. features -----------------------------------------------------------------------------
def _extract_jobs(cfg: RecipeConfig, paths: RecipePaths) -> list[tuple[str, str]]:
    """(split, shard) pairs: train in full, every val_every_nth val clip, the eval splits in full."""
    n = cfg.val_every_nth
    jobs = [("train", f"{w}/{cfg.extract_workers}") for w in range(cfg.extract_workers)]
    jobs += [("val", f"{k}/{n * cfg.extract_workers}") for k in range(0, n * cfg.extract_workers, n)]
    return jobs


def features_done(cfg: RecipeConfig, paths: RecipePaths) -> bool:
    return (paths.work / "features" / "DONE").is_file()


def features_run(cfg: RecipeConfig, paths: RecipePaths) -> None:
    """Shards run side by side (one per worker); the cache skips clips already written."""
    jobs = _extract_jobs(cfg, paths)
    for split in ("train", "val"):
        mine = [shard for s, shard in jobs if s == split]
        cmds = [[sys.executable, "-m", "prismaudio", "extract", "--manifest", str(paths.manifest),
                 "--out", str(paths.features(split)), "--split", split, "--codec", str(paths.codec),
                 "--semantic-fps", str(cfg.semantic_fps), "--shard", shard, "-q"] for shard in mine]
        log.info("extracting %s features in %d processes", split, len(cmds))
        procs = [subprocess.Popen(c) for c in cmds]
        codes = [p.wait() for p in procs]
        if any(codes):
            raise StageFailed(f"feature extraction of split '{split}' failed (exit codes {codes}); run the recipe again "
                              "to retry the missing clips")
    (paths.work / "features" / "DONE").write_text(time.strftime("%Y-%m-%d %H:%M:%S\n"))


# ---- 4. generator pretraining ----------------------------------------------------------------
def generator_done(cfg: RecipeConfig, paths: RecipePaths) -> bool:
    return paths.generator.is_file()


def generator_run(cfg: RecipeConfig, paths: RecipePaths) -> None:
    from ..pipeline import load_generator
    from ..train.checkpoint import export_weights, latest_checkpoint

    base = load_yaml(config_file(cfg.generator_config))
    overrides = {"data": {"train": str(paths.features("train")), "val": str(paths.features("val")),
                          "manifest": str(paths.manifest), "codec": str(paths.codec)},
                 "train": {"out_dir": str(paths.generator_run), "seed": cfg.seed}}
    if cfg.generator_steps:
        overrides["train"]["max_steps"] = cfg.generator_steps
    derived = write_yaml(paths.generator_run / "generator.yaml", merge(base, overrides))
    prismaudio("train", "generator", "--config", derived)
    last = latest_checkpoint(paths.generator_run / "checkpoints")
    if last is None:
        raise StageFailed(f"{paths.generator_run}: the generator run left no checkpoint")
    model = load_generator(last)  # the EMA weights
    export_weights(paths.generator, "generator", 1, model.config, model, extra={"trained_from": last.name})


# ---- 5. reward and evaluator models ----------------------------------------------------------
def evaluators_done(cfg: RecipeConfig | None, paths: RecipePaths) -> bool:
    return all((paths.evaluators / f"{name}.safetensors").is_file() for name in EVALUATOR_FILES)


def evaluators_run(cfg: RecipeConfig, paths: RecipePaths) -> None:
    args = ["train", "evaluators", "--canvas", paths.canvas, "--out", paths.evaluators, "--threads", "2"]
    if cfg.evaluator_steps:
        args += ["--steps", str(cfg.evaluator_steps)]
    prismaudio(*args)


# ---- 6. Fast-GRPO ----------------------------------------------------------------------------
def grpo_done(cfg: RecipeConfig, paths: RecipePaths) -> bool:
    return paths.generator_rl.is_file()


def grpo_run(cfg: RecipeConfig, paths: RecipePaths) -> None:
    base = load_yaml(config_file(cfg.grpo_config))
    overrides = {"generator_checkpoint": str(paths.generator), "codec_checkpoint": str(paths.decoding_codec),
                 "data": str(paths.features("train")), "eval_data": str(paths.features("val")),
                 "manifest": str(paths.manifest), "out_dir": str(paths.grpo_run), "seed": cfg.seed}
    if cfg.grpo_iterations:
        overrides["iterations"] = cfg.grpo_iterations
    derived = write_yaml(paths.grpo_run / "grpo.yaml", merge(base, overrides))
    prismaudio("grpo", "--config", derived, env=evaluator_env(paths))


# ---- 6b. the stem generator and its exemplar bank -------------------------------------------
def stems_enabled(cfg: RecipeConfig) -> bool:
    return bool(cfg.stem_config) and cfg.stem_steps != 0


def stems_done(cfg: RecipeConfig, paths: RecipePaths) -> bool:
    return paths.stem_model.is_file() and paths.exemplar_bank.is_file()


def stems_run(cfg: RecipeConfig, paths: RecipePaths) -> None:
    from ..stemgen.trainer import export_model
    from ..train.checkpoint import latest_checkpoint

    base = load_yaml(config_file(cfg.stem_config))
    train = {"out_dir": str(paths.stem_run), "seed": cfg.seed}
    if cfg.stem_steps:
        train["max_steps"] = cfg.stem_steps
    derived = write_yaml(paths.stem_run / "stemgen.yaml", merge(base, {
        "codec": str(paths.decoding_codec), "train": train,
        "data": {"pool_dir": str(paths.stem_run / "pool"), "library": cfg.library_dir}}))
    prismaudio("train", "stems", "--config", derived)
    python_module("prismaudio.stemgen.bank", "--config", derived, "--out", paths.exemplar_bank)
    export_model(latest_checkpoint(paths.stem_run / "checkpoints"), paths.stem_model, half=True)


# ---- 6c. Fast-GRPO on the stem generator ------------------------------------------------------
def stem_grpo_enabled(cfg: RecipeConfig) -> bool:
    return stems_enabled(cfg) and bool(cfg.stem_grpo_config) and cfg.stem_grpo_iterations != 0


def stem_grpo_done(cfg: RecipeConfig, paths: RecipePaths) -> bool:
    return paths.stem_model_rl.is_file()


def stem_grpo_config(cfg: RecipeConfig, paths: RecipePaths) -> Path:
    """The preset with the recipe's stem generator, exemplar bank, codec and folder filled in."""
    base = load_yaml(config_file(cfg.stem_grpo_config))
    grpo = {"out_dir": str(paths.stem_grpo_run), "seed": cfg.seed}
    if cfg.stem_grpo_iterations:
        grpo["iterations"] = cfg.stem_grpo_iterations
    plans = {"stem_model": str(paths.stem_model), "exemplar_bank": str(paths.exemplar_bank),
             "codec": str(paths.decoding_codec), "seed": cfg.seed}
    if cfg.stem_config:
        plans["stem_config"] = str(config_file(cfg.stem_config))
    return write_yaml(paths.stem_grpo_run / "grpo_stem.yaml", merge(base, {"plans": plans, "grpo": grpo}))


def stem_grpo_run(cfg: RecipeConfig, paths: RecipePaths) -> None:
    from ..stemgen.grpo import export_stem_model
    from ..train.checkpoint import latest_checkpoint

    derived = stem_grpo_config(cfg, paths)
    prismaudio("train", "stems-grpo", "--config", derived, env=evaluator_env(paths))
    # shipped as the stems stage ships its model: EMA weights in float16
    export_stem_model(latest_checkpoint(paths.stem_grpo_run), paths.stem_model_rl, half=True)


# ---- 7. evaluation, 8. bundle ----------------------------------------------------------------
def evaluation_done(cfg: RecipeConfig, paths: RecipePaths) -> bool:
    return paths.results.is_file()


def evaluation_run(cfg: RecipeConfig, paths: RecipePaths) -> None:
    from .evaluation import evaluate_models

    os.environ.update(evaluator_env(paths))
    evaluate_models(cfg, paths)


def bundle_done(cfg: RecipeConfig, paths: RecipePaths) -> bool:
    from ..pipeline import BUNDLE_INDEX

    return (paths.bundle / BUNDLE_INDEX).is_file()


def bundle_run(cfg: RecipeConfig, paths: RecipePaths) -> None:
    from .bundle import write_bundle

    write_bundle(cfg, paths)


STAGES: list[Stage] = [
    Stage("canvas", "build SynthCanvas", canvas_done, canvas_run),
    Stage("codec", "train the stereo codec", codec_done, codec_run),
    Stage("decoder", "fine-tune the codec's decoder (encoder frozen)", decoder_done, decoder_run,
          decoder_enabled),
    Stage("features", "cache conditioning features and codec latents", features_done, features_run),
    Stage("generator", "flow-matching pretraining of the generator", generator_done, generator_run),
    Stage("evaluators", "train the reward and evaluator models", evaluators_done, evaluators_run),
    Stage("grpo", "Fast-GRPO post-training", grpo_done, grpo_run),
    Stage("stems", "train the stem generator and build its exemplar bank", stems_done, stems_run, stems_enabled),
    Stage("stems-grpo", "Fast-GRPO on the stem generator (semantic, temporal, aesthetic per stem)", stem_grpo_done,
          stem_grpo_run, stem_grpo_enabled),
    Stage("evaluate", "score reference, before-RL and after-RL audio", evaluation_done, evaluation_run),
    Stage("bundle", "write the model bundle", bundle_done, bundle_run),
]
STAGE_NAMES = [s.name for s in STAGES]


def run_recipe(cfg: RecipeConfig, only: list[str] | None = None, until: str | None = None) -> list[tuple[str, str, float]]:
    """Run the stages in order (or `only` these, or up to `until`); returns (stage, status, seconds)."""
    paths = RecipePaths.of(cfg)
    paths.work.mkdir(parents=True, exist_ok=True)
    report = []
    for stage in STAGES:
        if only and stage.name not in only:
            continue
        status = stage.status(cfg, paths)
        if status != "todo":
            log.info("[%s] %s: skipped", stage.name, "done already" if status == "done" else "off in this recipe")
            report.append((stage.name, "skipped" if status == "done" else "off", 0.0))
        else:
            log.info("[%s] %s", stage.name, stage.what)
            t0 = time.time()
            stage.run(cfg, paths)
            report.append((stage.name, "ran", time.time() - t0))
            _append_timing(paths, stage.name, time.time() - t0)
        if stage.name == until:
            break
    return report


def _append_timing(paths: RecipePaths, stage: str, seconds: float) -> None:
    """Wall time per stage, appended (a resumed stage adds a second line)."""
    with open(paths.work / "timings.tsv", "a", encoding="utf-8") as f:
        f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')}\t{stage}\t{seconds:.0f}\n")
