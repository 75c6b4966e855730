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

TOL = 0.040


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


def match_pairs(pred: list[float], true: list[float], tol: float = TOL) -> list[tuple[int, int]]:
    """One-to-one (pred index, true index) matches within tol (greedy by distance)."""
    pairs = sorted((abs(p - t), i, j) for i, p in enumerate(pred) for j, t in enumerate(true) if abs(p - t) <= tol + 1e-9)
    used_p, used_t, out = set(), set(), []
    for _, i, j in pairs:
        if i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            out.append((i, j))
    return out


def match_onsets(pred: list[float], true: list[float], tol: float = TOL) -> int:
    """Number of one-to-one matches within tol (greedy by distance)."""
    return len(match_pairs(pred, true, tol))


def match_sources(plan, sources: list[GroundTruthSource], fps: float, max_dist: float = 0.35) -> dict[int, str]:
    """GT source index -> plan source id, by the mean |x| distance of the plan's spatial track
    over the frames where the GT source is visible and the plan track exists."""
    from scipy.optimize import linear_sum_assignment

    tracks = plan.spatial.tracks
    if not tracks or not sources:
        return {}
    cost = np.full((len(sources), len(tracks)), 10.0)
    for j, src in enumerate(sources):
        frames = np.flatnonzero(src.visible)
        for i, tr in enumerate(tracks):
            t = frames / fps
            inside = (t >= tr.times[0] - 1e-6) & (t <= tr.times[-1] + 1e-6)
            if inside.sum() < 3:
                continue
            d = np.abs(tr.x_at(t[inside]) - src.x[frames[inside]])
            # coverage matters: a short fragment should not beat the whole track
            cost[j, i] = float(np.mean(d)) + 0.3 * (1 - inside.mean())
    rows, cols = linear_sum_assignment(cost)
    return {int(j): tracks[i].source for j, i in zip(rows, cols) if cost[j, i] < max_dist}


def evaluate(samples: list[Sample], dump: list | None = None) -> dict:
    """Pooled figures; with `dump`, one dict of per-clip counts per sample is appended to it."""
    stats = {k: [0, 0] for k in ("rec_single", "rec_multi", "side")}
    ev = {"all": [0, 0, 0], "impact": [0, 0, 0]}  # hits, predicted, true
    per_split: dict[str, dict] = {}
    for s in samples:
        trace: list = []
        plan = plan_video(s.video, trace=trace)
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


def physics_evaluate(root: str, splits: list[str], limit: int) -> dict:
    """The planner on PhysWorld clips, against the simulator's ground truth."""
    from prismaudio.canvas.manifest import load_manifest
    from prismaudio.canvas.physics.names import named_right, plain_label
    from prismaudio.canvas.physics.objects import model

    out: dict = {}
    manifest = load_manifest(root)
    for split in splits:
        clips = [s for s in manifest if s.split == split]
        clips = clips[:limit] if limit else clips
        ev = {"impact": [0, 0, 0], "all": [0, 0, 0], "heard_seen": [0, 0, 0]}
        dropped = {"inaudible": 0, "unseen": 0, "merged": 0}
        seen_strength: tuple[list, list] = ([], [])
        named, side, still_clips, still_invented = [0, 0], [0, 0], 0, 0
        planned_strength, true_strength = [], []
        names = []  # each sounding object's plan label, and whether it names the object right
        per_clip = []  # where it fails: each clip's impact hits / planned / true, against its camera and fps
        canvas_path = []  # clips the canvas gate sent down the SynthCanvas path (their contacts are not from motion)
        for s in clips:
            trace: list = []
            plan = plan_video(s.video_path, trace=trace)
            if trace[0].mode == "canvas":
                canvas_path.append(s.id)
            srcs = [GroundTruthSource(src.class_name, src.kind, np.asarray(src.track.x), np.asarray(src.track.y),
                                      np.asarray(src.track.visible, bool), []) for src in s.sources]
            if s.background.get("still") or all(src.motion == "still" for src in s.sources):
                still_clips += 1
                still_invented += bool(plan.semantic.sources)
            for kind in ("impact", "all"):
                pred = [e for e in plan.temporal.events if kind == "all" or e.kind == "impact"]
                true = [e for e in s.plan.temporal.events if kind == "all" or e.kind == "impact"]
                pairs = match_pairs([e.onset for e in pred], [e.onset for e in true])
                ev[kind][0] += len(pairs)
                ev[kind][1] += len(pred)
                ev[kind][2] += len(true)
                if kind == "impact":
                    planned_strength += [pred[i].strength for i, _ in pairs]
                    true_strength += [true[j].strength for _, j in pairs]
                    heard = perceptible_truth(s, true)
                    for k in dropped:
                        dropped[k] += getattr(heard, k)
                    hpairs = match_pairs([e.onset for e in pred], [c.onset for c in heard.contacts])
                    ev["heard_seen"] = [ev["heard_seen"][0] + len(hpairs), ev["heard_seen"][1] + len(pred),
                                        ev["heard_seen"][2] + len(heard.contacts)]
                    seen_strength[0].extend(pred[i].strength for i, _ in hpairs)
                    seen_strength[1].extend(heard.contacts[j].strength for _, j in hpairs)
                    per_clip.append({"id": s.id, "camera": s.background.get("camera", {}).get("motion"), "fps": s.fps,
                                     "impacts": [len(pairs), len(pred), len(true)],
                                     "heard_seen": [len(hpairs), len(pred), len(heard.contacts)],
                                     "planned": [round(e.onset, 3) for e in pred], "true": [round(e.onset, 3) for e in true],
                                     "true_heard_seen": [round(c.onset, 3) for c in heard.contacts]})
            # side and name are scored over the objects that make a sound: a still, silent object
            # is rightly not planned ("no invented sources"), and must not take a plan track either
            sounding = {e.source for e in s.plan.temporal.events}
            heard = [(src, gt) for src, gt in zip(s.sources, srcs) if src.id in sounding and gt.visible.any()]
            matched = match_sources(plan, [gt for _, gt in heard], s.fps)
            for j, (src, gt) in enumerate(heard):
                sid = matched.get(j)
                label = plan.source(sid).label if sid is not None else None
                try:
                    right = named_right(label, model(src.sprite))
                except KeyError:  # an object this build's table does not know: its sound class only
                    right = label is not None and plain_label(label) == src.class_name
                named[0] += right
                named[1] += 1
                names.append({"id": s.id, "object": src.sprite, "label": label, "right": bool(right)})
                track = plan.track(sid) if sid is not None else None
                for f in np.flatnonzero(gt.visible)[::5]:
                    side[0] += track is not None and side_of(float(track.x_at(f / s.fps))) == side_of(float(gt.x[f]))
                    side[1] += 1
        out[split] = {"clips": len(clips), "events": ev, "strength_spearman": _spearman(planned_strength, true_strength),
                      "strength_pairs": len(planned_strength), "heard_seen_dropped": dropped,
                      "heard_seen_strength_spearman": _spearman(*seen_strength), "heard_seen_strength_pairs": len(seen_strength[0]),
                      "named": named, "side": side, "still_clips": still_clips, "still_clips_with_sources": still_invented,
                      "canvas_path": canvas_path, "per_clip": per_clip, "names": names}
    return out


