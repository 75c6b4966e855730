"""Train the planner's small heads on SynthCanvas-style clips and write them as package data.

    prismaudio train planner --config configs/planner_tiny.yaml [--out DIR]

1. Make clips with SynthCanvas's choreography (single- and multi-source, in-distribution
   backgrounds and speeds only), run the analyser, match tracks to the true sprites.
2. Recognition head: EfficientNet-Lite0 features of crops of each matched track -> class.
3. Event scorer: per track frame features -> "an impact happens at this frame".
Collected features are cached under the run folder, so an interrupted run resumes.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..train.fit import fit

log = logging.getLogger(__name__)


@dataclass
class PlannerTrainConfig:
    clips: int = 600
    single_fraction: float = 0.5
    duration: float = 4.0
    seed: int = 1000
    crops_per_track: int = 4
    sprite_crops_per_class: int = 24  # extra crops: sprites pasted on canvas backgrounds (cheap)
    head_steps: int = 3000
    scorer_steps: int = 3000
    batch: int = 256
    lr: float = 2e-3
    sync_clips: int = 80
    sync_steps: int = 300
    centre_clips: int = 700  # crowded clips for the centre net (`--centres-only`)
    centre_steps: int = 8000
    centre_width: int = 24
    run_dir: str = "runs/planner"
    out_dir: str = ""  # empty: the package's assets/planner


def collect(cfg: PlannerTrainConfig) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file, save_file

    from ..canvas.classes import builtin_classes
    from ..planner.track.objects import analyse_frames
    from .canvas_clips import make_clip, match_tracks
    from ..planner.events.visual import frame_features
    from ..planner.identify.recognise import HeadConfig, pick_crop_frames, square_crops
    from ..encoders.semantic import SemanticEncoder

    cache = Path(cfg.run_dir) / "collect"
    cache.mkdir(parents=True, exist_ok=True)
    classes = builtin_classes()
    names = [c.name for c in classes]
    enc = SemanticEncoder(batch_size=32)
    head_cfg = HeadConfig()
    for i in tqdm(range(cfg.clips), desc="collect"):
        out = cache / f"{i:05d}.safetensors"
        if out.exists():
            continue
        seed = cfg.seed + i
        single = np.random.default_rng(seed).random() < cfg.single_fraction
        try:
            clip = make_clip(seed, single=single, duration=cfg.duration, classes=classes)
        except ValueError as e:  # a choreography the canvas cannot draw; skip it
            log.warning("clip %d skipped: %s", i, e)
            save_file({"empty": np.zeros(1, np.float32)}, str(out))
            continue
        analysis = analyse_frames(clip.frames, clip.fps)
        matched = match_tracks(analysis.tracks, clip.sources, analysis.width, analysis.height)
        feats, labels, ev_x, ev_y = [], [], [], []
        for tr in analysis.tracks:
            j = matched.get(tr.id)
            x = frame_features(tr, analysis)
            y = np.zeros(len(tr), np.float32)
            if j is not None:
                src = clip.sources[j]
                for f in src.impact_frames:
                    k = np.flatnonzero(tr.frames == f)
                    if len(k):
                        y[k[0]] = 1.0
                        for d in (-1, 1):  # neighbours of a true frame are neither right nor wrong
                            if 0 <= k[0] + d < len(y) and y[k[0] + d] == 0:
                                y[k[0] + d] = -1.0
                picks = pick_crop_frames(tr, cfg.crops_per_track, analysis.width, analysis.height)
                crops = square_crops(clip.frames[tr.frames[picks]], [tr.boxes[p] for p in picks], head_cfg.crop_size, head_cfg.margin)
                feats.append(enc.frame_features(crops, size=None).numpy())
                labels.append(np.full(len(picks), names.index(src.class_name), np.int64))
            ev_x.append(x)
            ev_y.append(y)
        data = {"empty": np.zeros(1, np.float32)}
        if feats:
            data["crop_features"] = np.concatenate(feats)
            data["crop_labels"] = np.concatenate(labels)
        if ev_x:
            data["event_x"] = np.concatenate(ev_x)
            data["event_y"] = np.concatenate(ev_y)
        save_file(data, str(out))
    merged: dict[str, list] = {}
    for i in range(cfg.clips):
        d = load_file(str(cache / f"{i:05d}.safetensors"))
        for k, v in d.items():
            merged.setdefault(k, []).append(v)
    return {k: np.concatenate(v) for k, v in merged.items() if k != "empty"}


def sprite_crops(cfg: PlannerTrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """EfficientNet features of sprites pasted on SynthCanvas backgrounds, framed like the
    planner's crops (bbox + margin, square), with random size, squash, flash and offset."""
    from ..canvas.backgrounds import choose_background, render_background
    from ..canvas.classes import builtin_classes
    from ..canvas.sprites import sized
    from ..encoders.semantic import SemanticEncoder
    from ..planner.identify.recognise import HeadConfig, square_crops

    cache = Path(cfg.run_dir) / f"sprite_crops_{cfg.sprite_crops_per_class}.npz"
    if cache.exists():
        d = np.load(cache)
        return d["x"], d["y"]
    rng = np.random.default_rng(cfg.seed + 7)
    head_cfg = HeadConfig()
    enc = SemanticEncoder(batch_size=64)
    classes = builtin_classes()
    feats, labels = [], []
    for ci, cls in enumerate(tqdm(classes, desc="sprite crops")):
        crops = []
        for _ in range(cfg.sprite_crops_per_class):
            base = float(rng.uniform(30, 72))
            squash = float(rng.uniform(0.55, 1.0)) if rng.random() < 0.25 else 1.0
            w, h = max(4, int(base * (1 + 0.7 * (1 - squash)))), max(4, int(base * squash))
            rgba = sized(cls.sprite, w, h).copy()
            if rng.random() < 0.3:
                rgba[..., :3] += (1 - rgba[..., :3]) * float(rng.uniform(0.1, 0.6))
            bg = render_background(choose_background(rng, ood=False), 224, 224).astype(np.float32)
            top, left = int(rng.integers(0, 224 - h)), int(rng.integers(0, 224 - w))
            a = rgba[..., 3:4]
            bg[top : top + h, left : left + w] = bg[top : top + h, left : left + w] * (1 - a) + a * rgba[..., :3] * 255
            jitter = rng.integers(-2, 3, size=4)
            box = (top + jitter[0], left + jitter[1], top + h + jitter[2], left + w + jitter[3])
            crops.append(square_crops(bg.astype(np.uint8)[None], [box], head_cfg.crop_size, head_cfg.margin))
        feats.append(enc.frame_features(torch.cat(crops), size=None).numpy())
        labels.append(np.full(len(crops), ci, np.int64))
    x, y = np.concatenate(feats), np.concatenate(labels)
    np.savez(cache, x=x, y=y)
    return x, y


