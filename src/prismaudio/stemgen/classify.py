"""Which SynthCanvas class a stem sounds like: the class-accuracy evaluator (YAMNet embeddings
-> the `classifier` head, the same one `prismaudio eval` uses for class-accuracy)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch


@lru_cache(maxsize=1)
def _classifier():
    from ..audio_models.assets import load_model

    return load_model("classifier")


def classify(waves: list[np.ndarray]) -> list[str]:
    """The classifier's class name for each 16 kHz mono wave."""
    from ..audio_models.nets import pooled_embedding
    from ..audio_models.yamnet import shared

    clf = _classifier()
    outs = shared().analyze([np.asarray(w, dtype=np.float32) for w in waves])
    emb = torch.from_numpy(np.stack([pooled_embedding(o.embeddings) for o in outs]))
    with torch.no_grad():
        idx = clf.module(emb).argmax(-1).tolist()
    return [clf.config.classes[i] for i in idx]
