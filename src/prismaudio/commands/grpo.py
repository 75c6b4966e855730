"""`prismaudio grpo --config configs/grpo_tiny.yaml`: RL post-training of the generator (Fast-GRPO).

Launch with torchrun for several processes: rollouts are spread over the ranks and the
rewards gathered, so the group statistics equal those of one process.
"""

from __future__ import annotations

import logging

from ..validate import int_arg

log = logging.getLogger(__name__)


def register(sub, common) -> None:
    p = sub.add_parser("grpo", parents=[common], help="RL post-training with four rewards (Fast-GRPO / Flow-GRPO / MixGRPO)")
    p.add_argument("--config", required=True, help="GRPO config YAML (configs/grpo_tiny.yaml)")
    p.add_argument("--mode", choices=["fast-grpo", "flow-grpo", "mix-grpo"], help="rollout mode (overrides the config)")
    p.add_argument("--advantage", choices=["reward-sum", "per-reward"], help="advantage variant (overrides the config)")
    p.add_argument("--iterations", type=int_arg(1, 10**9), help="stop after this many iterations")
    p.add_argument("--out-dir", help="logs and checkpoints (overrides the config's out_dir)")
    p.add_argument("--device", help="auto, cpu or cuda")
    p.add_argument("--no-resume", action="store_true", help="start afresh even if out_dir holds checkpoints")
    p.set_defaults(func=run)


def run(args) -> int:
    import torch

    from ..config import load_config
    from ..log import progress_enabled
    from ..rl.config import GRPOConfig
    from ..rl.environment import build_environment
    from ..rl.trainer import GRPOTrainer
    from ..train.checkpoint import export_weights
    from ..train.distributed import cleanup, init_distributed

    overrides = {k: v for k, v in {"mode": args.mode, "advantage": args.advantage, "iterations": args.iterations,
                                   "out_dir": args.out_dir, "device": args.device}.items() if v is not None}
    cfg = load_config(GRPOConfig, args.config, overrides)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    dist = init_distributed(cfg.device)
    try:
        model, reference, env, mcfg = build_environment(cfg, dist.device)
        trainer = GRPOTrainer(cfg, model, reference, env, dist=dist, model_config=mcfg)
        trainer.train(resume=not args.no_resume, progress=progress_enabled() and dist.is_main)
        if dist.is_main:
            path = export_weights(trainer.out_dir / "generator_grpo.safetensors", "generator", 1, mcfg, trainer.ema,
                                  extra={"grpo": {"mode": cfg.mode, "advantage": cfg.advantage, "iterations": cfg.iterations}})
            print(f"RL-tuned generator (EMA): {path}")
    finally:
        cleanup(dist)
    return 0
