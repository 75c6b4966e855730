"""Train the open-world path's object-kind probe (`planner/identify/object_kinds.py`) on PhysWorld.

    python -m prismaudio.planner_training.object_kinds --physics data/physworld [--limit N] [--out PATH]

Every clip of the train and val splits goes through the planner's own passes up to `identify`
(open path): each track keeps the EfficientNet features of its crops, exactly what the runtime
probe sees. A track is labelled with the ground-truth object it follows (mean horizontal distance
to the object's screen track under `MAX_DISTANCE`, one object per track); its kind is what a
viewer calls that shape of object: balls are "ball", boxes and slabs "block", a figure its own
name ("rubber duck"). The test split (held-out objects and scenes) is never read.

A logistic regression on the standardised crop features is fitted; the open-set threshold is the
5th percentile of each training object's similarity to its nearest object in another clip.
Features are cached per clip in --run-dir (a stopped run resumes).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import torch

log = logging.getLogger(__name__)
MAX_DISTANCE = 0.15  # mean |x| distance (pan units, -1..1) between a track and the object it follows
DESCRIPTIONS = {
    "ball": "a ball bouncing and rolling, a hollow thud at each bounce",
    "block": "a hard block knocking and sliding on the floor, like a wood block",
}


def kind_of(sprite: str) -> str:
    """What a viewer calls a PhysWorld object by its shape (training labels only)."""
    from ..canvas.physics.objects import model

    m = model(sprite)
    return {"ball": "ball", "box": "block", "slab": "block"}.get(m.shape, m.name)


def description_of(kind: str) -> str:
    return DESCRIPTIONS.get(kind, f"a {kind} knocking and tumbling on the floor")


def match_tracks(tracks, fps: float, objects: list[tuple[str, np.ndarray, np.ndarray]], gt_fps: float) -> dict[int, str]:
    """track index -> sprite of the ground-truth object it follows (`objects`: sprite, x in -1..1, visible)."""
    from scipy.optimize import linear_sum_assignment

    if not tracks or not objects:
        return {}
    cost = np.full((len(tracks), len(objects)), 10.0)
    for i, tr in enumerate(tracks):
        t = np.asarray(tr.frames) / fps
        x = 2 * np.asarray(tr.x, float) - 1
        for j, (_, gx, vis) in enumerate(objects):
            f = np.clip(np.round(t * gt_fps).astype(int), 0, len(gx) - 1)
            ok = vis[f] & np.asarray(tr.observed, bool)
            if ok.sum() >= 3:
                cost[i, j] = float(np.mean(np.abs(x[ok] - gx[f[ok]])))
    rows, cols = linear_sum_assignment(cost)
    return {int(i): objects[j][0] for i, j in zip(rows, cols) if cost[i, j] < MAX_DISTANCE}


def clip_examples(sample) -> list[tuple[str, np.ndarray]]:
    """(kind, crop features [n, D]) of each tracked object of one PhysWorld clip."""
    from ..planner.config import PlannerConfig
    from ..planner.passes import run
    from ..planner.planner import decode_for_analysis
    from ..planner.scene import Scene

    cfg = PlannerConfig()
    frames, info = decode_for_analysis(sample.video_path, cfg)
    scene = run(Scene(frames, cfg.fps, info.duration, cfg), until="identify")
    if scene.mode != "open":
        return []
    objects = [(s.sprite, np.asarray(s.track.x, float), np.asarray(s.track.visible, bool)) for s in sample.sources]
    matched = match_tracks(scene.analysis.tracks, scene.fps, objects, sample.fps)
    return [(kind_of(matched[i]), scene.features[i].numpy()) for i in sorted(matched)]


def split_examples(root: str, splits: list[str], run_dir: Path, limit: int) -> list[tuple[str, str, np.ndarray]]:
    """(clip id, kind, features) over the clips of `splits`, cached per clip under `run_dir`."""
    from ..canvas.manifest import load_manifest
    from ..fsutil import atomic_path

    out = []
    clips = [s for s in load_manifest(root) if s.split in splits]
    clips = clips[:limit] if limit else clips
    for k, s in enumerate(clips):
        one = run_dir / "clips" / f"{s.id}.npz"
        if one.is_file():
            d = np.load(one, allow_pickle=False)
            found = [(str(kd), d[f"f{i}"]) for i, kd in enumerate(d["kinds"])]
        else:
            found = clip_examples(s)
            one.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(one) as tmp:
                with open(tmp, "wb") as fh:
                    np.savez(fh, kinds=np.asarray([kd for kd, _ in found], dtype=str), **{f"f{i}": f for i, (_, f) in enumerate(found)})
        out += [(s.id, kd, f) for kd, f in found]
        log.info("%s %d/%d: %d objects", s.id, k + 1, len(clips), len(found))
    return out


def open_set_threshold(means: np.ndarray, clips: list[str], percentile: float = 5.0) -> float:
    """The `percentile` of each object's cosine similarity to its nearest object from another clip."""
    unit = means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-9)
    sims = unit @ unit.T
    same = np.asarray(clips)[:, None] == np.asarray(clips)[None, :]
    sims[same] = -1.0
    return float(np.percentile(sims.max(1), percentile))


