"""Build the sprite prototypes of the canvas gate (`planner/canvas/gate.py`).

    python -m prismaudio.planner_training.prototypes [--per-class 8] [--run-dir DIR] [--out PATH]

Per SynthCanvas class: EfficientNet features of its sprite pasted on canvas backgrounds
(the recognition head's own crop recipe, `planner_training/train_heads.sprite_crops`), averaged and
stored as fp16 with the class table in the header.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch


def build(per_class: int, run_dir: str, out: str) -> str:
    from ..canvas.classes import builtin_classes
    from ..planner.canvas.gate import PROTOTYPES_KIND
    from .train_heads import PlannerTrainConfig, sprite_crops
    from ..train.checkpoint import Checkpoint, save_checkpoint

    x, y = sprite_crops(PlannerTrainConfig(sprite_crops_per_class=per_class, run_dir=run_dir))
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    names = [c.name for c in builtin_classes()]
    protos = np.stack([x[y == c].mean(0) for c in range(len(names))])
    save_checkpoint(out, Checkpoint(PROTOTYPES_KIND, 1, {"classes": names, "per_class": per_class},
                                    tensors={"prototypes": torch.from_numpy(protos).half()}))
    return out


def main() -> int:
    from ..planner.canvas.gate import PROTOTYPES_PATH

    ap = argparse.ArgumentParser()
    ap.add_argument("--per-class", type=int, default=8)
    ap.add_argument("--run-dir", default="runs/planner")
    ap.add_argument("--out", default=str(PROTOTYPES_PATH))
    a = ap.parse_args()
    print(build(a.per_class, a.run_dir, a.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
