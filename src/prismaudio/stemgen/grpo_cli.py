"""Fast-GRPO on the stem generator (resumable; safe to kill at any time):

    prismaudio train stems-grpo [--config configs/grpo_stem_tiny.yaml] [--iterations N] [--out DIR]
    python -m prismaudio.stemgen.grpo_cli ...   (the same)

Rollouts per planned source start from the source's sketch at the engine's variation;
rewards per stem: semantic, temporal, aesthetic (stemgen/grpo.py). Progress shows the
iterations; rewards, advantages and the held-out class accuracy go to OUT/log.jsonl (and
TensorBoard), checkpoints (safetensors, the config inside) to OUT/step_*.safetensors. Run
again with the same arguments to continue where it stopped. At the end the EMA policy is
written as a stem generator file, OUT/stem_generator_grpo.safetensors (ship it with
`--export CHECKPOINT --to FILE [--half]`).
"""

from __future__ import annotations

import argparse
import logging

from ..train.entry import add_train_target, run_as_module


def _arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--config", default="tiny", help="preset name or YAML file (default: configs/grpo_stem_tiny.yaml)")
    ap.add_argument("--iterations", type=int, default=None, help="stop after this many iterations (grpo.iterations)")
    ap.add_argument("--out", default=None, help="logs and checkpoints (grpo.out_dir)")
    ap.add_argument("--stem-model", default=None, help="the stem generator RL starts from (plans.stem_model)")
    ap.add_argument("--no-resume", action="store_true", help="start afresh even if the folder holds checkpoints")
    ap.add_argument("--export", metavar="CHECKPOINT", default=None,
                    help="train nothing: write CHECKPOINT's EMA policy as a stem generator file (--to)")
    ap.add_argument("--to", default=None, help="with --export: the stem generator file to write")
    ap.add_argument("--half", action="store_true", help="with --export: float16 weights (as the shipped file)")


def register_train(targets, common) -> None:
    """`prismaudio train stems-grpo` (commands/train.py)."""
    add_train_target(targets, common, "stems-grpo", "Fast-GRPO on the stem generator (rewards per stem)", __doc__,
                     _arguments, train)


def main(argv: list[str] | None = None) -> int:
    return run_as_module(__doc__, _arguments, train, argv)


def train(args) -> int:
    import torch

    from ..errors import ConfigError
    from ..log import progress_enabled
    from ..rl.trainer import GRPOTrainer
    from .grpo import build_stem_environment, export_stem_model, load_stem_grpo

    if args.export:
        if not args.to:
            raise ConfigError("--export needs --to FILE (the stem generator file to write)")
        print(f"stem generator: {export_stem_model(args.export, args.to, half=args.half)}")
        return 0
    overrides: dict = {"grpo": {}, "plans": {}}
    if args.out:
        overrides["grpo"]["out_dir"] = args.out
    if args.iterations:
        overrides["grpo"]["iterations"] = args.iterations
    if args.stem_model:
        overrides["plans"]["stem_model"] = args.stem_model
    run = load_stem_grpo(args.config, overrides)
    from ..validate import outside_package

    outside_package(run.grpo.out_dir, "grpo.out_dir")  # checkpoints never land among the shipped models
    if run.grpo.threads:
        torch.set_num_threads(run.grpo.threads)
    model, reference, env, mcfg = build_stem_environment(run)
    log = logging.getLogger(__name__)
    log.info("stem GRPO: %d training plans, %d held-out plans, %.2fM params", len(env.train_prompts),
             len(env.eval_prompts), sum(p.numel() for p in model.parameters()) / 1e6)
    from ..config import to_dict

    trainer = GRPOTrainer(run.grpo, model, reference, env, model_config=mcfg, record={"plans": to_dict(run.plans)})
    trainer.train(resume=not args.no_resume, progress=progress_enabled())
    from ..train.checkpoint import latest_checkpoint

    path = export_stem_model(latest_checkpoint(trainer.out_dir), trainer.out_dir / "stem_generator_grpo.safetensors")
    print(f"RL-tuned stem generator (EMA): {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
