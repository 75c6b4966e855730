"""Engines side by side on SynthCanvas, from the reference plan: the reference audio, the
joint-stereo model, the stem model (stemgen/) and the library engine (and any engine
registered in ENGINES); issue 21's generator benchmark.

    nice -n 10 .venv/bin/python benchmarks/bench_generator.py --canvas data/canvas [--limit 8] \
        [--stem-model CKPT] [--engine-every "joint model=6"] [--sections splits,held_out,edits,handwritten,speed]

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

Sections beyond the split table (generator_checks.py): held_out (classes held out from
stem-generator training, each given an exemplar), edits (bench_plan_edit's five edits per
engine), handwritten (a hand-written plan on a PhysWorld video), speed (8 s, 3 sources and 1
source, end to end). --sections picks them; the sections not run keep their figures from
the results file already there, so slow parts can run separately.
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
from generator_report import SECTIONS, fmt, merge_files, merged, write_results  # noqa: E402  (results and tables)
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


def stem_engine(args, variation: float | None = None):
    """The stem generator as `generate --engine stem` runs it: each stem starts from a sketch
    (exemplar or sound-bank rendering) noised to `--stem-variation`; `variation` 1.0: from
    pure noise, the generator alone."""
    from prismaudio.pipeline import PrismAudio
    from prismaudio.stemgen.engine import DEFAULT_TEMPLATE_SIGMA, StemGeneratorEngine

    sigma = variation if variation is not None else args.stem_variation if args.stem_variation is not None \
        else DEFAULT_TEMPLATE_SIGMA
    engine = StemGeneratorEngine.load(args.stem_model, num_steps=args.stem_steps, template_sigma=sigma)
    return PrismAudio.for_stems(engine, sample_rate=engine.latent.sample_rate), engine.name


def recordings_engine(args):
    """The library engine over the built sound library of real recordings (and the soundfont's
    classes under their library names): what `generate --engine library --library DIR` uses."""
    from prismaudio.engines.library import LibraryEngine
    from prismaudio.library import SoundLibrary
    from prismaudio.pipeline import PrismAudio

    return PrismAudio.for_stems(LibraryEngine(SoundLibrary.load(args.recordings))), "library"


ENGINES = {"joint model": model_engine, "stem model": stem_engine,
           "stem model (no sketch)": lambda args: stem_engine(args, variation=1.0), "library": library_engine,
           "library (recordings)": recordings_engine}


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


def spatial_slope(folder: Path, clips: list, alone: bool = False) -> float | None:
    """Heard-vs-planned x slope over the mixes; `alone`: frames where one source sounds, by the
    renderer's pan law (bench_spatial_follow.planned_and_heard), else every frame as before."""
    from bench_spatial_follow import planned_and_heard

    pairs = [planned_and_heard(folder / f"{c.id}.wav", c.plan, alone=alone)
             for c in clips if len(c.plan.semantic.sources) > 1]
    planned = np.concatenate([a for a, _ in pairs]) if pairs else np.zeros(0)
    heard = np.concatenate([b for _, b in pairs]) if pairs else np.zeros(0)
    if len(planned) < 3 or np.ptp(planned) == 0:
        return None
    return float(np.polyfit(planned, heard, 1)[0])


def source_class_accuracy(folder: Path, reference: Path, clips: list) -> tuple[float | None, int, int]:
    """Class accuracy per planned source in mixes too (metrics/source_class.py): each source
    where it sounds alone, each ear classified, the clip at its reference's level."""
    import soundfile as sf

    from prismaudio.audio_models.assets import load_model
    from prismaudio.audio_models.yamnet import shared
    from prismaudio.metrics.source_class import accuracy, classifier_over_ears, matched_gain, score_clip

    classify, scores = classifier_over_ears(load_model("classifier")), []
    for clip in clips:
        audio = sf.read(folder / f"{clip.id}.wav", dtype="float32", always_2d=True)[0].T
        ref = sf.read(reference / f"{clip.id}.wav", dtype="float32", always_2d=True)[0].T
        scores += score_clip(audio, clip.plan, shared(), classify, matched_gain(audio, ref))
    return accuracy(scores)


def merge(old: dict | None, new: dict) -> dict:
    return merged(old, new, ENGINES)


def engine_every(spec: str) -> dict[str, int]:
    """'joint model=6,stem model=2' -> {'joint model': 6, 'stem model': 2}."""
    out = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, k = part.rpartition("=")
        if name.strip() not in ENGINES or not k.strip().isdigit() or int(k) < 1:
            raise SystemExit(f"--engine-every: '{part}' is not ENGINE=K with ENGINE one of {', '.join(ENGINES)}")
        out[name.strip()] = int(k)
    return out


