"""`prismaudio recipe [CONFIG]`: train the default model end to end (resumable, stage by stage)."""

from __future__ import annotations

from pathlib import Path

PRESETS = ("tiny",)  # configs/recipe_<name>.yaml


def register(sub, common) -> None:
    p = sub.add_parser("recipe", parents=[common], help="train the default model end to end (canvas -> ... -> bundle)",
                       description="Run the recipe's stages in order; a stage whose output exists is skipped, so a "
                                   "killed run continues where it stopped.")
    p.add_argument("config", nargs="?", default="tiny", help="a preset name (tiny) or a recipe YAML (default: tiny)")
    p.add_argument("--work-dir", help="where the stages write (overrides the config's work_dir)")
    p.add_argument("--canvas-dir", help="SynthCanvas folder (overrides canvas_dir)")
    p.add_argument("--only", default="", help="comma-separated stages to run (others are not touched)")
    p.add_argument("--until", default=None, help="stop after this stage")
    p.add_argument("--install", action="store_true",
                   help="copy the finished bundle into the package (src/prismaudio/assets/models/NAME)")
    p.add_argument("--list", action="store_true", help="list the stages and whether each is done, then exit")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..config import load_config
    from ..errors import ConfigError
    from ..recipe import STAGE_NAMES, STAGES, RecipeConfig, RecipePaths, run_recipe
    from ..recipe.bundle import install_bundle

    from ..recipe.config import config_file

    path = config_file(f"configs/recipe_{args.config}.yaml") if args.config in PRESETS else args.config
    overrides = {k: v for k, v in (("work_dir", args.work_dir), ("canvas_dir", args.canvas_dir)) if v}
    cfg = load_config(RecipeConfig, path, overrides)
    only = [s for s in args.only.split(",") if s]
    for name in only + ([args.until] if args.until else []):
        if name not in STAGE_NAMES:
            raise ConfigError(f"unknown stage '{name}' (stages: {', '.join(STAGE_NAMES)})")
    paths = RecipePaths.of(cfg)
    if args.list:
        for stage in STAGES:
            print(f"{stage.name:11s} {stage.status(cfg, paths):5s} {stage.what}")
        return 0
    report = run_recipe(cfg, only or None, args.until)
    for name, status, seconds in report:
        print(f"{name:11s} {status:8s} {seconds / 60:7.1f} min")
    if args.install:
        if not (paths.bundle / "prismaudio.json").is_file():
            raise ConfigError(f"--install: no finished bundle in {paths.bundle} yet")
        print(f"installed: {install_bundle(paths, cfg.name)}")
    return 0
