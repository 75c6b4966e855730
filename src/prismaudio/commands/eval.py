"""`prismaudio eval --pred-audio DIR --gt-audio DIR [--videos DIR] [--manifest manifest.jsonl] [-o OUTDIR]`.

Files are paired by stem (av-benchmark layout). Writes OUTDIR/metrics.json, report.md and
plots/<stem>.png, and prints the summary.
"""

from __future__ import annotations

import logging
import sys

from ..validate import THREADS, int_arg

log = logging.getLogger(__name__)


def register(sub, common) -> None:
    p = sub.add_parser("eval", parents=[common], help="evaluate generated audio against references (FD, KL, IS, DeSync, CLAP, ...)")
    p.add_argument("--pred-audio", required=True, help="folder of generated audio (wav/flac/...)")
    p.add_argument("--gt-audio", required=True, help="folder of reference audio with the same stems")
    p.add_argument("--videos", default=None, help="folder of the videos (same stems) for DeSync")
    p.add_argument("--manifest", default=None, help="SynthCanvas-style manifest.jsonl (plans, classes, videos)")
    p.add_argument("-o", "--output", default="eval_out", help="output folder (default eval_out)")
    p.add_argument("--plots", type=int_arg(0, 100_000), default=8, help="plot at most this many samples (0 = none)")
    p.add_argument("--cache", default=None, help="folder caching reference YAMNet outputs (default OUTDIR/.cache)")
    p.add_argument("--threads", type=THREADS, default=None, help="CPU threads (default: torch's)")
    p.add_argument("--adapter", action="append", default=[], metavar="NAME=WEIGHTS",
                   help="also run an original evaluator from local weights (panns, passt, msclap, synchformer, audiobox)")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    import torch

    from ..metrics.adapters import run_adapters
    from ..metrics.evaluate import evaluate
    from ..metrics.plots import plot_pair
    from ..metrics.report import write_report

    from ..validate import output_dir

    inputs = [args.pred_audio, args.gt_audio, args.videos]
    out = output_dir(args.output, "-o", inputs)
    cache = output_dir(args.cache, "--cache", inputs) if args.cache else out / ".cache"
    if args.threads:
        torch.set_num_threads(args.threads)
    result = evaluate(args.pred_audio, args.gt_audio, args.videos, args.manifest, cache=cache)
    if args.adapter:
        result.summary.update(run_adapters(args.adapter, result.pairs))
    from ..optional import available

    if args.plots and not available("matplotlib"):
        log.warning("matplotlib is not installed: no plots (pip install 'prismaudio[plots]')")
        args.plots = 0
    for pair in result.pairs[: max(0, args.plots)]:
        plot_pair(pair, out / "plots")
    settings = {k: getattr(args, k) for k in ("pred_audio", "gt_audio", "videos", "manifest")}
    json_path, md_path = write_report(result, out, settings)
    for problem in result.problems:
        print(f"warning: {problem}", file=sys.stderr)
    width = max(len(k) for k in result.summary)
    for k, v in result.summary.items():
        print(f"{k:<{width}}  {'n/a' if v is None else f'{v:.4f}' if isinstance(v, float) else v}")
    print(f"wrote {json_path} and {md_path}")
    if result.failed:
        print(f"error: {result.failed} of {result.failed + len(result.pairs)} pair(s) failed", file=sys.stderr)
        return 2
    return 0
