"""Evaluation speed: clips per second of `prismaudio eval` on 8 s clips (target >= 10 on 2 cores).

Takes N clips of the SynthCanvas test split (stereo 16 kHz, 25 fps H.264 videos, manifest), then times
the full evaluation (loading, YAMNet, all metrics, report; no plots) of noisy predictions
against the references: once cold (empty embedding cache) and once with the references'
YAMNet outputs cached, as when a model is re-evaluated on the same test set.

    .venv/bin/python benchmarks/bench_eval.py --clips 64 --threads 2
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=48)
    ap.add_argument("--canvas", default="data/canvas")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()

    import os

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    from prismaudio.audio_models.data import canvas_items
    from prismaudio.audio_models.yamnet import shared
    from prismaudio.metrics.evaluate import evaluate
    from prismaudio.metrics.report import write_report
    from prismaudio.metrics.sanity import write_predictions, write_reference_set
    from prismaudio.metrics.semantic import _text_vector

    items = canvas_items(args.canvas, splits=("test",), limit=args.clips)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = write_reference_set(items, root)
        pred = write_predictions(items, root / "pred", "noisy")
        # warm-up: load YAMNet, MiniLM and the evaluators once (a one-off cost per process)
        shared().analyze([items[0].audio.mean(0)])
        _text_vector("warm up")
        for label, cache in (("cold", root / "cache"), ("cached references", root / "cache")):
            shared()._cache.clear()
            prof = cProfile.Profile() if args.profile else None
            t0, c0 = time.perf_counter(), time.process_time()
            if prof:
                prof.enable()
            result = evaluate(pred, paths["gt"], None, paths["manifest"], cache=cache)
            write_report(result, root / "out")
            if prof:
                prof.disable()
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            # On a shared machine wall time includes waiting for the CPU; CPU seconds (all
            # threads summed) bound what an idle machine with these cores would need.
            print(f"{label}: {len(items)} clips of 8 s in {dt:.2f} s wall = {len(items) / dt:.1f} clips/s "
                  f"({args.threads} threads); {cpu:.2f} CPU s = {len(items) / cpu:.1f} clips per CPU second; "
                  f"load average {os.getloadavg()[0]:.1f}")
            if prof:
                pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
