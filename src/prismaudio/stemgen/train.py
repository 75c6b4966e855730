"""Train the stem generator (resumable; safe to kill at any time):

    prismaudio train stems [--config configs/stemgen_tiny.yaml] [--max-steps N] [--out DIR]
    python -m prismaudio.stemgen.train ...   (the same)

One torch thread for the model, one data worker process. Progress, validation losses and
sampled class accuracy go to the log; checkpoints (every `checkpoint_every` steps, the newest
`keep_checkpoints` kept) and curve.jsonl / curve.png to `train.out_dir`. Run again with the
same arguments to continue exactly where it stopped.
"""

from __future__ import annotations

import argparse
import logging

import torch

from ..train.entry import add_train_target, run_as_module


def _arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--config", default="tiny", help="preset name or YAML file (default: configs/stemgen_tiny.yaml)")
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--out", default=None, help="output folder (train.out_dir)")
    ap.add_argument("--no-resume", action="store_true")


def register_train(targets, common) -> None:
    """`prismaudio train stems` (commands/train.py)."""
    add_train_target(targets, common, "stems", "the stem generator (one planned source at a time)", __doc__,
                     _arguments, train)


def main(argv: list[str] | None = None) -> int:
    return run_as_module(__doc__, _arguments, train, argv)


def train(args) -> int:
    from .config import load_stem_run
    from .trainer import StemTrainer

    overrides = {"train": {"out_dir": args.out}} if args.out else {}
    run = load_stem_run(args.config, overrides)
    torch.set_num_threads(max(1, run.train.threads))
    trainer = StemTrainer(run, progress=False)
    if not args.no_resume:
        trainer.resume()
    logging.getLogger(__name__).info("%s", trainer.describe())
    trainer.fit(args.max_steps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
