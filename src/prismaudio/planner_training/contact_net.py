"""Train the contact network (`planner/events/contact_net.py`) on PhysWorld's exact contacts.

    python -m prismaudio.planner_training.contact_net --physics data/physworld \
        [--more data/physworld_more ...] [--val-more data/physdev ...] [--size 160] \
        [--channels 16,48,96,128 --blocks 2] [--lr 2e-3] [--steps 4000] \
        [--run-dir runs/contact_net] [--out PATH]
    python -m prismaudio.planner_training.contact_net --view object --size 48 --blocks 2 --chunks 16 \
        --more ... --val-more ... --out PATH        # the object view: tubes around each object
    python -m prismaudio.planner_training.contact_net --average A.safetensors --average B.safetensors \
        [--val-more data/physdev] --out PATH     # an ensemble of trained networks, no training

Each clip is decoded as the planner decodes it (`decode_for_analysis`), turned grey at the
network's size (or cut into tubes around its objects, `contact_clips.py`) and cached in
--run-dir with its frames' shown times and the simulator's impacts. Frame k is labelled a
contact when an impact falls between the frame shown before it and frame k; its timing
target is how far before frame k (in frame intervals). Training
draws chunks of frames from the train split of --physics and every --more build (more
rendered clips: `prismaudio canvas build DIR --world physics --train N --val 0 --test 0
--seed S`); the val split (and the train split of each
--val-more build) picks the peak threshold with the best F1 of contacts within 40 ms (the
benchmark's tolerance), and the test split is never read. Training state is
saved every 250 steps in --run-dir (a stopped run resumes).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from .contact_clips import ClipData, jittered, load_split, validation_clips

log = logging.getLogger(__name__)
TOLERANCE = 0.040


def frame_labels(times: np.ndarray, onsets: np.ndarray, strengths: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(label [T], before [T], strength [T]): frame k is a contact when an onset lies in
    (times[k-1], times[k]] (the first frame that can show it); `before` is how far before
    frame k, in frame intervals; `strength` the strongest contact's there."""
    label, before = np.zeros(len(times), np.float32), np.zeros(len(times), np.float32)
    strength = np.zeros(len(times), np.float32)
    strengths = np.ones(len(onsets)) if strengths is None else strengths
    for c, s in zip(onsets, strengths):
        k = int(np.searchsorted(times, c - 1e-9))  # first frame shown at or after the onset
        if k >= len(times):
            continue
        while k > 0 and times[k - 1] == times[k]:
            k -= 1  # a frame shown twice: its first showing
        step = float(times[k] - times[k - 1]) if k > 0 else 1.0
        if label[k] == 0.0 or s > strength[k]:
            before[k] = float(np.clip((times[k] - c) / max(step, 1e-6), 0.0, 1.0))
            strength[k] = float(s)
        label[k] = 1.0
    return label, before, strength


def match_count(planned: list[float], true: list[float], tolerance: float = TOLERANCE) -> int:
    """One-to-one matches within `tolerance`, closest pairs first (as the planner benchmark scores)."""
    from ..dsp.onsets import closest_pairs

    return len(closest_pairs(planned, true, tolerance))


def evaluate(net, clips: list[ClipData]) -> tuple[float, dict]:
    """The threshold with the best F1 on `clips`, and P / R / F1 there."""
    from dataclasses import replace

    from ..planner.events.contact_net import contact_peaks, contact_times, grey_contacts

    scored = [(grey_contacts(net, c.grey), c) for c in clips]
    best = (0.5, {"f1": -1.0})
    for th in np.arange(0.1, 0.91, 0.05):
        hits = planned = true = 0
        for found, c in scored:
            times = [t for t, _ in contact_times(replace(found, peaks=contact_peaks(found.probability, th)), c.times)]
            hits += match_count(times, list(c.onsets))
            planned += len(times)
            true += len(c.onsets)
        p, r = hits / max(planned, 1), hits / max(true, 1)
        f1 = 2 * p * r / max(p + r, 1e-9)
        if f1 > best[1]["f1"]:
            best = (round(float(th), 2), {"precision": p, "recall": r, "f1": f1, "hits": hits, "planned": planned, "true": true})
    net.train()
    return best


