"""Fitting a small head with AdamW: the evaluators, the planner's heads, probes and verifiers.

    fit(model.parameters(), lambda step: loss_on(draw_batch(step)), steps=3000, lr=2e-3)

The large trainers (generator, stem generator, codec, Fast-GRPO) keep checkpoints, validation
and resumption in their own classes; these heads train in seconds to minutes, in memory, and
only differ in their loss, learning rate, weight decay and schedule. Both kinds step through
the one loop (`train/loop.run_loop`).
"""

from __future__ import annotations

import logging
from typing import Callable, Iterable, Literal

import torch

from .loop import Every, run_loop

log = logging.getLogger(__name__)
Schedule = Literal["cosine", "one-cycle", "constant"]


def scheduler(opt: torch.optim.Optimizer, schedule: Schedule, steps: int, lr: float):
    """cosine: lr falls to 0 over the steps; one-cycle: warms up over the first 5%, then
    falls (the centre net); constant: none."""
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    if schedule == "one-cycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.05)
    if schedule == "constant":
        return None
    raise ValueError(f"unknown schedule '{schedule}' (cosine, one-cycle, constant)")


def fit(params: Iterable[torch.nn.Parameter], loss_at: Callable[[int], torch.Tensor], steps: int, lr: float,
        weight_decay: float = 1e-4, schedule: Schedule = "cosine", log_every: int = 0, desc: str = "fit",
        progress: bool = False) -> float:
    """Minimise `loss_at(step)` for `steps` AdamW steps; returns the last step's loss.
    `loss_at` draws its own batch (and so owns its random generator)."""
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    sched = scheduler(opt, schedule, steps, lr)

    def step(i: int) -> float:
        loss = loss_at(i)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        return float(loss.detach())

    def report(done: int, loss: float) -> dict:
        log.info("%s step %d loss %.4f", desc, done, loss)
        return {"loss": f"{loss:.4f}"}

    jobs = [Every(log_every, report)] if log_every > 0 else []
    losses = run_loop(step, 0, steps, jobs, progress=progress, desc=desc)
    return losses[-1] if losses else 0.0
