"""Plan editing, measured: does an edited plan change the generated audio as asked?

    .venv/bin/python benchmarks/bench_plan_edit.py [--model tiny] [--engine model|stem] [--canvas data/canvas]
        [--split test] [--limit 48] [--seed 0] [--num-steps N] [--edits spatial,shift,add,remove,semantic] [--out DIR]

`--engine stem` runs the stem engine as `generate --engine stem` does (the shipped stem
generator, sketches, `--variation`); the default is the joint model of `--model`.

For each clip of the split (shuffled by the seed, the first --limit), the reference plan of
the manifest is edited with `prismaudio.planner.edit` and the video's soundtrack generated
from the edited plan and, as a control, from the unedited plan, both with the clip's seed
(same noise, so only the plan differs):

- spatial: the source heard longest off-centre is mirrored; success when the audio is louder
  (ILD beyond --ild-db, `dsp.spatial` convention) on the NEW side over that source's event
  windows where the plan had it on the old side (|x| >= 0.2; parts where another source
  sounds are left out when anything remains). Control: the
  unedited audio is louder on the original side.
- shift: an impact event moves by +1 s (-1 s when +1 s does not fit); success when an onset
  is detected (`dsp.onsets.detect_onsets`) within 80 ms of the new time. Secondary: no onset
  within 80 ms of the old time (only where no other event is planned there).
- add / remove: an impact added where nothing is planned within 0.5 s (success: an onset
  there) / an isolated impact removed (success: no onset there any more).
- semantic: a single-source clip's class becomes another canvas class of the same kind
  (impact or sustained, chosen by the seed); success when the evaluation suite's class head
  (`classifier` evaluator over pooled YAMNet embeddings, as the class-accuracy metric)
  ranks the new class first (top-1) or in its top 3.

Clips where an edit does not apply are skipped and counted per reason. Per-clip records go
to OUT/clips.jsonl as they finish (a rerun with the same settings resumes); OUT/plan_edit.json
(written atomically) holds the figures and OUT/plan_edit.log the table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))  # the benchmark's own modules beside it
from plan_edit_choices import EDITS, is_clear, flip_mask, plan_edits  # noqa: E402

log = logging.getLogger("prismaudio.bench.plan_edit")

TOLERANCE_S = 0.080  # onset within 80 ms of the asked time
# (key, what it says, edit, record field, target)
FIGURES = (
    ("spatial", "side flipped as asked", "spatial", "success", 0.90),
    ("spatial_control", "  control: original side, unedited plan", "spatial", "control", None),
    ("shift", "shifted onset within 80 ms", "shift", "success", 0.85),
    ("shift_old_gone", "  no onset left at the old time", "shift", "old_gone", None),
    ("shift_control", "  control: onset at the old time, unedited", "shift", "control", None),
    ("add", "added onset within 80 ms", "add", "success", None),
    ("add_control", "  control: onset there, unedited (false alarm)", "add", "control", None),
    ("remove", "removed onset gone (none within 80 ms)", "remove", "success", None),
    ("remove_control", "  control: onset there, unedited", "remove", "control", None),
    ("semantic_top1", "new class recognised, top-1", "semantic", "top1", 0.80),
    ("semantic_top3", "new class recognised, top-3", "semantic", "top3", None),
    ("semantic_old", "  still recognised as the old class", "semantic", "old_top1", None),
    ("semantic_control", "  control: original class, unedited", "semantic", "control", None),
)


# ---- measures -----------------------------------------------------------------------------

def measured_side(wave: np.ndarray, sample_rate: int, plan, source_id: str, side: int, threshold_db: float) -> tuple[int, float]:
    """Louder side (-1/0/+1) and ILD over the times the (unedited) plan has the source on `side`."""
    from prismaudio.dsp.spatial import ild_db

    mask = flip_mask(plan, source_id, side, np.arange(wave.shape[1]) / sample_rate)
    ild = ild_db(wave[0, mask], wave[1, mask])
    return (-1 if ild > threshold_db else 1 if ild < -threshold_db else 0), ild


def onsets(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    from prismaudio.dsp.onsets import detect_onsets

    return detect_onsets(wave.mean(0), sample_rate)


def near(found: np.ndarray, t: float) -> bool:
    return bool(found.size and np.min(np.abs(found - t)) <= TOLERANCE_S)


class ClassRecogniser:
    """The class-accuracy metric's head (metrics/semantic.py) over pooled YAMNet embeddings."""

    def __init__(self):
        from prismaudio.audio_models.assets import load_model
        from prismaudio.audio_models.yamnet import shared

        self.head, self.yamnet = load_model("classifier"), shared()
        self.classes = list(self.head.config.classes)

    def ranked(self, wave: np.ndarray, sample_rate: int) -> list[str]:
        from prismaudio.audio_models.nets import pooled_embedding
        from prismaudio.rewards.base import to_eval_rate

        mono = to_eval_rate(torch.from_numpy(wave)[None], sample_rate)[0].mean(0)
        emb = self.yamnet.analyze([mono])[0].embeddings
        with torch.no_grad():
            logits = self.head.module(torch.from_numpy(pooled_embedding(emb))[None])[0]
        return [self.classes[i] for i in torch.argsort(logits, descending=True)[:5].tolist()]