def draw_batch(clips: list[ClipData], rng: np.random.Generator, chunks: int, length: int, size: int = 0):
    """`chunks` random runs of `length` frames: (padded greys, labels, timing and strength targets);
    wide tubes are cut to `size` with the tracker's imprecision (`jittered`)."""
    from ..planner.events.contact_net import CONTEXT, padded

    greys, labels, befores, strengths = [], [], [], []
    for _ in range(chunks):
        c = clips[int(rng.integers(len(clips)))]
        t = len(c.grey)
        a = int(rng.integers(0, max(1, t - length + 1)))
        b = min(t, a + length)
        g = padded(c.grey)[a : b + 2 * CONTEXT]  # frames a - CONTEXT .. b + CONTEXT, the clip's ends repeated
        if size and g.shape[-1] != size:
            g = jittered(g, rng, size)
        if rng.random() < 0.5:
            g = g.flip(-1)  # mirrored pictures: contacts do not care about left and right
        # other exposures and contrasts than the renderer's (real footage is darker, flatter, brighter)
        g = (g * float(rng.uniform(0.6, 1.3)) + float(rng.uniform(-0.15, 0.15))).clamp(0.0, 1.0)
        lab, bef, strength = frame_labels(c.times, c.onsets, c.strengths)
        greys.append(g)
        labels.append(torch.from_numpy(lab[a:b]))
        befores.append(torch.from_numpy(bef[a:b]))
        strengths.append(torch.from_numpy(strength[a:b]))
    return greys, labels, befores, strengths


def train(root: str, more: list[str], run_dir: str, out: str, steps: int, threads: int,
          val_more: list[str] = (), size: int = 0, channels: tuple[int, ...] = (), blocks: int = 0,
          val_every: int = 250, lr: float = 2e-3, view: str = "picture", chunks: int = 4) -> str:
    from ..planner.events.contact_net import CONTACT_NET_KIND, ContactNet, ContactNetConfig
    from ..train.checkpoint import export_weights, latest_checkpoint, load_checkpoint, restore_training_state, \
        save_training_state

    torch.set_num_threads(threads)
    shape = {"size": size, "channels": tuple(channels), "blocks": blocks}
    cfg = ContactNetConfig(**{k: v for k, v in shape.items() if v}, view=view)  # 0 or empty: the default
    cache = cache_dir(run_dir, cfg)
    train_clips = load_split(root, "train", cfg.size, cache, view, wide=True)
    for extra in more:
        train_clips += load_split(extra, "train", cfg.size, cache, view, wide=True)
    val_clips = validation_clips(root, val_more, cfg.size, cache, view)
    log.info("%d train clips (%d impacts), %d val clips", len(train_clips),
             sum(len(c.onsets) for c in train_clips), len(val_clips))
    torch.manual_seed(0)
    net = ContactNet(cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.05)
    state_dir = Path(run_dir) / "state"
    start = 0
    if (last := latest_checkpoint(state_dir)) is not None:
        start = restore_training_state(load_checkpoint(last), net, opt)
        for _ in range(start):
            sched.step()  # (the schedule is a function of the step)
        log.info("resumed at step %d", start)
    rng = np.random.default_rng(1000 + start)
    history: list[dict] = []
    t0, losses = time.time(), []
    for i in range(start, steps):
        greys, labels, befores, strengths = draw_batch(train_clips, rng, chunks=chunks, length=48, size=cfg.size)
        feats = torch.stack([net.frame_features(g) for g in greys])
        logits, before, strength = net(feats)
        label, target, loud = torch.stack(labels), torch.stack(befores), torch.stack(strengths)
        loss = F.binary_cross_entropy_with_logits(logits, label, pos_weight=torch.tensor(4.0))
        if label.sum() > 0:
            loss = loss + (label * ((before - target).abs() + (strength - loud).abs())).sum() / label.sum()
        opt.zero_grad()
        loss.backward()
        # a deep stack without normalisation once jumped to the base rate after one bad batch at the peak rate
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        done = i + 1
        if done % 50 == 0:
            log.info("step %d/%d loss %.4f (%.2f s/step)", done, steps, np.mean(losses[-50:]), (time.time() - t0) / len(losses))
        if done % val_every == 0 and done < steps:
            th, fig = evaluate(net, val_clips)
            history.append({"step": done, "threshold": th, **fig})
            log.info("val at step %d: threshold %.2f P %.3f R %.3f F1 %.3f", done, th, fig["precision"], fig["recall"], fig["f1"])
        if done % 250 == 0 or done == steps:
            save_training_state(state_dir / f"step_{done:06d}.safetensors", CONTACT_NET_KIND, 1, cfg, done, net, opt)
    th, fig = evaluate(net, val_clips)
    history.append({"step": steps, "threshold": th, **fig})
    cfg.threshold = th
    export_weights(out, CONTACT_NET_KIND, 1, cfg, net,
                   extra={"physics": Path(root).name, "more": [Path(m).name for m in more], "val_more": [Path(m).name for m in val_more],
                          "train_clips": len(train_clips), "val_clips": len(val_clips), "val": fig,
                          "curve": history})
    print(f"val: threshold {th:.2f} P {fig['precision']:.3f} R {fig['recall']:.3f} F1 {fig['f1']:.3f} -> {out}")
    return out


