"""Semantic metrics: is the predicted audio of the right class?

- `YAMNET-class-prob`: YAMNet's probability (max over patches) of the true class's AudioSet
  label(s) (max over those labels);
- `class-accuracy`: SynthCanvas class accuracy of a classifier trained on reference audio
  (the `classifier` evaluator; not a reward model);
- `CLAP`: cosine between the predicted audio and the plan's semantic text in the CLAP-like
  evaluator twin (`clap_eval`, trained apart from the reward's `clap_reward`).
"""

from __future__ import annotations

import logging

import torch

from ..audio_models.assets import load_model
from ..audio_models.data import class_table
from ..audio_models.nets import pooled_embedding
from ..audio_models.yamnet import class_names
from .base import EvalPair, mean_or_none

log = logging.getLogger(__name__)
KEYS = ("YAMNET-class-prob", "class-accuracy", "CLAP")


_TEXT_CACHE: dict[str, torch.Tensor] = {}


def text_vectors(texts: list[str]) -> list[torch.Tensor]:
    """MiniLM sentence vectors, computed in one batch for the texts not seen before."""
    from ..encoders.text import TextEncoder

    new = sorted({t for t in texts if t not in _TEXT_CACHE})
    for s in range(0, len(new), 64):
        _TEXT_CACHE.update(zip(new[s : s + 64], TextEncoder().embed(new[s : s + 64])))
    return [_TEXT_CACHE[t] for t in texts]


def _text_vector(text: str) -> torch.Tensor:
    return text_vectors([text])[0]


def audioset_indices(sound_class: str) -> list[int]:
    info = class_table().get(sound_class)
    lookup = {n.lower(): i for i, n in enumerate(class_names())}
    labels = info.audioset if info else (sound_class,)
    return [lookup[n.lower()] for n in labels if n.lower() in lookup]


class SemanticMetrics:
    name = "semantic"

    def __init__(self, clap: str = "clap_eval"):
        self.values: dict[str, list] = {k: [] for k in KEYS}
        self.classifier = load_model("classifier")
        self.clap = load_model(clap)
        self.reasons: set[str] = set()

    def prepare(self, pairs: list[EvalPair]) -> None:
        text_vectors([p.plan.semantic_text() for p in pairs if p.plan is not None])

    def update(self, pair: EvalPair) -> dict:
        out: dict = {k: None for k in KEYS}
        if pair.sound_class:
            idx = audioset_indices(pair.sound_class)
            if idx:
                out["YAMNET-class-prob"] = float(pair.pred_yamnet.probs.max(0)[idx].max())
            else:
                self.reasons.add(f"class '{pair.sound_class}' has no AudioSet label known to YAMNet")
            classes = self.classifier.config.classes
            if pair.sound_class in classes:
                with torch.no_grad():
                    logits = self.classifier.module(torch.from_numpy(pooled_embedding(pair.pred_yamnet.embeddings))[None])
                out["class-accuracy"] = float(classes[int(logits.argmax())] == pair.sound_class)
            else:
                self.reasons.add(f"class '{pair.sound_class}' unknown to the classifier")
        else:
            self.reasons.add("no class for the sample (give --manifest)")
        if pair.plan is not None:
            audio = torch.from_numpy(pair.pred_yamnet.embeddings.mean(0))[None]
            with torch.no_grad():
                out["CLAP"] = float(self.clap.module.similarity(audio, _text_vector(pair.plan.semantic_text())[None])[0])
        for k in KEYS:
            self.values[k].append(out[k])
        return out

    def compute(self) -> dict:
        return {k: mean_or_none(v) for k, v in self.values.items()}
