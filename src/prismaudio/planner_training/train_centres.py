"""Train the centre net (`centres.py`) on crowded SynthCanvas-style frames.

    prismaudio train planner --centres-only [--config configs/planner_tiny.yaml]

Clips of 2-4 sprites at mixed speeds on in-distribution backgrounds (never the ood split's
backgrounds) go through the analyser's own background model and foreground masks, so the
net sees what it will see at run time; targets are a Gaussian peak per visible sprite centre
and the sub-cell offset there. Collected frames are cached under the run folder.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..planner.detect.centres import CENTRES_KIND, CENTRES_PATH, CentreConfig, CentreNet, net_input
from ..train.fit import fit

log = logging.getLogger(__name__)


def centre_cells(heat: torch.Tensor) -> torch.Tensor:
    """Where Gaussian targets peak (value 1): the cells that hold an object's centre."""
    return heat >= 1.0 - 1e-6


def centre_focal_loss(logits: torch.Tensor, heat: torch.Tensor, alpha: float = 2.0, beta: float = 4.0) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss: logits and Gaussian targets [B, h, w] (1 at centres),
    normalised by the number of centres."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    centre = centre_cells(heat)
    pos = -((1 - p) ** alpha) * torch.log(p) * centre
    neg = -((1 - heat) ** beta) * (p**alpha) * torch.log(1 - p) * ~centre
    return (pos.sum() + neg.sum()) / centre.sum().clamp(min=1)


def centre_targets(centres: list[tuple[float, float, float]], h: int, w: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, y, side) in pixels per object -> heat [h/s, w/s] (Gaussian, sigma a sixth of the side
    in cells) and offsets [2, h/s, w/s] (set at each centre cell)."""
    gh, gw = h // stride, w // stride
    heat = np.zeros((gh, gw), np.float32)
    offset = np.zeros((2, gh, gw), np.float32)
    yy, xx = np.mgrid[0:gh, 0:gw]
    for x, y, side in centres:
        cx, cy = x / stride - 0.5, y / stride - 0.5
        ix, iy = int(round(cx)), int(round(cy))
        if not (0 <= ix < gw and 0 <= iy < gh):
            continue
        sigma = max(0.7, side / stride / 6.0)
        heat = np.maximum(heat, np.exp(-((xx - ix) ** 2 + (yy - iy) ** 2) / (2 * sigma**2)))
        offset[:, iy, ix] = (cx - ix, cy - iy)
    return heat, offset


def collect(clips: int, seed: int, run_dir: Path, every: int = 4) -> dict[str, np.ndarray]:
    from ..canvas.choreography import SPRITE_FRACTION
    from ..planner.detect.foreground import AnalyserConfig, background_model, block_mean, foreground_masks, motion_factor
    from .canvas_clips import make_clip

    cache = run_dir / "centres_data.npz"
    if cache.exists():
        return dict(np.load(cache))
    acfg = AnalyserConfig()
    stride = CentreConfig().stride
    xs, ms, heats, offs = [], [], [], []
    for i in tqdm(range(clips), desc="centre clips"):
        rng = np.random.default_rng(seed + i)
        try:
            clip = make_clip(seed + i, single=False, num_sources=int(rng.integers(2, 5)), speed_range=(0.5, 3.5))
        except ValueError:
            continue
        t, h, w = clip.frames.shape[:3]
        factor = motion_factor(h, w, acfg.motion_side)
        small = block_mean(clip.frames, factor)
        masks, _ = foreground_masks(small, background_model(small, acfg.background_samples), acfg)
        sh, sw = small.shape[1:3]
        side = SPRITE_FRACTION * min(h, w) / factor
        for f in range(int(rng.integers(0, every)), t, every):
            objs = [((s.x[f] + 1) / 2 * sw, (s.y[f] + 1) / 2 * sh, side) for s in clip.sources if s.visible[f]]
            heat, off = centre_targets(objs, sh, sw, stride)
            xs.append(small[f])
            ms.append(masks[f])
            heats.append(heat)
            offs.append(off)
    data = {"frames": np.stack(xs), "masks": np.stack(ms), "heat": np.stack(heats), "offset": np.stack(offs)}
    run_dir.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **data)
    return data


def train_centres(clips: int = 240, steps: int = 3000, seed: int = 7000, run_dir: str = "runs/planner",
                  out_dir: str = "", batch: int = 32, lr: float = 2e-3, width: int = 24) -> Path:
    from ..config import to_dict
    from ..train.checkpoint import Checkpoint, save_checkpoint

    torch.manual_seed(seed)
    data = collect(clips, seed, Path(run_dir))
    cfg = CentreConfig(width=width)
    x = net_input(data["frames"], data["masks"])
    heat = torch.from_numpy(data["heat"])
    offset = torch.from_numpy(data["offset"])
    log.info("centre net: %d frames, %d centres", len(x), int(centre_cells(heat).sum()))
    net = CentreNet(cfg.width)
    g = torch.Generator().manual_seed(seed)

    def loss_at(step: int) -> torch.Tensor:
        idx = torch.randint(0, len(x), (batch,), generator=g)
        flip = torch.rand(()) < 0.5  # mirror images: left and right are alike
        xb, hb, ob = x[idx], heat[idx], offset[idx]
        if flip:
            xb, hb, ob = xb.flip(-1), hb.flip(-1), ob.flip(-1) * torch.tensor([-1.0, 1.0])[None, :, None, None]
        out = net(xb)
        at_centre = centre_cells(hb)[:, None]
        off_loss = ((out[:, 1:] - ob).abs() * at_centre).sum() / at_centre.sum().clamp(min=1)
        return centre_focal_loss(out[:, 0], hb) + off_loss

    fit(net.parameters(), loss_at, steps, lr, schedule="one-cycle", log_every=250, desc="centres")
    out_path = Path(out_dir) / CENTRES_PATH.name if out_dir else CENTRES_PATH
    out_path.parent.mkdir(parents=True, exist_ok=True)
    return save_checkpoint(out_path, Checkpoint(
        CENTRES_KIND, 1, to_dict(cfg), steps, {f"model/{k}": v for k, v in net.state_dict().items()},
        {"clips": clips, "frames": int(len(x)), "seed": seed}))
