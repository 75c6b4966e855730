"""Training of the small evaluators (CLAP projections, offset models, quality predictor, class classifier).

Every reward model has an evaluator twin trained on the other half of the training split with
another seed (and, for the offset model, another architecture): `reward` models see half "a",
`eval` models half "b". The class classifier is trained on all training reference audio. The
frozen features (YAMNet, MiniLM, event curves) are computed once and shared.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..errors import PrismError
from ..train.fit import fit
from .assets import save_model
from .data import EvalItem, class_table, read_wave
from .features import FPS, onset_envelope, quality_vector
from .quality_data import degradation_severity, quality_pairs
from .nets import (ClapConfig, ClapProjection, ClassHead, ClassHeadConfig, OffsetConfig, QualityConfig,
                   QualityHead, build_offset_net, pooled_embedding)
from .yamnet import shared

log = logging.getLogger(__name__)
SR = 16000
TARGETS = ("classifier", "clap", "quality", "offset")


@dataclass
class TrainSettings:
    steps_mlp: int = 600
    steps_offset: int = 1500
    batch: int = 64
    lr: float = 2e-3
    degraded_per_item: int = 3
    quality_items_per_half: int = 300  # clean references per quality twin (each gives ~5 waves)


def half_of(item_id: str) -> str:
    return "a" if int(hashlib.md5(item_id.encode()).hexdigest()[:6], 16) % 2 == 0 else "b"


def train_classifier(items: list[EvalItem], emb: dict[str, np.ndarray], settings: TrainSettings, out: Path | None) -> dict:
    train = [i for i in items if i.split == "train" and i.sound_class]
    if not train:
        raise PrismError("class classifier: no single-source training samples")
    classes = sorted({i.sound_class for i in train})
    x = torch.from_numpy(np.stack([pooled_embedding(emb[i.id]) for i in train]))
    y = torch.tensor([classes.index(i.sound_class) for i in train])
    torch.manual_seed(7)
    cfg = ClassHeadConfig(classes=classes)
    model = ClassHead(cfg)
    loss = fit(model.parameters(), lambda s: F.cross_entropy(model(x), y, label_smoothing=0.05), settings.steps_mlp, settings.lr,
               desc="classifier", progress=True)
    model.eval()
    acc = _accuracy(model, items, emb, classes, "val")
    save_model("classifier", model, cfg, {"val_accuracy": acc, "train_items": len(train)}, out)
    return {"classifier": {"loss": loss, "val_accuracy": acc}}


def _accuracy(model, items, emb, classes, split) -> float | None:
    rows = [i for i in items if i.split == split and i.sound_class in classes]
    if not rows:
        return None
    with torch.no_grad():
        pred = model(torch.from_numpy(np.stack([pooled_embedding(emb[i.id]) for i in rows]))).argmax(-1).numpy()
    return float(np.mean([classes[p] == i.sound_class for p, i in zip(pred, rows)]))


def item_classes(item: EvalItem) -> tuple[str, ...]:
    """The sorted class names heard in an item (one for a single-source sample)."""
    return (item.sound_class,) if item.sound_class else tuple(sorted({s.label for s in item.plan.semantic.sources}))


def clap_texts(item: EvalItem, table: dict) -> list[str]:
    """Text views of one item: the plan's semantic module and short captions."""
    names = item_classes(item)
    texts = [item.plan.semantic_text(), "the sound of " + " and ".join(names)]
    if len(names) == 1 and table.get(names[0]) is not None and table[names[0]].description:
        texts.append(table[names[0]].description)
    return texts


def train_clap(items: list[EvalItem], emb: dict[str, np.ndarray], settings: TrainSettings, out: Path | None) -> dict:
    from ..encoders.text import TextEncoder

    table = class_table()
    train = [i for i in items if i.split == "train"]
    texts = sorted({t for i in train for t in clap_texts(i, table)})
    text_vec = dict(zip(texts, TextEncoder().embed(texts)))
    results = {}
    for name, half, seed in (("clap_reward", "a", 1), ("clap_eval", "b", 2)):
        rows = [i for i in train if half_of(i.id) == half]
        audio = torch.from_numpy(np.stack([emb[i.id].mean(0) for i in rows]))
        views = [[text_vec[t] for t in clap_texts(i, table)] for i in rows]
        keys = sorted({item_classes(r) for r in rows})
        labels = torch.tensor([keys.index(item_classes(i)) for i in rows])
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        cfg = ClapConfig()
        model = ClapProjection(cfg)

        def loss_fn(step):
            idx = torch.from_numpy(rng.choice(len(rows), size=min(settings.batch, len(rows)), replace=False))
            t = torch.stack([views[int(k)][rng.integers(len(views[int(k)]))] for k in idx])
            a_e, t_e = model.embed_audio(audio[idx]), model.embed_text(t)
            logits = a_e @ t_e.T * model.log_scale.exp().clamp(max=100)
            same = (labels[idx][:, None] == labels[idx][None, :]).float()  # same class = positive too
            target = same / same.sum(1, keepdim=True)
            return 0.5 * (-(target * logits.log_softmax(1)).sum(1).mean() - (target.T * logits.log_softmax(0)).sum(0).mean())

        loss = fit(model.parameters(), loss_fn, settings.steps_mlp, settings.lr, desc=name, progress=True)
        model.eval()
        save_model(name, model, cfg, {"half": half, "seed": seed, "items": len(rows)}, out)
        results[name] = {"loss": loss}
    return results