def _spearman(planned: list[float], true: list[float]) -> float | None:
    """Spearman between planned and true strengths; None with too few pairs or all equal."""
    from scipy.stats import spearmanr

    defined = len(planned) >= 3 and len(set(planned)) > 1 and len(set(true)) > 1
    return float(spearmanr(planned, true)[0]) if defined else None


def perceptible_truth(s, true_events: list):
    """The clip's true impacts a viewer hears and sees (`canvas.physics.perceptible`): levels
    from its own reference audio, visibility from its manifest tracks."""
    from prismaudio.canvas.physics.perceptible import TrueContact, heard_and_seen, onset_levels

    wave = media.read_audio(s.audio_path, s.sample_rate).numpy()
    mono = wave.mean(0) if wave.ndim > 1 else wave
    contacts = [TrueContact(e.source, e.onset, e.strength) for e in true_events]
    levels = onset_levels(mono, s.sample_rate, [c.onset for c in contacts])
    visible = {src.id: np.asarray(src.track.visible, bool) for src in s.sources}
    return heard_and_seen(contacts, levels, visible, s.fps)


def print_physics(res: dict, root: str) -> None:
    for split, r in res.items():
        h, p, t = r["events"]["impact"]
        ha, pa, ta = r["events"]["all"]
        hs, ps, ts = r["events"]["heard_seen"]
        print(f"PhysWorld {split} ({root}, {r['clips']} clips):")
        print(f"  contacts (impacts) within +-40 ms: precision {h / max(p, 1):.3f} ({h}/{p}), recall {h / max(t, 1):.3f} ({h}/{t})"
              "   (targets >= 0.90 / >= 0.90; every impact the simulator reports)")
        d = r["heard_seen_dropped"]
        print(f"  contacts heard and seen within +-40 ms: precision {hs / max(ps, 1):.3f} ({hs}/{ps}), recall {hs / max(ts, 1):.3f} ({hs}/{ts})"
              f"   (of the simulator's: {d['inaudible']} inaudible, {d['unseen']} unseen, {d['merged']} merged into one sound)")
        print(f"  all events within +-40 ms: precision {ha / max(pa, 1):.3f} ({ha}/{pa}), recall {ha / max(ta, 1):.3f} ({ha}/{ta})")
        rho = r["strength_spearman"]
        rho_text = f"{rho:.3f}" if rho is not None else "undefined (fewer than 3 matched impacts, or all planned strengths equal)"
        print(f"  event strength rank correlation (Spearman, {r['strength_pairs']} matched impacts): {rho_text}   (target >= 0.7)")
        rho = r["heard_seen_strength_spearman"]
        print(f"  ... on contacts heard and seen ({r['heard_seen_strength_pairs']} matched): " + (f"{rho:.3f}" if rho is not None else "undefined"))
        print(f"  side (left/centre/right) accuracy, objects that make a sound: {pct(*r['side'])}   (target >= 95%)")
        print(f"  object named right (what it is, its class or one that sounds alike), objects that make a sound: {pct(*r['named'])}   (target >= 70%)")
        print(f"  clips with no moving object that got a source planned: {r['still_clips_with_sources']} of {r['still_clips']}   (target 0)")
        cp = r.get("canvas_path", [])
        print(f"  clips the canvas gate sent down the SynthCanvas path: {len(cp)} of {r['clips']}" + (f" ({', '.join(cp)})" if cp else ""))


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


def pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:.1f}% ({a}/{b})" if b else "n/a"


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
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    physics = None
    if args.physics:
        if not (Path(args.physics) / "manifest.jsonl").is_file():
            print(f"no PhysWorld build at {args.physics} (prismaudio canvas build DIR --world physics)", file=sys.stderr)
            return 2
        physics = physics_evaluate(args.physics, args.physics_splits.split(","), args.limit)
        results = Path(__file__).parent / "results"
        results.mkdir(exist_ok=True)
        (results / "planner_physworld.json").write_text(json.dumps({"root": args.physics, "splits": physics}, indent=1) + "\n")
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
        res = evaluate(samples, dump)
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
