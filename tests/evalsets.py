"""Tiny SynthCanvas reference sets for the metric and reward tests (built in a tmp folder)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from prismaudio.audio_models.data import EvalItem, canvas_items

TEST_CLASSES = ("grand piano", "snare drum", "trumpet", "cowbell", "flute", "nylon guitar")
DURATION = 5.0  # the offset models read 4.8 s windows; shorter clips are mostly padding


def build_tiny_canvas(out: Path, classes=TEST_CLASSES, duration: float = DURATION, seed: int = 4242) -> Path:
    """One single-source clip per class, small frames, no degraded copies (a few seconds)."""
    from prismaudio.canvas.build import build
    from prismaudio.canvas.options import CanvasConfig

    cfg = CanvasConfig(duration=duration, width=64, height=64, single_per_class=1, multi=0, ood=0,
                       degraded_fraction=0.0, seed=seed, workers=1, classes=list(classes))
    build(out, cfg, progress=False)
    return out


@lru_cache(maxsize=4)
def _items(root: str) -> tuple[EvalItem, ...]:
    return tuple(canvas_items(root, splits=("train", "val", "test")))


def make_items(root: Path, classes=TEST_CLASSES) -> list[EvalItem]:
    """The items of the tiny build at `root`, in the order of `classes`."""
    by_class = {i.sound_class: i for i in _items(str(root))}
    return [by_class[c] for c in classes]
