"""Cached generator training examples: one safetensors file per clip.

The one place that knows the on-disk layout (align it here with encoders/cache.py):

    <dir>/<clip id>.safetensors
      latents     [C, L]      codec latent (normalised), L = ceil(N / hop) ("latent" also read)
      semantic    [Ts, Ds]    semantic frame features at the model's semantic_rate
      sync        [Ty, Dy]    sync features at sync_rate (optional)
      text        [M, K, Dt]  token states of the plan's M module texts (optional)
      text_mask   [M, K]      real tokens (uint8/bool)
      metadata: "plan" = the Plan as JSON, optional: encoders/cache.py stores only the plan
                texts, so plans also come from the manifest by clip id (`load_plans`)

`ClipDataset` holds everything in memory (SynthCanvas-sized data) and `batch(indices,
length, start_frac)` returns a `Batch` of latents plus `Conditions`, cropped in time
consistently across streams. It draws no random numbers itself: the trainer passes the
crop positions, so a training step is a pure function of (weights, step).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from ..errors import PrismError
from ..models.conditioning import Conditions, plan_tracks
from ..models.config import GeneratorConfig
from ..planner.plan import Plan

log = logging.getLogger(__name__)


class DataError(PrismError):
    """Cached features that are missing or do not fit the generator."""


@dataclass
class Clip:
    id: str
    latent: torch.Tensor
    semantic: torch.Tensor | None
    sync: torch.Tensor | None
    text: torch.Tensor | None
    text_mask: torch.Tensor | None
    plan: Plan | None

    @property
    def latent_len(self) -> int:
        return self.latent.shape[-1]


@dataclass
class Batch:
    latent: torch.Tensor  # [B, C, L]
    conditions: Conditions
    ids: list[str]


def read_clip(path: str | Path) -> Clip:
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            keys = set(f.keys())
            meta = f.metadata() or {}
            get = lambda k: f.get_tensor(k) if k in keys else None  # noqa: E731
            latent = get("latents") if "latents" in keys else get("latent")
            semantic, sync, text, mask = get("semantic"), get("sync"), get("text"), get("text_mask")
    except (SafetensorError, OSError) as e:
        raise DataError(f"{path}: not a readable feature file ({str(e).splitlines()[0][:120]})") from None
    if latent is None:
        raise DataError(f"{path}: no 'latent' tensor (extract features with a codec: prismaudio extract --codec ...)")
    plan = Plan.from_json(meta["plan"], where=f"{path}:plan") if "plan" in meta else None
    return Clip(path.stem, latent.float(), None if semantic is None else semantic.float(), None if sync is None else sync.float(),
                None if text is None else text.float(), None if mask is None else mask.bool(), plan)


def write_clip(path: str | Path, clip: Clip) -> Path:
    """The inverse of read_clip (tests, and tools that cache features themselves)."""
    from safetensors.torch import save_file

    from ..fsutil import atomic_path

    tensors = {k: v.contiguous() for k, v in {"latents": clip.latent, "semantic": clip.semantic, "sync": clip.sync,
                                             "text": clip.text, "text_mask": clip.text_mask}.items() if v is not None}
    if "text_mask" in tensors:
        tensors["text_mask"] = tensors["text_mask"].to(torch.uint8)
    meta = {"plan": clip.plan.to_json(indent=None)} if clip.plan is not None else {}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    return Path(path)


def find_clips(source: str | Path) -> list[Path]:
    source = Path(source)
    if source.is_file():
        return [source]
    files = sorted(source.glob("*.safetensors")) if source.is_dir() else []
    if not files:
        raise DataError(f"{source}: no cached feature files (*.safetensors); run `prismaudio extract` first")
    return files


def load_plans(manifest: str | Path) -> dict[str, Plan]:
    """Plans by clip id from a manifest.jsonl (lines with "id" and "plan")."""
    plans = {}
    for n, line in enumerate(Path(manifest).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            if row.get("plan") is not None:
                plans[str(row["id"])] = Plan.from_dict(row["plan"], where=f"{manifest}:{n}: plan")
    return plans


class ClipDataset:
    def __init__(self, source: str | Path, config: GeneratorConfig, plans: dict[str, Plan] | None = None):
        self.config = config
        self.clips = [read_clip(p) for p in find_clips(source)]
        for clip in self.clips:
            if clip.plan is None and plans and clip.id in plans:
                clip.plan = plans[clip.id]
        c = self.clips[0]
        for clip in self.clips:
            if clip.latent.shape[0] != config.latent_channels:
                raise DataError(f"{clip.id}: latent has {clip.latent.shape[0]} channels, the generator expects "
                                f"{config.latent_channels} (features cached with another codec?)")
            for name, dim in (("semantic", config.semantic_dim), ("sync", config.sync_dim), ("text", config.text_dim)):
                t = getattr(clip, name)
                if (t is None) != (getattr(c, name) is None):
                    raise DataError(f"{clip.id}: '{name}' present in some clips and not in others")
                if t is not None and t.shape[-1] != dim:
                    raise DataError(f"{clip.id}: {name} features have dim {t.shape[-1]}, the generator expects {dim}")
        log.info("%d cached clips from %s", len(self.clips), source)

    def __len__(self) -> int:
        return len(self.clips)

    def window_length(self, indices: list[int], crop_seconds: float | None) -> int:
        """Latent frames of a batch window: min(crop_seconds or the model's duration, shortest clip)."""
        max_len = math.ceil((crop_seconds or self.config.duration) * self.config.latent_rate)
        return min([max_len] + [self.clips[i].latent_len for i in indices])

    def batch(self, indices: list[int], length: int, start_frac: torch.Tensor | None = None) -> Batch:
        """Crop every clip to `length` latent frames, starting at `start_frac` (0..1) of the room
        each clip leaves (None: from the start)."""
        cfg = self.config
        clips = [self.clips[i] for i in indices]
        seq = cfg.sequence(length / cfg.latent_rate)
        latents, sems, syncs, texts, masks, feats, labels = [], [], [], [], [], [], []
        for k, clip in enumerate(clips):
            room = clip.latent_len - length
            start = int(float(start_frac[k]) * (room + 1)) if start_frac is not None and room > 0 else 0
            start = min(start, max(0, room))
            t0 = start / cfg.latent_rate
            latents.append(clip.latent[:, start:start + length])
            if clip.semantic is not None:
                sems.append(time_window(clip.semantic, t0, cfg.semantic_rate, seq.semantic_len))
            if clip.sync is not None:
                syncs.append(time_window(clip.sync, t0, cfg.sync_rate, seq.sync_len))
            if clip.text is not None:
                texts.append(clip.text)
                masks.append(clip.text_mask if clip.text_mask is not None else torch.ones(clip.text.shape[:2], dtype=torch.bool))
            if cfg.plan_tracks and clip.plan is not None:
                f, lab = plan_tracks(clip.plan, seq, cfg.max_sources, cfg.label_buckets, cfg.onset_spread, start=t0)
                feats.append(f)
                labels.append(lab)
        stack = lambda xs: torch.stack(xs) if xs and len(xs) == len(clips) else None  # noqa: E731
        cond = Conditions(semantic=stack(sems), sync=stack(syncs), text=stack(texts), text_mask=stack(masks),
                          track_features=stack(feats), track_labels=stack(labels))
        return Batch(torch.stack(latents), cond, [c.id for c in clips])


def time_window(x: torch.Tensor, start_s: float, rate: float, count: int) -> torch.Tensor:
    """`count` frames of [T, D] features from `start_s` (the last frame repeats past the end)."""
    first = int(round(start_s * rate))
    idx = (first + torch.arange(count)).clamp(max=x.shape[0] - 1)
    return x[idx]
