"""Small rendered reference sets for the metric and reward tests (built in tmp_path)."""

from __future__ import annotations

from prismaudio.audio_models.data import EvalItem, split_of
from prismaudio.audio_models.features import motion_energy
from prismaudio.audio_models.synthdata import render_scene

TEST_CLASSES = ("piano", "snare drum", "trumpet", "cowbell", "flute", "guitar")


def make_items(classes=TEST_CLASSES, per_class: int = 1, seed: int = 4242, duration: float = 8.0) -> list[EvalItem]:
    items = []
    for k, name in enumerate(classes):
        for j in range(per_class):
            sc = render_scene(name, seed + 10 * k + j, duration)
            items.append(EvalItem(sc.id, split_of(sc.id), name, sc.audio, sc.plan, motion_energy(sc.frames)))
    return items
