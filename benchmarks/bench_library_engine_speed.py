"""Seconds per 8 s clip of the library engine, from the reference plan (the issue-25 target is
< 0.5 s), measured alone so that a busy machine's other jobs do not blur it:

    python benchmarks/bench_library_engine_speed.py --canvas data/canvas --library LIB [--clips 5]

Each clip is generated twice and the second (warm) run is timed; prints the median wall and CPU
seconds and writes benchmarks/results/library_engine_speed.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path


def main() -> int:
    from prismaudio.engines.library import LibraryEngine
    from prismaudio.library import SoundLibrary
    from prismaudio.pipeline import PrismAudio
    from prismaudio.planner.plan import Plan

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--canvas", default="data/canvas")
    ap.add_argument("--library", required=True, help="a sound library holding the canvas classes")
    ap.add_argument("--clips", type=int, default=5)
    ap.add_argument("--results", default="benchmarks/results/library_engine_speed.json")
    args = ap.parse_args()
    root = Path(args.canvas)
    rows = [json.loads(line) for line in (root / "manifest.jsonl").read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r["split"] == "test" and r["group"] == "multi"][: args.clips]
    pipe = PrismAudio.for_stems(LibraryEngine(SoundLibrary.load(args.library)))
    walls, cpus, sources = [], [], []
    for row in rows:
        plan = Plan.from_dict(row["plan"])
        for warm in (False, True):
            t0, c0 = time.perf_counter(), time.process_time()
            pipe.generate(str(root / row["video"]), plan=plan, engine="library", seed=1)
            if warm:
                walls.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
        sources.append(len(plan.semantic.sources))
    result = {"clips": len(walls), "sources_per_clip": sources, "median_wall_s": statistics.median(walls),
              "median_cpu_s": statistics.median(cpus), "target_s": 0.5}
    print(f"library engine, {len(walls)} multi-source test clips of 8 s: median {result['median_wall_s']:.3f} s wall, "
          f"{result['median_cpu_s']:.3f} s CPU (target < 0.5 s)")
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    Path(args.results).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
