"""Train the open-world path's object-kind probe (`planner/identify/object_kinds.py`) on PhysWorld.

    python -m prismaudio.planner_training.object_kinds --physics data/physworld [--limit N] [--out PATH]

Every clip of the train and val splits goes through the planner's own passes up to `identify`
(open path): each track keeps the EfficientNet features of its crops, exactly what the runtime
probe sees. A track is labelled with the ground-truth object it follows (mean horizontal distance
to the object's screen track under `MAX_DISTANCE`, one object per track); its kind is what a
viewer calls that shape of object: balls are "ball", boxes and slabs "block", a figure its own
name ("rubber duck"). The test split (held-out objects and scenes) is never read.

A logistic regression on the standardised crop features is fitted. Its open-set threshold (the
cosine similarity to the nearest training object below which the probe says nothing) is set by
two leave-out checks over clip folds (`leave_out_similarities`): leave one kind out (the probe
never saw balls, say: every ball must then be rejected) and leave one object out (it never saw
the checkered ball, but knows balls: the checkered ball should be accepted). The threshold is
the one that does both best on balance (`balanced_threshold`). Test objects never take part.
Features (and each track's object) are cached per clip in --run-dir (a stopped run resumes).
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


def clip_examples(sample) -> list[tuple[str, str, np.ndarray]]:
    """(object, kind, crop features [n, D]) of each tracked object of one PhysWorld clip."""
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
    return [(matched[i], kind_of(matched[i]), scene.features[i].numpy()) for i in sorted(matched)]


def split_examples(root: str, splits: list[str], run_dir: Path, limit: int) -> list[tuple[str, str, np.ndarray, str]]:
    """(clip id, kind, features, object) over the clips of `splits`, cached per clip under `run_dir`."""
    from ..canvas.manifest import load_manifest
    from ..fsutil import atomic_path

    out = []
    clips = [s for s in load_manifest(root) if s.split in splits]
    clips = clips[:limit] if limit else clips
    for k, s in enumerate(clips):
        one = run_dir / "clips" / f"{s.id}.npz"
        d = np.load(one, allow_pickle=False) if one.is_file() else None
        if d is not None and "objects" in d:  # (older caches lack the objects: made again)
            found = [(str(ob), str(kd), d[f"f{i}"]) for i, (ob, kd) in enumerate(zip(d["objects"], d["kinds"]))]
        else:
            found = clip_examples(s)
            one.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(one) as tmp:
                with open(tmp, "wb") as fh:
                    np.savez(fh, kinds=np.asarray([kd for _, kd, _ in found], dtype=str),
                             objects=np.asarray([ob for ob, _, _ in found], dtype=str), **{f"f{i}": f for i, (_, _, f) in enumerate(found)})
        out += [(s.id, kd, f, ob) for ob, kd, f in found]
        log.info("%s %d/%d: %d objects", s.id, k + 1, len(clips), len(found))
    return out


def balanced_threshold(unseen_known: np.ndarray, novel: np.ndarray) -> tuple[float, float, float]:
    """(threshold, share of `unseen_known` accepted, share of `novel` rejected): the similarity
    threshold that best balances accepting objects of a known kind the probe never saw (scores
    `unseen_known`) against rejecting objects of a kind it does not know (`novel`); a score at or
    above the threshold is accepted. Of equally balanced thresholds, the middle one."""
    a, b = np.asarray(unseen_known, float), np.asarray(novel, float)
    cands = np.unique(np.concatenate([a, b]))
    if len(a) == 0 or len(b) == 0 or len(cands) == 0:
        return -1.0, 1.0, 0.0
    balance = np.array([(np.mean(a >= t) + np.mean(b < t)) / 2 for t in cands])
    best = np.flatnonzero(balance >= balance.max() - 1e-12)
    t = float(cands[best[len(best) // 2]])
    return t, float(np.mean(a >= t)), float(np.mean(b < t))


def clip_folds(examples: list, folds: int) -> list[tuple[list, list]]:
    """(training examples, held-out examples) per fold, the clips dealt to `folds` folds in
    order of their ids (all of a clip's objects in one fold: a clip's crops are alike)."""
    clips = sorted({e[0] for e in examples})
    fold = {cid: i % folds for i, cid in enumerate(clips)}
    return [([e for e in examples if fold[e[0]] != k], [e for e in examples if fold[e[0]] == k]) for k in range(folds)]


def unit_means(examples: list) -> np.ndarray:
    """[N, D] each example's mean crop feature, scaled to unit length (what the open-set check compares)."""
    means = np.stack([e[2].mean(0) for e in examples])
    return means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-9)


