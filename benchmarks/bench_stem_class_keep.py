"""Where a source's class is lost on the stem engine's path: the sound-bank sketch, the sketch
through the codec with its detail added back, and the engine's output at each variation.

    PYTHONPATH=src nice -n 10 .venv/bin/python benchmarks/bench_stem_class_keep.py --canvas data/canvas \
        [--split val] [--limit 48] [--variations 0.3,0.2,0.15] [--residual-limits 4,8] [--out runs/class_keep]

The clips are bench_plan_edit's for the split and seed (shuffled, the first --limit; mixes are
skipped), each with its unedited plan and its class-change plan (bench_plan_edit.plan_edits):
two stems per clip. Every stem is placed and mixed as `generate` does (render_mix, -23 LUFS)
and the evaluation suite's classifier names its class (bench_plan_edit.ClassRecogniser, top-1),
as bench_plan_edit's class-change figure does. Prints one row per stage and writes
OUT/class_keep.json. docs/stem-generator.md ("Class changes") has the figures that chose the
default variation and the residual clip; choose on val, report on test.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_plan_edit as pe  # noqa: E402  (clip choice, edits, classifier)


def cases(canvas: str, split: str, limit: int, seed: int, known: set[str]) -> list[tuple]:
    """(clip id, 'control'|'edit', plan, class wanted, clip seed) for bench_plan_edit's clips."""
    from prismaudio.canvas.manifest import load_classes, load_manifest

    samples = [s for s in load_manifest(canvas) if s.split == split]
    order = np.random.default_rng(seed).permutation(len(samples))
    classes, out = load_classes(canvas), []
    for s in [samples[i] for i in order[:limit]]:
        jobs, _ = pe.plan_edits(s, ["semantic"], classes, known, seed)
        if "semantic" in jobs:
            edited, info = jobs["semantic"]
            clip_seed = (seed + zlib.crc32(s.id.encode())) % 2**31
            out += [(s.id, "control", s.plan, info["old"], clip_seed), (s.id, "edit", edited, info["new"], clip_seed)]
    return out


def stage_stem(engine, plan, request, stage: str) -> np.ndarray:
    """The source's mono stem at `stage`: 'sketch', 'roundtrip@L' (codec + detail, clip L) or 'engine@V'."""
    from prismaudio.stemgen.detail import SketchDetail, codec_residual, magnitude_floor

    sid = plan.semantic.sources[0].id
    if stage.startswith("engine@"):
        engine.template_sigma = float(stage.split("@")[1])
        return engine.render_stems(request)[sid]
    sketch = engine.templates(request)[sid]
    sketch = np.pad(sketch, (0, max(0, request.num_samples - len(sketch))))[: request.num_samples]
    if stage == "sketch":
        return sketch
    from prismaudio.codec.stereo import codec_stft

    cfg = engine.latent.codec.config
    latent = engine.latent.encode(sketch[None])
    full = latent.shape[-1] * cfg.hop
    wave = torch.nn.functional.pad(torch.from_numpy(sketch)[None], (0, max(0, full - len(sketch))))[..., :full]
    decoded = engine.latent._magnitude(latent)  # what MonoLatent.sketch_detail compares, with this clip
    spec = codec_stft(wave, cfg.n_fft, cfg.stft_hop)[..., : decoded.shape[-1]]
    detail = SketchDetail(codec_residual(spec.abs(), decoded, limit=float(stage.split("@")[1])), torch.angle(spec),
                          magnitude_floor(spec.abs()))
    return engine.latent.decode(latent, request.num_samples, detail=detail).numpy()[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--canvas", default="data/canvas")
    ap.add_argument("--split", default="val")
    ap.add_argument("--limit", type=int, default=48)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variations", default="0.3,0.2,0.15")
    ap.add_argument("--residual-limits", default="4,8", help="nepers; the engine's rows use detail.RESIDUAL_LIMIT")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="runs/class_keep")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from prismaudio.engines.base import StemRequest
    from prismaudio.fsutil import atomic_path
    from prismaudio.render.mix import render_mix
    from prismaudio.stemgen.engine import StemGeneratorEngine

    recogniser = pe.ClassRecogniser()
    engine = StemGeneratorEngine.load()
    rate = engine.latent.sample_rate
    todo = cases(args.canvas, args.split, args.limit, args.seed, set(recogniser.classes))
    stages = (["sketch"] + [f"roundtrip@{v}" for v in args.residual_limits.split(",") if v]
              + [f"engine@{v}" for v in args.variations.split(",") if v])
    rows = {}
    for stage in stages:
        kept = {"control": [], "edit": []}
        for clip, kind, plan, want, seed in todo:
            request = StemRequest(plan=plan, sample_rate=rate, seed=seed, duration=plan.duration)
            stem = stage_stem(engine, plan, request, stage)
            mix = render_mix({plan.semantic.sources[0].id: stem}, plan, rate, request.num_samples).audio
            kept[kind].append(recogniser.ranked(mix.astype(np.float32), rate)[0] == want)
        rows[stage] = {k: {"rate": float(np.mean(v)) if v else None, "n": len(v)} for k, v in kept.items()}
        print(f"{stage:<16} unedited {100 * rows[stage]['control']['rate']:5.1f}%  "
              f"edited {100 * rows[stage]['edit']['rate']:5.1f}%  (n {len(kept['edit'])})", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "class_keep.json") as tmp:
        tmp.write_text(json.dumps({"settings": vars(args), "stages": rows}, indent=1) + "\n")
    print(f"wrote {out / 'class_keep.json'}")


if __name__ == "__main__":
    main()
