"""`prismaudio demo`: the main job end to end on a clip the model has never seen.

Builds one SynthCanvas out-of-distribution clip, plans it, generates its soundtrack with the
bundled default model, writes out/demo.mp4, out/demo.wav and out/demo.plan.json, and prints
the plan and the evaluation of the result against the clip's true soundtrack.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from ..validate import SEED, float_arg

log = logging.getLogger(__name__)

SUMMARY_KEYS = ("class-accuracy", "CLAP", "onset-F1", "onset-F1-impact", "DeSync", "PQ-quality",
                "ITD-error-ms", "ILD-error-dB", "side-accuracy")


def register(sub, common) -> None:
    p = sub.add_parser("demo", parents=[common], help="generate a soundtrack for an unseen SynthCanvas clip and evaluate it")
    p.add_argument("--out", default="out", help="output folder (default: out)")
    p.add_argument("--model", default="tiny", help="model name or bundle folder (default: the bundled tiny model)")
    p.add_argument("--seed", type=SEED, default=7, help="seed of the demo clip and of generation")
    p.add_argument("--duration", type=float_arg(0, 600, lo_open=True), default=8.0, help="clip length in seconds")
    p.set_defaults(func=run)


def _load_model(name: str):
    from ..errors import PrismError
    from ..pipeline import PrismAudio

    try:
        return PrismAudio.from_pretrained(name, device="auto"), None
    except PrismError as e:
        if name != "tiny":
            raise
        missing = str(e)
    print(f"MISSING: {missing}")
    print("The trained default model is not in this install yet. Running the same path with an untrained\n"
          "tiny model (random weights): every stage is real, but its audio is noise, not a soundtrack.")
    return PrismAudio.from_pretrained("tiny-random", device="auto"), missing


def run(args) -> int:
    from .. import media
    from ..canvas.build import build
    from ..canvas.manifest import load_manifest
    from ..canvas.options import CanvasConfig
    from ..metrics.evaluate import evaluate

    out = Path(args.out)
    work = out / "demo_clip"
    print(f"[1/4] building an unseen SynthCanvas clip (ood split, seed {args.seed}) in {work}")
    build(work, CanvasConfig(single_per_class=0, multi=0, ood=1, degraded_fraction=0.0, seed=args.seed,
                             duration=args.duration, workers=1), progress=False)
    sample = load_manifest(work / "manifest.jsonl")[0]
    truth = ", ".join(f"{s.class_name}" for s in sample.sources)
    print(f"      truth: {len(sample.sources)} sources ({truth}), {len(sample.events)} events")

    print(f"[2/4] loading the model '{args.model}'")
    model, missing = _load_model(args.model)

    print("[3/4] planning and generating")
    result = model.generate(sample.video_path, seed=args.seed)
    out.mkdir(parents=True, exist_ok=True)
    wav = media.write_audio(out / "demo.wav", result.waveform, result.sample_rate)
    mp4 = media.mux(sample.video_path, result.waveform, result.sample_rate, out / "demo.mp4")
    plan_file = result.plan.save(out / "demo.plan.json")
    print("      the plan (chain of thought):")
    for name, text in result.plan.module_texts().items():
        print(f"        {text}")
    timing = ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items())
    print(f"      timings: {timing}")

    print("[4/4] evaluating against the clip's true soundtrack")
    pred_dir = out / "demo_eval" / "pred"
    gt_dir = out / "demo_eval" / "gt"
    for folder in (pred_dir, gt_dir):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    shutil.copy(wav, pred_dir / f"{sample.id}.wav")
    shutil.copy(sample.audio_path, gt_dir / f"{sample.id}.wav")
    evaluation = evaluate(pred_dir, gt_dir, work / "video", work / "manifest.jsonl")
    for key in SUMMARY_KEYS:
        if key in evaluation.summary:
            value = evaluation.summary[key]
            print(f"        {key:16s} {value:.3f}" if isinstance(value, float) else f"        {key:16s} {value}")
    print(f"wrote {mp4}, {wav}, {plan_file}")
    if missing:
        print("NOTE: the audio above comes from untrained weights; build the default model with the recipe "
              "(see README) to hear a real soundtrack.")
    return 0
