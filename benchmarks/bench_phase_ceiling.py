"""How far a magnitude-only codec can go on onsets: the input's own STFT magnitudes, given
back with phase retrieval instead of the true phase, scored like `prismaudio codec eval`.

    .venv/bin/python benchmarks/bench_phase_ceiling.py --canvas data/canvas [--limit N] [--checkpoint codec.safetensors]

Per clip group of the SynthCanvas test split (impacts only, sustained only, mixed), prints
onset F1 within +-20 ms and log-mel L1 of: the true magnitudes with the true phase (the
STFT round trip: 1.0 / ~0), with the codec's phase retrieval (phase-vocoder start + fast
Griffin-Lim, 24 and 64 iterations), and the codec itself. Whatever the retrieval scores on
the true magnitudes bounds what any decoder that predicts magnitudes can score.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from prismaudio.codec import stereo
from prismaudio.codec.evaluate import ONSET_TOLERANCE_S
from prismaudio.codec.griffinlim import griffin_lim
from prismaudio.dsp.onsets import detect_onsets, onset_prf
from prismaudio.dsp.spectral import log_mel_l1


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--canvas", default="data/canvas")
    ap.add_argument("--limit", type=int, default=0, help="clips per group (0: all)")
    ap.add_argument("--checkpoint", default="", help="codec checkpoint (default: the shipped tiny codec)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from prismaudio.canvas.manifest import load_manifest
    from prismaudio.codec.stereo_codec import StereoCodec
    from prismaudio.pipeline import MODEL_DIRS

    if not (Path(args.canvas) / "manifest.jsonl").is_file():
        print(f"no SynthCanvas at {args.canvas}", file=sys.stderr)
        return 2
    codec = StereoCodec.load(args.checkpoint or MODEL_DIRS[-1] / "tiny" / "codec.safetensors")
    n_fft, hop, rate = codec.config.n_fft, codec.config.stft_hop, codec.sample_rate
    groups: dict[str, list] = {"impact": [], "sustained": [], "mixed": []}
    for s in load_manifest(args.canvas):
        kinds = {src.kind for src in s.sources}
        group = "mixed" if len(kinds) > 1 else kinds.pop()
        if s.split == "test" and (not args.limit or len(groups[group]) < args.limit):
            groups[group].append(s)
    ways = {
        "true phase": lambda x, spec: stereo.codec_istft(spec, n_fft, hop, x.shape[-1]),
        "retrieval, 24 it.": lambda x, spec: stereo.codec_istft(griffin_lim(spec.abs(), n_fft, hop, x.shape[-1], 24), n_fft, hop, x.shape[-1]),
        "retrieval, 64 it.": lambda x, spec: stereo.codec_istft(griffin_lim(spec.abs(), n_fft, hop, x.shape[-1], 64), n_fft, hop, x.shape[-1]),
        "codec": lambda x, spec: codec.decode(codec.encode(x[None]), x.shape[-1])[0],
    }
    print(f"SynthCanvas test, {', '.join(f'{len(v)} {k}' for k, v in groups.items())} clips")
    print(f"{'group':<10} {'way':<18} {'onset F1':>9} {'log-mel L1':>11}")
    for group, samples in groups.items():
        waves = []
        for s in samples:
            audio, sr = sf.read(str(Path(args.canvas) / s.audio), dtype="float32", always_2d=True)
            if sr != rate:
                print(f"{s.id}: {sr} Hz, the codec takes {rate} Hz; skipped", file=sys.stderr)
                continue
            waves.append(torch.from_numpy(np.ascontiguousarray(audio.T)))
        for name, way in ways.items():
            f1s, l1s = [], []
            for x in waves:
                with torch.no_grad():
                    y = way(x, stereo.codec_stft(x, n_fft, hop))
                ref_on = detect_onsets(x.numpy().sum(0), rate)
                f1s.append(onset_prf(detect_onsets(y.numpy().sum(0), rate), ref_on, ONSET_TOLERANCE_S)[2])
                l1s.append(float(log_mel_l1(y, x, rate)))
            print(f"{group:<10} {name:<18} {np.mean(f1s):>9.3f} {np.mean(l1s):>11.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
