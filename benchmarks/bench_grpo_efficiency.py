"""Training efficiency: composite reward against wall-clock time, Fast-GRPO vs Flow-GRPO, and
the time each needs to reach the same reward gain. Writes a PNG plot and a JSON.

    .venv/bin/python benchmarks/bench_grpo_efficiency.py --config configs/grpo_tiny.yaml --budget 1200
    .venv/bin/python benchmarks/bench_grpo_efficiency.py --random-world --budget 120   # proves it runs

Both modes start from the same weights and use the same group size, step count and
optimizer; each trains for the same wall-clock budget. The curve is the composite reward
(weighted sum) of each iteration's rollouts, smoothed by a running mean over `--smooth`
iterations; the gain is measured from each mode's own first `--smooth` iterations.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from grpo_random_world import load_world  # noqa: E402

from prismaudio.rl.trainer import GRPOTrainer  # noqa: E402


def smooth(values: list[float], k: int) -> list[float]:
    return [sum(values[max(0, i - k + 1):i + 1]) / len(values[max(0, i - k + 1):i + 1]) for i in range(len(values))]


def time_to_gain(times: list[float], curve: list[float], base: float, gain: float) -> float | None:
    for t, c in zip(times, curve):
        if c - base >= gain:
            return t
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", help="GRPO config (the real tiny world)")
    ap.add_argument("--random-world", action="store_true", help="random-weight generator + proxy rewards (a smoke run)")
    ap.add_argument("--budget", type=float, default=600.0, help="wall-clock seconds per mode")
    ap.add_argument("--smooth", type=int, default=5)
    ap.add_argument("--steps", type=int)
    ap.add_argument("--branches", type=int)
    ap.add_argument("--seconds", type=float, default=1.0, help="clip length in the random world")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="runs/issue8/efficiency")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    over = {k: v for k, v in {"num_steps": args.steps, "branches": args.branches}.items() if v is not None}
    if args.random_world:
        over.update(trees_per_group=1, prompts_per_iteration=1, clip_range=1e-2, lr=3e-4, cfg_strength=3.0,
                    num_steps=over.get("num_steps", 12), branches=over.get("branches", 4))
    cfg, model, reference, env = load_world(args.config, args.random_world, args.seconds, over)
    out = Path(args.out)
    curves = {}
    for mode in ("fast-grpo", "flow-grpo"):
        from dataclasses import replace

        mcfg = replace(cfg, mode=mode, eval_every=0, checkpoint_every=10**9)
        trainer = GRPOTrainer(mcfg, copy.deepcopy(model), reference, env, out_dir=out / mode)
        t0, times, rewards, it = time.perf_counter(), [], [], 0
        while time.perf_counter() - t0 < args.budget:
            row = trainer.step(it)
            times.append(time.perf_counter() - t0)
            rewards.append(row["reward/composite/mean"])
            print(f"{mode} it {it}: {times[-1]:.1f} s composite {rewards[-1]:.4f}", flush=True)
            it += 1
        curves[mode] = {"times": times, "reward": rewards, "smoothed": smooth(rewards, args.smooth)}
    base = {m: sum(c["reward"][:args.smooth]) / len(c["reward"][:args.smooth]) for m, c in curves.items()}
    gains = {m: max(c["smoothed"]) - base[m] for m, c in curves.items()}
    target = 0.5 * min(gains.values())
    reach = {m: (time_to_gain(c["times"], c["smoothed"], base[m], target) if target > 0 else None) for m, c in curves.items()}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for m, c in curves.items():
        ax.plot(c["times"], c["reward"], alpha=0.25)
        ax.plot(c["times"], c["smoothed"], label=f"{m} ({len(c['times'])} iterations)")
    ax.set_xlabel("wall-clock time (s)")
    ax.set_ylabel("composite reward (rollouts)")
    ax.set_title("Fast-GRPO vs Flow-GRPO" + (" (random-weight smoke run)" if args.random_world else ""))
    ax.legend()
    out.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out / "efficiency.png", dpi=120)
    (out / "efficiency.json").write_text(json.dumps({"curves": curves, "base": base, "gains": gains, "target_gain": target,
                                                     "time_to_target_s": reach, "args": vars(args)}, indent=1))
    print(f"\nplot: {out / 'efficiency.png'}")
    for m in curves:
        r = reach[m]
        print(f"{m:10s}: {len(curves[m]['times'])} iterations in {args.budget:.0f} s, best smoothed gain {gains[m]:+.4f}, "
              f"time to gain {target:+.4f}: {'not reached' if r is None else f'{r:.1f} s'}")


if __name__ == "__main__":
    main()
