"""What the generator is conditioned on, and the module that turns it into tokens.

Four streams, each replaceable by a learned "empty" embedding (classifier-free guidance,
and any stream a caller does not have):

    semantic  frame features [B, Ts, Ds]            -> cross-attention context
    text      the four plan modules' token states    -> cross-attention context
              [B, M, K, Dt] with a mask [B, M, K]       (a learned embedding per module)
    sync      motion/sync features [B, Ty, Dy]       -> resampled to the token rate, added
                                                        through a learned gate (init 0)
    tracks    the plan as time-aligned tracks at the latent rate [B, L, S, F] with a label
              per source slot [B, S] (see `plan_tracks`) -> added through a gate (init 1)

`plan_tracks` is a pure function of a Plan: it is what makes plan edits control the output.
"""

from __future__ import annotations

import logging
import math
import zlib
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import GeneratorConfig
from .sequence import SequenceConfig

log = logging.getLogger(__name__)

STREAMS = ("semantic", "sync", "text", "tracks")
TRACK_FEATURES = ("onset", "onset_decay", "active", "offset", "x", "log2_distance")


# ---- plan -> time-aligned tracks (pure) -----------------------------------------------------

@lru_cache(maxsize=1)
def _known_labels() -> dict[str, int]:
    """SynthCanvas's built-in class names in table order (the table only ever grows at its end)."""
    from ..canvas.classes import builtin_classes

    return {c.name.strip().lower(): i for i, c in enumerate(builtin_classes())}


def label_bucket(label: str, buckets: int) -> int:
    """A stable id in 1..buckets for a source label (0 is reserved for an empty slot).

    Known SynthCanvas classes get one bucket each (a hash put 6 pairs of them in the same
    bucket, so a class edit between such a pair reached the generator through text alone);
    any other label is hashed into the buckets after them.
    """
    key = label.strip().lower()
    known = _known_labels()
    if key in known and len(known) < buckets:
        return 1 + known[key]
    free = buckets - len(known) if len(known) < buckets else buckets
    return 1 + (buckets - free) + zlib.crc32(key.encode("utf-8")) % free


