"""Planner benchmark over the SynthCanvas test and ood splits.

    .venv/bin/python benchmarks/bench_planner.py [--canvas /work/data/canvas] [--limit N]
    .venv/bin/python benchmarks/bench_planner.py --synthetic 100   # canvas-style clips made here
    .venv/bin/python benchmarks/bench_planner.py --physics /work/data/physworld [--no-canvas]

With --physics DIR, the PhysWorld splits (--physics-splits, default test: held-out objects and
scenes) are reported next to test and ood: contacts (impacts) within +-40 ms precision and
recall, event strength rank correlation (Spearman between planned and true strength on matched
impacts), side accuracy and object named right (what it is, its sound class or one that sounds alike:
canvas.physics.names), both
over the objects that make a sound (a still, silent object is rightly not planned), and
clips with no moving object that got a source planned. Figures also go to
benchmarks/results/planner_physworld.json.

Prints: source recognition accuracy (single / multi-source), event onset precision and
recall within +-40 ms (all events and impacts only), side (left/centre/right) accuracy,
and planner speed in seconds per 8 s clip on 2 threads, measured end to end
(decode + analysis + features + recognition) on 8 s clips.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from prismaudio import media
from prismaudio.planner_training.canvas_clips import GroundTruthSource, make_clip
from prismaudio.planner.plan import side_of
from prismaudio.planner.planner import plan_video

sys.path.insert(0, str(Path(__file__).parent))  # the benchmark's own modules beside it
from planner_physworld import physics_evaluate, print_physics  # noqa: E402
from planner_scoring import match_onsets, match_sources, pct  # noqa: E402



@dataclass
class Sample:
    id: str
    split: str
    group: str  # single | multi
    video: Path
    duration: float
    sources: list[GroundTruthSource]
    events: list[tuple[float, str]]  # (onset, kind)


def canvas_samples(root: str, splits: list[str], limit: int) -> list[Sample]:
    from prismaudio.canvas.manifest import load_manifest

    out = []
    for s in load_manifest(root):
        if s.split not in splits:
            continue
        srcs = []
        for src in s.sources:
            tr = src.track
            impacts = [e.frame for e in s.events if e.source == src.id and e.kind == "impact"]
            srcs.append(GroundTruthSource(src.class_name, src.kind, np.asarray(tr.x), np.asarray(tr.y), np.asarray(tr.visible, bool), impacts))
        group = "single" if len(srcs) == 1 else "multi"
        out.append(Sample(s.id, s.split, group, s.video_path, s.duration, srcs, [(e.onset, e.kind) for e in s.events]))
    by_split = {sp: [x for x in out if x.split == sp][:limit] if limit else [x for x in out if x.split == sp] for sp in splits}
    return [x for sp in splits for x in by_split[sp]]


def synthetic_samples(n: int, tmp: Path, duration: float = 4.0) -> list[Sample]:
    out = []
    for i in range(n):
        ood = i % 3 == 2
        single = (not ood) and i % 3 == 0
        seed = 900_000 + i
        try:
            clip = make_clip(seed, single=single, ood=ood, duration=duration)
        except ValueError:
            continue
        path = tmp / f"syn_{i}.mp4"
        media.write_video(path, clip.frames, clip.fps)
        events = []
        for s in clip.sources:
            events += [(f / clip.fps, "impact") for f in s.impact_frames]
            if s.kind == "sustained" and s.visible.any():
                events.append((int(np.argmax(s.visible)) / clip.fps, "sustained"))
        out.append(Sample(f"syn_{i}", "ood" if ood else "test", "single" if single else "multi", path, duration, clip.sources, events))
    return out


def evaluate(samples: list[Sample], dump: list | None = None, cfg=None) -> dict:
    """Pooled figures; with `dump`, one dict of per-clip counts per sample is appended to it."""
    stats = {k: [0, 0] for k in ("rec_single", "rec_multi", "side")}
    ev = {"all": [0, 0, 0], "impact": [0, 0, 0]}  # hits, predicted, true
    per_split: dict[str, dict] = {}
    for s in samples:
        trace: list = []
        plan = plan_video(s.video, cfg, trace=trace)
        fps = trace[0].analysis.fps
        matched = match_sources(plan, s.sources, fps)
        key = "rec_single" if s.group == "single" else "rec_multi"
        clip = {"id": s.id, "rec": [0, 0], "side": [0, 0], "ev": [0, 0, 0], "labels": [], "mode": trace[0].mode}
        sp = per_split.setdefault(s.split, {"rec": [0, 0], "side": [0, 0], "ev": [0, 0, 0]})
        for j, src in enumerate(s.sources):
            sid = matched.get(j)
            label = None
            if sid is not None:
                label = plan.source(sid).label
                label = label.rsplit(" ", 1)[0] if label.rsplit(" ", 1)[-1].isdigit() else label
            ok = label == src.class_name
            clip["rec"][0] += ok
            clip["rec"][1] += 1
            clip["labels"].append([src.class_name, label])
            stats[key][0] += ok
            stats[key][1] += 1
            sp["rec"][0] += ok
            sp["rec"][1] += 1
            frames = np.flatnonzero(src.visible)[::5]
            track = plan.track(sid) if sid is not None else None
            for f in frames:
                good = track is not None and side_of(float(track.x_at(f / fps))) == side_of(float(src.x[f]))
                stats["side"][0] += good
                clip["side"][0] += good
                clip["side"][1] += 1
                stats["side"][1] += 1
                sp["side"][0] += good
                sp["side"][1] += 1
        for kind in ("all", "impact"):
            pred = [e.onset for e in plan.temporal.events if kind == "all" or e.kind == "impact"]
            true = [t for t, k in s.events if kind == "all" or k == "impact"]
            h = match_onsets(pred, true)
            ev[kind][0] += h
            ev[kind][1] += len(pred)
            ev[kind][2] += len(true)
            if kind == "all":
                sp["ev"][0] += h
                sp["ev"][1] += len(pred)
                sp["ev"][2] += len(true)
                clip["ev"] = [h, len(pred), len(true)]
        if dump is not None:
            dump.append(clip)
    return {"stats": stats, "events": ev, "per_split": per_split}


def speed(samples: list[Sample], tmp: Path, n: int = 5) -> list[float]:
    """Seconds per 8 s clip, end to end, on 8 s clips (2 threads)."""
    paths = []
    for i in range(n):
        try:
            clip = make_clip(700_000 + i, single=i % 2 == 0, duration=8.0)
        except ValueError:
            continue
        p = tmp / f"speed_{i}.mp4"
        media.write_video(p, clip.frames, clip.fps)
        paths.append(p)
    plan_video(paths[0])  # warm-up: model load
    times = []
    for p in paths:
        t = time.perf_counter()
        plan_video(p)
        times.append(time.perf_counter() - t)
    return times


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--canvas", default="/work/data/canvas")
    ap.add_argument("--splits", default="test,ood")
    ap.add_argument("--limit", type=int, default=0, help="at most this many samples per split (0: all)")
    ap.add_argument("--synthetic", type=int, default=0, help="use N canvas-style clips made here instead")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dump", default="", help="write per-clip counts (JSON lines) here")
    ap.add_argument("--no-speed", action="store_true", help="skip the speed measurement")
    ap.add_argument("--speed-only", action="store_true", help="only the speed measurement")
    ap.add_argument("--physics", default="", metavar="DIR", help="also report these PhysWorld splits (a `--world physics` build)")
    ap.add_argument("--physics-splits", default="test", help="PhysWorld splits to report (default test: held-out objects and scenes)")
    ap.add_argument("--no-canvas", action="store_true", help="only the PhysWorld figures (with --physics)")
    ap.add_argument("--planner-config", default="", metavar="YAML", help="a planner config (default: the packaged one)")
    ap.add_argument("--physics-results", default="", metavar="JSON",
                    help="where the PhysWorld figures go (default benchmarks/results/planner_physworld.json)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = None
    if args.planner_config:
        from prismaudio.config import load_config
        from prismaudio.planner.config import PlannerConfig

        cfg = load_config(PlannerConfig, args.planner_config)
    physics = None
    if args.physics:
        if not (Path(args.physics) / "manifest.jsonl").is_file():
            print(f"no PhysWorld build at {args.physics} (prismaudio canvas build DIR --world physics)", file=sys.stderr)
            return 2
        physics = physics_evaluate(args.physics, args.physics_splits.split(","), args.limit, cfg)
        out = Path(args.physics_results) if args.physics_results else Path(__file__).parent / "results" / "planner_physworld.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"root": args.physics, "splits": physics}, indent=1) + "\n")
        if args.no_canvas:
            print_physics(physics, args.physics)
            return 0
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        if args.speed_only:
            times = speed([], tmp)
            print(f"planner speed: {statistics.median(times):.3f} s median, {max(times):.3f} s max per 8 s clip "
                  f"({len(times)} clips, {args.threads} threads allowed, decode + analysis + features + recognition)   (target < 0.5 s)")
            return 0
        if args.synthetic:
            samples = synthetic_samples(args.synthetic, tmp)
            source = f"{len(samples)} canvas-style clips made in memory (seeds 900000+)"
        else:
            if not (Path(args.canvas) / "manifest.jsonl").is_file():
                print(f"no SynthCanvas at {args.canvas}; use --synthetic N", file=sys.stderr)
                return 2
            samples = canvas_samples(args.canvas, args.splits.split(","), args.limit)
            source = f"SynthCanvas {args.canvas}, splits {args.splits}: {len(samples)} samples"
        t0 = time.perf_counter()
        dump: list = []
        res = evaluate(samples, dump, cfg)
        elapsed = time.perf_counter() - t0
        if args.dump:
            Path(args.dump).write_text("".join(json.dumps(c) + "\n" for c in dump))
        times = [] if args.no_speed else speed(samples, tmp)
    st, ev = res["stats"], res["events"]
    print(f"planner benchmark on {source}")
    print(f"source recognition accuracy, single-event: {pct(*st['rec_single'])}   (target >= 95%)")
    print(f"source recognition accuracy, multi-event:  {pct(*st['rec_multi'])}   (target >= 85%)")
    for kind in ("all", "impact"):
        h, p, t = ev[kind]
        print(f"event onsets ({kind}) within +-40 ms: precision {h / max(p, 1):.3f} ({h}/{p}), recall {h / max(t, 1):.3f} ({h}/{t})"
              + ("   (targets >= 0.90 / >= 0.95)" if kind == "all" else ""))
    print(f"side (left/centre/right) accuracy: {pct(*st['side'])}   (target >= 95%)")
    for split, d in res["per_split"].items():
        h, p, t = d["ev"]
        print(f"  {split}: recognition {pct(*d['rec'])}, side {pct(*d['side'])}, event P {h / max(p, 1):.3f} R {h / max(t, 1):.3f}")
    if times:
        print(f"planner speed: {statistics.median(times):.3f} s median, {max(times):.3f} s max per 8 s clip "
          f"({len(times)} clips, {args.threads} threads, decode + analysis + features + recognition)   (target < 0.5 s)")
    if physics is not None:
        print_physics(physics, args.physics)
    print(f"(evaluation wall time {elapsed:.1f} s for {len(samples)} samples)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
