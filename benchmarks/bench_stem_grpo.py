"""Fast-GRPO on the stem generator: each reward dimension before and after, on held-out plans.

    nice -n 10 env PYTHONPATH=src python benchmarks/bench_stem_grpo.py \
        --after runs/grpo_stem_tiny/stem_generator_grpo.safetensors [--run runs/grpo_stem_tiny] [--plans 48] [--seeds 2]

Held-out one-source plans (stemgen/grpo.py's plan generator with a seed used neither for the
rollouts nor for the trainer's periodic evaluation) are rendered by the stem engine exactly
as `generate --engine stem` runs it (sketch, variation 0.3, 8 steps -> 2 from the sketch),
once with the model before RL (default: the shipped one) and once after, with the same
seeds. Each stem is scored by
- the three rewards GRPO optimised (semantic: clap_reward; temporal: onset F1 against the
  plan's events; aesthetic: quality_reward), and
- their evaluator twins, never trained on: CLAP (clap_eval), PQ (quality_eval) and class
  accuracy (the classifier), so a gain that only fools a reward model shows.
Per dimension and --after model: mean before, mean after, the paired difference with its 95%
interval (paired bootstrap over plans). Writes benchmarks/results/stem_grpo.json, with the run's learning
curve (log.jsonl) when --run is given.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

DIMENSIONS = ("semantic", "temporal", "aesthetic", "CLAP-eval", "PQ-eval", "class-accuracy")


def score_stems(plans, stems: list[np.ndarray], sr: int, scorers: dict) -> dict[str, np.ndarray]:
    from prismaudio.rewards import RewardSample

    audio = torch.from_numpy(np.stack(stems))[:, None]
    sample = RewardSample(sample_rate=sr, plan=list(plans))
    return {name: fn(audio, sample).numpy().astype(np.float64) for name, fn in scorers.items()}


def render(engine, plans, seeds: int) -> tuple[list, list[np.ndarray], float]:
    from prismaudio.engines.base import StemRequest
    from prismaudio.stemgen.grpo import SOURCE_ID

    rows, stems, started = [], [], time.time()
    for i, plan in enumerate(plans):
        for s in range(seeds):
            request = StemRequest(plan, engine.latent.sample_rate, 50_000 + 101 * i + s, plan.duration)
            stems.append(engine.render_stems(request)[SOURCE_ID])
            rows.append(plan)
    return rows, stems, time.time() - started


def paired(before: np.ndarray, after: np.ndarray, groups: int, reps: int = 2000) -> dict:
    """Mean difference and a 95% paired-bootstrap interval, resampling plans (a plan's seeds together)."""
    d = (after - before).reshape(groups, -1).mean(1)
    rng = np.random.default_rng(0)
    boot = d[rng.integers(0, groups, size=(reps, groups))].mean(1)
    return {"before": float(before.mean()), "after": float(after.mean()), "gain": float(d.mean()),
            "gain_95": [float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", default=None, help="stem generator before RL (default: the shipped one)")
    ap.add_argument("--after", required=True, nargs="+",
                    help="stem generator(s) after RL (stem GRPO exports or GRPO checkpoints), each against --before")
    ap.add_argument("--config", default="tiny", help="stem GRPO preset or YAML (plan settings)")
    ap.add_argument("--plans", type=int, default=48)
    ap.add_argument("--seeds", type=int, default=2, help="renders per plan (different sampling seeds)")
    ap.add_argument("--run", default=None, help="the GRPO run folder (its log.jsonl becomes the learning curve)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default="benchmarks/results/stem_grpo.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from dataclasses import replace

    from prismaudio.rewards import build_rewards
    from prismaudio.rewards.aesthetic import AestheticReward
    from prismaudio.rewards.semantic import SemanticReward
    from prismaudio.stemgen.grpo import class_accuracy, export_stem_model, load_engine, load_stem_grpo, plan_set

    run = load_stem_grpo(args.config)
    afters = []
    for a in args.after:  # a training checkpoint: its EMA policy as a stem generator file
        path = Path(a)
        afters.append(export_stem_model(path, Path("/tmp") / f"stem_grpo_bench_{path.stem}.safetensors")
                      if path.is_file() and _kind(path) == "grpo" else path)
    # plans from a seed neither the rollouts (seed) nor the trainer's evaluation (seed + 1_000_003) used
    plans_cfg = replace(run.plans, eval_plans=args.plans, seed=run.plans.seed + 7_000_000)
    plans = [p for _, p in plan_set(plans_cfg, held_out=True)]
    rewards = build_rewards(["semantic", "temporal", "aesthetic"])
    scorers = {**{k: rewards[k].score for k in rewards},
               "CLAP-eval": SemanticReward("clap_eval").score, "PQ-eval": AestheticReward("quality_eval").pq,
               "class-accuracy": class_accuracy}
    scores, seconds = {}, {}
    for tag, model in (("before", args.before), *((str(a), str(p)) for a, p in zip(args.after, afters))):
        engine = load_engine(run.plans, run.grpo.start_sigma, model)
        rows, stems, sec = render(engine, plans, args.seeds)
        scores[tag] = score_stems(rows, stems, engine.latent.sample_rate, scorers)
        seconds[tag] = sec / len(stems)
        print(f"{tag}: " + ", ".join(f"{k} {scores[tag][k].mean():.3f}" for k in DIMENSIONS) + f" ({seconds[tag]:.2f} s per stem)",
              flush=True)
    tables = {}
    for a in args.after:
        table = tables[a] = {k: paired(scores["before"][k], scores[a][k], len(plans)) for k in DIMENSIONS}
        print(f"after = {a}")
        for k, row in table.items():
            lo, hi = row["gain_95"]
            print(f"  {k:15s} before {row['before']:.3f}  after {row['after']:.3f}  gain {row['gain']:+.3f} [{lo:+.3f}, {hi:+.3f}]")
    wins = {a: {k: t[k]["gain_95"][0] > 0 for k in DIMENSIONS} for a, t in tables.items()}
    report = {
        "command": " ".join(sys.argv), "before": args.before or "shipped", "plans": len(plans),
        "seeds_per_plan": args.seeds, "plan_seconds": run.plans.seconds, "variation": run.grpo.start_sigma,
        "engine_steps": run.plans.engine_steps, "seconds_per_stem": seconds,
        "after": {a: {"dimensions": tables[a], "significant_gain": wins[a],
                      "wins_all_three_rewards": all(wins[a][k] for k in ("semantic", "temporal", "aesthetic"))}
                  for a in args.after},
    }
    if args.run and (Path(args.run) / "log.jsonl").is_file():
        keep = ("iteration", "reward/semantic/mean", "reward/temporal/mean", "reward/aesthetic/mean",
                "reward/composite/mean", "eval/class_accuracy", "kl")
        report["learning_curve"] = [{k: r[k] for k in keep if k in r}
                                    for r in map(json.loads, (Path(args.run) / "log.jsonl").read_text().splitlines())]
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


def _kind(path: Path) -> str:
    from prismaudio.train.checkpoint import read_header

    return read_header(path).get("kind", "")


if __name__ == "__main__":
    sys.exit(main())
