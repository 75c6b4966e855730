"""Wall time per GRPO iteration: Fast-GRPO vs the full-SDE Flow-GRPO baseline, measured in one
run on the same model, group size and step count.

    .venv/bin/python benchmarks/bench_grpo_speed.py [--generator CKPT] [--steps 24] [--branches 8] [--suffix-steps 6]

Three settings, each in the same run: Fast-GRPO with its ODE suffix on every grid step (Euler),
Fast-GRPO with a coarse suffix of `--suffix-steps` Euler steps (MixGRPO-Flash's idea; the
trained steps are identical, benchmarks/bench_grpo_suffix.py measures that the rewards of the
samples are too), and the full-SDE Flow-GRPO baseline. Without --generator the tiny preset's architecture with random weights is timed (speed does
not depend on the weights). Rollout, decode, rewards and update are all inside the iteration.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from grpo_random_world import random_world  # noqa: E402

from prismaudio.rl.config import GRPOConfig  # noqa: E402
from prismaudio.rl.trainer import GRPOTrainer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--generator", help="a generator checkpoint (default: tiny preset, random weights)")
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--branches", type=int, default=8)
    ap.add_argument("--window", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--cfg", type=float, default=5.0)
    ap.add_argument("--suffix-steps", type=int, default=6, help="ODE steps after the window in the coarse-suffix setting")
    ap.add_argument("--iterations", type=int, default=2, help="timed iterations per mode (after one warm-up)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="runs/issue8/bench_speed")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, mcfg, env = random_world(args.seconds)
    if args.generator:
        from prismaudio.rl.environment import load_generator

        model, mcfg = load_generator(args.generator)
    results = {}
    settings = {"fast-grpo": ("fast-grpo", 0), f"fast-grpo-suffix{args.suffix_steps}": ("fast-grpo", args.suffix_steps),
                "flow-grpo": ("flow-grpo", 0)}
    for name, (mode, suffix_steps) in settings.items():
        cfg = GRPOConfig(mode=mode, suffix_steps=suffix_steps, num_steps=args.steps, branches=args.branches, window=args.window, trees_per_group=1,
                         prompts_per_iteration=1, cfg_strength=args.cfg, micro_batch=16, beta=0.04, lr=1e-5,
                         reward_weights={"semantic": 1.0, "temporal": 0.6, "spatial": 0.4, "aesthetic": 0.1},
                         eval_every=0, checkpoint_every=10**9, iterations=args.iterations + 1)
        trainer = GRPOTrainer(cfg, copy.deepcopy(model), copy.deepcopy(model), env, out_dir=f"{args.out}/{name}")
        times, rows = [], []
        for it in range(args.iterations + 1):
            t0 = time.perf_counter()
            row = trainer.step(it)
            dt = time.perf_counter() - t0
            if it > 0:
                times.append(dt)
                rows.append(row)
            print(f"{name} iteration {it}: {dt:.2f} s (rollout {row['time/rollout_s']:.2f} s, update "
                  f"{row['time/update_s']:.2f} s, {row['transitions']} transitions trained)", flush=True)
        results[name] = {
            "median_s": statistics.median(times), "times_s": times,
            "rollout_s": statistics.median(r["time/rollout_s"] for r in rows),
            "update_s": statistics.median(r["time/update_s"] for r in rows),
            "transitions": rows[-1]["transitions"],
        }
    speedup = results["flow-grpo"]["median_s"] / results["fast-grpo"]["median_s"]
    coarse = f"fast-grpo-suffix{args.suffix_steps}"
    speedup_coarse = results["flow-grpo"]["median_s"] / results[coarse]["median_s"]
    params = sum(p.numel() for p in model.parameters()) / 1e6
    print(f"\nmodel: generator '{mcfg.preset}' ({params:.1f}M params){' random weights' if not args.generator else ''}, "
          f"T = {args.steps}, group = {args.branches}, W = {args.window}, CFG {args.cfg}, {args.seconds} s clips, "
          f"{torch.get_num_threads()} thread(s)")
    for name, r in results.items():
        print(f"{name:18s}: {r['median_s']:.2f} s/iteration (rollout {r['rollout_s']:.2f} s, update {r['update_s']:.2f} s, "
              f"{r['transitions']} transitions)")
    print(f"Fast-GRPO speed-up over Flow-GRPO: {speedup:.1f}x with the suffix on every grid step, "
          f"{speedup_coarse:.1f}x with a {args.suffix_steps}-step suffix (target >= 5x)")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "speed.json").write_text(json.dumps({"results": results, "speedup": speedup, "speedup_coarse_suffix": speedup_coarse, "args": vars(args)}, indent=1))


if __name__ == "__main__":
    main()
