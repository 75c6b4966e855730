"""Build the shipped exemplar bank from the note pool (one embedding per sound-bank class):

    python -m prismaudio.stemgen.bank [--config tiny] [--out src/prismaudio/assets/models/tiny/exemplar_bank.safetensors]

A class's entry is its medoid note's embedding (the pool note closest to the class mean): a
real rendering, not an average no sound has.
"""

from __future__ import annotations

import argparse

import numpy as np

from .exemplar import ExemplarBank


def medoid(embeddings: np.ndarray) -> np.ndarray:
    """The row of `embeddings` [N, D] closest to their mean (pure)."""
    d = ((embeddings - embeddings.mean(0)) ** 2).sum(1)
    return embeddings[int(np.argmin(d))]


def bank_from_pool(pool) -> ExemplarBank:
    names = sorted(pool)
    return ExemplarBank(names, np.stack([medoid(pool[n].embeddings) for n in names]))


def main(argv: list[str] | None = None) -> int:
    import torch

    from .config import load_stem_run
    from .engine import default_bank_path
    from .latent import MonoLatent
    from .pool import build_pool

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--out", default=str(default_bank_path()))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    run = load_stem_run(args.config)
    bank = bank_from_pool(build_pool(run.data, MonoLatent.load(run.codec)))
    path = bank.save(args.out)
    print(f"wrote {path}: {len(bank.names)} classes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