# ---- one clip -----------------------------------------------------------------------------

def measure(sample, jobs, waves: dict, sample_rate: int, recogniser, ild_threshold: float, label_buckets: int) -> dict:
    from prismaudio.models.conditioning import label_bucket

    control, plan, out = waves["control"], sample.plan, {}
    for name, (edited, info) in jobs.items():
        wave, rec = waves[name], dict(info)
        if name == "spatial":
            side, ild = measured_side(wave, sample_rate, plan, info["source"], info["old_side"], ild_threshold)
            side0, ild0 = measured_side(control, sample_rate, plan, info["source"], info["old_side"], ild_threshold)
            rec.update(success=side == -info["old_side"], control=side0 == info["old_side"], ild_db=round(ild, 2), control_ild_db=round(ild0, 2))
        elif name == "shift":
            found = onsets(wave, sample_rate)
            others = not is_clear(edited, info["old"], TOLERANCE_S)  # another planned event at the old time
            rec.update(success=near(found, info["new"]), old_gone=None if others else not near(found, info["old"]),
                       control=near(onsets(control, sample_rate), info["old"]))
        elif name == "add":
            rec.update(success=near(onsets(wave, sample_rate), info["time"]), control=near(onsets(control, sample_rate), info["time"]))
        elif name == "remove":
            rec.update(success=not near(onsets(wave, sample_rate), info["time"]), control=near(onsets(control, sample_rate), info["time"]))
        else:
            ranked, ranked0 = recogniser.ranked(wave, sample_rate), recogniser.ranked(control, sample_rate)
            rec.update(top1=ranked[0] == info["new"], top3=info["new"] in ranked[:3], old_top1=ranked[0] == info["old"],
                       control=ranked0[0] == info["old"], recognised=ranked[:3],
                       same_label_bucket=label_bucket(info["old"], label_buckets) == label_bucket(info["new"], label_buckets))
        out[name] = rec
    return out


# ---- summary ------------------------------------------------------------------------------

def summarise(records: list[dict], edits) -> dict:
    figures = {}
    for key, text, name, fieldname, target in FIGURES:
        if name not in edits:
            continue
        values = [r["edits"][name][fieldname] for r in records if name in r.get("edits", {})]
        values = [bool(v) for v in values if v is not None]
        rate = float(np.mean(values)) if values else None
        figures[key] = {"what": text.strip(), "rate": rate, "n": len(values), "target": target,
                        "met": None if target is None or rate is None else rate >= target}
    skipped: dict = {}
    for r in records:
        for name, reason in r.get("skipped", {}).items():
            skipped.setdefault(name, {}).setdefault(reason, 0)
            skipped[name][reason] += 1
    return {"figures": figures, "skipped": skipped, "errors": sum(1 for r in records if "error" in r)}


