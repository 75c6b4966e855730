"""Quality against sampling cost: the default model at several Euler step counts, scored by
the evaluation suite on the same SynthCanvas clips (reference plans, one seed per clip).

    .venv/bin/python benchmarks/bench_steps.py --steps 8,12,16,24 --clips 16 [--split test]

Prints one row per step count: the evaluation metrics and the median sampling wall time per
8 s clip (one clip at a time, 2 threads). It is what the default `num_steps` is chosen from.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import torch

KEYS = ("class-accuracy", "CLAP", "onset-F1-impact", "PQ-quality", "FD-YAMNET", "ILD-error-dB", "side-accuracy")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--canvas", default="data/canvas")
    ap.add_argument("--split", default="test")
    ap.add_argument("--clips", type=int, default=16)
    ap.add_argument("--group", choices=("all", "single", "multi"), default="all",
                    help="only single-source clips (class accuracy needs one class per clip) or only multi-source ones")
    ap.add_argument("--steps", default="8,12,16,24")
    ap.add_argument("--cfg-strength", type=float, default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="runs/bench_steps")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from prismaudio import media
    from prismaudio.canvas.manifest import load_manifest
    from prismaudio.metrics.evaluate import evaluate
    from prismaudio.metrics.report import format_value
    from prismaudio.pipeline import PrismAudio
    from prismaudio.recipe.evaluation import copy_references, eval_clips

    manifest_path = Path(args.canvas) / "manifest.jsonl"
    samples = [s for s in load_manifest(manifest_path) if args.group == "all" or s.group == args.group]
    clips = eval_clips(samples, args.split, args.clips)
    out = Path(args.out)
    reference = out / "reference"
    copy_references(clips, reference)
    model = PrismAudio.from_pretrained(args.model, device="cpu")
    cfg_strength = model.defaults["cfg_strength"] if args.cfg_strength is None else args.cfg_strength
    rows = []
    for steps in [int(s) for s in args.steps.split(",")]:
        folder = out / f"steps_{steps}"
        folder.mkdir(parents=True, exist_ok=True)
        seconds = []
        for i, clip in enumerate(clips):
            result = model.generate(clip.video_path, clip.plan, seed=i, num_steps=steps, cfg_strength=cfg_strength)
            seconds.append(result.timings["sample"])
            media.write_audio(folder / f"{clip.id}.wav", result.waveform, result.sample_rate)
        scores = evaluate(folder, reference, manifest=manifest_path, cache=out / ".cache").summary
        rows.append((steps, statistics.median(seconds), scores))
        print(f"{steps} steps: sampling {statistics.median(seconds):.2f} s per clip; "
              + ", ".join(f"{k} {format_value(scores.get(k))}" for k in KEYS), flush=True)
    print(f"\nmodel {args.model}, {len(clips)} {args.split} clips ({args.group}), CFG {cfg_strength}, {args.threads} threads")
    print("| steps | sampling s/clip | " + " | ".join(KEYS) + " |")
    print("|---|---|" + "---|" * len(KEYS))
    for steps, sample_s, scores in rows:
        print(f"| {steps} | {sample_s:.2f} | " + " | ".join(format_value(scores.get(k)) for k in KEYS) + " |")


if __name__ == "__main__":
    main()
