"""Learned phase vs Griffin-Lim in the codec's decoder, on the same clips and the same latents.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_codec_phase.py \
        --checkpoint runs/codec_phase/codec_tiny.safetensors [--run runs/codec_phase] \
        [--canvas data/canvas] [--library data/library] [--clips 48] [--library-clips 60] [--threads 2]

Decoders compared (both decode the latent `encode` gives, so what differs is the decoder):
- learned: the checkpoint with its phase head (`phase_decoder: learned`, one inverse STFT);
- griffin_lim: the baseline codec (`--baseline`, default the shipped tiny codec) with its
  Griffin-Lim phase retrieval (the checkpoint's magnitudes are the shipped ones when trained
  with `freeze_magnitude`, so this is the same magnitudes with the other phase).

Figures, per decoder:
- test: the first `--clips` SynthCanvas test clips (the README's 48): onset F1 against the
  manifest's ground-truth event onsets (+-50 ms, impact and sustained events scored apart, as
  prismaudio.metrics.temporal; sustained events with the slow-attack detector, and the
  references' own scores printed beside as the ceiling of any decoder), onset F1 against
  the reference's detected onsets (+-20 ms, as
  `prismaudio codec eval`), log-mel L1, louder-side agreement and ITD error on off-centre frames;
- library_heldout: real recordings of the sound library that training never saw
  (codec/data.py is_heldout): log-mel L1, multi-resolution STFT distance, onset F1 vs reference;
- speed: decode of an 8 s clip, times faster than real time, on `--threads` threads;
- curve: the training log's loss points and, for each step_*.safetensors left in `--run`,
  the learned decoder's figures on the first `--curve-clips` test clips.

Prints tables and writes benchmarks/results/codec_phase.json.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch

TARGETS = {"onset_f1_sustained": (">=", 0.90), "onset_f1_impact": (">=", 0.95), "log_mel_l1": ("<=", 0.25),
           "side_agreement": (">=", 0.98), "itd_err_ms": ("<=", 0.1), "decode_x_realtime": (">=", 50.0)}


def load_codec(path: str | Path, phase: str):
    from prismaudio.codec.stereo_codec import StereoCodec

    codec = StereoCodec.load(path)
    codec.config.phase_decoder = phase
    return codec


def reconstruct(codec, ref: torch.Tensor) -> torch.Tensor:
    return codec.decode(codec.encode(ref[None]), ref.shape[-1])[0]


def canvas_clips(canvas: Path, count: int, sample_rate: int) -> list[tuple]:
    """(id, group, events, [2, N] reference) for the first `count` test clips."""
    from prismaudio.canvas.manifest import load_manifest
    from prismaudio.media import read_audio

    rows = []
    for s in load_manifest(canvas):
        if s.split != "test":
            continue
        kinds = {src.kind for src in s.sources}
        rows.append((s.id, "mixed" if len(kinds) > 1 else kinds.pop(), s.events, read_audio(canvas / s.audio, sample_rate)[:2]))
        if len(rows) >= count:
            break
    return rows


def event_scores_of(mono: np.ndarray, events, sample_rate: int) -> dict[str, float]:
    """Onset F1 against the ground-truth events, per kind: impacts (and all events) with the
    spectral-flux detector, sustained events with the slow-attack detector (band-energy rise),
    because the flux detector finds a bowed note or a fade-in in few references themselves."""
    from prismaudio.dsp.onsets import detect_onsets, detect_slow_onsets
    from prismaudio.metrics.temporal import event_f1

    fast = detect_onsets(mono, sample_rate)
    detected = {"impact": fast, "sustained": detect_slow_onsets(mono, sample_rate), None: fast}
    scores = {kind or "all": event_f1(detected[kind], events, kind) for kind in ("impact", "sustained", None)}
    return {kind: f1 for kind, f1 in scores.items() if f1 is not None}


def test_figures(codec, clips: list[tuple]) -> dict:
    """Per-group and overall figures of one decoder on canvas clips."""
    from prismaudio.codec.evaluate import clip_figures, summarise

    per_group: dict[str, list[dict]] = {}
    event_scores: dict[str, list[float]] = {"impact": [], "sustained": [], "all": []}
    for _, group, events, ref in clips:
        pred = reconstruct(codec, ref)
        row = clip_figures(ref, pred, codec.sample_rate)
        per_group.setdefault(group, []).append(row)
        for kind, f1 in event_scores_of(pred.numpy().astype(np.float64).sum(0), events, codec.sample_rate).items():
            event_scores[kind].append(f1)
    everything = [r for rows in per_group.values() for r in rows]
    out = {"all": summarise(everything)} | {g: summarise(r) for g, r in sorted(per_group.items())}
    out["events"] = {f"onset_f1_{k}": float(np.mean(v)) if v else None for k, v in event_scores.items()}
    out["events"] |= {f"clips_with_{k}": len(v) for k, v in event_scores.items()}
    return out


def reference_event_f1(clips: list[tuple], sample_rate: int) -> dict:
    """The references' own onset F1 against the events: the ceiling for any decoder (a slow
    attack that the onset detector misses in the reference is missed in any reconstruction)."""
    scores: dict[str, list[float]] = {"impact": [], "sustained": [], "all": []}
    for _, _, events, ref in clips:
        for kind, f1 in event_scores_of(ref.numpy().astype(np.float64).sum(0), events, sample_rate).items():
            scores[kind].append(f1)
    return {f"onset_f1_{k}": float(np.mean(v)) if v else None for k, v in scores.items()}


def library_figures(codec, files: list[Path]) -> dict:
    from prismaudio.codec.evaluate import clip_figures, summarise
    from prismaudio.media import read_audio

    rows = []
    for path in files:
        ref = read_audio(path, codec.sample_rate)
        ref = (ref.expand(2, -1) if ref.shape[0] == 1 else ref[:2]).contiguous()
        rows.append(clip_figures(ref, reconstruct(codec, ref), codec.sample_rate))
    return summarise(rows)


def decode_speed(codec, seconds: float = 8.0, repeats: int = 3) -> float:
    """Times faster than real time of `decode` on an 8 s latent (best of `repeats`)."""
    n = int(seconds * codec.sample_rate)
    t = torch.arange(n) / codec.sample_rate
    tone = 0.2 * torch.sin(2 * torch.pi * 440 * t) * (1 + torch.sin(2 * torch.pi * 0.5 * t))
    latent = codec.encode(torch.stack([tone, 0.5 * tone])[None] + 0.01 * torch.randn(1, 2, n))
    codec.decode(latent, n)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        codec.decode(latent, n)
        best = min(best, time.perf_counter() - start)
    return seconds / best


LOG_LINE = re.compile(r"step (\d+)\s+loss ([\d.]+)(.*?)\s+[\d.]+ steps/s")


def train_curve(log_path: Path, points: int = 40) -> list[dict]:
    """Loss points from a `prismaudio train codec` log (the last run's numbers per step)."""
    by_step: dict[int, dict] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        m = LOG_LINE.search(line)
        if m:
            terms = dict(zip(*[iter(m.group(3).split())] * 2))
            by_step[int(m.group(1))] = {"step": int(m.group(1)), "loss": float(m.group(2))} | {
                k: float(v) for k, v in terms.items() if k in ("ip", "gd", "iaf", "mrstft")}
    rows = [by_step[s] for s in sorted(by_step)]
    stride = max(1, len(rows) // points)
    return rows[::stride] + ([rows[-1]] if rows and rows[-1] is not rows[::stride][-1] else [])


def checkpoint_curve(run: Path, clips: list[tuple]) -> list[dict]:
    out = []
    for path in sorted(run.glob("step_*.safetensors")):
        codec = load_codec(path, "learned")
        fig = test_figures(codec, clips)
        out.append({"step": codec.checkpoint_step, "onset_f1_impact": fig["events"]["onset_f1_impact"],
                    "onset_f1_sustained": fig["events"]["onset_f1_sustained"],
                    "onset_f1_ref": fig["all"]["onset_f1"], "log_mel_l1": fig["all"]["log_mel_l1"]})
        print(f"  step {out[-1]['step']:>6}: onset F1 impact {out[-1]['onset_f1_impact']:.3f}  sustained "
              f"{out[-1]['onset_f1_sustained']:.3f}  vs ref {out[-1]['onset_f1_ref']:.3f}  log-mel L1 "
              f"{out[-1]['log_mel_l1']:.3f}", flush=True)
    return out


def verdicts(test: dict, speed: float) -> dict:
    got = {"onset_f1_sustained": test["events"]["onset_f1_sustained"], "onset_f1_impact": test["events"]["onset_f1_impact"],
           "log_mel_l1": test["all"]["log_mel_l1"], "side_agreement": test["all"]["frame_louder_side_agreement"],
           "itd_err_ms": test["all"]["frame_itd_err_ms_median"], "decode_x_realtime": speed}
    return {k: {"value": v, "target": f"{op} {t}", "met": bool(v is not None and (v >= t if op == ">=" else v <= t))}
            for k, v in got.items() for op, t in [TARGETS[k]]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", required=True, help="learned-phase codec (.safetensors)")
    ap.add_argument("--baseline", default="", help="Griffin-Lim codec (default: the shipped tiny codec)")
    ap.add_argument("--run", help="training run folder: learning curve from its checkpoints and log")
    ap.add_argument("--log", help="training log (default: none; the curve then has checkpoint points only)")
    ap.add_argument("--canvas", default="data/canvas")
    ap.add_argument("--library", default="data/library")
    ap.add_argument("--clips", type=int, default=48)
    ap.add_argument("--library-clips", type=int, default=60)
    ap.add_argument("--curve-clips", type=int, default=12)
    ap.add_argument("--refine", type=int, default=0,
                    help="also score the learned phase refined by this many Griffin-Lim iterations (learned_phase_iterations)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--output", default="benchmarks/results/codec_phase.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from prismaudio.codec.data import find_audio_files
    from prismaudio.fsutil import atomic_path
    from prismaudio.pipeline import MODEL_DIRS

    canvas, library = Path(args.canvas), Path(args.library)
    if not (canvas / "manifest.jsonl").is_file():
        print(f"error: no SynthCanvas at {canvas}", file=sys.stderr)
        return 2
    decoders = {"learned": load_codec(args.checkpoint, "learned"),
                "griffin_lim": load_codec(args.baseline or MODEL_DIRS[-1] / "tiny" / "codec.safetensors", "griffin_lim")}
    if args.refine:
        decoders[f"learned+gl{args.refine}"] = load_codec(args.checkpoint, "learned")
        decoders[f"learned+gl{args.refine}"].config.learned_phase_iterations = args.refine
    rate = decoders["learned"].sample_rate
    clips = canvas_clips(canvas, args.clips, rate)
    held = find_audio_files(library, "heldout")[: args.library_clips] if (library / "library.json").is_file() else []
    import os

    report: dict = {"load_average_at_start": os.getloadavg()[0], "checkpoint": args.checkpoint, "checkpoint_step": decoders["learned"].checkpoint_step,
                    "threads": args.threads, "test_clips": len(clips), "library_heldout_clips": len(held),
                    "groups": {g: sum(1 for c in clips if c[1] == g) for g in ("impact", "sustained", "mixed")},
                    "reference_events": reference_event_f1(clips, rate), "decoders": {}}
    for name, codec in decoders.items():
        t0 = time.time()
        test = test_figures(codec, clips)
        lib = library_figures(codec, held) if held else None
        speed = decode_speed(codec)
        report["decoders"][name] = {"test": test, "library_heldout": lib, "decode_x_realtime": speed,
                                    "targets": verdicts(test, speed)}
        print(f"{name}: evaluated in {time.time() - t0:.0f} s", flush=True)
    report["load_average_at_end"] = os.getloadavg()[0]
    speed = report["decoders"]["learned"]["decode_x_realtime"] / report["decoders"]["griffin_lim"]["decode_x_realtime"]
    print(f"decode speed: learned phase {speed:.1f}x Griffin-Lim's, same process; machine load "
          f"{report['load_average_at_start']:.1f} -> {report['load_average_at_end']:.1f} on 2 cores (shared machines: "
          "absolute speeds only mean something on an idle machine)")
    print(f"\nSynthCanvas test, first {len(clips)} clips ({report['groups']}); library held-out: {len(held)} real recordings")
    print(f"{'figure':<34}" + "".join(f"{n:>14}" for n in decoders) + f"{'reference':>14}")
    ref_events = report["reference_events"]
    for kind in ("impact", "sustained", "all"):
        key = f"onset_f1_{kind}"
        print(f"{'onset F1 ' + kind + ' (events, 50 ms)':<34}"
              + "".join(f"{d['test']['events'][key]:>14.3f}" for d in report["decoders"].values())
              + f"{ref_events[key]:>14.3f}")
    rows = []
    rows += [(f"onset F1 vs ref, {g} (20 ms)", lambda d, g=g: d["test"][g]["onset_f1"])
             for g in ("all", "impact", "sustained", "mixed") if g in report["decoders"]["learned"]["test"]]
    rows += [("log-mel L1", lambda d: d["test"]["all"]["log_mel_l1"]),
             ("log-mel L1 sustained", lambda d: d["test"].get("sustained", {}).get("log_mel_l1", float("nan"))),
             ("multi-res STFT distance", lambda d: d["test"]["all"]["mrstft"]),
             ("side agreement (frames)", lambda d: d["test"]["all"]["frame_louder_side_agreement"]),
             ("ITD error ms (frames, median)", lambda d: d["test"]["all"]["frame_itd_err_ms_median"]),
             ("ILD error dB (frames, median)", lambda d: d["test"]["all"]["frame_ild_err_db_median"]),
             ("decode x real time", lambda d: d["decode_x_realtime"])]
    if held:
        rows += [("library held-out log-mel L1", lambda d: d["library_heldout"]["log_mel_l1"]),
                 ("library held-out MR-STFT", lambda d: d["library_heldout"]["mrstft"]),
                 ("library held-out onset F1 vs ref", lambda d: d["library_heldout"]["onset_f1"])]
    for label, get in rows:
        print(f"{label:<34}" + "".join(f"{get(d):>14.3f}" for d in report["decoders"].values()))
    print("\ntargets (learned):", ", ".join(f"{k} {v['value']:.3f} {v['target']} {'met' if v['met'] else 'NOT met'}"
                                            for k, v in report["decoders"]["learned"]["targets"].items()))
    if args.log and Path(args.log).is_file():
        report["train_curve"] = train_curve(Path(args.log))
        print("\ntraining loss curve (step: loss, ip, gd, iaf, mrstft):")
        for p in report["train_curve"]:
            print(f"  {p['step']:>6}: {p['loss']:.3f} " + " ".join(f"{p.get(k, float('nan')):.3f}" for k in ("ip", "gd", "iaf", "mrstft")))
    if args.run:
        print(f"\nlearning curve: learned decoder per checkpoint, first {args.curve_clips} test clips")
        report["checkpoint_curve"] = checkpoint_curve(Path(args.run), clips[: args.curve_clips])
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(report, indent=1, default=float))
    print(f"\nwritten {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
