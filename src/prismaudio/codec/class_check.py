"""Does a reconstruction keep its class? A small classifier (multinomial logistic regression on
log-mel statistics) is trained on reference audio of the manifest's train split and scored
on test-split references and on their reconstructions; the two accuracies should agree.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch

from ..dsp.spectral import log_mel
from ..errors import ConfigError
from ..log import progress_enabled

log = logging.getLogger(__name__)


def log_mel_stats(wave: torch.Tensor, sample_rate: int, active_db: float = 40.0) -> np.ndarray:
    """[C, N] -> 192 features: per-band mean, std and mean absolute frame difference of the
    log-mel spectrogram of the mono mix, over the frames within `active_db` of the loudest
    one (what the sound is, not how quiet its silences are)."""
    mel = log_mel(wave.float().mean(0), sample_rate)  # [64, T]
    level = torch.logsumexp(2 * mel, dim=0)  # log frame power
    active = level >= level.max() - active_db * np.log(10) / 10
    if int(active.sum()) >= 2:
        mel = mel[:, active]
    diff = mel.diff(dim=-1).abs().mean(-1) if mel.shape[-1] > 1 else torch.zeros(mel.shape[0])
    return torch.cat([mel.mean(-1), mel.std(-1, unbiased=False), diff]).numpy()


def single_event_class(row: dict) -> str | None:
    """The class of a SynthCanvas manifest row with exactly one source, else None."""
    sources = row.get("sources")
    if isinstance(sources, list) and len(sources) == 1 and isinstance(sources[0], dict):
        name = sources[0].get("class_name")
        return name if isinstance(name, str) else None
    return None


class LogisticClassifier:
    """Standardised features -> softmax regression with L2, fitted by L-BFGS (deterministic)."""

    def __init__(self, l2: float = 1e-3) -> None:
        self.l2 = l2

    def fit(self, x: np.ndarray, labels: list[str]) -> "LogisticClassifier":
        self.classes = sorted(set(labels))
        y = torch.tensor([self.classes.index(c) for c in labels])
        xt = torch.as_tensor(x, dtype=torch.float64)
        self.mean, self.std = xt.mean(0), xt.std(0).clamp(min=1e-6)
        xt = (xt - self.mean) / self.std
        self.w = torch.zeros(xt.shape[1], len(self.classes), dtype=torch.float64, requires_grad=True)
        self.b = torch.zeros(len(self.classes), dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([self.w, self.b], max_iter=300, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(xt @ self.w + self.b, y) + self.l2 * self.w.pow(2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        return self

    def predict(self, x: np.ndarray) -> list[str]:
        xt = (torch.as_tensor(x, dtype=torch.float64) - self.mean) / self.std
        with torch.no_grad():
            idx = (xt @ self.w + self.b).argmax(1)
        return [self.classes[i] for i in idx.tolist()]


def _labelled_files(manifest: Path, split: str) -> list[tuple[Path, str]]:
    out = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        label = single_event_class(row)
        if row.get("split") == split and label is not None:
            rel = row.get("audio") or row.get("audio_path") or f"audio/{row['id']}.wav"
            out.append((manifest.parent / rel, label))
    return out


def class_preservation(audio: str | Path, reconstructions: dict[str, torch.Tensor], sample_rate: int,
                       max_train: int = 2000) -> dict:
    """Accuracy on test references vs their reconstructions (`reconstructions`: path -> [2, N])."""
    from tqdm import tqdm

    from ..media import read_audio

    manifest = Path(audio)
    manifest = manifest / "manifest.jsonl" if manifest.is_dir() else manifest
    if not manifest.is_file():
        raise ConfigError(f"{audio}: the class check needs a SynthCanvas folder or manifest.jsonl")
    train = _labelled_files(manifest, "train")[:max_train]
    test = [(p, c) for p, c in _labelled_files(manifest, "test") if str(p) in reconstructions]
    if len(train) < 10 or not test:
        raise ConfigError(f"{manifest}: too few single-event clips for the class check "
                          f"({len(train)} train, {len(test)} evaluated test)")
    feats = [log_mel_stats(read_audio(p, sample_rate), sample_rate)
             for p, _ in tqdm(train, desc="class check: train features", disable=not progress_enabled())]
    clf = LogisticClassifier().fit(np.stack(feats), [c for _, c in train])
    ref_x = np.stack([log_mel_stats(read_audio(p, sample_rate), sample_rate) for p, _ in test])
    rec_x = np.stack([log_mel_stats(reconstructions[str(p)], sample_rate) for p, _ in test])
    truth = [c for _, c in test]
    acc_ref = float(np.mean([a == b for a, b in zip(clf.predict(ref_x), truth)]))
    acc_rec = float(np.mean([a == b for a, b in zip(clf.predict(rec_x), truth)]))
    return {"train_clips": len(train), "test_clips": len(test), "classes": len(clf.classes),
            "accuracy_reference": acc_ref, "accuracy_reconstruction": acc_rec, "gap_points": 100 * (acc_ref - acc_rec)}
