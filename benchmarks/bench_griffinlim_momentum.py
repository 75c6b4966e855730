"""Griffin-Lim's momentum form, measured on the shipped codec: the old update subtracted
a * t_{n-1} (a = 0.99), Perraudin's fast Griffin-Lim (and librosa) subtracts a / (1 + a) * t_{n-1}.
Both decode the same latents of SynthCanvas test clips; figures are the codec evaluation's.

    .venv/bin/python benchmarks/bench_griffinlim_momentum.py --canvas data/canvas [--clips 20]

Writes benchmarks/results/griffinlim_momentum.json.
"""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--canvas", default="data/canvas")
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--checkpoint", default="tiny")
    args = parser.parse_args()
    torch.set_num_threads(1)

    import prismaudio.codec.stereo_codec as stereo_codec
    from prismaudio.canvas.manifest import load_manifest
    from prismaudio.codec.cli import codec_checkpoint
    from prismaudio.codec.evaluate import clip_figures
    from prismaudio.codec.griffinlim import griffin_lim
    from prismaudio.media import read_audio

    codec = stereo_codec.StereoCodec.load(codec_checkpoint(args.checkpoint))
    test = [s for s in load_manifest(args.canvas) if s.split == "test"]
    test = test[:: max(1, len(test) // args.clips)][: args.clips]
    # momentum 99 in the fixed form is a / (1 + a) = 0.99: exactly the old update
    forms = {"old: a * t_prev": 99.0, "fixed: a / (1 + a) * t_prev": 0.99}
    rows: dict[str, list[dict]] = {name: [] for name in forms}
    for sample in test:
        ref = read_audio(sample.audio_path, codec.sample_rate)[:2]
        latent = codec.encode(ref[None])
        for name, momentum in forms.items():
            stereo_codec.griffin_lim = functools.partial(griffin_lim, momentum=momentum)
            rows[name].append(clip_figures(ref, codec.decode(latent, ref.shape[-1])[0], codec.sample_rate))
    keys = [k for k, v in rows[next(iter(forms))][0].items() if isinstance(v, float)]
    summary = {name: {k: float(np.nanmean([r[k] for r in v])) for k in keys} for name, v in rows.items()}
    for name, figures in summary.items():
        print(f"{name:30s} " + "  ".join(f"{k} {v:.4f}" for k, v in figures.items()))
    out = Path(__file__).resolve().parent / "results" / "griffinlim_momentum.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"clips": len(test), "checkpoint": args.checkpoint, "summary": summary}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
