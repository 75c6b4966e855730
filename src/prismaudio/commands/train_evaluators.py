"""`prismaudio train evaluators|clap|offset|quality|classifier [--config YAML]`: train the reward/evaluator models.

Data: a SynthCanvas build (--canvas; `prismaudio canvas build`), read through its typed
manifest. Weights go to --out (default runs/evaluators in the current folder; never the
installed package, whose assets/evaluators are the shipped models). Point the rewards and
`prismaudio eval` at a trained folder with PRISMAUDIO_EVALUATORS=<folder>.
`--config configs/evaluators_tiny.yaml` holds the same settings as a preset; flags given on
the command line win over it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..audio_models.training import TrainSettings
from ..validate import THREADS, int_arg

log = logging.getLogger(__name__)
TARGET_HELP = {
    "evaluators": "all of: class classifier, CLAP projections, quality predictors, offset models",
    "clap": "CLAP-like projections (reward and evaluator twins)",
    "offset": "audio-visual offset models (reward: correlation net; evaluator: fusion net)",
    "quality": "PQ-like quality predictors (reward and evaluator twins)",
    "classifier": "SynthCanvas class classifier on reference audio (evaluator only)",
}


@dataclass
class EvaluatorTrainConfig:
    """configs/evaluators_tiny.yaml: what `prismaudio train evaluators --config` reads."""

    canvas: str | None = None  # SynthCanvas folder with manifest.jsonl
    limit: int | None = None  # use at most this many canvas rows
    out: str = "runs/evaluators"  # in the current folder; never the installed package
    threads: int = 1
    settings: TrainSettings = field(default_factory=TrainSettings)


def register_train(targets, common) -> None:
    for name, help_text in TARGET_HELP.items():
        p = targets.add_parser(name, parents=[common], help=help_text)
        p.add_argument("--config", help="YAML with the settings below as a preset (configs/evaluators_tiny.yaml)")
        p.add_argument("--canvas", default=None, help="SynthCanvas folder with manifest.jsonl (required here or in --config)")
        p.add_argument("--limit", type=int_arg(1, 10**9), default=None, help="use at most this many canvas rows")
        p.add_argument("--steps", type=int_arg(1, 10**7), default=None, help="optimizer steps for the offset models (default 1500)")
        p.add_argument("--mlp-steps", type=int_arg(1, 10**7), default=None, help="optimizer steps for the MLP heads (default 600)")
        p.add_argument("--out", default=None, help="folder for the .safetensors (default runs/evaluators)")
        p.add_argument("--threads", type=THREADS, default=None, help="torch/onnxruntime threads (default 1)")
        p.set_defaults(func=run, which=name)


def settings_from(args) -> EvaluatorTrainConfig:
    """The --config preset (or the defaults) with the command line's flags on top."""
    from ..config import load_config

    cfg = load_config(EvaluatorTrainConfig, args.config) if args.config else EvaluatorTrainConfig()
    for key in ("canvas", "limit", "out", "threads"):
        if getattr(args, key) is not None:
            setattr(cfg, key, getattr(args, key))
    if args.steps:
        cfg.settings.steps_offset = args.steps
    if args.mlp_steps:
        cfg.settings.steps_mlp = args.mlp_steps
    return cfg


def run(args) -> int:
    import torch

    from ..audio_models.data import canvas_items
    from ..audio_models.training import TARGETS, train_evaluators
    from ..errors import ConfigError

    from ..validate import outside_package, output_dir

    cfg = settings_from(args)
    if cfg.canvas is None:
        raise ConfigError("no SynthCanvas folder: give --canvas DIR or `canvas:` in --config")
    out = output_dir(outside_package(cfg.out, "--out"), "--out", [cfg.canvas])
    torch.set_num_threads(cfg.threads)
    if not (Path(cfg.canvas) / "manifest.jsonl").is_file():
        raise ConfigError(f"--canvas {cfg.canvas}: no manifest.jsonl there")
    items = canvas_items(cfg.canvas, limit=cfg.limit)
    if not any(i.split == "train" for i in items):
        raise ConfigError("no training items (split 'train') found")
    targets = TARGETS if args.which == "evaluators" else (args.which,)
    log.info("training %s on %d items", ", ".join(targets), len(items))
    results = train_evaluators(items, targets, out, cfg.settings)
    print(json.dumps(results, indent=2))
    return 0
