"""Train the canvas gate's sprite probe (`planner/canvas/gate.py`).

    python -m prismaudio.planner_training.gate collect --canvas data/canvas --physics data/physworld \
        [--canvas-limit 500] [--run-dir runs/gate]
    python -m prismaudio.planner_training.gate train [--run-dir runs/gate] [--out PATH]

`collect` runs the planner's own detection and recognition (`planner.tracked_objects`,
`Recogniser.recognise_with_features`) on SynthCanvas train clips (sprites: positives), on
PhysWorld train and val clips (rendered 3D objects: negatives) and on real footage that
installs here (negatives): the opencv-doc videos other than vtest.avi (held out for the
footage check) cut into 8 s pieces, and crops of real photos (opencv-doc, scikit-image and
scikit-learn images: the objects and textures a camera sees). It stores each track's crop
features (and each photo crop's) under the run dir.

`train` fits a small MLP (one hidden layer, torch) on the L2-normalised mean crop feature of
each track the canvas head named (plus the head's confidence and the sprite similarity) and
writes it, with its threshold and the training report in the header, as a safetensors
checkpoint. The threshold sits above the cross-validated score of every negative clip.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..train.fit import fit

log = logging.getLogger(__name__)

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
HELD_OUT_FOOTAGE = ("vtest.avi",)  # the footage check's clip never trains the probe


def _track_row(world: str, clip: str, features: np.ndarray, recognition, prototypes) -> dict:
    from ..planner.canvas.gate import sprite_similarity

    named = recognition.origin == "canvas"
    return {"clip": clip, "world": world, "feature": features.mean(0), "confidence": recognition.confidence if named else 0.0,
            "similarity": sprite_similarity(features, recognition.label, prototypes) if named else 0.0}


def _clip_rows(frames: np.ndarray, fps: float, world: str, clip: str, cfg, recogniser, prototypes) -> list[dict]:
    from ..planner.planner import tracked_objects

    analysis, frames, _, _ = tracked_objects(frames, fps, cfg)
    if not analysis.tracks:
        return []
    recs, feats = recogniser.recognise_with_features(frames, analysis.tracks)
    return [_track_row(world, clip, f.numpy(), r, prototypes) for r, f in zip(recs, feats)]


def _photo_rows(recogniser, prototypes, rng: np.random.Generator, per_image: int) -> list[dict]:
    """Crops of real photos at the sizes the tracker hands the recogniser, three to a "track"."""
    import cv2
    import skimage.data

    from ..planner.identify.recognise import square_crops

    images: list[tuple[str, np.ndarray]] = []
    for p in sorted(OPENCV_DATA.glob("*.jpg")) + sorted(OPENCV_DATA.glob("*.png")):
        im = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if im is not None and min(im.shape[:2]) >= 64:
            images.append((p.name, cv2.cvtColor(im, cv2.COLOR_BGR2RGB)))
    for name in ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina"):
        try:
            im = getattr(skimage.data, name)()
        except Exception:  # noqa: BLE001 (an image this install lacks is skipped)
            continue
        if im.ndim == 3:
            images.append((name, im[..., :3]))
    rows = []
    for name, im in images:
        h, w = im.shape[:2]
        scale = 320 / max(h, w)  # the analysis size
        im = cv2.resize(im, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
        h, w = im.shape[:2]
        boxes = []
        for _ in range(per_image):
            side = rng.uniform(0.1, 0.45) * min(h, w)
            asp = rng.uniform(0.6, 1.6)
            bh, bw = side * np.sqrt(asp), side / np.sqrt(asp)
            top, left = rng.uniform(0, h - bh), rng.uniform(0, w - bw)
            boxes.append((int(top), int(left), int(top + bh), int(left + bw)))
        crops = square_crops(np.repeat(im[None], len(boxes), 0), boxes, recogniser.cfg.crop_size, recogniser.cfg.margin)
        feats = recogniser.encoder.frame_features(crops, size=None)
        for k in range(0, len(feats), 3):
            f = feats[k:k + 3]
            rows.append(_track_row("photo", f"photo:{name}", f.numpy(), recogniser.recognise_features(f), prototypes))
    return rows


def _footage_rows(dirs: list[Path], cfg, recogniser, prototypes) -> list[dict]:
    """Real videos cut into 8 s pieces (the footage check's clips are left out)."""
    from ..errors import PrismError
    from ..planner.planner import decode_for_analysis

    rows = []
    for p in sorted(q for d in dirs for q in d.iterdir() if q.suffix in (".avi", ".mp4") and q.name not in HELD_OUT_FOOTAGE):
        try:
            frames, _ = decode_for_analysis(p, cfg)
        except PrismError as e:  # a damaged file (opencv-doc ships one on purpose) is skipped
            print(f"skipped: {e}", flush=True)
            continue
        piece = int(8 * cfg.fps)
        for a in range(0, max(1, len(frames) - piece // 2), piece):
            rows += _clip_rows(frames[a:a + piece], cfg.fps, "footage", f"{p.name}@{a}", cfg, recogniser, prototypes)
        print(f"footage {p.name}: {len(rows)} tracks so far", flush=True)
    return rows


def _save_rows(rows: list[dict], path: Path) -> None:
    from ..fsutil import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, feature=np.stack([r["feature"] for r in rows]).astype(np.float32),
                            confidence=np.array([r["confidence"] for r in rows], np.float32),
                            similarity=np.array([r["similarity"] for r in rows], np.float32),
                            world=np.array([r["world"] for r in rows]), clip=np.array([r["clip"] for r in rows]))


def collect(canvas: str, physics: str, canvas_limit: int, run_dir: str, footage: list[str], seed: int = 0) -> None:
    """One file per part under `run_dir` (canvas, physics, footage, photos); a part already
    collected is kept (the job resumes)."""
    from ..canvas.manifest import load_manifest
    from ..planner.canvas.gate import load_prototypes
    from ..planner.planner import PlannerConfig, _recogniser, decode_for_analysis

    cfg = PlannerConfig()
    recogniser = _recogniser(cfg)
    prototypes = load_prototypes()
    rng = np.random.default_rng(seed)
    out = Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    canvas_clips = [s for s in load_manifest(canvas) if s.split == "train"]
    rng.shuffle(canvas_clips)
    parts = {"canvas": [("canvas", s.id, s.video_path) for s in canvas_clips[:canvas_limit]],
             "physics": [("physics", s.id, s.video_path) for s in load_manifest(physics) if s.split in ("train", "val")]}
    for part, jobs in parts.items():
        if (out / f"{part}.npz").is_file():
            continue
        rows: list[dict] = []
        for k, (world, clip, path) in enumerate(jobs):
            frames, _ = decode_for_analysis(path, cfg)
            rows += _clip_rows(frames, cfg.fps, world, clip, cfg, recogniser, prototypes)
            if k % 50 == 0:
                print(f"{part}: {k + 1}/{len(jobs)} clips", flush=True)
        _save_rows(rows, out / f"{part}.npz")
    if not (out / "footage.npz").is_file():
        _save_rows(_footage_rows([OPENCV_DATA] + [Path(d) for d in footage], cfg, recogniser, prototypes), out / "footage.npz")
    if not (out / "photos.npz").is_file():
        _save_rows(_photo_rows(recogniser, prototypes, rng, per_image=24), out / "photos.npz")
    print(f"collected under {out}")


def load_rows(run_dir: str) -> dict[str, np.ndarray]:
    parts = [np.load(Path(run_dir) / f"{p}.npz") for p in ("canvas", "physics", "footage", "photos")]
    return {k: np.concatenate([d[k] for d in parts]) for k in ("feature", "confidence", "similarity", "world", "clip")}


def probe_inputs(feature: np.ndarray, confidence: np.ndarray, similarity: np.ndarray) -> np.ndarray:
    from ..planner.canvas.gate import probe_inputs as inputs

    return inputs(feature, confidence, similarity)


def clip_scores(scores: np.ndarray, clips: np.ndarray) -> dict[str, float]:
    """A clip's score is its most sprite-like track's."""
    out: dict[str, float] = {}
    for s, c in zip(scores, clips):
        out[str(c)] = max(out.get(str(c), 0.0), float(s))
    return out


def fit_probe(x: np.ndarray, y: np.ndarray, hidden: int = 64, weight_decay: float = 1e-2, epochs: int = 300,
              seed: int = 0) -> dict[str, torch.Tensor]:
    """A one-hidden-layer MLP (GELU) trained full-batch with AdamW, both classes weighted
    equally. Returns its tensors (w1, b1, w2, b2) for `planner/canvas/gate.SpriteProbe`."""
    torch.manual_seed(seed)
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.GELU(), torch.nn.Linear(hidden, 1))
    pos = float(yt.mean())
    weight = torch.where(yt > 0, 0.5 / max(pos, 1e-9), 0.5 / max(1 - pos, 1e-9))
    fit(net.parameters(),
        lambda epoch: (weight * F.binary_cross_entropy_with_logits(net(xt)[:, 0], yt, reduction="none")).mean(),
        epochs, 1e-3, weight_decay=weight_decay, schedule="constant", desc="sprite probe")
    return {"w1": net[0].weight.detach(), "b1": net[0].bias.detach(), "w2": net[2].weight.detach()[0], "b2": net[2].bias.detach()}


def as_probe(tensors: dict[str, torch.Tensor], threshold: float):
    from ..planner.canvas.gate import SpriteProbe

    t = {k: v.double().numpy() for k, v in tensors.items()}
    return SpriteProbe(t["w1"], t["b1"], t["w2"].reshape(-1), float(t["b2"].reshape(-1)[0]), threshold)


def clip_folds(clips: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Fold number per row; all tracks of a clip (or photo, or video) in one fold."""
    names = np.unique([str(c).split("@")[0] for c in clips])
    fold_of = dict(zip(names, np.random.default_rng(seed).permutation(len(names)) % folds))
    return np.array([fold_of[str(c).split("@")[0]] for c in clips])


def train(run_dir: str, out: str, folds: int = 5, margin: float = 0.02, seed: int = 0) -> dict:
    """Fit the probe; its threshold is just above every negative clip's cross-validated score
    (no PhysWorld clip, real footage or photo in training would have taken the canvas path)."""
    from ..planner.canvas.gate import PROBE_KIND, probe_scores
    from ..train.checkpoint import Checkpoint, save_checkpoint

    d = load_rows(run_dir)
    named = d["confidence"] > 0  # the gate asks the probe about the tracks the canvas head named
    d = {k: v[named] for k, v in d.items()}
    x = probe_inputs(d["feature"], d["confidence"], d["similarity"])
    y = (d["world"] == "canvas").astype(int)
    clips = d["clip"]
    fold = clip_folds(clips, folds, seed)
    cv = np.zeros(len(y))
    for k in range(folds):
        cv[fold == k] = probe_scores(x[fold == k], as_probe(fit_probe(x[fold != k], y[fold != k], seed=seed), 0.0))
    per_clip = clip_scores(cv, clips)
    world_of = {str(c): str(w) for c, w in zip(clips, d["world"])}
    negative = {c: s for c, s in per_clip.items() if world_of[c] != "canvas"}
    positive = [s for c, s in per_clip.items() if world_of[c] == "canvas"]
    threshold = float(min(0.99, max(0.5, max(negative.values()) + margin)))
    tensors = fit_probe(x, y, seed=seed)
    report = {"tracks": int(len(y)), "clips": {wd: int(sum(v == wd for v in world_of.values())) for wd in sorted(set(world_of.values()))},
              "threshold": round(threshold, 4), "max_negative_clip_score_cv": round(float(max(negative.values())), 4),
              "hardest_negative": max(negative, key=negative.get),
              "canvas_clips_passing_cv": round(float(np.mean(np.array(positive) >= threshold)), 4)}
    save_checkpoint(out, Checkpoint(PROBE_KIND, 1, {"threshold": threshold,
                                                   "inputs": "unit mean crop feature (1280), head confidence, sprite similarity",
                                                   "hidden": int(tensors["w1"].shape[0]), "report": report},
                                    tensors={k: v.float().contiguous() for k, v in tensors.items()}))
    report["out"] = out
    return report


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--canvas", default="data/canvas")
    c.add_argument("--physics", default="data/physworld")
    c.add_argument("--canvas-limit", type=int, default=500)
    c.add_argument("--run-dir", default="runs/gate")
    c.add_argument("--footage", action="append", default=[], help="another folder of real videos (negatives)")
    t = sub.add_parser("train")
    t.add_argument("--run-dir", default="runs/gate")
    t.add_argument("--out", default="")
    a = ap.parse_args()
    if a.cmd == "collect":
        collect(a.canvas, a.physics, a.canvas_limit, a.run_dir, a.footage)
    else:
        from ..planner.canvas.gate import PROBE_PATH

        print(json.dumps(train(a.run_dir, a.out or str(PROBE_PATH)), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
