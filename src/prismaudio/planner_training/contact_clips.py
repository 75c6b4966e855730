"""The contact network's training clips: PhysWorld clips decoded as the planner decodes them,
seen whole (the picture view) or as tubes around each object (the object view), with the
simulator's impacts; cached per build in the run folder.

Object view: the tubes are cut around the simulator's exact screen path of each object, twice
as wide as the network's window (`WIDE`), so training can draw the window off centre, larger or
smaller (`jittered`): the runtime cuts them around the tracker's paths, which are not exact. Each clip also gives a stray tube (no object
in its middle: a path over the floor or backdrop, `stray_path`), labelled silent, since the
tracker also follows shadows, textures and pieces of the scene. Validation sees the exact
window (`centre`), as the network was meant to.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

log = logging.getLogger(__name__)
WIDE = 2  # cached tubes span this many windows (and pixels) per side


@dataclass
class ClipData:
    grey: np.ndarray  # uint8 [T, S, S] (object view in training: [T, WIDE * S, WIDE * S])
    times: np.ndarray  # [T] shown time of each frame
    onsets: np.ndarray  # simulator impacts, seconds
    strengths: np.ndarray  # their strengths in the reference plan (loudness relative to the object's loudest)


def clip_data(sample, size: int, cache: Path) -> ClipData:
    """The clip as the picture view sees it: grey frames at `size`, all its impacts."""
    from ..planner.events.contact_net import grey_frames

    onsets, strengths = source_impacts(sample)
    one = cache / f"{sample.id}.npz"
    if not one.is_file():
        frames, times = analysis_frames(sample)
        save_npz(one, grey=grey_frames(frames, size), times=times)
    d = np.load(one)
    return ClipData(d["grey"], d["times"], onsets, strengths)


def tube_data(sample, size: int, cache: Path, cfg=None) -> list[ClipData]:
    """The clip as the object view sees it: one wide tube per object (and one stray, last) at
    WIDE * `size` pixels, each with the impacts its object made."""
    from ..planner.events.object_tubes import TubeConfig, cut_tube, grey_analysis, smooth_path, window_side

    cfg = cfg or TubeConfig()
    one = cache / f"{sample.id}.npz"
    if not one.is_file():
        import json

        frames, times = analysis_frames(sample)
        grey = grey_analysis(frames)
        _, height, width = grey.shape
        pixels = json.loads((sample.root / "physics" / f"{sample.id}.json").read_text())["tracks"]
        render_w = float(sample.size[1])  # (height, width)
        tubes, paths, sides = [], [], []
        for src in sample.sources:
            gt = np.clip(np.round(times * sample.fps).astype(int), 0, len(src.track.x) - 1)  # the frame shown at each time
            x = (np.asarray(src.track.x, float)[gt] + 1.0) / 2.0 * width
            y = (np.asarray(src.track.y, float)[gt] + 1.0) / 2.0 * height
            seen = np.asarray(src.track.visible, bool)[gt]
            area = np.asarray(pixels[src.id]["pixels"], float)[gt]
            side = window_side(float(np.sqrt(np.median(area[seen]))) * width / render_w if seen.any() else 0.0, cfg)
            centres = smooth_path(x, y, seen, cfg.smooth) if seen.any() else np.stack([x, y], axis=1)
            tubes.append(cut_tube(grey, centres, WIDE * side, WIDE * size))
            paths.append(np.where(seen[:, None], centres, np.nan))
            sides.append(side)
        rng = np.random.default_rng(zlib.crc32(sample.id.encode()))  # the same stray on every rebuild
        stray_side = int(np.median(sides)) if sides else cfg.min_side
        stray = stray_path(rng, len(grey), width, height, paths, stray_side)
        tubes.append(cut_tube(grey, stray, WIDE * stray_side, WIDE * size))
        save_npz(one, tubes=np.stack(tubes), times=times, ids=np.array([s.id for s in sample.sources] + [""]))
    d = np.load(one)
    return [ClipData(tube, d["times"], *source_impacts(sample, str(sid))) for tube, sid in zip(d["tubes"], d["ids"])]


def stray_path(rng: np.random.Generator, n: int, width: int, height: int, objects: list[np.ndarray], side: int
               ) -> np.ndarray:
    """[n, 2] a slow straight path (or a still point) over the picture, starting where no object's
    window lies (objects: [n, 2] paths, NaN where unseen) as far as a few tries allow."""
    best, far = None, -1.0
    for _ in range(20):
        start = rng.uniform([0.1 * width, 0.2 * height], [0.9 * width, 0.95 * height])
        drift = rng.normal(0.0, 0.3, 2) * (rng.random() < 0.5)  # pixels per frame: half of them still
        path = start + np.arange(n)[:, None] * drift
        path = np.clip(path, [0, 0], [width - 1, height - 1])
        gaps = [np.nanmin(np.hypot(*(path - p).T)) for p in objects if np.isfinite(p).any()]
        gap = min(gaps) if gaps else np.inf
        if gap > far:
            best, far = path, gap
        if gap > side:
            break
    return best


def centre(tube: np.ndarray) -> np.ndarray:
    """The network's own window (the middle 1 / WIDE of a wide tube)."""
    s = tube.shape[-1] // WIDE
    a = (tube.shape[-1] - s) // 2
    return tube[..., a : a + s, a : a + s]


