"""The sections of bench_generator.py beyond the per-split table (issue 21's other targets), one
function per section, each (pipes, clips/settings, out folder) -> {engine name: figures}:

- held_out: single-source test clips of the classes held out from stem-generator training,
  each given an exemplar (a fresh sound-bank rendering of its class, not a pool note);
  class accuracy by the evaluation suite. Engines that take no exemplar are scored too (they
  show what text alone does).
- plan_edits: bench_plan_edit's five edits (side flip, onset shift, added impact, removed
  impact, class change), generated with each engine and measured by its own functions.
- handwritten: a plan written by hand for a PhysWorld video (not SynthCanvas): one impact
  source left, the same right, then two sources left and right interleaved; planned impacts
  heard within 80 ms, extra onsets, louder channel on the planned side per impact.
- speed: one generate end to end (video check + decode + stems/model + mix) of an 8 s clip
  with 3 sources and of one with 1 source, warm, median wall and CPU seconds.

Every rendered file is kept under OUT, so a rerun resumes (edits: OUT/edits/<engine>/clips.jsonl).
"""

from __future__ import annotations

import json
import os
import statistics
import time
import zlib
from pathlib import Path

import numpy as np

TOLERANCE_S = 0.080  # a planned impact is heard when an onset is this close
SIDE_WINDOW_S = 0.15  # the louder channel is measured over this long after each planned impact
EDIT_TARGETS = {"spatial": 0.95, "shift": 0.85, "semantic_top1": 0.80, "add": 0.80, "remove": 0.85}  # issue 21


def slug(name: str) -> str:
    return name.replace(" ", "_")


# ---- held-out classes with an exemplar ------------------------------------------------------
def held_out_clips(samples: list, held_out: set[str], limit: int | None) -> list:
    """The held-out classes' single-source test clips by id; with `limit`, spread over all of
    them (the first ones by id are all impacts: side stick, open hi-hat, cowbell)."""
    clips = sorted((s for s in samples if s.split == "test" and s.group == "single"
                    and s.sources[0].class_name in held_out), key=lambda s: s.id)
    return spread(clips, limit)


def spread(items: list, limit: int | None) -> list:
    """At most `limit` items taken evenly over the whole list (all of them without a limit)."""
    if limit is None or limit >= len(items):
        return list(items)
    return [items[int(i * len(items) / limit)] for i in range(max(0, limit))]


def fresh_exemplar(class_name: str, sample_rate: int, seed: int) -> np.ndarray:
    """A rendering of the class that neither the clip nor the training pool holds (its own seed)."""
    from prismaudio.canvas.classes import BUILTIN_CLASSES
    from prismaudio.canvas.soundbank import SoundBank, default_soundfont

    cls = {c.name: c for c in BUILTIN_CLASSES}[class_name]
    rng = np.random.default_rng(900_000 + seed)
    return SoundBank(sample_rate, default_soundfont()).render(cls, rng, None if cls.kind == "impact" else 3.0).audio.astype(np.float32)


def held_out(pipes: dict, clips: list, out: Path, manifest: Path, sample_rate: int) -> dict:
    from prismaudio import media
    from prismaudio.metrics.evaluate import evaluate
    from prismaudio.recipe.evaluation import copy_references

    reference = out / "held_out" / "reference"
    copy_references(clips, reference)
    exemplars = {s.id: {s.sources[0].id: fresh_exemplar(s.sources[0].class_name, sample_rate, i)} for i, s in enumerate(clips)}
    rows = {}
    for name, (pipe, engine) in pipes.items():
        # the joint model takes no exemplar: its row is what text alone does
        modes = ("text only",) if engine == "model" else ("exemplar",) if engine == "library" else ("exemplar", "text only")
        for mode in modes:  # the canvas library holds every class, so the library engine runs with the exemplar only
            folder = out / "held_out" / f"{slug(name)}_{slug(mode)}"
            folder.mkdir(parents=True, exist_ok=True)
            for i, clip in enumerate(clips):
                target = folder / f"{clip.id}.wav"
                if not target.is_file():
                    result = pipe.generate(clip.video_path, clip.plan, seed=i, engine=engine,
                                           exemplars=exemplars[clip.id] if mode == "exemplar" else None)
                    media.write_audio(target, result.waveform, result.sample_rate)
            summary = evaluate(folder, reference, manifest=manifest, cache=out / ".cache", metrics=("semantic", "temporal")).summary
            label = name if mode == "exemplar" else f"{name} (text only)"
            rows[label] = {"class-accuracy": summary.get("class-accuracy"), "onset-F1-impact": summary.get("onset-F1-impact"),
                           "clips": len(clips), "exemplar": mode == "exemplar"}
            print(f"held-out {label}: class accuracy {rows[label]['class-accuracy']}", flush=True)
    return rows


