"""Does a coarse ODE suffix change what Fast-GRPO learns from? Rewards of the same rollout trees
with the suffix on every grid step and with `--suffix-steps` steps, on a trained world.

    .venv/bin/python benchmarks/bench_grpo_suffix.py --config configs/grpo_tiny.yaml --steps 24 [--settings euler:0,euler:6,heun:0]
    .venv/bin/python benchmarks/bench_grpo_suffix.py --random-world        # proves it runs

Every setting grows the same trees (same seeds: same branch step, same SDE noise, identical
stored transitions); only the ODE solver after the window differs. Against the first setting
(the baseline) each other one prints, per reward, the mean over all samples and the mean
absolute per-sample difference next to the within-group spread (std over the samples of one
group, what the advantages are made of), and the correlation of the advantages (`rl.advantages.group_advantages`, the config's mode).
A second-order suffix on the full grid (heun:0), closer to the exact ODE, shows how much any
change of solver moves the rewards: a coarse suffix is good enough when it moves them no more
than that. Also the time of the rollouts (decode and rewards included).
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

from prismaudio.rl.advantages import group_advantages  # noqa: E402
from prismaudio.rl.trainer import GRPOTrainer  # noqa: E402


def parse_settings(text: str) -> list[tuple[str, int]]:
    """"euler:0,euler:6,heun:0" -> [(solver, suffix_steps), ...]; the first is the baseline."""
    out = []
    for item in text.split(","):
        solver, _, steps = item.partition(":")
        out.append((solver.strip(), int(steps or 0)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", help="a GRPO config (its generator, codec, rewards and prompts)")
    ap.add_argument("--random-world", action="store_true", help="the random-weights world of the speed benchmark")
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--settings", default="euler:0,euler:6,heun:0",
                    help="solver:suffix_steps of the ODE suffix, comma-separated; the first is the baseline")
    ap.add_argument("--iterations", type=int, default=6, help="rollout batches compared (different prompts and trees)")
    ap.add_argument("--seconds", type=float, default=2.0, help="random world only: clip length")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="runs/issue8/bench_suffix")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    overrides = {"num_steps": args.steps, "eval_every": 0, "checkpoint_every": 10**9}
    cfg, model, reference, env = load_world(args.config, args.random_world, args.seconds, overrides)
    settings = parse_settings(args.settings)
    label = lambda solver, steps: f"{solver}, {'every grid step' if steps == 0 else f'{steps} steps'}"  # noqa: E731
    rewards: dict[str, dict[str, torch.Tensor]] = {}
    seconds: dict[str, list[float]] = {}
    groups = None
    for solver, steps in settings:
        name = label(solver, steps)
        trainer = GRPOTrainer(dataclasses.replace(cfg, suffix_solver=solver, suffix_steps=steps), model, reference, env,
                              out_dir=f"{args.out}/{solver}{steps}")
        per_reward: dict[str, list[torch.Tensor]] = {}
        seconds[name], batch_groups = [], []
        for it in range(args.iterations):
            t0 = time.perf_counter()
            _, r, g, _ = trainer.collect(it)
            seconds[name].append(time.perf_counter() - t0)
            for key, v in r.items():
                per_reward.setdefault(key, []).append(v)
            batch_groups.append(g + 1000 * it)
            print(f"suffix {name}: batch {it} {seconds[name][-1]:.1f} s", flush=True)
        groups = torch.cat(batch_groups)
        rewards[name] = {k: torch.cat(v) for k, v in per_reward.items()}
        rewards[name]["composite"] = sum(w * rewards[name][k] for k, w in cfg.reward_weights.items())
    base_name = label(*settings[0])
    base = rewards[base_name]
    print(f"\nT = {cfg.num_steps}, M = {cfg.branches}, W = {cfg.window}, {len(groups)} samples in {len(groups.unique())} groups; "
          f"baseline: suffix {base_name}")
    table: dict = {}
    for name, other in rewards.items():
        if name == base_name:
            continue
        print(f"\nsuffix {name} against the baseline")
        print(f"{'reward':12s} {'mean (base)':>12s} {'mean':>8s} {'|per-sample diff|':>18s} {'group std':>10s} {'diff / std':>10s}")
        rows = {}
        for key in base:
            a, b = base[key], other[key]
            spread = statistics.mean(float(a[groups == g].std(unbiased=False)) for g in groups.unique())
            diff = float((a - b).abs().mean())
            rows[key] = {"mean_base": float(a.mean()), "mean": float(b.mean()), "abs_diff": diff, "group_std": spread}
            print(f"{key:12s} {float(a.mean()):12.4f} {float(b.mean()):8.4f} {diff:18.4f} {spread:10.4f} {diff / max(spread, 1e-12):10.2f}")
        # the advantages the trainer would compute from each setting's rewards
        adv_a, adv_b = (group_advantages({k: v for k, v in r.items() if k != "composite"}, groups, cfg.reward_weights,
                                         cfg.advantage, cfg.advantage_clip).advantages for r in (base, other))
        corr = float(torch.corrcoef(torch.stack([adv_a, adv_b]))[0, 1])
        sign = float(((adv_a > 0) == (adv_b > 0)).float().mean())
        rows["advantage"] = {"correlation": corr, "same_sign": sign}
        print(f"{cfg.advantage} advantage: correlation {corr:.3f} with the baseline's, same sign for {100 * sign:.0f}% of samples")
        table[name] = rows
    for name, ts in seconds.items():
        print(f"rollout + decode + rewards, suffix {name}: {statistics.median(ts):.2f} s median per batch")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "suffix.json").write_text(json.dumps({"against_baseline": table, "seconds": seconds, "args": vars(args)}, indent=1))


if __name__ == "__main__":
    main()