def open_probe(config: dict, tensors: dict):
    """The KindProbe of a `fit`, answering whatever the similarity and probability (for scoring)."""
    from ..planner.identify.object_kinds import KindProbe

    return KindProbe(config["classes"], config["descriptions"],
                     *(tensors[n].double().numpy() for n in ("mean", "scale", "weights", "bias", "known")), -1.0, 0.0)


def leave_out_similarities(examples: list[tuple[str, str, np.ndarray, str]], folds: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """(unseen objects of a known kind, objects of a kind left out): each held-out object's
    similarity to the nearest training object of a probe fitted without it. Clips are split
    into `folds`; in each, the other folds' objects train the probe with one kind left out (the
    fold's objects of that kind are novel) or one object left out (the fold's instances of it,
    whose kind other objects still show, are unseen but known)."""
    from ..planner.identify.object_kinds import nearest_similarity

    unseen, novel = [], []
    for rest, held in clip_folds(examples, folds):
        for leave, slot, out in (("kind", 1, novel), ("object", 3, unseen)):
            for name in sorted({e[slot] for e in examples}):
                train = [e for e in rest if e[slot] != name]
                if not train or leave == "object" and not any(e[1] == name_kind(examples, name) for e in train):
                    continue
                known = unit_means(train)
                out += [nearest_similarity(e[2].mean(0), known) for e in held if e[slot] == name]
    return np.asarray(unseen, float), np.asarray(novel, float)


def calibrated_rows(rows: np.ndarray, calibration: list[float]) -> np.ndarray:
    from ..planner.identify.object_kinds import calibrated

    return np.asarray([calibrated(r[0], r[1], calibration) for r in rows])


def name_kind(examples: list[tuple[str, str, np.ndarray, str]], obj: str) -> str:
    return next(e[1] for e in examples if e[3] == obj)


def leave_out_answers(examples: list[tuple[str, str, np.ndarray, str]], folds: int = 5) -> np.ndarray:
    """[N, 3] (similarity, probability, right) of held-out objects' kinds from probes that never saw
    them: per clip fold, a probe fitted on the other folds without one kind (every object of the
    fold answered: those of the left-out kind are always wrong) or without one object (its
    instances answered). What the probe's answers are worth when the object may be new."""
    rows = []
    for rest, held in clip_folds(examples, folds):
        for slot in (1, 3):
            for name in sorted({e[slot] for e in examples}):
                train = [e for e in rest if e[slot] != name]
                if len({e[1] for e in train}) < 2:
                    continue
                probe = open_probe(*fit(train))
                for e in held if slot == 1 else [e for e in held if e[3] == name]:
                    p = probe.probabilities(e[2])
                    rows.append((probe.similarity(e[2]), float(p.max()), float(probe.classes[int(np.argmax(p))] == e[1])))
    return np.asarray(rows, float).reshape(-1, 3)


def confidence_calibration(answers: np.ndarray, min_similarity: float) -> list[float]:
    """[w_similarity, w_probability, bias]: a logistic fit of whether the kind was right on the
    probe's similarity and probability, over the leave-out answers it would give (similarity at
    least `min_similarity`). Its output is the kind's confidence (`object_kinds.calibrated`)."""
    from sklearn.linear_model import LogisticRegression

    a = np.asarray(answers, float)
    a = a[a[:, 0] >= min_similarity]
    if len(a) < 10 or len(np.unique(a[:, 2])) < 2:
        return [0.0, 1.0, 0.0]
    m = LogisticRegression(C=10.0).fit(a[:, :2], a[:, 2] > 0.5)
    return [float(m.coef_[0, 0]), float(m.coef_[0, 1]), float(m.intercept_[0])]


def fit(examples: list[tuple[str, str, np.ndarray, str]], c: float = 0.1, min_probability: float = 0.6,
        min_similarity: float = -1.0) -> tuple[dict, dict]:
    """(config, tensors) of the probe fitted on `examples` (clip id, kind, crop features [n, D], object)."""
    from ..optional import require

    require("sklearn", "training the object-kind probe")
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([e[2] for e in examples])
    y = np.concatenate([[e[1]] * len(e[2]) for e in examples])
    mean, scale = x.mean(0), np.maximum(x.std(0), 1e-6)
    model = LogisticRegression(C=c, max_iter=3000).fit((x - mean) / scale, y)
    classes = [str(k) for k in model.classes_]
    weights, bias = model.coef_, model.intercept_
    if len(classes) == 2:  # sklearn's binary form: one row for the second class
        weights, bias = np.stack([-weights[0] / 2, weights[0] / 2]), np.array([-bias[0] / 2, bias[0] / 2])
    known = unit_means(examples)
    config = {"classes": classes, "descriptions": [description_of(k) for k in classes],
              "min_similarity": min_similarity, "min_probability": min_probability,
              "objects": len(examples), "c": c}
    tensors = {"mean": torch.from_numpy(mean).float(), "scale": torch.from_numpy(scale).float(),
               "weights": torch.from_numpy(np.asarray(weights)).float(), "bias": torch.from_numpy(np.asarray(bias)).float(),
               "known": torch.from_numpy(known).float()}
    return config, tensors


def held_out_accuracy(examples: list[tuple[str, str, np.ndarray, str]], folds: int = 5) -> float:
    """Share of objects whose kind a probe fitted on the other clips' objects gets right."""
    right = 0
    for train, held in clip_folds(examples, folds):
        probe = open_probe(*fit(train))
        right += sum(probe.kind(e[2]).label == e[1] for e in held)
    return right / max(len(examples), 1)


def train(root: str, run_dir: str, out: str, limit: int = 0) -> str:
    from ..planner.identify.object_kinds import KIND
    from ..train.checkpoint import Checkpoint, save_checkpoint

    examples = split_examples(root, ["train", "val"], Path(run_dir), limit)
    kinds = sorted({e[1] for e in examples})
    print(f"{len(examples)} objects ({', '.join(f'{k} {sum(e[1] == k for e in examples)}' for k in kinds)}); "
          f"held-out-clip accuracy {held_out_accuracy(examples):.1%}")
    unseen, novel = leave_out_similarities(examples)
    threshold, accepted, rejected = balanced_threshold(unseen, novel)
    print(f"open set: similarity >= {threshold:.3f} accepts {accepted:.0%} of {len(unseen)} unseen objects of known kinds "
          f"(leave one object out), rejects {rejected:.0%} of {len(novel)} objects of a kind left out (leave one kind out)")
    answers = leave_out_answers(examples)
    calibration = confidence_calibration(answers, threshold)
    taken = answers[answers[:, 0] >= threshold]
    print(f"confidence: {len(taken)} leave-out answers above the threshold, {taken[:, 2].mean():.0%} right "
          f"(the probe's mean probability {taken[:, 1].mean():.0%}); calibrated mean {np.mean(calibrated_rows(taken, calibration)):.0%}")
    config, tensors = fit(examples, min_similarity=threshold)
    config["calibration"] = calibration
    config["open_set"] = {"rule": "balanced leave-one-kind-out / leave-one-object-out", "unseen_known_accepted": round(accepted, 3),
                          "novel_rejected": round(rejected, 3), "unseen_known": len(unseen), "novel": len(novel)}
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