def _fit(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn, steps: int, batch: int, lr: float) -> None:
    """Random batches of (x, y) through `loss_fn(model(x), y)` (train/fit.py)."""
    g = torch.Generator().manual_seed(0)

    def loss_at(step: int) -> torch.Tensor:
        idx = torch.randint(0, len(x), (batch,), generator=g)
        return loss_fn(model(x[idx]), y[idx])

    model.train()
    fit(model.parameters(), loss_at, steps, lr, weight_decay=1e-3, log_every=500, desc="planner head")
    model.eval()


def train(cfg: PlannerTrainConfig) -> dict[str, Path]:
    from ..canvas.classes import builtin_classes
    from ..config import to_dict
    from ..train.checkpoint import Checkpoint, save_checkpoint
    from ..planner.events.visual import EventScorer
    from ..planner.identify.recognise import ASSET_DIR, HEAD_KIND, HeadConfig, RecognitionHead

    torch.manual_seed(cfg.seed)
    data = collect(cfg)
    out_dir = Path(cfg.out_dir) if cfg.out_dir else ASSET_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    classes = builtin_classes()
    head_cfg = HeadConfig(classes=[c.name for c in classes], kinds=[c.kind for c in classes],
                          descriptions=[c.description for c in classes])
    sx, sy = sprite_crops(cfg) if cfg.sprite_crops_per_class else (np.zeros((0, 1280), np.float32), np.zeros(0, np.int64))
    x = torch.from_numpy(np.concatenate([data["crop_features"], sx])).float()
    y = torch.from_numpy(np.concatenate([data["crop_labels"], sy])).long()
    log.info("recognition: %d crops, %d classes", len(x), len(classes))
    head = RecognitionHead(len(classes), head_cfg.hidden)
    _fit(head, x, y, torch.nn.functional.cross_entropy, cfg.head_steps, cfg.batch, cfg.lr)
    with torch.no_grad():
        acc = float((head(x).argmax(-1) == y).float().mean())
    log.info("recognition train accuracy %.3f", acc)
    head_path = save_checkpoint(out_dir / "recognition_head.safetensors", Checkpoint(
        HEAD_KIND, 1, to_dict(head_cfg), cfg.head_steps, {f"model/{k}": v.half().float() for k, v in head.state_dict().items()},
        {"train_accuracy": acc, "train": asdict(cfg)}))

    ex = data["event_x"].astype(np.float32)
    ey = data["event_y"].astype(np.float32)
    keep = ey >= 0
    ex, ey = ex[keep], ey[keep]
    mean, std = ex.mean(0), ex.std(0) + 1e-6
    xt = torch.from_numpy((ex - mean) / std)
    yt = torch.from_numpy(ey)
    hidden = 32
    net = torch.nn.Sequential(torch.nn.Linear(xt.shape[1], hidden), torch.nn.GELU(), torch.nn.Linear(hidden, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, 1))
    pos_weight = torch.tensor(float((1 - yt).sum() / yt.sum().clamp(min=1)) ** 0.5)
    log.info("events: %d frames, %d impacts", len(yt), int(yt.sum()))
    _fit(net, xt, yt, lambda o, t: torch.nn.functional.binary_cross_entropy_with_logits(o[:, 0], t, pos_weight=pos_weight),
         cfg.scorer_steps, cfg.batch * 4, cfg.lr)
    scorer_path = save_checkpoint(out_dir / "event_scorer.safetensors", Checkpoint(
        EventScorer.KIND, 1, {"in_dim": int(xt.shape[1]), "hidden": hidden, "threshold": 0.5}, cfg.scorer_steps,
        {**{f"model/{k}": v for k, v in net.state_dict().items()}, "norm/mean": torch.from_numpy(mean), "norm/std": torch.from_numpy(std)},
        {"train": asdict(cfg)}))
    return {"recognition_head": head_path, "event_scorer": scorer_path}


