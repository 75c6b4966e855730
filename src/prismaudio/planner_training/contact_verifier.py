"""Train the open-world path's contact verifier (`planner/events/verify.py`) on PhysWorld's exact contacts.

    python -m prismaudio.planner_training.contact_verifier --physics data/physworld [--out PATH]

Every clip of the train split goes through the planner's own detection and contact finding
(the planner's passes up to `repair`, `open_world.contacts_of`); each contact found is labelled real when an
impact of the simulator's ground truth lies within 40 ms of it (the benchmark's tolerance).
A logistic regression on `verify.FEATURES` is fitted on train + val; its threshold is the one
that maximises F1 over 5-fold held-out predictions (the test split is never read). Features
are cached per clip in --run-dir (a stopped run resumes).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import torch

log = logging.getLogger(__name__)
TOLERANCE = 0.040


def clip_candidates(video: Path, impacts: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """(features [n, F], labels [n]) of the contacts the planner finds in one clip."""
    from ..media import probe
    from ..planner.events.open_world import contacts_of, own_motion
    from ..planner.events.motion import shown_times
    from ..planner.passes import run
    from ..planner.planner import PlannerConfig, decode_for_analysis, scene_homographies
    from ..planner.scene import Scene
    from ..planner.events.verify import FEATURES, contact_features

    cfg = PlannerConfig()
    frames, info = decode_for_analysis(video, cfg)
    found = run(Scene(frames, cfg.fps, info.duration, cfg), until="repair")  # (the longest-lived tracks)
    analysis = found.analysis
    held = scene_homographies(frames, found.shots, cfg.camera, None, found.detections[0].camera_steps)
    times = shown_times(analysis.num_frames, analysis.fps, 0.0 if info.variable_fps else float(probe(video).fps))
    xs, ys = [np.zeros((0, len(FEATURES)))], [np.zeros(0)]
    for screen_track in analysis.tracks:
        track = own_motion(screen_track, analysis, held)
        contacts = contacts_of(track, analysis, cfg.open_world.motion, times)
        xs.append(contact_features(track, analysis, contacts, times, held is not None))
        ys.append(np.array([float(any(abs(c.time - t) <= TOLERANCE for t in impacts)) for c in contacts]))
    return np.concatenate(xs), np.concatenate(ys)


def split_candidates(root: str, split: str, cache: Path) -> tuple[np.ndarray, np.ndarray]:
    from ..canvas.manifest import load_manifest
    from ..fsutil import atomic_path

    if cache.is_file():
        d = np.load(cache)
        return d["x"], d["y"]
    xs, ys = [], []
    clips = [s for s in load_manifest(root) if s.split == split]
    for i, s in enumerate(clips):
        one = cache.parent / "clips" / f"{s.id}.npz"  # per clip, so a stopped run resumes
        if one.is_file():
            d = np.load(one)
            x, y = d["x"], d["y"]
        else:
            x, y = clip_candidates(s.video_path, [e.onset for e in s.plan.temporal.events if e.kind == "impact"])
            one.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(one) as tmp:
                np.savez(tmp, x=x, y=y)
        xs.append(x)
        ys.append(y)
        log.info("%s %d/%d: %d contacts, %d real", split, i + 1, len(clips), len(y), int(y.sum()))
    x, y = np.concatenate(xs), np.concatenate(ys)
    with atomic_path(cache) as tmp:
        np.savez(tmp, x=x, y=y)
    return x, y


def best_threshold(p: np.ndarray, y: np.ndarray, total_real: int) -> float:
    """The probability threshold with the best F1 (precision over the kept contacts, recall of
    the real contacts found: a dropped real contact costs recall like a missed one)."""
    best, best_f1 = 0.5, -1.0
    for th in np.linspace(0.05, 0.95, 91):
        keep = p >= th
        hits = float(y[keep].sum())
        prec = hits / max(keep.sum(), 1)
        rec = hits / max(total_real, 1)
        f1 = 2 * prec * rec / max(prec + rec, 1e-9)
        if f1 > best_f1:
            best, best_f1 = float(th), f1
    return best


def train(root: str, run_dir: str, out: str) -> str:
    from ..optional import require

    require("sklearn", "training the contact verifier")
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    from ..planner.events.verify import FEATURES, VERIFIER_KIND
    from ..train.checkpoint import Checkpoint, save_checkpoint

    xt, yt = split_candidates(root, "train", Path(run_dir) / "verifier_train.npz")
    xv, yv = split_candidates(root, "val", Path(run_dir) / "verifier_val.npz")
    x, y = np.concatenate([xt, xv]), np.concatenate([yt, yv])
    mean, scale = x.mean(0), np.maximum(x.std(0), 1e-6)
    z = (x - mean) / scale
    # the threshold from 5-fold predictions on train + val (val alone holds too few real contacts)
    p = cross_val_predict(LogisticRegression(C=1.0, max_iter=2000), z, y, cv=5, method="predict_proba")[:, 1]
    th = best_threshold(p, y, int(y.sum()))
    model = LogisticRegression(C=1.0, max_iter=2000).fit(z, y)
    keep = p >= th
    print(f"train + val: {len(y)} contacts found, {int(y.sum())} real; held-out folds at threshold {th:.2f}: "
          f"precision {y.mean():.3f} -> {y[keep].mean() if keep.any() else 0:.3f}, real kept {int(y[keep].sum())}/{int(y.sum())}")
    for name, w in sorted(zip(FEATURES, model.coef_[0]), key=lambda a: -abs(a[1])):
        print(f"  {name:>14s} {w:+.3f}")
    tensors = {"mean": torch.from_numpy(mean).float(), "scale": torch.from_numpy(scale).float(),
               "weights": torch.from_numpy(model.coef_[0]).float(), "bias": torch.tensor([float(model.intercept_[0])])}
    save_checkpoint(out, Checkpoint(VERIFIER_KIND, 1, {"features": list(FEATURES), "threshold": th,
                                                      "physics": Path(root).name,  # no machine path in a shipped file
                                                      "contacts": int(len(y)), "real": int(y.sum())},
                                    tensors=tensors))
    return out


def main() -> int:
    from ..planner.events.verify import VERIFIER_PATH

    ap = argparse.ArgumentParser()
    ap.add_argument("--physics", default="data/physworld")
    ap.add_argument("--run-dir", default="runs/contact_verifier")
    ap.add_argument("--out", default=str(VERIFIER_PATH))
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(train(a.physics, a.run_dir, a.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
