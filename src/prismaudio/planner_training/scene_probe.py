"""Train the canvas gate's scene probe (`planner/canvas/scene_probe.py`).

    python -m prismaudio.planner_training.scene_probe collect --canvas data/canvas --physics data/physworld \
        [--canvas-limit 300] [--val-limit 120] [--out runs/scene_probe/maps.npz]
    python -m prismaudio.planner_training.scene_probe train [--maps runs/scene_probe/maps.npz] [--out PATH]

`collect` stores the row-pooled feature map of whole frames (`scene_probe.row_map`) of
SynthCanvas train and val clips (flat backdrops: negatives), PhysWorld train and val clips
(rendered 3D scenes: positives; never its test split), with each clip's background (a canvas
photo or backdrop kind, a PhysWorld floor texture). Real footage is left out on purpose: a
street or a corridor is a 3D scene too, and the probe only vetoes the canvas path, which the
sprite probe already keeps footage off.

`train` fits a logistic regression on the band features (default one band: the whole-frame
mean; with floor textures held out, it vetoed 89% of PhysWorld train/val clips at no canvas
clip vetoed, against 77% for 2 bands and 62% for 7, which overfit the textures). Its threshold comes from
leave-one-background-out scores (every clip scored by a model that never saw its backdrop or
floor texture, as the test and ood splits' clips may not have): just above every SynthCanvas clip's score, so
that no canvas clip, even over a backdrop never seen, is vetoed; the report says how many
PhysWorld clips that leaves below it.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
import torch

log = logging.getLogger(__name__)


def background_group(background: dict) -> str:
    """What a clip's backdrop is made of: a canvas photo's name (or 'solid'/'gradient'), a
    PhysWorld floor texture."""
    if background.get("kind") == "physics":
        return f"floor:{background.get('floor')}"
    return f"canvas:{background.get('name') or background.get('kind')}"


def collect(canvas: str, physics: str, canvas_limit: int, val_limit: int, out: str, seed: int = 0) -> None:
    """One npz of row maps (clip, world, group, map [N, 1280, 7]); resumes from `out`.partial.npz."""
    from ..canvas.manifest import load_manifest
    from ..fsutil import atomic_path
    from ..planner.canvas.scene_probe import row_map
    from ..planner.planner import PlannerConfig, _recogniser, decode_for_analysis

    cfg = PlannerConfig()
    encoder = _recogniser(cfg).encoder
    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    jobs: list[tuple[str, str, str, Path]] = []  # world, clip, group, path
    canvas_clips = load_manifest(canvas)
    for split, limit in (("train", canvas_limit), ("val", val_limit)):
        clips = [s for s in canvas_clips if s.split == split]
        for k in rng.permutation(len(clips))[:limit]:
            s = clips[int(k)]
            jobs.append(("canvas", s.id, background_group(s.background), s.video_path))
    jobs += [("physics", s.id, background_group(s.background), s.video_path)
             for s in load_manifest(physics) if s.split in ("train", "val")]
    partial = Path(out).with_suffix(".partial.npz")
    done: dict[str, tuple[str, str, np.ndarray]] = {}
    if partial.is_file():
        d = np.load(partial)
        done = {str(c): (str(w), str(g), m) for c, w, g, m in zip(d["clip"], d["world"], d["group"], d["map"])}
    for k, (world, clip, group, path) in enumerate(jobs):
        if clip in done:
            continue
        frames, _ = decode_for_analysis(path, cfg)
        done[clip] = (world, group, row_map(frames, encoder))
        if k % 50 == 0 or k == len(jobs) - 1:
            print(f"{k + 1}/{len(jobs)} clips", flush=True)
            _save(done, partial, atomic_path)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    _save(done, Path(out), atomic_path)
    partial.unlink(missing_ok=True)
    print(f"collected {len(done)} clips into {out}")


def _save(done: dict, path: Path, atomic_path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, clip=np.array(list(done)), world=np.array([v[0] for v in done.values()]),
                            group=np.array([v[1] for v in done.values()]),
                            map=np.stack([v[2] for v in done.values()]).astype(np.float32))


def fit_logistic(x: np.ndarray, y: np.ndarray, weight_decay: float = 1e-3, steps: int = 400) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression, both classes weighted equally (LBFGS). -> (w, b)."""
    xt, yt = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    pos = float(yt.mean())
    sample = torch.where(yt > 0, 0.5 / max(pos, 1e-9), 0.5 / max(1 - pos, 1e-9))
    opt = torch.optim.LBFGS([w, b], max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = (sample * torch.nn.functional.binary_cross_entropy_with_logits(xt @ w + b, yt, reduction="none")).mean()
        loss = loss + weight_decay * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach().numpy(), float(b.detach()[0])


def leave_group_out_scores(x: np.ndarray, y: np.ndarray, groups: np.ndarray, weight_decay: float) -> np.ndarray:
    """Each clip scored by a model fitted without any clip of its background group."""
    from ..planner.canvas.scene_probe import SceneProbe, scene_score

    out = np.zeros(len(y))
    for g in np.unique(groups):
        held = groups == g
        w, b = fit_logistic(x[~held], y[~held], weight_decay)
        probe = SceneProbe(w, b, 0.5, 0)
        out[held] = [scene_score(v, probe) for v in x[held]]
    return out


def train(maps: str, out: str, bands: int = 1, weight_decay: float = 1e-5, margin: float = 0.03) -> dict:
    """Fit the probe on every clip; its threshold sits `margin` above the highest
    leave-one-background-out score of a SynthCanvas clip."""
    from ..planner.canvas.scene_probe import SCENE_FRAMES, SCENE_PROBE_KIND, band_features
    from ..train.checkpoint import Checkpoint, save_checkpoint

    d = dict(np.load(maps))
    keep = np.isin(d["world"].astype(str), ("canvas", "physics"))
    d = {k: v[keep] for k, v in d.items()}
    x = np.stack([band_features(m, bands) for m in d["map"]])
    world, groups = d["world"].astype(str), d["group"].astype(str)
    y = (world == "physics").astype(int)
    cv = leave_group_out_scores(x, y, groups, weight_decay)
    flat = cv[y == 0]
    threshold = float(min(0.99, flat.max() + margin))
    w, b = fit_logistic(x, y, weight_decay)
    phys = cv[y == 1]
    report = {"clips": {wd: int((world == wd).sum()) for wd in sorted(set(world))}, "bands": bands,
              "threshold": round(threshold, 4), "max_flat_score_held_out_background": round(float(flat.max()), 4),
              "hardest_flat_clip": str(d["clip"][y == 0][int(np.argmax(flat))]),
              "physics_clips_vetoed_held_out_floor": round(float(np.mean(phys >= threshold)), 4)}
    save_checkpoint(out, Checkpoint(SCENE_PROBE_KIND, 1, {"threshold": threshold, "bands": bands,
                                                         "inputs": f"EfficientNet-Lite0 map of {SCENE_FRAMES} whole frame(s), rows pooled into bands, "
                                                                   "each L2-normalised",
                                                         "report": report},
                                    tensors={"weight": torch.as_tensor(w, dtype=torch.float32).contiguous(),
                                             "bias": torch.tensor([b], dtype=torch.float32)}))
    report["out"] = out
    return report


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--canvas", default="data/canvas")
    c.add_argument("--physics", default="data/physworld")
    c.add_argument("--canvas-limit", type=int, default=300)
    c.add_argument("--val-limit", type=int, default=120)
    c.add_argument("--out", default="runs/scene_probe/maps.npz")
    t = sub.add_parser("train")
    t.add_argument("--maps", default="runs/scene_probe/maps.npz")
    t.add_argument("--bands", type=int, default=1, help="horizontal bands of the feature map (1: the whole-frame mean)")
    t.add_argument("--weight-decay", type=float, default=1e-5)
    t.add_argument("--out", default="")
    a = ap.parse_args()
    if a.cmd == "collect":
        collect(a.canvas, a.physics, a.canvas_limit, a.val_limit, a.out)
    else:
        from ..planner.canvas.scene_probe import SCENE_PROBE_PATH

        print(json.dumps(train(a.maps, a.out or str(SCENE_PROBE_PATH), a.bands, a.weight_decay), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
