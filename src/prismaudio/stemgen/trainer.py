"""Training the stem generator with the project's flow trainer (train/flow_trainer.py).

StemTrainer changes only what differs from the joint model: the model (StemDiT), where a
step's batch comes from (StemBatches rendered on the fly by a data worker process that runs
ahead of the trainer), validation (flow loss on fixed held-in and held-out rows) and the
periodic samples (class accuracy of sampled stems by the evaluator classifier, appended to
`out_dir/curve.jsonl`, plus a PNG of the learning curve). Loss, optimizer, LR schedule, EMA,
checkpoints and exact resume are the flow trainer's.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import torch

from ..flow.path import flow_matching_loss, sample_logit_normal
from ..fsutil import atomic_path
from ..train.flow_trainer import FlowTrainer
from .config import SHAPE_KEYS, StemRunConfig
from .data import StemBatches, class_weights, worker_init
from .model import StemConditions, StemDiT

log = logging.getLogger(__name__)
CHECKPOINT_KIND = "stem_generator"
CHECKPOINT_VERSION = 1


def class_text_vectors(texts: dict[str, str]) -> dict[str, np.ndarray]:
    """MiniLM sentence vectors of each class's "label: description"."""
    from ..encoders.text import TextEncoder

    names = sorted(texts)
    vecs = TextEncoder().embed([texts[n] for n in names]).numpy()
    return dict(zip(names, vecs))


def batch_conditions(batch: dict) -> StemConditions:
    return StemConditions(batch["text"].float(), batch["exemplar"].float(), batch["track"].float(),
                          batch["drop_text"].bool(), batch["drop_exemplar"].bool())


