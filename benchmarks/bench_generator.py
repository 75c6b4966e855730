"""Engines side by side on SynthCanvas, from the reference plan: the reference audio, the
joint-stereo model and the library engine (and any engine registered in ENGINES).

    nice -n 10 .venv/bin/python benchmarks/bench_generator.py --canvas data/canvas [--limit 8]

Per split (test: the first 48 clips by id, as the README table; ood: all 60), each engine
renders every clip from its video and reference plan (one seed per clip) into
OUT/<split>/<engine>/<id>.wav; the evaluation suite scores each folder against the reference
(class accuracy, CLAP, onset F1 on impacts, PQ, side accuracy), the spatial slope in mixes is
the least-squares slope of heard against planned x over the multi-source clips (as
bench_spatial_follow.py computes it), and the time is the median wall (and CPU) seconds of
one generate per 8 s of audio (on a shared machine the CPU time is the steadier figure).
Rendered files and their timings are kept, so a rerun resumes and only re-scores. Writes
benchmarks/results/generator.json and generator.md.

The library engine needs a sound library of the canvas classes: --library DIR, or one is
rendered once from the canvas sound bank into OUT/canvas_library (TAKES takes per class).
To add a column, register a factory in ENGINES: a function (args) -> StemEngine (wrapped in a
stem pipeline) or -> a PrismAudio with its engine name.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
KEYS = ("class-accuracy", "CLAP", "onset-F1-impact", "PQ-quality", "side-accuracy")
TAKES = 4
SUSTAINED_TAKE_S = 8.0  # as long as a clip: a sustained event is one take, never a loop join
SPLITS = {"test": 48, "ood": 60}


# ---- engines: name -> factory(args) -> (pipeline, engine name) ------------------------------
def model_engine(args):
    from prismaudio.pipeline import PrismAudio

    return PrismAudio.from_pretrained(args.model, device="cpu"), "model"


def library_engine(args):
    from prismaudio.engines.library import LibraryEngine
    from prismaudio.library import SoundLibrary
    from prismaudio.pipeline import PrismAudio

    root = Path(args.library) if args.library else build_canvas_library(Path(args.canvas), Path(args.out) / "canvas_library")
    return PrismAudio.for_stems(LibraryEngine(SoundLibrary.load(root))), "library"


ENGINES = {"joint model": model_engine, "library": library_engine}


def build_canvas_library(canvas: Path, root: Path) -> Path:
    """The canvas classes rendered from its sound bank, TAKES takes each (other notes and
    velocities), as a library with its index: what the library builder makes of the soundfont."""
    from prismaudio.canvas.manifest import load_classes
    from prismaudio.canvas.soundbank import SoundBank
    from prismaudio.library import LibraryClass, Recording, SoundLibrary
    from prismaudio.library.catalog import INDEX_NAME
    from prismaudio.media import write_audio

    if (root / INDEX_NAME).is_file():
        return root
    build = json.loads((canvas / "build.json").read_text())
    sample_rate = build["config"]["sample_rate"]
    bank = SoundBank(sample_rate, build.get("soundfont"))
    classes, recordings = {}, {}
    tmp = root.with_name(root.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    for i, cls in enumerate(load_classes(canvas)):
        rng = np.random.default_rng(1000 + i)  # not the seeds the canvas clips were drawn with
        classes[cls.name] = LibraryClass(cls.name, cls.kind, cls.description, tuple(cls.audioset), origin="soundfont")
        recordings[cls.name] = []
        for k in range(TAKES):
            note = bank.render(cls, rng, seconds=SUSTAINED_TAKE_S if cls.kind == "sustained" else None)
            rel = f"{cls.name.replace(' ', '_')}/take{k}.wav"
            write_audio(tmp / rel, note.audio[None], sample_rate)
            recordings[cls.name].append(Recording(rel, cls.name, len(note.audio) / sample_rate, "canvas", "soundfont"))
    library = SoundLibrary(tmp, classes, recordings, sample_rate)
    (tmp / INDEX_NAME).write_text(json.dumps(library.index_dict(), indent=1))
    shutil.rmtree(root, ignore_errors=True)
    tmp.rename(root)
    return root


# ---- measuring ------------------------------------------------------------------------------
def render_folder(pipe, engine: str, clips: list, folder: Path) -> dict[str, dict]:
    """Write <id>.wav for every clip not yet done (a rerun resumes); returns per clip the wall
    and CPU seconds of its generate, scaled to 8 s of audio (kept in folder/timings.json)."""
    from prismaudio import media

    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "timings.json"
    timings = json.loads(log.read_text()) if log.is_file() else {}
    for i, clip in enumerate(clips):
        target = folder / f"{clip.id}.wav"
        if target.is_file():
            continue
        t0, c0 = time.perf_counter(), time.process_time()
        result = pipe.generate(clip.video_path, clip.plan, seed=i, engine=engine)
        scale = 8.0 / result.duration
        timings[clip.id] = {"wall": (time.perf_counter() - t0) * scale, "cpu": (time.process_time() - c0) * scale}
        media.write_audio(target, result.waveform, result.sample_rate)
        log.write_text(json.dumps(timings, indent=1))
    return {c.id: timings[c.id] for c in clips if c.id in timings}


def spatial_slope(folder: Path, clips: list) -> float | None:
    from bench_spatial_follow import planned_and_heard

    pairs = [planned_and_heard(folder / f"{c.id}.wav", c.plan) for c in clips if len(c.plan.semantic.sources) > 1]
    planned = np.concatenate([a for a, _ in pairs]) if pairs else np.zeros(0)
    heard = np.concatenate([b for _, b in pairs]) if pairs else np.zeros(0)
    if len(planned) < 3 or np.ptp(planned) == 0:
        return None
    return float(np.polyfit(planned, heard, 1)[0])


def fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def markdown(results: dict) -> str:
    cols = ("class-accuracy", "CLAP", "onset-F1-impact", "PQ-quality", "side-accuracy", "spatial-slope-mixes",
            "seconds-per-8s", "cpu-seconds-per-8s")
    lines = []
    for split, block in results["splits"].items():
        lines += [f"**{split}** ({block['clips']} clips, {block['mixes']} with 2+ sources)", "",
                  "| engine | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
        for name, row in block["engines"].items():
            lines.append(f"| {name} | " + " | ".join(fmt(row.get(c)) for c in cols) + " |")
        lines.append("")
    for name, check in results.get("targets", {}).items():
        lines.append(f"- {name}: {check}")
    return "\n".join(lines) + "\n"


def targets(results: dict) -> dict:
    """Issue 25's targets for the library engine on test, against the reference."""
    out = {}
    block = results["splits"].get("test")
    if not block or "library" not in block["engines"]:
        return out
    ref, lib = block["engines"]["reference"], block["engines"]["library"]
    for key, share in (("class-accuracy", 0.9), ("onset-F1-impact", 0.95)):
        if ref.get(key) and lib.get(key) is not None:
            ratio = lib[key] / ref[key]
            out[f"library {key} >= {share} x reference"] = f"{lib[key]:.3f} / {ref[key]:.3f} = {ratio:.2f} " + (
                "(met)" if ratio >= share else "(NOT met)")
    if lib.get("seconds-per-8s") is not None:
        out["library 8 s clip < 0.5 s"] = (f"median {lib['seconds-per-8s']:.3f} s wall, {lib['cpu-seconds-per-8s']:.3f} s CPU "
                                           + ("(met)" if lib["seconds-per-8s"] < 0.5 else "(NOT met on the wall clock)"))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--canvas", default="data/canvas")
    ap.add_argument("--splits", default="test,ood")
    ap.add_argument("--limit", type=int, default=None, help="at most this many clips per split")
    ap.add_argument("--every", type=int, default=1,
                    help="every K-th clip of each split's set (a spread-out subset for slow engines; same clips for all)")
    ap.add_argument("--engines", default=",".join(ENGINES), help=f"comma list of: {', '.join(ENGINES)}")
    ap.add_argument("--score-only", action="store_true",
                    help="render nothing: score the clips every chosen engine has already rendered")
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--library", default=None, help="sound library folder (default: the canvas classes rendered)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="runs/bench_generator")
    ap.add_argument("--results", default="benchmarks/results/generator.json")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from prismaudio.canvas.manifest import load_manifest
    from prismaudio.fsutil import atomic_path
    from prismaudio.metrics.evaluate import evaluate
    from prismaudio.recipe.evaluation import copy_references, eval_clips

    manifest_path = Path(args.canvas) / "manifest.jsonl"
    samples = load_manifest(manifest_path)
    names = [n.strip() for n in args.engines.split(",") if n.strip()]
    unknown = [n for n in names if n not in ENGINES]
    if unknown:
        print(f"error: unknown engine(s) {', '.join(unknown)} (known: {', '.join(ENGINES)})", file=sys.stderr)
        return 2
    pipes = {name: (None, None) if args.score_only else ENGINES[name](args) for name in names}
    results_path = Path(args.results)
    out = Path(args.out)
    results = {"command": " ".join(sys.argv), "canvas": str(Path(args.canvas).resolve()), "model": args.model,
               "limit": args.limit, "every": args.every, "splits": {}}
    for split in [s.strip() for s in args.splits.split(",") if s.strip()]:
        clips = eval_clips(samples, split, SPLITS.get(split, 48))[::max(1, args.every)][:args.limit or None]
        if args.score_only:
            clips = [c for c in clips if all((out / split / n.replace(" ", "_") / f"{c.id}.wav").is_file() for n in pipes)]
        if not clips:
            print(f"{split}: no clips to score", file=sys.stderr)
            continue
        tag = hashlib.sha1(" ".join(c.id for c in clips).encode()).hexdigest()[:8]
        reference = out / split / f"reference_{len(clips)}_{tag}"  # exactly these clips: every engine scored on them
        copy_references(clips, reference)
        rows = {"reference": {"seconds-per-8s": None, "cpu-seconds-per-8s": None}}
        folders = {"reference": reference}
        for name, (pipe, engine) in pipes.items():
            folder = out / split / name.replace(" ", "_")
            timing = {} if args.score_only else render_folder(pipe, engine, clips, folder)
            if args.score_only and (folder / "timings.json").is_file():
                known = json.loads((folder / "timings.json").read_text())
                timing = {c.id: known[c.id] for c in clips if c.id in known}
            wall = statistics.median(t["wall"] for t in timing.values()) if timing else None
            cpu = statistics.median(t["cpu"] for t in timing.values()) if timing else None
            rows[name] = {"seconds-per-8s": wall, "cpu-seconds-per-8s": cpu}
            folders[name] = folder
            print(f"{split} {name}: {len(clips)} clips, median {fmt(wall)} s wall, {fmt(cpu)} s CPU per 8 s", flush=True)
        for name, folder in folders.items():
            scores = evaluate(folder, reference, manifest=manifest_path, cache=out / ".cache").summary
            rows[name].update({k: (float(scores[k]) if scores.get(k) is not None else None) for k in KEYS})
            rows[name]["spatial-slope-mixes"] = spatial_slope(folder, clips)
            print(f"{split} {name}: " + ", ".join(f"{k} {fmt(rows[name].get(k))}" for k in (*KEYS, "spatial-slope-mixes")),
                  flush=True)
        results["splits"][split] = {"clips": len(clips), "mixes": sum(len(c.plan.semantic.sources) > 1 for c in clips),
                                    "engines": rows}
    results["targets"] = targets(results)
    table = markdown(results)
    print("\n" + table)
    path = results_path
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(results, indent=2) + "\n")
    with atomic_path(path.with_suffix(".md")) as tmp:
        tmp.write_text(table)
    print(f"wrote {path} and {path.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
