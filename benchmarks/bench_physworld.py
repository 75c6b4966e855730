"""PhysWorld build speed: seconds per 8 s clip (256x256, 25 fps) on one core.

    .venv/bin/python benchmarks/bench_physworld.py [--clips 4] [--objects 2]

Renders clips end to end exactly as the builder does (simulation, TinyRenderer frames,
ground truth, reference audio, H.264 encode, manifest line) in one process pinned to one
core, and reports CPU seconds per clip (the figure that does not depend on what else the
machine runs) and wall seconds. Writes benchmarks/results/physworld_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=4)
    ap.add_argument("--objects", type=int, default=2, help="objects per clip")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--fps", type=float, default=25.0)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    import torch

    torch.set_num_threads(1)
    from prismaudio.canvas.physics.build import clip_seed, quiet_import_pybullet
    from prismaudio.canvas.physics.options import PhysWorldConfig
    from prismaudio.canvas.physics.render_clip import ClipRenderer, ClipSpec
    from prismaudio.config import to_dict

    quiet_import_pybullet()
    cfg = PhysWorldConfig(duration=8.0, sizes=[[args.size, args.size]], fps=[args.fps])
    cpu, wall = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for sub in ("video", "audio", "physics"):
            (Path(tmp) / sub).mkdir()
        renderer = ClipRenderer(to_dict(cfg), tmp, None)
        renderer.render(ClipSpec("warmup", "train", 999, clip_seed(0, "train", 999), 1, True))  # soundfont, textures
        for k in range(args.clips):
            spec = ClipSpec(f"speed_{k}", "train", k, clip_seed(1, "train", k), args.objects, False)
            c0, w0 = time.process_time(), time.perf_counter()
            renderer.render(spec)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
    res = {"clips": args.clips, "objects": args.objects, "size": args.size, "fps": args.fps, "duration_s": 8.0,
           "cpu_s_per_clip_median": round(statistics.median(cpu), 3), "cpu_s_per_clip_max": round(max(cpu), 3),
           "wall_s_per_clip_median": round(statistics.median(wall), 3), "load_average": os.getloadavg()[0]}
    print(f"PhysWorld: {res['cpu_s_per_clip_median']:.2f} s CPU per 8 s clip (median of {args.clips}, max {res['cpu_s_per_clip_max']:.2f}), "
          f"{args.size}x{args.size} at {args.fps:g} fps, {args.objects} objects, one core; wall {res['wall_s_per_clip_median']:.2f} s "
          f"(load average {res['load_average']:.1f})")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "physworld_speed.json").write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
