"""`prismaudio train evaluators|clap|offset|quality|classifier`: train the reward/evaluator models.

Data: a SynthCanvas build (--canvas; `prismaudio canvas build`), read through its typed
manifest. Weights go to --out (default runs/evaluators in the current folder; never the
installed package, whose assets/evaluators are the shipped models). Point the rewards and
`prismaudio eval` at a trained folder with PRISMAUDIO_EVALUATORS=<folder>.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..validate import THREADS, int_arg

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
        p.add_argument("--limit", type=int_arg(1, 10**9), default=None, help="use at most this many canvas rows")
        p.add_argument("--steps", type=int_arg(1, 10**7), default=None, help="optimizer steps for the offset models (default 1500)")
        p.add_argument("--mlp-steps", type=int_arg(1, 10**7), default=None, help="optimizer steps for the MLP heads (default 600)")
        p.add_argument("--out", default="runs/evaluators", help="folder for the .safetensors (default runs/evaluators)")
        p.add_argument("--threads", type=THREADS, default=1, help="torch/onnxruntime threads")
        p.set_defaults(func=run, which=name)


def run(args) -> int:
    import torch

    from ..audio_models.data import canvas_items
    from ..audio_models.training import TARGETS, TrainSettings, train_evaluators
    from ..errors import ConfigError

    from ..validate import outside_package, output_dir

    out = output_dir(outside_package(args.out, "--out"), "--out", [args.canvas])
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
    results = train_evaluators(items, targets, out, settings)
    print(json.dumps(results, indent=2))
    return 0
