"""The stem generator on SynthCanvas test clips from the reference plan (issue 21 targets).

    PYTHONPATH=src python benchmarks/bench_stem_generator.py [--model PATH] [--clips 48] [--threads 2]

Each clip's sources are rendered by the stem generator (one batch per clip, exemplars from the
shipped bank by class name), placed from the plan by the spatial renderer (pan, ITD, distance
gain) and mixed, then scored by the evaluation suite (`prismaudio eval` metrics). Sets:
- test48: the first 48 test clips (the README table's clips): class accuracy, CLAP, onset F1
  on impacts, PQ, side accuracy; class accuracy also split into held-in / held-out classes;
- held_out_exemplar: every single-source test clip of a class held out from training, given
  an exemplar (a fresh rendering of its class, not in the pool) -> class accuracy (target 0.60);
  held_out_no_exemplar: the same clips with text only (how much the exemplar steers);
- speed: an 8 s clip with 3 sources end to end (stems + placing + mix), median of 3.
Writes benchmarks/results/stem_generator.json (with the training curve when --curve exists).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

KEYS = ("class-accuracy", "CLAP", "onset-F1-impact", "PQ-quality", "FD-YAMNET", "ILD-error-dB", "side-accuracy")
JOINT_README = {"class-accuracy": 0.250, "CLAP": 0.318, "onset-F1-impact": 0.856, "PQ-quality": 7.29,
                "FD-YAMNET": 15.3, "side-accuracy": 0.431, "source": "README table: tiny after Fast-GRPO, same 48 clips"}


def place(plan, stems: dict[str, np.ndarray], sr: int) -> np.ndarray:
    """Stereo mix [2, N]: each stem placed from the plan's x(t) and distance(t), peak-limited."""
    from prismaudio.canvas.render_audio import GAIN_RANGE, PEAK_LIMIT, spatialize

    n = int(round(plan.duration * sr))
    t = np.arange(n) / sr
    mix = np.zeros((2, n))
    for sid, mono in stems.items():
        track = plan.track(sid)
        x = track.x_at(t) if track else np.zeros(n)
        dist = track.distance_at(t) if track and track.distance else np.ones(n)
        gain = np.clip(1.0 / np.maximum(dist, 1e-3), *GAIN_RANGE)
        mix += spatialize(mono[:n] * gain, x, sr)
    peak = float(np.abs(mix).max()) if n else 0.0
    return (mix * (PEAK_LIMIT / peak if peak > PEAK_LIMIT else 1.0)).astype(np.float32)


def fresh_exemplar(class_name: str, sr: int, seed: int) -> np.ndarray:
    """A rendering of the class that the note pool does not hold (another seed)."""
    from prismaudio.canvas.classes import BUILTIN_CLASSES
    from prismaudio.canvas.soundbank import SoundBank, default_soundfont

    cls = {c.name: c for c in BUILTIN_CLASSES}[class_name]
    bank = SoundBank(sr, default_soundfont())
    rng = np.random.default_rng(900_000 + seed)
    return bank.render(cls, rng, None if cls.kind == "impact" else 3.0).audio


def run_set(engine, clips, folder: Path, reference: Path, manifest: Path, exemplars=None, seed0: int = 0):
    from prismaudio import media
    from prismaudio.engines.base import StemRequest
    from prismaudio.metrics.evaluate import evaluate
    from prismaudio.recipe.evaluation import copy_references

    folder.mkdir(parents=True, exist_ok=True)
    copy_references(clips, reference)
    seconds = []
    for i, clip in enumerate(clips):
        started = time.time()
        request = StemRequest(clip.plan, engine.latent.sample_rate, seed0 + i, clip.plan.duration,
                              (exemplars or {}).get(clip.id, {}))
        mix = place(clip.plan, engine.render_stems(request), request.sample_rate)
        seconds.append(time.time() - started)
        media.write_audio(folder / f"{clip.id}.wav", torch.from_numpy(mix), request.sample_rate)
    result = evaluate(folder, reference, manifest=manifest, cache=folder.parent / ".cache",
                      metrics=("fd", "semantic", "temporal", "aesthetic", "spatial"))
    return result, statistics.median(seconds)