class StemTrainer(FlowTrainer):
    checkpoint_kind = CHECKPOINT_KIND
    checkpoint_version = CHECKPOINT_VERSION
    shape_keys = SHAPE_KEYS

    def __init__(self, run: StemRunConfig, pool=None, text_vectors=None, progress: bool = True):
        self._pool, self._text_vectors, self._progress = pool, text_vectors, progress
        self._batches, self._current, self._next_index = None, None, -1
        super().__init__(run)

    def build_model(self) -> torch.nn.Module:
        return StemDiT(self.run.model)

    def build_data(self, train_data, val_data):
        from .latent import MonoLatent
        from .pool import build_pool

        data = self.run.data
        self.latent = MonoLatent.load(self.run.codec, phase_iterations=16)
        if self._pool is None:
            self._pool = build_pool(data, self.latent, progress=self._progress)
        from ..canvas.classes import BUILTIN_CLASSES

        bank_classes = {c.name for c in BUILTIN_CLASSES}
        unknown = [c for c in data.held_out if c not in self._pool]
        library_missing = bool(data.library) and not Path(data.library).is_dir()  # as build_pool found it
        if unknown and not library_missing:
            from ..errors import ConfigError

            raise ConfigError(f"data.held_out: unknown class(es) {unknown}")
        if unknown:  # library classes held out, but the library is not built: nothing to hold out
            log.warning("data.held_out: %s not in the pool (the library is not built); skipped", unknown)
        self.held_out = [c for c in data.held_out if c in self._pool]
        self.train_classes = sorted(c for c in self._pool if c not in set(self.held_out))
        weights = class_weights(self.train_classes, set(self.train_classes) - bank_classes, data.library_share)
        if self._text_vectors is None:
            self._text_vectors = class_text_vectors({n: p.text for n, p in self._pool.items()})
        make = lambda classes, seed, weights=None: StemBatches(self._pool, classes, self._text_vectors, self.run.model,
                                                               data, self.cfg.batch_size, seed, latent_path=self.run.codec,
                                                               weights=weights)
        train = make(self.train_classes, self.cfg.seed, weights)
        train._latent = self.latent
        val_in, val_out = make(self.train_classes, 10_001), make(self.held_out, 10_002)
        for v in (val_in, val_out):
            v._latent = self.latent
        rng = np.random.default_rng(10_003)
        n = data.val_clips
        self.val_batches = {
            "held_in": val_in.collate([val_in.sample(rng, self.train_classes[i % len(self.train_classes)]) for i in range(n)], None),
            "held_out": val_out.collate([val_out.sample(rng, self.held_out[i % len(self.held_out)]) for i in range(n)], None),
        }
        return train, None

    def describe(self) -> str:
        return (f"stem generator {self.run.model.preset}: {self.model.num_params() / 1e6:.2f}M params, "
                f"{len(self.train_classes)} training classes, {len(self.held_out)} held out")

    # ---- data: a worker process runs ahead; batch `step` is the same whoever makes it ------
    def _iterator(self, start: int):
        """Batches start, start + 1, ... (data indices: step // reuse) made by the worker(s)."""
        loader = torch.utils.data.DataLoader(
            self.train_data, batch_size=None, sampler=range(start, self.cfg.max_steps // self.run.data.reuse + 2),
            num_workers=self.run.data.workers, worker_init_fn=worker_init if self.run.data.workers else None,
            prefetch_factor=self.run.data.prefetch if self.run.data.workers else None,
            collate_fn=lambda b: b)
        return iter(loader)

    def draw_step(self, step: int):
        index = step // self.run.data.reuse
        if self._batches is None or self._next_index != index:
            if self._current is not None and self._current["step"] == index:
                batch = self._current  # the same rendered batch, another draw of t and noise
            else:
                self._batches, self._next_index = self._iterator(index), index
        if self._current is None or self._current["step"] != index:
            self._current = next(self._batches)
            self._next_index = index + 1
        batch = self._current
        assert batch["step"] == index, (batch["step"], index)
        g = self._step_generator(step)
        t = sample_logit_normal(self.cfg.batch_size, self.cfg.t_mean, self.cfg.t_std, generator=g)
        eps = torch.randn(batch["latent"].shape, generator=g)
        return batch["latent"], batch_conditions(batch), t, eps

    # ---- validation -----------------------------------------------------------------------
    @torch.no_grad()
    def _val_loss(self, batch: dict) -> float:
        model = self.ema.module.eval()
        g = torch.Generator().manual_seed(12345)
        cond, x0 = batch_conditions(batch).to(self.device), batch["latent"].to(self.device)
        losses = []
        for t in torch.linspace(0.1, 0.9, 9):
            eps = torch.randn(x0.shape, generator=g).to(self.device)
            tt = torch.full((x0.shape[0],), float(t), device=self.device)
            losses.append(flow_matching_loss(lambda x, s: model(x, s, cond), x0, tt, eps))
        return float(torch.cat(losses).mean())

    def validate(self, max_clips: int = 64) -> float | None:
        held_in, held_out = self._val_loss(self.val_batches["held_in"]), self._val_loss(self.val_batches["held_out"])
        self._log("val/loss_held_out", held_out)
        log.info("step %d val loss held-in %.4f held-out (with exemplar) %.4f", self.step, held_in, held_out)
        self._append_curve({"step": self.step, "val_loss": held_in, "val_loss_held_out": held_out})
        return held_in

    def write_samples(self) -> None:
        """Sample stems for validation rows and score their class with the evaluator classifier."""
        from .classify import classify
        from .sampling import sample_latents

        cfg = self.cfg
        started = time.time()
        scores = {}
        for name, batch in self.val_batches.items():
            k = min(cfg.eval_clips // 2, batch["latent"].shape[0])
            cond = StemConditions(batch["text"][:k], batch["exemplar"][:k], batch["track"][:k],
                                  batch["drop_text"][:k], batch["drop_exemplar"][:k])
            lat = sample_latents(self.ema.module.eval(), cond, batch["latent"].shape[-1], cfg.eval_steps, cfg.sample_cfg)
            n = int(round(self.run.model.duration * self.run.model.sample_rate))
            waves = self.latent.decode(lat.cpu(), n).numpy()
            got = classify(list(waves))
            scores[f"class_acc_{name}"] = float(np.mean([g == c for g, c in zip(got, batch["classes"][:k])]))
            self._log(f"eval/class_acc_{name}", scores[f"class_acc_{name}"])
        log.info("step %d sampled class accuracy: held-in %.3f, held-out with exemplar %.3f (%.0f s)", self.step,
                 scores["class_acc_held_in"], scores["class_acc_held_out"], time.time() - started)
        self._append_curve({"step": self.step, **scores})
        self._plot_curve()

    # ---- learning curve -----------------------------------------------------------------
    def _append_curve(self, row: dict) -> None:
        path = Path(self.cfg.out_dir) / "curve.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as f:
            f.write(json.dumps(row) + "\n")

    def _plot_curve(self) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = [json.loads(line) for line in open(Path(self.cfg.out_dir) / "curve.jsonl")]
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
        for key, ax in (("val_loss", a), ("val_loss_held_out", a), ("class_acc_held_in", b), ("class_acc_held_out", b)):
            pts = [(r["step"], r[key]) for r in rows if key in r]
            if pts:
                ax.plot(*zip(*pts), marker=".", label=key)
        a.set_xlabel("step"), b.set_xlabel("step"), a.legend(), b.legend()
        with atomic_path(Path(self.cfg.out_dir) / "curve.png") as tmp:
            fig.savefig(tmp, format="png")
        plt.close(fig)


def export_model(trainer_or_ckpt: str | Path, out: str | Path, half: bool = False) -> Path:
    """Ship a checkpoint's EMA weights with the model config inside (kind stem_generator).
    `half`: stored as float16 (half the size in the wheel; loading casts them back to float32,
    a relative change of about 1e-3 that sampling does not hear)."""
    from ..train.checkpoint import export_weights, load_checkpoint
    from .config import StemModelConfig
    from ..config import from_dict

    ckpt = load_checkpoint(trainer_or_ckpt, kind=CHECKPOINT_KIND)
    config = from_dict(StemModelConfig, ckpt.config, where=f"{trainer_or_ckpt} config")
    model = StemDiT(config)
    model.load_state_dict(ckpt.group("ema") or ckpt.group("model"))
    return export_weights(out, CHECKPOINT_KIND, CHECKPOINT_VERSION, config, model.half() if half else model,
                          extra={"step": ckpt.step})
