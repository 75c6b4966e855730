"""`prismaudio train evaluators|clap|offset|quality|classifier`: train the reward/evaluator models.

Data: a SynthCanvas build (--canvas; `prismaudio canvas build`), read through its typed
manifest. Weights go to --out (default: the package's assets/evaluators folder, which is what
the rewards and `prismaudio eval` load).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)
TARGET_HELP = {
    "evaluators": "all of: class classifier, CLAP projections, quality predictors, offset models",
    "clap": "CLAP-like projections (reward and evaluator twins)",
    "offset": "audio-visual offset models (reward: correlation net; evaluator: fusion net)",
    "quality": "PQ-like quality predictors (reward and evaluator twins)",
    "classifier": "SynthCanvas class classifier on reference audio (evaluator only)",
}


def register_train(targets, common) -> None:
    for name, help_text in TARGET_HELP.items():
        p = targets.add_parser(name, parents=[common], help=help_text)
        p.add_argument("--canvas", required=True, help="SynthCanvas folder with manifest.jsonl")
        p.add_argument("--limit", type=int, default=None, help="use at most this many canvas rows")
        p.add_argument("--steps", type=int, default=None, help="optimizer steps for the offset models (default 1500)")
        p.add_argument("--mlp-steps", type=int, default=None, help="optimizer steps for the MLP heads (default 600)")
        p.add_argument("--out", default=None, help="folder for the .safetensors (default: package assets)")
        p.add_argument("--threads", type=int, default=1, help="torch/onnxruntime threads")
        p.set_defaults(func=run, which=name)


def run(args) -> int:
    import torch

    from ..audio_models.data import canvas_items
    from ..audio_models.training import TARGETS, TrainSettings, train_evaluators
    from ..errors import ConfigError

    torch.set_num_threads(args.threads)
    if not (Path(args.canvas) / "manifest.jsonl").is_file():
        raise ConfigError(f"--canvas {args.canvas}: no manifest.jsonl there")
    items = canvas_items(args.canvas, limit=args.limit)
    if not any(i.split == "train" for i in items):
        raise ConfigError("no training items (split 'train') found")
    settings = TrainSettings()
    if args.steps:
        settings.steps_offset = args.steps
    if args.mlp_steps:
        settings.steps_mlp = args.mlp_steps
    targets = TARGETS if args.which == "evaluators" else (args.which,)
    log.info("training %s on %d items", ", ".join(targets), len(items))
    results = train_evaluators(items, targets, Path(args.out) if args.out else None, settings)
    print(json.dumps(results, indent=2))
    return 0