def cache_dir(run_dir: str, cfg) -> Path:
    """One cache of decoded clips per view and picture size."""
    return Path(run_dir) / (f"clips{cfg.size}" if cfg.view == "picture" else f"tubes{cfg.size}w")  # (wide tubes)


def average(paths: list[str], root: str, val_more: list[str], run_dir: str, out: str) -> str:
    """An ensemble of trained networks (`ContactEnsemble`: their outputs averaged), its
    threshold set on val like a trained network's."""
    from ..planner.events.contact_net import CONTACT_ENSEMBLE_KIND, ContactEnsemble, ContactEnsembleConfig, ContactNet, \
        load_contact_net
    from ..train.checkpoint import export_weights

    nets = [load_contact_net(p) for p in paths]
    for path, net in zip(paths, nets):
        if not isinstance(net, ContactNet):
            raise SystemExit(f"{path}: {'no such file' if net is None else 'an ensemble'}; --average takes single trained networks")
    ensemble = ContactEnsemble(ContactEnsembleConfig([n.cfg for n in nets]))
    for member, net in zip(ensemble.members, nets):
        member.load_state_dict(net.state_dict())
    th, fig = evaluate(ensemble, validation_clips(root, val_more, ensemble.cfg.size, cache_dir(run_dir, ensemble.cfg),
                                                  ensemble.cfg.view))
    ensemble.cfg.threshold = th
    export_weights(out, CONTACT_ENSEMBLE_KIND, 1, ensemble.cfg, ensemble,
                   extra={"members": [Path(p).name for p in paths], "val_more": [Path(m).name for m in val_more], "val": fig})
    print(f"val: threshold {th:.2f} P {fig['precision']:.3f} R {fig['recall']:.3f} F1 {fig['f1']:.3f} -> {out}")
    return out


def main() -> int:
    from ..planner.events.contact_net import CONTACT_NET_PATH

    ap = argparse.ArgumentParser()
    ap.add_argument("--physics", default="data/physworld")
    ap.add_argument("--more", action="append", default=[], help="another PhysWorld build whose train split is used too")
    ap.add_argument("--val-more", action="append", default=[],
                    help="another PhysWorld build whose train split joins the validation (never the test split)")
    ap.add_argument("--size", type=int, default=0, help="picture side the network sees (0: the default)")
    ap.add_argument("--channels", default="", help="convolution widths per stage, e.g. 16,48,96,128 (empty: the default)")
    ap.add_argument("--blocks", type=int, default=0, help="convolutions per stage (0: the default)")
    ap.add_argument("--view", choices=("picture", "object"), default="picture",
                    help="whole frames, or a tube around each object (planner/events/object_tubes.py)")
    ap.add_argument("--chunks", type=int, default=4, help="runs of 48 frames per batch")
    ap.add_argument("--val-every", type=int, default=250, help="steps between validations")
    ap.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (one cycle)")
    ap.add_argument("--average", action="append", default=[],
                    help="no training: average these trained networks into one ensemble (its threshold set on val)")
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--run-dir", default="runs/contact_net")
    ap.add_argument("--out", default=str(CONTACT_NET_PATH))
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if a.average:
        average(a.average, a.physics, a.val_more, a.run_dir, a.out)
        return 0
    channels = tuple(int(c) for c in a.channels.split(",")) if a.channels else ()
    train(a.physics, a.more, a.run_dir, a.out, a.steps, a.threads, a.val_more, a.size, channels, a.blocks, a.val_every, a.lr, a.view, a.chunks)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