def class_acc(result, ids) -> float | None:
    vals = [result.per_sample[i].get("class-accuracy") for i in ids if i in result.per_sample]
    vals = [v for v in vals if v is not None]
    return float(np.mean(vals)) if vals else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="stem generator file or training checkpoint (default: shipped)")
    ap.add_argument("--canvas", default="/work/data/canvas")
    ap.add_argument("--clips", type=int, default=48)
    ap.add_argument("--group", choices=("all", "single"), default="all",
                    help="test clips: all (the README's first 48) or single-source only (every one gives class accuracy)")
    ap.add_argument("--held-out-clips", type=int, default=None, help="limit the held-out set (default: all 24)")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--cfg-strength", type=float, default=3.0)
    ap.add_argument("--template-sigma", type=float, default=None,
                    help="noise level the flow starts at from each source's template (1.0: no templates; default: the engine's)")
    ap.add_argument("--library", default=None, help="a sound library the templates take recordings from")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--config", default="tiny", help="stem generator preset (for the held-out class list)")
    ap.add_argument("--curve", default="/work/runs/stemgen/run/curve.jsonl")
    ap.add_argument("--out", default="/work/runs/stemgen/bench")
    ap.add_argument("--json", default="benchmarks/results/stem_generator.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from prismaudio.canvas.manifest import load_manifest
    from prismaudio.engines.base import StemRequest
    from prismaudio.metrics.report import format_value
    from prismaudio.recipe.evaluation import eval_clips
    from prismaudio.stemgen.config import load_stem_run
    from prismaudio.stemgen.engine import StemGeneratorEngine

    held_out = set(load_stem_run(args.config).data.held_out)
    manifest_path = Path(args.canvas) / "manifest.jsonl"
    samples = load_manifest(manifest_path)
    from prismaudio.stemgen.engine import DEFAULT_TEMPLATE_SIGMA

    library = None
    if args.library:
        from prismaudio.library import SoundLibrary

        library = SoundLibrary.load(args.library)
    sigma = DEFAULT_TEMPLATE_SIGMA if args.template_sigma is None else args.template_sigma
    engine = StemGeneratorEngine.load(args.model, num_steps=args.steps, cfg_strength=args.cfg_strength,
                                      library=library, template_sigma=sigma)
    out = Path(args.out)
    report: dict = {"model": str(args.model or "shipped"), "group": args.group, "steps": args.steps, "cfg_strength": args.cfg_strength,
                    "template_sigma": sigma, "library": args.library, "held_out_classes": sorted(held_out), "joint_model": JOINT_README}

    def classes_of(s):
        return [src.class_name for src in s.sources]

    # ---- the README's 48 test clips -------------------------------------------------------
    clips = eval_clips([s for s in samples if args.group == "all" or s.group == "single"], "test", args.clips)
    result, sec = run_set(engine, clips, out / "test", out / "reference" / "test", manifest_path)
    singles = [s for s in clips if s.group == "single"]
    report["test"] = {**{k: result.summary.get(k) for k in KEYS}, "clips": len(clips), "median_s_per_clip": sec,
                        "class-accuracy_held_in": class_acc(result, [s.id for s in singles if classes_of(s)[0] not in held_out]),
                        "class-accuracy_held_out_bank": class_acc(result, [s.id for s in singles if classes_of(s)[0] in held_out])}
    print("test:", ", ".join(f"{k} {format_value(v)}" for k, v in report["test"].items()), flush=True)

    # ---- held-out classes with and without an exemplar ------------------------------------
    from generator_checks import held_out_clips  # the same clips as bench_generator.py's held_out section

    ho = held_out_clips(samples, held_out, args.held_out_clips)
    exemplars = {s.id: {s.sources[0].id: fresh_exemplar(classes_of(s)[0], engine.latent.sample_rate, i)} for i, s in enumerate(ho)}
    result, _ = run_set(engine, ho, out / "held_out_exemplar", out / "reference" / "held_out", manifest_path, exemplars)
    report["held_out_exemplar"] = {"class-accuracy": result.summary.get("class-accuracy"), "clips": len(ho),
                                   "onset-F1-impact": result.summary.get("onset-F1-impact"), "target": 0.60}
    # text only: no exemplar, no bank entry and no template (a sketch would bring the class's sound back)
    bank, engine.bank, templates, engine.template_engine = engine.bank, None, engine.template_engine, None
    result, _ = run_set(engine, ho, out / "held_out_text_only", out / "reference" / "held_out", manifest_path)
    engine.bank, engine.template_engine = bank, templates
    report["held_out_text_only"] = {"class-accuracy": result.summary.get("class-accuracy"), "clips": len(ho)}
    print("held-out classes: with exemplar", format_value(report["held_out_exemplar"]["class-accuracy"]),
          "text only", format_value(report["held_out_text_only"]["class-accuracy"]), flush=True)

    # ---- speed: 8 s, 3 sources, end to end ------------------------------------------------
    three = next(s for s in sorted(samples, key=lambda s: s.id) if s.split == "test" and len(s.sources) == 3)
    times, cpu = [], []
    for i in range(3):
        started, started_cpu = time.time(), time.process_time()
        stems = engine.render_stems(StemRequest(three.plan, engine.latent.sample_rate, i, three.plan.duration))
        place(three.plan, stems, engine.latent.sample_rate)
        times.append(time.time() - started)
        cpu.append(time.process_time() - started_cpu)
    # on a shared machine the wall time measures the other jobs too; CPU seconds (all threads) do not
    report["speed"] = {"clip": three.id, "sources": 3, "seconds": three.plan.duration, "threads": args.threads,
                       "median_s": statistics.median(times), "median_cpu_s": statistics.median(cpu), "target_s": 2.5,
                       "load_average": list(os.getloadavg())}
    print(f"speed: 8 s clip, 3 sources, end to end {statistics.median(times):.2f} s wall, "
          f"{statistics.median(cpu):.2f} CPU s (target 2.5 s; load average {os.getloadavg()[0]:.1f})", flush=True)

    curve = Path(args.curve)
    if curve.is_file():
        report["learning_curve"] = [json.loads(line) for line in curve.read_text().splitlines() if line.strip()]
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