def shipped_degradations(item: EvalItem) -> list[tuple[np.ndarray, float]]:
    """The dataset's own degraded copies of an item: (mono wave, severity)."""
    if item.sample is None:
        return []
    return [(read_wave(item.sample.root / d.path).mean(0), degradation_severity(d.kind, d.params, d.snr_db))
            for d in item.sample.degradations if (item.sample.root / d.path).is_file()]


def train_quality(items: list[EvalItem], settings: TrainSettings, out: Path | None) -> dict:
    yam = shared()
    train = [i for i in items if i.split == "train"]
    results = {}
    for name, half, seed in (("quality_reward", "a", 3), ("quality_eval", "b", 4)):
        rows = [i for i in train if half_of(i.id) == half]
        if len(rows) > settings.quality_items_per_half:
            rows = [rows[int(k)] for k in np.random.default_rng(seed).choice(len(rows), settings.quality_items_per_half, replace=False)]
        waves, targets = quality_pairs([i.audio for i in rows], [shipped_degradations(i) for i in rows], SR,
                                       np.random.default_rng(seed), settings.degraded_per_item)
        emb = torch.from_numpy(yam.clip_embedding(waves))
        side = torch.from_numpy(np.stack([quality_vector(w, SR) for w in waves]))
        y = torch.tensor(targets, dtype=torch.float32)
        torch.manual_seed(seed)
        cfg = QualityConfig()
        model = QualityHead(cfg)
        loss = fit(model.parameters(), lambda s: F.smooth_l1_loss(model(emb, side), y), settings.steps_mlp * 2, settings.lr,
                   desc=name, progress=True)
        model.eval()
        save_model(name, model, cfg, {"half": half, "seed": seed, "pairs": len(waves)}, out)
        results[name] = {"loss": loss}
    return results


def offset_windows(video: np.ndarray, audio: np.ndarray, cfg: OffsetConfig, rng: np.random.Generator,
                   n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random training windows: video [n,1,W], audio delayed by a random class offset [n,2,W], class [n]."""
    w = cfg.window_frames
    offsets = cfg.offsets()
    t = video.shape[-1]
    vs, aus, ys = [], [], []
    for _ in range(n):
        start = int(rng.integers(0, max(1, t - w + 1)))
        k = int(rng.integers(len(offsets)))
        shift = int(round(offsets[k] * cfg.fps))
        vs.append(_crop(video[None], start, w))
        aus.append(_crop(audio, start - shift, w))  # a_win(t) = a(start + t - shift): audio late by shift
        ys.append(k)
    return np.stack(vs), np.stack(aus), np.array(ys)


def _crop(x: np.ndarray, start: int, w: int) -> np.ndarray:
    out = np.zeros((x.shape[0], w), np.float32)
    lo, hi = max(0, start), min(x.shape[-1], start + w)
    if hi > lo:
        out[:, lo - start : hi - start] = x[:, lo:hi]
    return out


def train_offset(items: list[EvalItem], settings: TrainSettings, out: Path | None) -> dict:
    train = [i for i in items if i.split == "train"]
    feats = {i.id: (i.motion, onset_envelope(i.audio.mean(0), SR, FPS, len(i.motion))) for i in train}
    val = [i for i in items if i.split == "val"]
    val_feats = {i.id: (i.motion, onset_envelope(i.audio.mean(0), SR, FPS, len(i.motion))) for i in val}
    results = {}
    for name, half, seed, arch in (("offset_reward", "a", 5, "correlation"), ("offset_eval", "b", 6, "fusion")):
        rows = [i for i in train if half_of(i.id) == half]
        cfg = OffsetConfig(arch=arch)
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        model = build_offset_net(cfg)

        def loss_fn(step):
            batch = [offset_windows(*feats[rows[int(rng.integers(len(rows)))].id], cfg, rng, 1) for _ in range(settings.batch)]
            v, a, y = (torch.from_numpy(np.concatenate(z)) for z in zip(*batch))
            return F.cross_entropy(model(v, a), y.long(), label_smoothing=0.1)

        loss = fit(model.parameters(), loss_fn, settings.steps_offset, settings.lr, desc=name, progress=True)
        model.eval()
        err = _offset_error(model, cfg, val_feats, seed)
        save_model(name, model, cfg, {"half": half, "seed": seed, "items": len(rows), "val_mean_abs_error_s": err}, out)
        results[name] = {"loss": loss, "val_mean_abs_error_s": err}
    return results


def _offset_error(model, cfg, feats, seed) -> float | None:
    if not feats:
        return None
    rng = np.random.default_rng(seed + 100)
    batch = [offset_windows(v, a, cfg, rng, 4) for v, a in feats.values()]
    v, a, y = (torch.from_numpy(np.concatenate(z)) for z in zip(*batch))
    with torch.no_grad():
        pred = model(v, a).argmax(-1).numpy()
    off = cfg.offsets()
    return float(np.mean(np.abs(off[pred] - off[y])))


def train_evaluators(items: list[EvalItem], targets: tuple[str, ...] = TARGETS, out: Path | None = None,
                     settings: TrainSettings | None = None) -> dict:
    settings = settings or TrainSettings()
    results: dict = {}
    emb: dict[str, np.ndarray] = {}
    if {"classifier", "clap"} & set(targets):
        yam = shared()
        outs = yam.analyze([i.audio.mean(0) for i in tqdm(items, desc="yamnet", leave=False)])
        emb = {i.id: o.embeddings for i, o in zip(items, outs)}
    if "classifier" in targets:
        results.update(train_classifier(items, emb, settings, out))
    if "clap" in targets:
        results.update(train_clap(items, emb, settings, out))
    if "quality" in targets:
        results.update(train_quality(items, settings, out))
    if "offset" in targets:
        results.update(train_offset(items, settings, out))
    return results