def jittered(wide: torch.Tensor, rng: np.random.Generator, size: int) -> torch.Tensor:
    """[L, size, size] windows drawn from a wide tube [L, WIDE * size, WIDE * size]: scaled by
    0.7-1.4 of the exact window and shifted by up to a fifth of it, as the tracker's boxes are
    (the same for the whole run: the runtime smooths the path its window follows, so it does
    not shake from frame to frame, and a shake would hide the small jolt of a soft contact)."""
    n = wide.shape[0]
    scale = float(np.exp(rng.uniform(np.log(0.7), np.log(1.4)))) / WIDE
    shift = rng.uniform(-0.2, 0.2, 2) / WIDE * 2  # in grid units ([-1, 1] spans the wide tube)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = scale
    theta[:, :, 2] = torch.from_numpy(shift).float()
    grid = F.affine_grid(theta, (n, 1, size, size), align_corners=False)
    return F.grid_sample(wide[:, None], grid, mode="bilinear", padding_mode="border", align_corners=False)[:, 0]


def source_impacts(sample, source: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(onsets, strengths) of the impacts in the sample's reference plan (of one source, or all)."""
    impacts = sorted((e.onset, e.strength) for e in sample.plan.temporal.events
                     if e.kind == "impact" and (source is None or e.source == source))
    return np.array([o for o, _ in impacts], float), np.array([s for _, s in impacts], float)


def analysis_frames(sample) -> tuple[np.ndarray, np.ndarray]:
    """The clip decoded as the planner decodes it, and each frame's shown time."""
    from ..media import probe
    from ..planner.events.motion import shown_times
    from ..planner.planner import PlannerConfig, decode_for_analysis

    cfg = PlannerConfig()
    frames, info = decode_for_analysis(sample.video_path, cfg)
    return frames, shown_times(len(frames), cfg.fps, 0.0 if info.variable_fps else float(probe(sample.video_path).fps))


def save_npz(path: Path, **arrays) -> None:
    from ..fsutil import atomic_path

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        np.savez(tmp, **arrays)


def load_split(root: str, split: str, size: int, cache: Path, view: str = "picture", wide: bool = False
               ) -> list[ClipData]:
    """The split's clips (picture view) or its objects' tubes (object view: wide for training, the
    exact windows otherwise)."""
    from ..canvas.manifest import load_manifest

    clips = [s for s in load_manifest(root) if s.split == split]
    out = []
    for i, s in enumerate(clips):
        if view == "object":
            tubes = tube_data(s, size, cache / Path(root).name)
            out += tubes if wide else [ClipData(centre(c.grey), c.times, c.onsets, c.strengths) for c in tubes]
        else:
            out.append(clip_data(s, size, cache / Path(root).name))
        if (i + 1) % 25 == 0 or i + 1 == len(clips):
            log.info("%s %s: %d/%d clips decoded", Path(root).name, split, i + 1, len(clips))
    return out


def validation_clips(root: str, val_more: list[str], size: int, cache: Path, view: str = "picture") -> list[ClipData]:
    """The val split of `root` and the train split of each --val-more build (a development
    build: a larger val picks the threshold less by chance)."""
    clips = load_split(root, "val", size, cache, view)
    for extra in val_more:
        clips += load_split(extra, "train", size, cache, view)
    return clips
