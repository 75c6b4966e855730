"""Does a coarse ODE suffix change what Fast-GRPO learns from? Rewards of the same rollout trees
with the suffix on every grid step and with `--suffix-steps` steps, on a trained world.

    .venv/bin/python benchmarks/bench_grpo_suffix.py --config configs/grpo_tiny.yaml --steps 24 --suffix-steps 6
    .venv/bin/python benchmarks/bench_grpo_suffix.py --random-world        # proves it runs

Both settings grow the same trees (same seeds: same branch step, same SDE noise, identical
stored transitions); only the ODE steps after the window differ. Printed per reward: the mean
over all samples in both settings and the mean absolute per-sample difference, next to the
within-group spread (std over the samples of one group), which is what the advantages are made
of: a suffix is good enough when its per-sample change is small against that spread. Also the
time of the rollouts (decode and rewards included).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from grpo_random_world import load_world  # noqa: E402

from prismaudio.rl.trainer import GRPOTrainer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", help="a GRPO config (its generator, codec, rewards and prompts)")
    ap.add_argument("--random-world", action="store_true", help="the random-weights world of the speed benchmark")
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--suffix-steps", type=int, default=6)
    ap.add_argument("--iterations", type=int, default=6, help="rollout batches compared (different prompts and trees)")
    ap.add_argument("--seconds", type=float, default=2.0, help="random world only: clip length")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="runs/issue8/bench_suffix")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    overrides = {"num_steps": args.steps, "eval_every": 0, "checkpoint_every": 10**9}
    cfg, model, reference, env = load_world(args.config, args.random_world, args.seconds, overrides)
    rewards: dict[int, dict[str, list[torch.Tensor]]] = {}
    seconds: dict[int, list[float]] = {}
    groups_all: list[torch.Tensor] = []
    for suffix in (0, args.suffix_steps):
        setting = dataclasses.replace(cfg, suffix_steps=suffix)
        trainer = GRPOTrainer(setting, model, reference, env, out_dir=f"{args.out}/suffix{suffix}")
        rewards[suffix], seconds[suffix] = {}, []
        for it in range(args.iterations):
            t0 = time.perf_counter()
            _, r, groups, _ = trainer.collect(it)
            seconds[suffix].append(time.perf_counter() - t0)
            for name, v in r.items():
                rewards[suffix].setdefault(name, []).append(v)
            if suffix == 0:
                groups_all.append(groups + 1000 * it)
            print(f"suffix {suffix or 'every step'}: batch {it} {seconds[suffix][-1]:.1f} s", flush=True)
    groups = torch.cat(groups_all)
    weights = cfg.reward_weights
    table = {}
    names = list(rewards[0]) + ["composite"]
    for suffix in rewards:
        rewards[suffix] = {k: torch.cat(v) for k, v in rewards[suffix].items()}
        rewards[suffix]["composite"] = sum(w * rewards[suffix][k] for k, w in weights.items())
    full, coarse = rewards[0], rewards[args.suffix_steps]
    print(f"\nT = {cfg.num_steps}, M = {cfg.branches}, W = {cfg.window}, {len(groups)} samples in {len(groups.unique())} groups; "
          f"suffix on every grid step vs {args.suffix_steps} steps")
    print(f"{'reward':12s} {'mean (every step)':>18s} {'mean (coarse)':>14s} {'|per-sample diff|':>18s} {'group std':>10s} {'diff / std':>10s}")
    for name in names:
        a, b = full[name], coarse[name]
        spread = statistics.mean(float(a[groups == g].std(unbiased=False)) for g in groups.unique())
        diff = float((a - b).abs().mean())
        table[name] = {"mean_full": float(a.mean()), "mean_coarse": float(b.mean()), "abs_diff": diff, "group_std": spread}
        print(f"{name:12s} {float(a.mean()):18.4f} {float(b.mean()):14.4f} {diff:18.4f} {spread:10.4f} {diff / max(spread, 1e-12):10.2f}")
    for suffix, ts in seconds.items():
        print(f"rollout + decode + rewards, suffix {suffix or 'every step'}: {statistics.median(ts):.2f} s median per batch")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "suffix.json").write_text(json.dumps({"rewards": table, "seconds": {str(k): v for k, v in seconds.items()},
                                                            "args": vars(args)}, indent=1))


if __name__ == "__main__":
    main()