# ---- plan edits (bench_plan_edit's edits and measures) --------------------------------------
def plan_edits(pipes: dict, samples: list, canvas: Path, out: Path, limit: int, seed: int = 0) -> dict:
    import bench_plan_edit as pe
    from prismaudio.canvas.manifest import load_classes
    from prismaudio.models.config import load_model_config

    test = [s for s in samples if s.split == "test"]
    order = np.random.default_rng(seed).permutation(len(test))  # the clips bench_plan_edit takes
    clips = [test[i] for i in order[:limit]]
    classes = load_classes(canvas)
    recogniser = pe.ClassRecogniser()
    known = set(recogniser.classes)
    buckets = load_model_config("tiny").label_buckets
    rows = {}
    for name, (pipe, engine) in pipes.items():
        folder = out / "edits" / slug(name)
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / "clips.jsonl"
        done = {r["id"]: r for r in map(json.loads, log.read_text().splitlines())} if log.is_file() else {}
        records = []
        for sample in clips:
            if sample.id in done:
                records.append(done[sample.id])
                continue
            clip_seed = (seed + zlib.crc32(sample.id.encode())) % 2**31
            jobs, skipped = pe.plan_edits(sample, pe.EDITS, classes, known, seed)
            waves, rate = {}, None
            for key, plan in [("control", sample.plan)] + [(k, p) for k, (p, _) in jobs.items()]:
                result = pipe.generate(sample.video_path, plan=plan, seed=clip_seed, engine=engine)
                waves[key], rate = result.waveform.numpy(), result.sample_rate
            record = {"id": sample.id, "skipped": skipped,
                      "edits": pe.measure(sample, jobs, waves, rate, recogniser, 1.0, buckets)}
            records.append(record)
            with open(log, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        figures = pe.summarise(records, pe.EDITS)["figures"]
        rows[name] = {key: {"rate": figures[key]["rate"], "n": figures[key]["n"], "target": EDIT_TARGETS.get(key)}
                      for key in ("spatial", "shift", "semantic_top1", "add", "remove", "spatial_control", "add_control")
                      if key in figures}
        print(f"plan edits {name}: " + ", ".join(f"{k} {v['rate']}" for k, v in rows[name].items()), flush=True)
    return rows


# ---- a hand-written plan on a video that is not from SynthCanvas ----------------------------
HAND_VIDEO = "physics_test_00023"  # PhysWorld: a small sphere dropped, bouncing
HAND_IMPACTS = (1.0, 2.1, 2.9, 3.6, 4.2)  # where the hand-written plan wants the five bounces heard
HAND_SIDE_X = 0.7


def hand_plan(layout: str) -> dict:
    """The plan a user writes for the video: 'left' / 'right' (one floor tom there) or 'mix'
    (a floor tom left and a high tom right, taking turns)."""
    def source(sid, label, desc):
        return {"id": sid, "label": label, "description": desc, "exemplar": None, "diffuse": False, "confidence": 1.0}

    def track(sid, x):
        return {"source": sid, "times": [0.0, 8.0], "x": [x, x], "distance": [1.0, 1.0]}

    def hit(sid, t):
        return {"source": sid, "onset": t, "offset": round(t + 0.3, 3), "kind": "impact", "strength": 1.0, "confidence": 1.0}

    aesthetic = {"quality": ["clean"], "style": ["isolated sound events"], "avoid": ["speech", "background music"]}
    if layout == "mix":
        sources = [source("left", "floor tom", "a low, booming floor tom"), source("right", "high tom", "a bright high tom")]
        events = [hit("left" if i % 2 == 0 else "right", t) for i, t in enumerate(HAND_IMPACTS)]
        tracks = [track("left", -HAND_SIDE_X), track("right", HAND_SIDE_X)]
    else:
        sources = [source("ball", "floor tom", "a low, booming floor tom")]
        events = [hit("ball", t) for t in HAND_IMPACTS]
        tracks = [track("ball", -HAND_SIDE_X if layout == "left" else HAND_SIDE_X)]
    return {"duration": 8.0, "semantic": {"sources": sources}, "temporal": {"events": events},
            "aesthetic": aesthetic, "spatial": {"tracks": tracks}, "notes": ["hand-written"], "version": 1}


def impact_figures(wave: np.ndarray, sample_rate: int, planned: list[tuple[float, int]]) -> dict:
    """Pure measure of one soundtrack against planned (time, side -1/+1) impacts: how many are
    heard within TOLERANCE_S, how many detected onsets are extra (near no planned impact), and
    for how many the planned side's channel is louder over SIDE_WINDOW_S after the impact."""
    from prismaudio.dsp.onsets import detect_onsets
    from prismaudio.dsp.spatial import ild_db

    found = detect_onsets(wave.mean(0), sample_rate)
    times = np.array([t for t, _ in planned])
    heard = sum(bool(found.size and np.min(np.abs(found - t)) <= TOLERANCE_S) for t in times)
    extra = sum(bool(np.min(np.abs(times - f)) > TOLERANCE_S) for f in found) if times.size else len(found)
    n = int(round(SIDE_WINDOW_S * sample_rate))
    side_ok = 0
    for t, side in planned:
        a = int(round(t * sample_rate))
        ild = ild_db(wave[0, a:a + n], wave[1, a:a + n])  # positive: left louder
        side_ok += (ild > 0) == (side < 0)
    return {"planned": len(planned), "heard": heard, "extra": extra, "side_ok": side_ok}


def handwritten(pipes: dict, physworld: Path, out: Path) -> dict:
    from prismaudio import media
    from prismaudio.planner.plan import Plan

    video = physworld / "video" / f"{HAND_VIDEO}.mp4"
    rows = {}
    for name, (pipe, engine) in pipes.items():
        totals = {"planned": 0, "heard": 0, "extra": 0, "side_ok": 0}
        for k, layout in enumerate(("left", "right", "mix")):
            data = hand_plan(layout)
            plan_file = out / "handwritten" / f"{layout}.plan.json"
            plan_file.parent.mkdir(parents=True, exist_ok=True)
            plan_file.write_text(json.dumps(data, indent=1))
            target = out / "handwritten" / slug(name) / f"{layout}.wav"
            if not target.is_file():
                result = pipe.generate(video, Plan.from_dict(data, str(plan_file)), seed=k, engine=engine)
                target.parent.mkdir(parents=True, exist_ok=True)
                media.write_audio(target, result.waveform, result.sample_rate)
            rate = pipe.sample_rate
            wave = media.read_audio(target, rate, channels=2)
            sides = {t["source"]: (-1 if t["x"][0] < 0 else 1) for t in data["spatial"]["tracks"]}
            planned = [(e["onset"], sides[e["source"]]) for e in data["temporal"]["events"]]
            for key, value in impact_figures(wave.numpy(), rate, planned).items():
                totals[key] += value
        p = totals["planned"]
        rows[name] = {"heard-within-80ms": totals["heard"] / p, "extra-onsets": totals["extra"] / p,
                      "louder-on-planned-side": totals["side_ok"] / p, "impacts": p}
        print(f"hand-written plan {name}: " + ", ".join(f"{k} {v:.2f}" for k, v in rows[name].items()), flush=True)
    return rows


# ---- speed ----------------------------------------------------------------------------------
def speed(pipes: dict, samples: list, runs: int) -> dict:
    """Median seconds of one warm generate (after one untimed run) of an 8 s test clip."""
    test = sorted((s for s in samples if s.split == "test" and abs(s.duration - 8.0) < 1e-6), key=lambda s: s.id)
    picks = {"3 sources": next(s for s in test if len(s.plan.semantic.sources) == 3),
             "1 source": next(s for s in test if len(s.plan.semantic.sources) == 1)}
    rows = {}
    for name, (pipe, engine) in pipes.items():
        rows[name] = {}
        for label, clip in picks.items():
            walls, cpus = [], []
            for i in range(runs + 1):
                t0, c0 = time.perf_counter(), time.process_time()
                pipe.generate(clip.video_path, clip.plan, seed=i, engine=engine)
                if i:
                    walls.append(time.perf_counter() - t0)
                    cpus.append(time.process_time() - c0)
            rows[name][label] = {"clip": clip.id, "wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus),
                                 "load_average": os.getloadavg()[0]}  # wall seconds on a shared machine count the others too
        print(f"speed {name}: " + ", ".join(f"{k} {v['wall_s']:.2f} s wall, {v['cpu_s']:.2f} s CPU" for k, v in rows[name].items()),
              flush=True)
    return rows
