"""`prismaudio extract --manifest M --out DIR [--codec PATH] [--split S] [--shard i/n] [--reuse DIR]`: cache features per clip."""

from __future__ import annotations

from ..errors import ConfigError
from ..validate import float_arg


def register(sub, common) -> None:
    p = sub.add_parser("extract", parents=[common], help="cache conditioning features (and codec latents) for a manifest")
    p.add_argument("--manifest", required=True, help="manifest.jsonl (or its folder)")
    p.add_argument("--out", required=True, help="output folder for <id>.safetensors")
    p.add_argument("--codec", default="", help="codec checkpoint: also cache its latents of each clip's audio")
    p.add_argument("--shard", default="0/1", help="i/n: this process takes every n-th clip starting at i")
    p.add_argument("--split", default="", help="comma-separated manifest splits to take (default: all clips)")
    p.add_argument("--semantic-fps", type=float_arg(0, 60, lo_open=True), default=8.0, help="semantic frame rate (4-8)")
    p.add_argument("--reuse", help="earlier feature folder: take its video and text features where they were made "
                                    "with the same settings, and encode only the latents (after a codec change)")
    p.set_defaults(func=run)


def parse_shard(text: str) -> tuple[int, int]:
    try:
        if len(text) > 40:
            raise ValueError(text)
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise ConfigError(f"--shard: expected i/n (e.g. 0/4), got {text[:40]!r}") from None
    if n < 1 or not 0 <= i < n:
        raise ConfigError(f"--shard: expected 0 <= i < n, got {text[:40]!r}")
    return i, n


def run(args) -> int:
    import torch

    from ..encoders.cache import ExtractConfig, extract_manifest

    from pathlib import Path

    from ..validate import output_dir

    shard = parse_shard(args.shard)
    output_dir(args.out, "--out", [args.manifest, Path(args.manifest).parent if Path(args.manifest).is_file() else None])
    if args.reuse and not Path(args.reuse).is_dir():
        raise ConfigError(f"--reuse {args.reuse}: no such folder of earlier features")
    torch.set_num_threads(1)
    counts = extract_manifest(args.manifest, args.out, ExtractConfig(semantic_fps=args.semantic_fps, codec=args.codec), shard,
                                splits=[s for s in args.split.split(",") if s] or None, reuse=args.reuse)
    reused = f" ({counts['reused']} with reused video and text features)" if args.reuse else ""
    print(f"extract: {counts['done']} written{reused}, {counts['skipped']} already there, {counts['failed']} failed")
    return 2 if counts["failed"] else 0
