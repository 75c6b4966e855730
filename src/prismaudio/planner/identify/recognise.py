"""Name each tracked object: a small head on EfficientNet-Lite0 features of object crops.

The head is trained on SynthCanvas sprites (label set = the canvas class names) and ships
as package data (`assets/planner/recognition_head.safetensors`, config and class table
inside). When it is not confident (footage that SynthCanvas never showed), the frozen
ImageNet classifier on the same features names the object and `imagenet_sounds` maps that
to a sound-source word.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...encoders.semantic import SemanticEncoder
from ..tracks import Track
from .imagenet_sounds import sound_from_probabilities
from ..repair.merged import (
    WINDOWS,
    MergedConfig,
    corner_boxes,
    corner_track,
    is_oversized,
    is_suspicious,
    long_side,
    object_side,
    pick_diagonal,
    seen_area,
)

log = logging.getLogger(__name__)

ASSET_DIR = Path(__file__).resolve().parents[2] / "assets" / "planner"
HEAD_PATH = ASSET_DIR / "recognition_head.safetensors"
HEAD_KIND = "planner-recognition"
ALTERNATIVES = 4  # next choices kept with each recognition (a namesake of another object is renamed to one)


@dataclass
class HeadConfig:
    classes: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # impact | sustained, per class
    descriptions: list[str] = field(default_factory=list)
    hidden: int = 256
    crop_size: int = 112
    margin: float = 0.15  # crop = bbox grown by this fraction on each side, made square
    min_confidence: float = 0.35  # below this the ImageNet mapping is tried instead


class RecognitionHead(nn.Module):
    def __init__(self, num_classes: int, hidden: int = 256, in_dim: int = 1280):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(in_dim), nn.Linear(in_dim, hidden), nn.GELU(), nn.Dropout(0.2), nn.Linear(hidden, num_classes))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features)


@dataclass
class Recognition:
    label: str
    description: str
    kind: str  # impact | sustained
    confidence: float
    origin: str  # canvas | imagenet | generic
    alternatives: tuple[tuple[str, float], ...] = ()  # the head's next choices (label, probability), best first


def square_crops(frames: np.ndarray, boxes: list[tuple[int, int, int, int]], size: int, margin: float) -> torch.Tensor:
    """uint8 crops [N, size, size, 3] of `frames[i]` around `boxes[i]` (top, left, bottom, right),
    grown by `margin`, made square, edge-padded where they leave the frame."""
    out = []
    h, w = frames.shape[1:3]
    for frame, (top, left, bottom, right) in zip(frames, boxes):
        cy, cx = (top + bottom) / 2, (left + right) / 2
        side = max(bottom - top, right - left) * (1 + 2 * margin) + 2
        half = side / 2
        t0, l0 = int(np.floor(cy - half)), int(np.floor(cx - half))
        s = int(np.ceil(side))
        pad = max(0, -t0, -l0, t0 + s - h, l0 + s - w)
        img = np.pad(frame, ((pad, pad), (pad, pad), (0, 0)), mode="edge") if pad else frame
        crop = img[t0 + pad : t0 + pad + s, l0 + pad : l0 + pad + s]
        x = torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1)[None].float()
        out.append(F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)[0])
    if not out:
        return torch.zeros(0, size, size, 3, dtype=torch.uint8)
    return torch.stack(out).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)


def pick_crop_frames(track: Track, count: int, width: int, height: int) -> list[int]:
    """Indices into the track of frames good for recognition: seen, whole (not cut by the frame
    edge) and of typical size (not merged with another object), spread over the track."""
    idx = np.flatnonzero(track.observed)
    if len(idx) == 0:
        return [0]
    tops = np.array([track.boxes[i][0] for i in idx])
    lefts = np.array([track.boxes[i][1] for i in idx])
    bottoms = np.array([track.boxes[i][2] for i in idx])
    rights = np.array([track.boxes[i][3] for i in idx])
    whole = (tops > 0) & (lefts > 0) & (bottoms < height) & (rights < width)
    med = np.median(track.area[idx][whole]) if whole.any() else np.median(track.area[idx])
    typical = np.abs(np.log(np.maximum(track.area[idx], 1e-9) / max(med, 1e-9))) < 0.4
    good = idx[whole & typical]
    if len(good) == 0:
        good = idx[whole] if whole.any() else idx
    pos = np.linspace(0, len(good) - 1, min(count, len(good)) + 2)[1:-1] if len(good) > count else np.arange(len(good))
    return [int(good[int(round(p))]) for p in pos]


@lru_cache(maxsize=4)
def load_head(path: str = str(HEAD_PATH)) -> tuple[RecognitionHead, HeadConfig] | None:
    """The recognition head from `path` (None when no head is installed)."""
    from ...config import from_dict
    from ...train.checkpoint import load_checkpoint

    if not Path(path).is_file():
        log.warning("no recognition head at %s; naming objects with ImageNet labels only", path)
        return None
    ckpt = load_checkpoint(path, kind=HEAD_KIND)
    cfg = from_dict(HeadConfig, ckpt.config, where=f"{path}: config")
    head = RecognitionHead(len(cfg.classes), cfg.hidden)
    head.load_state_dict(ckpt.group("model"))
    head.eval()
    return head, cfg


class Recogniser:
    def __init__(self, head_path: str | Path | None = None, crops_per_track: int = 3, encoder: SemanticEncoder | None = None):
        loaded = load_head(str(head_path or HEAD_PATH))
        self.head, self.cfg = loaded if loaded else (None, HeadConfig())
        self.crops_per_track = crops_per_track
        self.encoder = encoder or SemanticEncoder()

    def track_features(self, frames: np.ndarray, tracks: list[Track]) -> list[torch.Tensor]:
        """EfficientNet features [n_i, 1280] of a few crops per track (one batched forward pass)."""
        h, w = frames.shape[1:3]
        crops, owners = [], []
        for k, tr in enumerate(tracks):
            picks = pick_crop_frames(tr, self.crops_per_track, w, h)
            crops.append(square_crops(frames[tr.frames[picks]], [tr.boxes[i] for i in picks], self.cfg.crop_size, self.cfg.margin))
            owners += [k] * len(picks)
        if not crops:
            return []
        feats = self.encoder.frame_features(torch.cat(crops), size=None)
        owners_t = torch.tensor(owners)
        return [feats[owners_t == k] for k in range(len(tracks))]

    def recognise_features(self, feats: torch.Tensor) -> Recognition:
        if self.head is not None:
            with torch.inference_mode():
                logp = torch.log_softmax(self.head(feats), dim=-1).mean(0)
            probs = torch.softmax(logp, dim=-1)
            conf, cls = probs.max(dim=-1)
            if conf >= self.cfg.min_confidence:
                top = torch.topk(probs, min(ALTERNATIVES + 1, len(probs)))
                others = tuple((self.cfg.classes[int(j)], float(p)) for p, j in zip(top.values[1:], top.indices[1:]))
                return replace(self.named(self.cfg.classes[int(cls)], float(conf)), alternatives=others)
        imagenet = self.encoder.classify_features(feats).mean(0).numpy()
        hit = sound_from_probabilities(imagenet)
        if hit is not None:
            label, desc, kind, mass = hit
            return Recognition(label, desc, kind, mass, "imagenet")
        return Recognition("moving object", "an object moving and touching things", "impact", 0.0, "generic")

    def named(self, label: str, confidence: float) -> Recognition:
        """A canvas recognition of the head's class `label` (its kind and description)."""
        i = self.cfg.classes.index(label)
        kind = self.cfg.kinds[i] if i < len(self.cfg.kinds) else "impact"
        desc = self.cfg.descriptions[i] if i < len(self.cfg.descriptions) else ""
        return Recognition(label, desc, kind, float(confidence), "canvas")

    def recognise(self, frames: np.ndarray, tracks: list[Track]) -> list[Recognition]:
        return self.recognise_with_features(frames, tracks)[0]

    def recognise_with_features(self, frames: np.ndarray, tracks: list[Track]) -> tuple[list[Recognition], list[torch.Tensor]]:
        """Recognitions and the crop features [n_i, 1280] they came from, per track."""
        feats = self.track_features(frames, tracks)
        return [self.recognise_features(f) for f in feats], feats

    def separate_merged(self, frames: np.ndarray, tracks: list[Track], recognitions: list[Recognition],
                        cfg: MergedConfig | None = None) -> tuple[list[Track], list[Recognition]]:
        """Replace each track that holds two touching objects (see `merged.py`) by two tracks,
        one per object, named by the head. Only with the canvas head (it knows what one object is)."""
        cfg = cfg or MergedConfig()
        if self.head is None or not cfg.enabled or not tracks:
            return tracks, recognitions
        h, w = frames.shape[1:3]
        areas = [seen_area(t) for t in tracks]
        median_area = float(np.median(areas)) if len(tracks) >= 3 else 0.0
        side = object_side([t for t, a in zip(tracks, areas) if not median_area or a <= cfg.suspicious_area * median_area])
        big = {k for k, (tr, rec) in enumerate(zip(tracks, recognitions)) if rec.origin == "canvas" and is_oversized(tr, min(h, w), cfg)}
        # one object's side for the windows over an oversized track: the lone objects of the scene
        # (when the scene has any), else the size of the head's training objects
        lone = [long_side(t) for k, t in enumerate(tracks) if k not in big and recognitions[k].origin == "canvas"]
        one_side = float(np.median(lone)) if lone else cfg.object_side * min(h, w)
        # an oversized track is looked at with windows of both sizes: the scene's median object
        # (its pairs, when every track is one) and one lone object
        sides = {k: [side, one_side] if k in big else [side] for k in range(len(tracks))}
        check = [k for k, (tr, rec) in enumerate(zip(tracks, recognitions))
                 if k in big
                 or rec.origin == "canvas" and is_suspicious(tr, rec.confidence, median_area, cfg)
                 or rec.origin != "canvas" and len(tracks) >= 2]
        sides = {k: [s for s in sides[k] if s > 0] for k in check}
        check = [k for k in check if sides[k]]
        if not check:
            return tracks, recognitions
        shares = (cfg.min_side_share, cfg.lone_side_share)  # the lone-object windows may be smaller
        crops, owners = [], []
        for k in check:
            tr = tracks[k]
            picks = pick_crop_frames(tr, cfg.frames, w, h)
            for scale, side_px in enumerate(sides[k]):
                for corner in range(WINDOWS):
                    boxes = [corner_boxes(tr.boxes[i], side_px, shares[scale])[corner] for i in picks]
                    crops.append(square_crops(frames[tr.frames[picks]], boxes, self.cfg.crop_size, self.cfg.margin))
                    owners += [(k, scale, corner)] * len(picks)
        feats = self.encoder.frame_features(torch.cat(crops), size=None)
        next_id = max(t.id for t in tracks) + 1
        replaced: dict[int, tuple[list[Track], list[Recognition]]] = {}
        for k in check:
            taken = {self.cfg.classes.index(r.label) for j, r in enumerate(recognitions) if j != k and r.origin == "canvas"}
            best = None  # (score, scale, pair, window recognitions)
            for scale in range(len(sides[k])):
                corner_recs = []
                for corner in range(WINDOWS):
                    sel = torch.tensor([o == (k, scale, corner) for o in owners])
                    corner_recs.append(self.recognise_features(feats[sel]))
                labels = [self.cfg.classes.index(r.label) if r.origin == "canvas" else -1 - i for i, r in enumerate(corner_recs)]
                confs = [r.confidence if r.origin == "canvas" else 0.0 for r in corner_recs]
                pair = pick_diagonal(labels, confs, cfg.min_confidence, taken)
                if pair is not None and (best is None or min(confs[pair[0]], confs[pair[1]]) > best[0]):
                    best = (min(confs[pair[0]], confs[pair[1]]), scale, pair, corner_recs)
            if best is None:
                continue
            _, scale, pair, corner_recs = best
            parts = [corner_track(tracks[k], c, sides[k][scale], shares[scale], next_id + i, w, h) for i, c in enumerate(pair)]
            next_id += 2
            replaced[k] = (parts, [corner_recs[c] for c in pair])
            log.debug("track %d holds two objects: %s and %s", tracks[k].id, *(corner_recs[c].label for c in pair))
        if not replaced:
            return tracks, recognitions
        out_tracks, out_recs = [], []
        for k, (tr, rec) in enumerate(zip(tracks, recognitions)):
            parts, recs = replaced.get(k, ([tr], [rec]))
            out_tracks += parts
            out_recs += recs
        return out_tracks, out_recs

    def scene(self, frame: np.ndarray) -> Recognition | None:
        """What the whole (static) scene sounds like, from ImageNet labels; None if nothing maps."""
        probs = self.encoder.classify(torch.from_numpy(np.ascontiguousarray(frame))[None]).mean(0).numpy()
        hit = sound_from_probabilities(probs, min_mass=0.3)
        if hit is None:
            return None
        label, desc, kind, mass = hit
        return Recognition(label, desc, "sustained", mass, "imagenet")