def split_table(pipes: dict, clips: list, split: str, every: dict, args, manifest_path: Path) -> dict:
    """One split: every engine renders its clips (all, or every K-th for a slow engine, with a
    reference row on that subset too), the evaluation suite scores them against the reference."""
    from prismaudio.metrics.evaluate import evaluate
    from prismaudio.recipe.evaluation import copy_references

    out = Path(args.out)
    rows, folders, sets = {}, {}, {}
    for k in sorted({1, *(every.get(n, 1) for n in pipes)}):
        subset = clips[::k]
        tag = hashlib.sha1(" ".join(c.id for c in subset).encode()).hexdigest()[:8]
        reference = out / split / f"reference_{len(subset)}_{tag}"  # exactly these clips: every engine scored on them
        copy_references(subset, reference)
        name = "reference" if k == 1 else f"reference (every {k}th clip)"
        rows[name], folders[name], sets[name] = {"seconds-per-8s": None, "cpu-seconds-per-8s": None}, reference, (subset, reference)
    for name, (pipe, engine) in pipes.items():
        subset = clips[::every.get(name, 1)]
        folder = out / split / name.replace(" ", "_")
        timing = {} if args.score_only else render_folder(pipe, engine, subset, folder)
        if args.score_only and (folder / "timings.json").is_file():
            known = json.loads((folder / "timings.json").read_text())
            timing = {c.id: known[c.id] for c in subset if c.id in known}
        wall = statistics.median(t["wall"] for t in timing.values()) if timing else None
        cpu = statistics.median(t["cpu"] for t in timing.values()) if timing else None
        rows[name] = {"seconds-per-8s": wall, "cpu-seconds-per-8s": cpu}
        folders[name] = folder
        k = every.get(name, 1)
        sets[name] = (subset, sets["reference" if k == 1 else f"reference (every {k}th clip)"][1])
        print(f"{split} {name}: {len(subset)} clips, median {fmt(wall)} s wall, {fmt(cpu)} s CPU per 8 s", flush=True)
    for name, folder in folders.items():
        subset, reference = sets[name]
        scores = evaluate(folder, reference, manifest=manifest_path, cache=out / ".cache").summary
        rows[name].update({k: (float(scores[k]) if scores.get(k) is not None else None) for k in KEYS})
        rows[name]["spatial-slope-mixes"] = spatial_slope(folder, subset)
        rows[name]["spatial-slope-alone"] = spatial_slope(folder, subset, alone=True)
        acc, scored, sources = source_class_accuracy(folder, reference, subset)
        rows[name]["class-accuracy-per-source"], rows[name]["sources-scored"] = acc, f"{scored}/{sources}"
        rows[name]["clips"] = len(subset)
        print(f"{split} {name}: " + ", ".join(f"{k} {fmt(rows[name].get(k))}" for k in (*KEYS, "spatial-slope-mixes",
                                                                                     "spatial-slope-alone",
                                                                                     "class-accuracy-per-source")),
              flush=True)
    return {"clips": len(clips), "mixes": sum(len(c.plan.semantic.sources) > 1 for c in clips), "engines": rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--canvas", default="data/canvas")
    ap.add_argument("--physworld", default="data/physworld", help="PhysWorld build (the hand-written plan's video)")
    ap.add_argument("--sections", default=",".join(SECTIONS), help=f"comma list of: {', '.join(SECTIONS)}")
    ap.add_argument("--splits", default="test,ood")
    ap.add_argument("--limit", type=int, default=None, help="at most this many clips per split")
    ap.add_argument("--every", type=int, default=1,
                    help="every K-th clip of each split's set (a spread-out subset for slow engines; same clips for all)")
    ap.add_argument("--engine-every", default="", metavar="ENGINE=K,...",
                    help="a slow engine renders every K-th of the split's clips (a reference row on that subset is added)")
    ap.add_argument("--engines", default="joint model,stem model,library", help=f"comma list of: {', '.join(ENGINES)}")
    ap.add_argument("--score-only", action="store_true",
                    help="splits: render nothing, score the clips every chosen engine has already rendered")
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--stem-model", default=None, help="stem generator file or training checkpoint (default: shipped)")
    ap.add_argument("--stem-steps", type=int, default=8, help="stem model sampling steps")
    ap.add_argument("--stem-variation", type=float, default=None,
                    help="stem model: how far each stem may depart from its sketch (default: generate's)")
    ap.add_argument("--library", default=None, help="sound library folder (default: the canvas classes rendered)")
    ap.add_argument("--recordings", default="data/library", help="the built sound library, for 'library (recordings)'")
    ap.add_argument("--held-out-limit", type=int, default=None, help="at most this many held-out-class clips (all: 24)")
    ap.add_argument("--edit-limit", type=int, default=24, help="plan edits: this many test clips (bench_plan_edit's order)")
    ap.add_argument("--speed-runs", type=int, default=2, help="timed runs per speed clip (after one untimed)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="runs/bench_generator")
    ap.add_argument("--results", default="benchmarks/results/generator.json")
    ap.add_argument("--merge-from", nargs="+", default=[], metavar="JSON",
                    help="run nothing: merge these results files (passes run apart) into --results, engine by engine")
    args = ap.parse_args()
    if args.merge_from:
        return merge_files(Path(args.results), [Path(p) for p in args.merge_from], ENGINES)
    import torch

    torch.set_num_threads(args.threads)
    import generator_checks as checks
    from prismaudio.canvas.manifest import load_manifest
    from prismaudio.recipe.evaluation import eval_clips

    manifest_path = Path(args.canvas) / "manifest.jsonl"
    samples = load_manifest(manifest_path)
    names = [n.strip() for n in args.engines.split(",") if n.strip()]
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = [n for n in names if n not in ENGINES] + [s for s in sections if s not in SECTIONS]
    if unknown:
        print(f"error: unknown engine(s)/section(s) {', '.join(unknown)} (engines: {', '.join(ENGINES)}; sections: "
              f"{', '.join(SECTIONS)})", file=sys.stderr)
        return 2
    every = engine_every(args.engine_every)
    render_only_scored = args.score_only and sections == ["splits"]
    pipes = {name: (None, None) if render_only_scored else ENGINES[name](args) for name in names}
    results_path = Path(args.results)
    out = Path(args.out)
    old = json.loads(results_path.read_text()) if results_path.is_file() else {}
    results = {k: v for k, v in old.items() if k in SECTIONS}  # sections not run now keep their figures
    results["canvas"] = str(Path(args.canvas).resolve())
    run = {"command": " ".join(sys.argv), "canvas": str(Path(args.canvas).resolve()), "engines": names, "sections": sections,
           "limit": args.limit, "every": args.every, "engine_every": every, "threads": args.threads}
    if "joint model" in names:
        run["model"] = args.model
    if any(n.startswith("stem model") for n in names):
        run["stem_model"] = args.stem_model or "shipped"
        run["stem_variation"] = args.stem_variation
    # a run whose engines and sections this one covers is superseded
    results["runs"] = [r for r in old.get("runs", []) if not (set(r.get("engines", [])) <= set(names)
                                                              and set(r.get("sections", [])) <= set(sections))] + [run]
    if "splits" in sections:
        results["splits"] = dict(old.get("splits", {}))
        for split in [s.strip() for s in args.splits.split(",") if s.strip()]:
            clips = eval_clips(samples, split, SPLITS.get(split, 48))[::max(1, args.every)][:args.limit or None]
            if args.score_only:
                clips = [c for c in clips if all((out / split / n.replace(" ", "_") / f"{c.id}.wav").is_file() for n in pipes)]
            if not clips:
                print(f"{split}: no clips to score", file=sys.stderr)
                continue
            table = split_table(pipes, clips, split, every, args, manifest_path)
            before = old.get("splits", {}).get(split)
            results["splits"][split] = merge(before if before and before.get("clips") == table["clips"] else None, table)
    if "held_out" in sections:
        from prismaudio.stemgen.config import load_stem_run

        held = set(load_stem_run("tiny").data.held_out)
        clips = checks.held_out_clips(samples, held, args.held_out_limit)
        results["held_out"] = merge(old.get("held_out"), {"clips": len(clips), "classes": sorted(held),
                                     "engines": checks.held_out(pipes, clips, out, manifest_path, 16000)})
    if "edits" in sections:
        results["edits"] = merge(old.get("edits"), {"engines": checks.plan_edits(pipes, samples, Path(args.canvas), out,
                                                                                   args.edit_limit)})
    if "handwritten" in sections:
        results["handwritten"] = merge(old.get("handwritten"), {
            "video": f"{Path(args.physworld).name}/{checks.HAND_VIDEO}", "impact_times": list(checks.HAND_IMPACTS),
            "engines": checks.handwritten(pipes, Path(args.physworld), out)})
    if "speed" in sections:
        results["speed"] = merge(old.get("speed"), {"runs": args.speed_runs, "threads": args.threads,
                                                     "engines": checks.speed(pipes, samples, args.speed_runs)})
    write_results(results_path, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