def fit(examples: list[tuple[str, str, np.ndarray]], c: float = 0.1, min_probability: float = 0.6) -> tuple[dict, dict]:
    """(config, tensors) of the probe fitted on `examples` (clip id, kind, crop features [n, D])."""
    from ..optional import require

    require("sklearn", "training the object-kind probe")
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([f for _, _, f in examples])
    y = np.concatenate([[kd] * len(f) for _, kd, f in examples])
    mean, scale = x.mean(0), np.maximum(x.std(0), 1e-6)
    model = LogisticRegression(C=c, max_iter=3000).fit((x - mean) / scale, y)
    classes = [str(k) for k in model.classes_]
    weights, bias = model.coef_, model.intercept_
    if len(classes) == 2:  # sklearn's binary form: one row for the second class
        weights, bias = np.stack([-weights[0] / 2, weights[0] / 2]), np.array([-bias[0] / 2, bias[0] / 2])
    means = np.stack([f.mean(0) for _, _, f in examples])
    known = means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-9)
    config = {"classes": classes, "descriptions": [description_of(k) for k in classes],
              "min_similarity": open_set_threshold(means, [cid for cid, _, _ in examples]), "min_probability": min_probability,
              "objects": len(examples), "c": c}
    tensors = {"mean": torch.from_numpy(mean).float(), "scale": torch.from_numpy(scale).float(),
               "weights": torch.from_numpy(np.asarray(weights)).float(), "bias": torch.from_numpy(np.asarray(bias)).float(),
               "known": torch.from_numpy(known).float()}
    return config, tensors


def held_out_accuracy(examples: list[tuple[str, str, np.ndarray]], folds: int = 5) -> float:
    """Share of objects whose kind a probe fitted on the other clips' objects gets right."""
    from ..planner.identify.object_kinds import KindProbe

    clips = sorted({cid for cid, _, _ in examples})
    fold = {cid: i % folds for i, cid in enumerate(clips)}
    right = 0
    for k in range(folds):
        train = [e for e in examples if fold[e[0]] != k]
        config, t = fit(train)
        probe = KindProbe(config["classes"], config["descriptions"], *(t[n].double().numpy() for n in ("mean", "scale", "weights", "bias", "known")),
                          -1.0, 0.0)
        right += sum(probe.kind(f).label == kd for cid, kd, f in examples if fold[cid] == k)
    return right / max(len(examples), 1)


def train(root: str, run_dir: str, out: str, limit: int = 0) -> str:
    from ..planner.identify.object_kinds import KIND
    from ..train.checkpoint import Checkpoint, save_checkpoint

    examples = split_examples(root, ["train", "val"], Path(run_dir), limit)
    kinds = sorted({kd for _, kd, _ in examples})
    print(f"{len(examples)} objects ({', '.join(f'{k} {sum(kd == k for _, kd, _ in examples)}' for k in kinds)}); "
          f"held-out-clip accuracy {held_out_accuracy(examples):.1%}")
    config, tensors = fit(examples)
    config["physics"] = Path(root).name  # no machine path in a shipped file
    save_checkpoint(out, Checkpoint(KIND, 1, config, tensors=tensors))
    return out


def main() -> int:
    from ..planner.identify.object_kinds import ASSET

    ap = argparse.ArgumentParser()
    ap.add_argument("--physics", default="data/physworld")
    ap.add_argument("--run-dir", default="runs/object_kinds")
    ap.add_argument("--limit", type=int, default=0, help="only the first N train/val clips")
    ap.add_argument("--out", default=str(ASSET))
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(train(a.physics, a.run_dir, a.out, a.limit))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