def train_sync(cfg: PlannerTrainConfig, clips: int = 120, steps: int = 600) -> Path:
    """Train the sync encoder's net to find impact frames from frame differences (any source)."""
    from ..config import to_dict
    from ..encoders.sync import SYNC_KIND, SyncConfig, SyncNet, motion_inputs
    from ..train.checkpoint import Checkpoint, save_checkpoint
    from .canvas_clips import make_clip
    from ..planner.identify.recognise import ASSET_DIR

    scfg = SyncConfig()
    diffs, stats, targets = [], [], []
    for i in tqdm(range(clips), desc="sync clips"):
        seed = cfg.seed + 50_000 + i
        try:
            clip = make_clip(seed, single=bool(i % 2), duration=cfg.duration)
        except ValueError:
            continue
        d, s = motion_inputs(torch.from_numpy(clip.frames)[None], scfg.size)
        y = torch.zeros(len(clip.frames))
        for src in clip.sources:
            for f in src.impact_frames:
                y[f] = 1.0
        diffs.append(d[0].half())
        stats.append(s[0])
        targets.append(y)
    net = SyncNet(scfg.hidden)
    g = torch.Generator().manual_seed(0)

    def loss_at(step: int) -> torch.Tensor:
        idx = torch.randint(0, len(diffs), (8,), generator=g).tolist()
        d = torch.stack([diffs[i] for i in idx]).float()
        s = torch.stack([stats[i] for i in idx])
        y = torch.stack([targets[i] for i in idx])
        _, logits = net(d, s)
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, y, pos_weight=torch.tensor(5.0))

    fit(net.parameters(), loss_at, steps, 2e-3, schedule="constant", log_every=100, desc="sync")
    out_dir = Path(cfg.out_dir) if cfg.out_dir else ASSET_DIR
    return save_checkpoint(out_dir / "sync_encoder.safetensors", Checkpoint(
        SYNC_KIND, 1, to_dict(scfg), steps, {f"model/{k}": v for k, v in net.state_dict().items()}, {"clips": clips}))


def register_train(targets, common) -> None:
    p = targets.add_parser("planner", parents=[common], help="train the planner's recognition head and event scorer")
    p.add_argument("--config", help="YAML with PlannerTrainConfig fields (configs/planner_tiny.yaml)")
    p.add_argument("--out", help="where to write the heads (default: runs/planner in the current folder; "
                                 "never the installed package)")
    p.add_argument("--sync-only", action="store_true", help="train only the sync encoder")
    p.add_argument("--no-sync", action="store_true", help="do not train the sync encoder")
    p.add_argument("--centres-only", action="store_true", help="train only the centre net (objects in crowded frames)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from ..config import load_config

    torch.set_num_threads(1)
    from ..validate import outside_package, output_dir

    cfg = load_config(PlannerTrainConfig, args.config) if args.config else PlannerTrainConfig()
    # Never the package's own assets/planner: a training run must not replace the shipped heads.
    cfg.out_dir = str(args.out or cfg.out_dir or "runs/planner")
    output_dir(outside_package(cfg.out_dir, "--out"), "--out")
    if args.centres_only:
        from .train_centres import train_centres

        torch.set_num_threads(2)
        path = train_centres(cfg.centre_clips, cfg.centre_steps, run_dir=cfg.run_dir, out_dir=cfg.out_dir,
                             width=cfg.centre_width)
        print(f"centre_net: {path}")
        return 0
    paths = {} if args.sync_only else train(cfg)
    if not args.no_sync:
        paths["sync_encoder"] = train_sync(cfg, cfg.sync_clips, cfg.sync_steps)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0
