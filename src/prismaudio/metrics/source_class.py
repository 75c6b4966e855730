"""Class accuracy per planned source, in mixes too: is each source heard as its class?

`class-accuracy` scores a clip with one source (the classifier on the whole clip). A mix of
2-3 sources has no single class, so each source is scored where it sounds alone: the YAMNet
patches (0.96 s, every 0.48 s) that its planned events cover for at least `MIN_COVER_S`
while no other source's event touches them. Their embeddings are pooled as the classifier's
input (`pooled_embedding`, as `class-accuracy`), and the source counts as right when the
classifier names its planned label. A source that never sounds alone is not scored (the
figure says how many were). The reference audio goes through the same measure, so the
figure always comes with its ceiling.

Two choices keep the figure about the sound rather than the mastering (measured on the
SynthCanvas ood references, 39 scored sources, `docs/generator-benchmark.md`):
- each ear is classified apart and their logits averaged: the mono fold-down (L + R) / 2 of
  a render with interaural delays comb-filters the highs (the references themselves drop
  from 0.74 per ear to 0.64 folded down);
- the audio is compared at the reference's level (`matched_gain`, as listening tests match
  loudness): the classifier was trained on references at their level, and a mix mastered to
  -23 LUFS sits 4-12 dB lower, which alone cost a third of the right answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..audio_models.yamnet import HOP, PATCH_FRAMES, PATCH_HOP_S, SAMPLE_RATE
from ..planner.plan import Plan
from .spatial import heard_until

PATCH_S = PATCH_FRAMES * HOP / SAMPLE_RATE  # 0.96 s
MIN_COVER_S = 0.2  # the source sounds for at least this long inside the patch


def heard_spans(plan: Plan, source_id: str) -> list[tuple[float, float]]:
    """(start, end) in seconds of each of the source's events as heard (`heard_until`)."""
    return [(e.onset, heard_until(e)) for e in plan.events_of(source_id)]


def cover_seconds(spans: list[tuple[float, float]], starts: np.ndarray, length: float = PATCH_S) -> np.ndarray:
    """Seconds of each window [start, start + length) that the spans cover (overlaps of the
    spans with each other counted once)."""
    grid = np.linspace(0.0, length, 97)[:-1] + length / 192  # 96 points per window, centred
    times = starts[:, None] + grid[None, :]
    inside = np.zeros(times.shape, bool)
    for a, b in spans:
        inside |= (times >= a) & (times < b)
    return inside.mean(1) * length


def alone_patches(plan: Plan, num_patches: int, min_cover: float = MIN_COVER_S) -> dict[str, np.ndarray]:
    """Per source: indices of the patches where it sounds >= min_cover s and no other source sounds."""
    starts = np.arange(num_patches) * PATCH_HOP_S
    cover = {s.id: cover_seconds(heard_spans(plan, s.id), starts) for s in plan.semantic.sources}
    out = {}
    for sid, own in cover.items():
        others = sum((c for k, c in cover.items() if k != sid), np.zeros(num_patches))
        out[sid] = np.flatnonzero((own >= min_cover) & (others == 0))
    return out


@dataclass
class SourceScore:
    source: str
    label: str
    predicted: str | None  # None: the source never sounds alone (not scored)
    patches: int

    @property
    def right(self) -> bool | None:
        return None if self.predicted is None else self.predicted == self.label


def matched_gain(audio: np.ndarray, reference: np.ndarray) -> float:
    """The gain that brings `audio` to the reference's RMS (1 for silence on either side)."""
    power, ref_power = float(np.mean(np.square(audio))), float(np.mean(np.square(reference)))
    return float(np.sqrt(ref_power / power)) if power > 1e-12 and ref_power > 1e-12 else 1.0


def score_sources(plan: Plan, channel_embeddings: list[np.ndarray], classify) -> list[SourceScore]:
    """`channel_embeddings`: per channel (ear) [patches, 1024] YAMNet embeddings of the clip;
    `classify([pooled [2048] per channel]) -> class name` (one decision over the channels)."""
    from ..audio_models.nets import pooled_embedding

    patches = min(len(e) for e in channel_embeddings)
    alone = alone_patches(plan, patches)
    scores = []
    for source in plan.semantic.sources:
        idx = alone.get(source.id, np.zeros(0, int))
        predicted = classify([pooled_embedding(e[idx]) for e in channel_embeddings]) if len(idx) else None
        scores.append(SourceScore(source.id, source.label, predicted, int(len(idx))))
    return scores


def accuracy(scores: list[SourceScore]) -> tuple[float | None, int, int]:
    """(share of scored sources heard as their class, sources scored, sources in all)."""
    scored = [s.right for s in scores if s.right is not None]
    return (float(np.mean(scored)) if scored else None), len(scored), len(scores)


def classifier_over_ears(loaded) -> Callable[[list[np.ndarray]], str]:
    """`classify` for `score_sources` from the loaded `classifier` evaluator: the channels'
    logits averaged, the top class named."""
    import torch

    classes = loaded.config.classes

    def classify(pooled: list[np.ndarray]) -> str:
        with torch.no_grad():
            logits = loaded.module(torch.from_numpy(np.stack(pooled))).mean(0)
        return classes[int(logits.argmax())]

    return classify


def score_clip(audio: np.ndarray, plan: Plan, yamnet, classify, gain: float = 1.0) -> list[SourceScore]:
    """One clip's sources: `audio` [channels, samples] at YAMNet's 16 kHz, scaled by `gain`."""
    ears = [np.ascontiguousarray(channel * gain, dtype=np.float32) for channel in np.atleast_2d(audio)]
    return score_sources(plan, [out.embeddings for out in yamnet.analyze(ears)], classify)