def table(summary: dict) -> str:
    lines = [f"{'edit':<48} {'success':>8} {'target':>8} {'n':>4}"]
    for key, text, *_ in FIGURES:
        f = summary["figures"].get(key)
        if f is None:
            continue
        rate = "n/a" if f["rate"] is None else f"{100 * f['rate']:.1f}%"
        target = "" if f["target"] is None else f">={100 * f['target']:.0f}%" + (" ok" if f["met"] else "")
        lines.append(f"{text:<48} {rate:>8} {target:>8} {f['n']:>4}")
    for name, reasons in summary["skipped"].items():
        lines.append(f"skipped {name}: " + "; ".join(f"{n} {why}" for why, n in reasons.items()))
    if summary["errors"]:
        lines.append(f"clips that failed to generate: {summary['errors']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="tiny", help="a model name or bundle folder (tiny-random: untrained smoke run)")
    parser.add_argument("--engine", choices=("model", "stem"), default="model",
                        help="model: the joint model of --model; stem: the stem engine (generate's default)")
    parser.add_argument("--variation", type=float, default=None, help="--engine stem: start level from the sketch")
    parser.add_argument("--canvas", default="data/canvas")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=48)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-steps", type=int, default=None)
    parser.add_argument("--cfg-strength", type=float, default=None)
    parser.add_argument("--edits", default=",".join(EDITS), help=f"comma-separated subset of {','.join(EDITS)}")
    parser.add_argument("--ild-db", type=float, default=1.0, help="a side is louder by more than this many dB")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="runs/bench_plan_edit")
    parser.add_argument("--fresh", action="store_true", help="ignore the records of an earlier run in --out")
    parser.add_argument("--reference", action="store_true",
                        help="measure the clips' reference audio instead of generating: the controls then give the "
                             "ceiling of each measure and the edit figures what an unedited soundtrack scores")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    edits = [e.strip() for e in args.edits.split(",") if e.strip()]
    if bad := [e for e in edits if e not in EDITS]:
        sys.exit(f"--edits: unknown {', '.join(bad)} (known: {', '.join(EDITS)})")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(message)s",
                        handlers=[logging.StreamHandler(sys.stderr), logging.FileHandler(out / "plan_edit.log", mode="a")])

    from tqdm import tqdm

    from prismaudio.canvas.manifest import load_classes, load_manifest
    from prismaudio.errors import PrismError
    from prismaudio.fsutil import atomic_path, read_jsonl
    from prismaudio.pipeline import PrismAudio

    samples = [s for s in load_manifest(args.canvas) if s.split == args.split]
    if not samples:
        sys.exit(f"{args.canvas}: no clips in split '{args.split}'")
    order = np.random.default_rng(args.seed).permutation(len(samples))
    samples = [samples[i] for i in order[: args.limit]]
    classes = load_classes(args.canvas)
    from prismaudio import media

    if args.engine == "stem" and not args.reference:
        from prismaudio.stemgen.engine import DEFAULT_TEMPLATE_SIGMA, StemGeneratorEngine

        stem = StemGeneratorEngine.load(template_sigma=DEFAULT_TEMPLATE_SIGMA if args.variation is None else args.variation)
        pipe = PrismAudio.for_stems(stem, sample_rate=stem.latent.sample_rate)
    else:
        pipe = PrismAudio.from_pretrained(args.model if not args.reference else "tiny-random", device=args.device)
    from prismaudio.models.config import load_model_config

    buckets = load_model_config("tiny").label_buckets  # the joint model's text buckets (a record's field)
    recogniser = ClassRecogniser() if "semantic" in edits else None
    known = set(recogniser.classes) if recogniser else set()
    settings = {"model": "reference audio" if args.reference else args.model if args.engine == "model" else
                "stem engine, variation " + str(pipe.engines["stem"].template_sigma), "canvas": str(Path(args.canvas).resolve()), "split": args.split, "seed": args.seed,
                "num_steps": args.num_steps or pipe.defaults["num_steps"], "cfg_strength": pipe.defaults["cfg_strength"] if args.cfg_strength is None else args.cfg_strength,
                "edits": edits, "ild_db": args.ild_db, "tolerance_s": TOLERANCE_S}
    key = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
    records_path = out / "clips.jsonl"
    done = {}
    if records_path.is_file() and not args.fresh:
        done = {r["id"]: r for _, r in read_jsonl(records_path) if r.get("settings_key") == key}
    elif records_path.is_file():
        records_path.unlink()
    log.info("plan editing: %s, %d %s clips (%d done earlier), %d steps, edits %s", pipe.name, len(samples), args.split,
             len(done), settings["num_steps"], ",".join(edits))
    t_start, generated = time.perf_counter(), 0
    records = []
    for sample in tqdm(samples, desc="clips", unit="clip"):
        if sample.id in done:
            records.append(done[sample.id])
            continue
        seed = (args.seed + zlib.crc32(sample.id.encode())) % 2**31
        jobs, skipped = plan_edits(sample, edits, classes, known, args.seed)
        record = {"id": sample.id, "settings_key": key, "seed": seed, "skipped": skipped}
        try:
            waves = {}
            for name, plan in [("control", sample.plan)] + [(n, p) for n, (p, _) in jobs.items()]:
                if args.reference:
                    waves[name], sample_rate = media.read_audio(sample.audio_path, pipe.sample_rate, channels=2).numpy(), pipe.sample_rate
                    continue
                result = pipe.generate(sample.video_path, plan=plan, seed=seed, num_steps=args.num_steps,
                                       cfg_strength=args.cfg_strength, engine=args.engine if not args.reference else "model")
                waves[name], sample_rate = result.waveform.numpy(), result.sample_rate
                generated += 1
            record["edits"] = measure(sample, jobs, waves, sample_rate, recogniser, args.ild_db, buckets)
        except PrismError as e:
            log.warning("%s: %s", sample.id, e)
            record["error"] = str(e)
        records.append(record)
        with open(records_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
    seconds = time.perf_counter() - t_start
    summary = summarise(records, edits)
    text = table(summary)
    log.info("\n%s\n%s", text, "measured on the reference audio" if args.reference else
             f"{generated} generations in {seconds:.0f} s ({seconds / max(1, generated):.1f} s each)")
    with atomic_path(out / "plan_edit.json") as tmp:
        tmp.write_text(json.dumps({"settings": settings, **summary, "clips": records}, indent=1) + "\n")
    print(f"wrote {out / 'plan_edit.json'}")


if __name__ == "__main__":
    main()
