"""Which samples a build contains: ids, groups, splits, classes and per-sample seeds.

- single: `single_per_class` samples per class with one source; per class they are split
  train/val/test (n = 1: test; n = 2: train + test; n >= 3: 15 % val and 15 % test, at least
  one each), so every class is equally often in each split and always in test;
- multi: 2-3 sources, classes drawn from a reshuffled class stream (balanced), split 80/10/10;
- ood: held out from train: 4 sources (multi has 2-3), class combinations with no pair that
  co-occurs in any train sample, held-out backgrounds (diagonal/radial gradients and other
  photos) and faster motion (speed factor 2.0-3.5 against 0.5-1.5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from .classes import SoundClass
from .options import CanvasConfig

GROUP_CODE = {"single": 1, "multi": 2, "ood": 3}
IN_DIST_SPEED = (0.5, 1.5)
OOD_SPEED = (2.0, 3.5)
MULTI_SOURCES = (2, 3)
OOD_SOURCES = 4
OOD_HELD_OUT = {
    "source_count": f"{OOD_SOURCES} sources per scene (train/val/test multi scenes have {MULTI_SOURCES[0]}-{MULTI_SOURCES[-1]})",
    "combination": "no pair of classes in an ood scene appears together in any train scene",
    "background": "diagonal and radial gradients and photos (rocket, hubble deep field, gravel, retina, flower) never used in train",
    "speed": f"motion speed factor {OOD_SPEED[0]}-{OOD_SPEED[1]} (train/val/test: {IN_DIST_SPEED[0]}-{IN_DIST_SPEED[1]})",
}


@dataclass
class SampleSpec:
    id: str
    group: str
    split: str
    index: int
    seed: int
    classes: list[str]
    ood_factors: list[str] = field(default_factory=list)


def sample_seed(build_seed: int, group: str, index: int) -> int:
    return int(np.random.SeedSequence([build_seed, GROUP_CODE[group], index]).generate_state(1)[0])


def single_splits(n: int) -> list[str]:
    if n <= 0:
        return []
    if n == 1:
        return ["test"]
    if n == 2:
        return ["train", "test"]
    n_test = max(1, round(0.15 * n))
    n_val = max(1, round(0.15 * n))
    return ["train"] * (n - n_test - n_val) + ["val"] * n_val + ["test"] * n_test


def _stream(rng: np.random.Generator, names: list[str]):
    while True:
        yield from (names[i] for i in rng.permutation(len(names)))


def plan_samples(cfg: CanvasConfig, classes: list[SoundClass]) -> list[SampleSpec]:
    rng = np.random.default_rng([cfg.seed, 0])
    names = [c.name for c in classes]
    specs: list[SampleSpec] = []
    n = cfg.single_per_class
    for ci, name in enumerate(names):
        splits = [single_splits(n)[i] for i in rng.permutation(n)] if n else []
        for j, split in enumerate(splits):
            k = ci * n + j
            specs.append(SampleSpec(f"single_{k:05d}", "single", split, k, sample_seed(cfg.seed, "single", k), [name]))
    stream = _stream(rng, names)
    m = cfg.multi
    n_val, n_test = round(0.1 * m), round(0.1 * m)
    order = rng.permutation(m)
    split_of = {int(i): ("val" if r < n_val else "test" if r < n_val + n_test else "train") for r, i in enumerate(order)}
    train_pairs: set[frozenset] = set()
    for k in range(m):
        count = min(int(rng.integers(MULTI_SOURCES[0], MULTI_SOURCES[-1] + 1)), len(names))
        pick: list[str] = []
        while len(pick) < count:
            name = next(stream)
            if name not in pick:
                pick.append(name)
        if split_of[k] == "train":
            train_pairs.update(frozenset(p) for p in combinations(pick, 2))
        specs.append(SampleSpec(f"multi_{k:05d}", "multi", split_of[k], k, sample_seed(cfg.seed, "multi", k), pick))
    for k in range(cfg.ood):
        count = min(OOD_SOURCES, len(names))
        factors = ["background", "speed"]
        if count > MULTI_SOURCES[-1]:
            factors.insert(0, "source_count")
        pick = []
        for _ in range(300):
            pick = [names[i] for i in rng.choice(len(names), size=count, replace=False)]
            if count > 1 and not any(frozenset(p) in train_pairs for p in combinations(pick, 2)):
                factors.append("combination")
                break
        specs.append(SampleSpec(f"ood_{k:05d}", "ood", "ood", k, sample_seed(cfg.seed, "ood", k), pick, factors))
    return specs
