"""`prismaudio train TARGET --config CONFIG`: one entry for every trainer.

Each module in TRAIN_TARGETS exposes `register_train(train_sub, common)` and adds one target
(codec, generator, clap, ...) with `set_defaults(func=...)`.
"""

from __future__ import annotations

import importlib

TRAIN_TARGETS: list[str] = [
    "prismaudio.planner_training.train_heads",
    "prismaudio.codec.cli",
    "prismaudio.train.generator_cli",
    "prismaudio.commands.train_evaluators",
    "prismaudio.stemgen.train",
    "prismaudio.stemgen.grpo_cli",
]


def register(sub, common) -> None:
    p = sub.add_parser("train", parents=[common], help="train a component (codec, generator, reward and evaluator models)")
    targets = p.add_subparsers(dest="target", metavar="TARGET")
    for name in TRAIN_TARGETS:
        importlib.import_module(name).register_train(targets, common)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