def plan_tracks(plan, seq: SequenceConfig, max_sources: int, label_buckets: int, onset_spread: float = 0.5,
                start: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The plan's temporal and spatial modules at the latent rate.

    Returns features [L, S, 6] (TRACK_FEATURES per latent frame and source slot) and labels
    [S] (label buckets, 0 = empty slot). Sources fill slots in order of their first onset.
    `start` offsets the window in the plan's time (for windowed generation of long videos).
    """
    length, rate = seq.latent_len, seq.latent_rate
    frame_start = start + np.arange(length) / rate
    feats = np.zeros((length, max_sources, len(TRACK_FEATURES)), dtype=np.float32)
    labels = torch.zeros(max_sources, dtype=torch.long)
    first_onset = {s.id: min((e.onset for e in plan.events_of(s.id)), default=math.inf) for s in plan.semantic.sources}
    order = sorted(plan.semantic.sources, key=lambda s: (first_onset[s.id], s.id))
    if len(order) > max_sources:
        log.warning("plan has %d sources; the generator takes %d (the rest only through text)", len(order), max_sources)
    for slot, source in enumerate(order[:max_sources]):
        labels[slot] = label_bucket(source.label, label_buckets)
        f = feats[:, slot]
        for event in plan.events_of(source.id):
            on = int(math.floor((event.onset - start) * rate))
            off = int(math.floor((event.offset - start) * rate))
            if 0 <= on < length:
                f[on, 0] = 1.0
            since = frame_start - event.onset
            decay = np.clip(1.0 - since / onset_spread, 0.0, 1.0) * (np.arange(length) >= on)
            f[:, 1] = np.maximum(f[:, 1], decay)
            f[:, 2] = np.maximum(f[:, 2], (np.arange(length) >= on) & (np.arange(length) <= max(on, off)))
            if event.offset > event.onset and 0 <= off < length:
                f[off, 3] = 1.0
        track = plan.track(source.id)
        if track is not None:
            centre = frame_start + 0.5 / rate
            f[:, 4] = track.x_at(centre)
            f[:, 5] = np.log2(track.distance_at(centre))
    return torch.from_numpy(feats), labels


def module_texts(plan, prompt: str | None = None) -> list[str]:
    """The four CoT module texts the generator reads; a user prompt leads the semantic module."""
    texts = plan.module_texts()
    if prompt:
        texts["semantic"] = f"Semantic: {prompt.strip().rstrip('.')}. " + texts["semantic"].removeprefix("Semantic: ")
    return [texts[k] for k in ("semantic", "temporal", "aesthetic", "spatial")]


def resample_time(x: torch.Tensor, src_rate: float, dst_len: int, dst_rate: float) -> torch.Tensor:
    """Linear interpolation of [B, T, D] frames at `src_rate` onto `dst_len` frames at `dst_rate`,
    matching frame centres in seconds (edges hold the first/last frame)."""
    t_dst = (torch.arange(dst_len, device=x.device, dtype=torch.float32) + 0.5) / dst_rate
    pos = (t_dst * src_rate - 0.5).clamp(0, x.shape[1] - 1)
    lo = pos.floor().long()
    hi = (lo + 1).clamp(max=x.shape[1] - 1)
    w = (pos - lo.float())[None, :, None].to(x.dtype)
    return x[:, lo] * (1 - w) + x[:, hi] * w


# ---- the conditions passed to the model ---------------------------------------------------

@dataclass
class Conditions:
    """Raw conditioning features for a batch; None = the stream is missing (empty embedding).

    `drop[stream]` [B] bool marks samples whose stream is replaced by the empty embedding
    (CFG dropout in training, the unconditional branch at sampling).
    """

    semantic: torch.Tensor | None = None  # [B, Ts, Ds]
    sync: torch.Tensor | None = None  # [B, Ty, Dy]
    text: torch.Tensor | None = None  # [B, M, K, Dt]
    text_mask: torch.Tensor | None = None  # [B, M, K] bool
    track_features: torch.Tensor | None = None  # [B, L, S, F]
    track_labels: torch.Tensor | None = None  # [B, S]
    drop: dict[str, torch.Tensor] = field(default_factory=dict)

    def _tensors(self) -> dict[str, torch.Tensor]:
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), torch.Tensor)}

    @property
    def batch_size(self) -> int | None:
        t = self._tensors()
        return next(iter(t.values())).shape[0] if t else None

    def to(self, device) -> "Conditions":
        moved = {k: v.to(device) for k, v in self._tensors().items()}
        return replace(self, **moved, drop={k: v.to(device) for k, v in self.drop.items()})

    def drop_mask(self, stream: str, batch: int, device) -> torch.Tensor:
        mask = self.drop.get(stream)
        return torch.zeros(batch, dtype=torch.bool, device=device) if mask is None else mask.to(device)

    def unconditional(self, negative_text: torch.Tensor | None = None, negative_mask: torch.Tensor | None = None) -> "Conditions":
        """Every stream empty; with a negative prompt its text stands in for the empty text."""
        b = self.batch_size or 1
        dev = next(iter(self._tensors().values())).device if self._tensors() else "cpu"
        drop = {s: torch.ones(b, dtype=torch.bool, device=dev) for s in STREAMS}
        out = replace(self, drop=drop)
        if negative_text is not None:
            drop["text"] = torch.zeros(b, dtype=torch.bool, device=dev)
            out = replace(out, text=negative_text.to(dev), text_mask=negative_mask.to(dev))
        return out

    @staticmethod
    def cat(items: list["Conditions"]) -> "Conditions":
        """Concatenate along the batch (conditional and unconditional branches in one pass)."""
        sizes = [c.batch_size or 1 for c in items]
        kwargs = {}
        for f in fields(Conditions):
            if f.name == "drop":
                continue
            values = [getattr(c, f.name) for c in items]
            if all(v is None for v in values):
                kwargs[f.name] = None
            elif any(v is None for v in values):
                raise ValueError(f"cannot batch conditions where only some have '{f.name}'")
            else:
                kwargs[f.name] = torch.cat(values, dim=0)
        drop = {}
        for s in STREAMS:
            if any(s in c.drop for c in items):
                drop[s] = torch.cat([c.drop_mask(s, n, "cpu") for c, n in zip(items, sizes)], dim=0)
        return Conditions(**kwargs, drop=drop)


# ---- the module ----------------------------------------------------------------------------

def random_conditions(cfg: GeneratorConfig, batch: int, length: int, seed: int = 0) -> Conditions:
    """Random conditioning features of a preset's shapes for `length` latent frames: speed
    benchmarks and tests (the model's cost does not depend on the values); never for results."""
    g = torch.Generator().manual_seed(seed)
    seq = cfg.sequence(length / cfg.latent_rate)
    return Conditions(
        semantic=torch.randn(batch, seq.semantic_len, cfg.semantic_dim, generator=g),
        sync=torch.randn(batch, seq.sync_len, cfg.sync_dim, generator=g),
        text=torch.randn(batch, 4, cfg.text_tokens, cfg.text_dim, generator=g),
        text_mask=torch.ones(batch, 4, cfg.text_tokens, dtype=torch.bool),
        track_features=torch.rand(batch, length, cfg.max_sources, len(TRACK_FEATURES), generator=g),
        track_labels=torch.randint(1, cfg.label_buckets, (batch, cfg.max_sources), generator=g),
    )


def _mlp(dim_in: int, width: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim_in, width), nn.SiLU(), nn.Linear(width, width))


class ConditionEncoder(nn.Module):
    def __init__(self, config: GeneratorConfig):
        super().__init__()
        self.config = config
        w = config.width
        self.semantic_proj = _mlp(config.semantic_dim, w)
        self.semantic_time = nn.Linear(64, w)  # absolute time of each frame (cross-attention has no rotary)
        self.text_proj = _mlp(config.text_dim, w)
        self.text_module_emb = nn.Parameter(torch.randn(len(config.text_modules), w) * 0.02)
        self.sync_proj = _mlp(config.sync_dim, w)
        self.sync_gate = nn.Parameter(torch.zeros(1))  # starts closed, as in the public config
        self.empty = nn.ParameterDict({s: nn.Parameter(torch.randn(w) * 0.02) for s in STREAMS})
        if config.plan_tracks:
            self.track_feat = nn.Linear(len(TRACK_FEATURES), w)
            self.track_label = nn.Embedding(config.label_buckets + 1, w)
            self.track_out = nn.Linear(w, w)
            self.track_gate = nn.Parameter(torch.ones(1))

    @staticmethod
    def _fill(tokens: torch.Tensor, empty: torch.Tensor, drop: torch.Tensor) -> torch.Tensor:
        return torch.where(drop[:, None, None], empty.to(tokens.dtype).expand_as(tokens), tokens)

    def _pool_to_tokens(self, x: torch.Tensor, num_tokens: int) -> torch.Tensor:
        p = self.config.patch
        pad = num_tokens * p - x.shape[1]
        if pad:
            x = F.pad(x, (0, 0, 0, pad), mode="replicate")
        return x.view(x.shape[0], num_tokens, p, -1).mean(2)

    def forward(self, c: Conditions, length: int, num_tokens: int, batch: int):
        """-> (added to the latent tokens [B, N, w], context [B, Lc, w], context mask [B, Lc])."""
        cfg, w = self.config, self.config.width
        dev = self.empty["semantic"].device
        seq = cfg.sequence(duration=length / cfg.latent_rate)
        token_rate = cfg.latent_rate / cfg.patch
        # semantic frames -> context
        if c.semantic is not None:
            sem = self.semantic_proj(c.semantic)
            times = (torch.arange(sem.shape[1], device=dev, dtype=torch.float32) + 0.5) / cfg.semantic_rate
            from .timestep import timestep_features  # shared sinusoid; seconds scaled to the 0..1 range it expects

            sem = sem + self.semantic_time(timestep_features(times / 100.0, 64)).to(sem.dtype)[None]
            sem = self._fill(sem, self.empty["semantic"], c.drop_mask("semantic", batch, dev))
        else:
            sem = self.empty["semantic"].expand(batch, seq.semantic_len, w)
        # plan module texts -> context
        m, k = len(cfg.text_modules), cfg.text_tokens
        if c.text is not None:
            txt = self.text_proj(c.text) + self.text_module_emb[None, :, None, :].to(c.text.dtype)
            txt = txt.reshape(batch, -1, w)
            mask = c.text_mask.reshape(batch, -1) if c.text_mask is not None else torch.ones(txt.shape[:2], dtype=torch.bool, device=dev)
            drop = c.drop_mask("text", batch, dev)
            txt = self._fill(txt, self.empty["text"], drop)
            mask = mask | drop[:, None]
            mask[:, 0] = True  # an all-padding text still attends somewhere
        else:
            txt = self.empty["text"].expand(batch, m * k, w)
            mask = torch.ones(batch, m * k, dtype=torch.bool, device=dev)
        context = torch.cat([sem, txt], dim=1)
        context_mask = torch.cat([torch.ones(batch, sem.shape[1], dtype=torch.bool, device=dev), mask], dim=1)
        # sync -> added at the token rate through a gate
        if c.sync is not None:
            syn = resample_time(self.sync_proj(c.sync), cfg.sync_rate, num_tokens, token_rate)
            syn = self._fill(syn, self.empty["sync"], c.drop_mask("sync", batch, dev))
        else:
            syn = self.empty["sync"].expand(batch, num_tokens, w)
        added = self.sync_gate * syn
        # plan tracks -> added at the token rate through a gate
        if cfg.plan_tracks:
            if c.track_features is not None:
                f, labels = c.track_features, c.track_labels
                h = F.silu(self.track_feat(f) + self.track_label(labels)[:, None])
                h = (self.track_out(h) * (labels > 0)[:, None, :, None].to(h.dtype)).sum(2)
                trk = self._fill(self._pool_to_tokens(h, num_tokens), self.empty["tracks"], c.drop_mask("tracks", batch, dev))
            else:
                trk = self.empty["tracks"].expand(batch, num_tokens, w)
            added = added + self.track_gate * trk
        return added, context, context_mask
