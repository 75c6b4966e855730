"""Optional adapters for the original evaluators (PANNs, PaSST, MS-CLAP, Synchformer, Audiobox Aesthetics).

None of their weights can be fetched here, and none is needed by default. A user who has
local weights passes `--adapter NAME=PATH`; the adapter imports the evaluator's package
(installed by the user), loads the weights from PATH only (never from a hub) and reports
av-benchmark's keys. A missing package or file is one clear error line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import PrismError
from .base import EvalPair
from .fd import frechet_distance, statistics
from .kl import kl_softmax

ADAPTERS = {
    "panns": ("panns_inference", "FD-PANN, KL-PANNS-softmax (Cnn14 16 kHz checkpoint .pth)"),
    "passt": ("hear21passt", "FD-PASST (PaSST checkpoint)"),
    "msclap": ("msclap", "MS-CLAP score (CLAP weights file)"),
    "synchformer": ("synchformer", "DeSync (Synchformer checkpoint)"),
    "audiobox": ("audiobox_aesthetics", "PQ, PC, CE, CU (Audiobox Aesthetics checkpoint)"),
}


class AdapterError(PrismError):
    """An optional original evaluator that cannot run."""


def parse(spec: str) -> tuple[str, Path]:
    name, sep, path = spec.partition("=")
    if not sep or name not in ADAPTERS:
        raise AdapterError(f"--adapter {spec!r}: use NAME=WEIGHTS with NAME one of {', '.join(ADAPTERS)}")
    if not Path(path).is_file():
        raise AdapterError(f"--adapter {name}: weights file {path} not found (the original evaluators need local weights)")
    try:
        __import__(ADAPTERS[name][0])
    except ImportError:
        raise AdapterError(f"--adapter {name}: package '{ADAPTERS[name][0]}' is not installed; it gives {ADAPTERS[name][1]}") from None
    return name, Path(path)


def _panns(weights: Path, pairs: list[EvalPair]) -> dict:
    import torch
    from panns_inference import AudioTagging  # type: ignore

    import scipy.signal

    model = AudioTagging(checkpoint_path=str(weights), device="cpu")  # loads the given file; no download when present

    def run(waves):
        embs, logits = [], []
        for w in waves:
            x = scipy.signal.resample_poly(w, 2, 1)[None].astype(np.float32)  # 16 -> 32 kHz as the checkpoint expects
            clipwise, emb = model.inference(x)
            embs.append(emb[0])
            logits.append(np.log(np.clip(clipwise[0], 1e-7, 1 - 1e-7)))
        return np.stack(embs), np.stack(logits)

    pe, pl = run([p.pred_mono for p in pairs])
    ge, gl = run([p.gt_mono for p in pairs])
    return {"FD-PANN": frechet_distance(*statistics(pe), *statistics(ge)),
            "KL-PANNS-softmax": float(np.mean([kl_softmax(g, p) for g, p in zip(gl, pl)]))}


def run_adapters(specs: list[str], pairs: list[EvalPair]) -> dict:
    results: dict = {}
    for spec in specs:
        name, weights = parse(spec)
        if name == "panns":
            results.update(_panns(weights, pairs))
        else:
            raise AdapterError(f"--adapter {name}: the bridge to {ADAPTERS[name][0]} is not implemented in this version "
                               f"(only panns); it would give {ADAPTERS[name][1]}")
    return results
