"""Metrics of reference audio against itself and against deliberately broken copies.

Uses the SynthCanvas test split (clips the evaluators never saw). Prints one table: rows =
metrics, columns = self, shifted 0.3 s, channel-swapped, noisy 10 dB SNR, wrong class.

    .venv/bin/python benchmarks/sanity_report.py --canvas data/canvas --limit 120
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--canvas", default="data/canvas")
    ap.add_argument("--limit", type=int, default=120)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from prismaudio.audio_models.data import canvas_items
    from prismaudio.metrics.evaluate import evaluate
    from prismaudio.metrics.sanity import BREAKS, write_predictions, write_reference_set

    items, source = canvas_items(args.canvas, splits=("test",), limit=args.limit), f"SynthCanvas test split ({args.canvas})"
    print(f"{len(items)} clips: {source}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_reference_set(items, tmp)
        for kind in (None,) + BREAKS:
            pred = write_predictions(items, Path(tmp) / f"pred_{kind or 'self'}", kind)
            results[kind or "self"] = evaluate(pred, paths["gt"], None, paths["manifest"], cache=Path(tmp) / "cache").summary
    cols = list(results)
    print("| metric | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for key in results["self"]:
        cells = [results[c].get(key) for c in cols]
        print(f"| {key} | " + " | ".join("n/a" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v) for v in cells) + " |")


if __name__ == "__main__":
    main()
