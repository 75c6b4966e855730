"""SynthCanvas build throughput: samples per second per core (and audio seconds per wall second).

    python benchmarks/bench_canvas.py                      # 224x224, 8 s, 16 kHz; 1 and 2 workers
    python benchmarks/bench_canvas.py --samples 40 --workers 2 --size 224 --duration 8

Builds a mix like the standard dataset (mostly single-source samples, some multi and ood)
into a temporary folder for each worker count; the soundfont load and worker start-up are
included, as they are in a real build. Other processes on the machine lower the figures.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def run(samples: int, workers: int, size: int, duration: float, sample_rate: int) -> dict:
    from prismaudio.canvas.build import build
    from prismaudio.canvas.classes import builtin_classes
    from prismaudio.canvas.options import CanvasConfig

    classes = builtin_classes()
    n_multi, n_ood = max(1, samples // 5), max(1, samples // 20)
    n_single = max(1, samples - n_multi - n_ood)
    step = max(1, len(classes) // n_single)
    names = [c.name for c in classes[::step]][:n_single]
    cfg = CanvasConfig(sample_rate=sample_rate, duration=duration, width=size, height=size, single_per_class=1,
                       multi=n_multi, ood=n_ood, degraded_fraction=0.2, seed=0, workers=workers, classes=names)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = build(Path(tmp) / "canvas", cfg, progress=False)
        wall = time.perf_counter() - start
        size_mb = sum(p.stat().st_size for p in (Path(tmp) / "canvas").rglob("*") if p.is_file()) / 1e6
    n = result.rendered
    return {"workers": workers, "samples": n, "wall_s": wall, "per_s": n / wall, "per_s_per_core": n / wall / workers,
            "realtime": n * duration / wall, "mb_per_sample": size_mb / max(1, n)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--samples", type=int, default=24)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--duration", type=float, default=8.0)
    p.add_argument("--sample-rate", type=int, default=16000)
    args = p.parse_args()
    print(f"SynthCanvas build: {args.samples} samples, {args.size}x{args.size}, {args.duration} s, {args.sample_rate} Hz")
    print("workers  samples  wall s  samples/s  samples/s/core  x realtime  MB/sample")
    for w in args.workers:
        r = run(args.samples, w, args.size, args.duration, args.sample_rate)
        print(f"{r['workers']:7d}  {r['samples']:7d}  {r['wall_s']:6.1f}  {r['per_s']:9.2f}  {r['per_s_per_core']:14.2f}  "
              f"{r['realtime']:10.1f}  {r['mb_per_sample']:9.2f}")


if __name__ == "__main__":
    main()
