"""Registers `prismaudio train generator` without importing torch until it runs."""

from __future__ import annotations


def register_train(targets, common) -> None:
    """`prismaudio train generator --config configs/generator_tiny.yaml` (see commands/train.py)."""
    p = targets.add_parser("generator", parents=[common], help="flow-matching pretraining of the generator on cached features")
    p.add_argument("--config", required=True, help="preset YAML with model/train/data sections")
    p.add_argument("--train-data", help="folder of cached feature files (overrides data.train)")
    p.add_argument("--val-data", help="folder of cached feature files (overrides data.val)")
    p.add_argument("--codec", help="codec checkpoint used to decode periodic samples (overrides data.codec)")
    p.add_argument("--out", help="run folder: checkpoints, TensorBoard logs, samples (overrides train.out_dir)")
    p.add_argument("--max-steps", type=int, help="stop after this step (default: train.max_steps)")
    p.add_argument("--no-resume", action="store_true", help="start from scratch even if the run folder has checkpoints")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.set_defaults(func=_run)




def _run(args) -> int:
    from .flow_trainer import run_from_args

    return run_from_args(args)
