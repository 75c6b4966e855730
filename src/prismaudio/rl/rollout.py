"""Rollout trees: the samples GRPO learns from, with the log-probability of every trained step.

Fast-GRPO (one tree per conditioning, ../shared/docs/method.md section 5):

    noise --ODE 0..k-1 (one latent)--> branch x M --SDE k..k+W-1 (stored)--> ODE k+W..T-1 --> x0

The ODE suffix runs on the same grid, or (`suffix_steps`) on a coarser one: nothing after the
window is trained, so it only has to reach x0, which the plain sampler does in 8 steps as well
as in 24 (benchmarks/bench_steps.py).

k is drawn afresh for every tree from its own seeded torch.Generator (the public code reseeds
Python's RNG with the rank, so k never changes: not copied). Each tree's generator is seeded
by (seed, iteration, global tree index) alone, so a tree is the same whichever rank, batch or
resume produces it: DDP groups equal single-process groups, and resume is exact.

Modes share this code path:
  fast-grpo  k random in the high-noise half, W SDE steps, shared ODE prefix.
  flow-grpo  the full-SDE baseline: every step 0..T-2 is an SDE step and is trained; each of
             the M members starts from its own noise (no shared prefix).
  mix-grpo   MixGRPO's sliding window: like fast-grpo but k follows a schedule over
             iterations (moved by `mix_stride` every `mix_shift_every` iterations).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from ..flow.batching import batch_index
from ..flow.samplers import GuidedVelocity, euler_step  # noqa: F401  (the policy: GuidedVelocity(model, cfg_strength=w))
from .config import GRPOConfig
from .sde import sde_step_with_logprob

log = logging.getLogger(__name__)


@dataclass
class Transitions:
    """One stored SDE step for a set of samples (a "slab"): what the update re-evaluates."""

    x: torch.Tensor  # [N, C, L] state before the step
    x_next: torch.Tensor  # [N, C, L] state after it (the sampled outcome)
    logp_old: torch.Tensor  # [N] log-prob under the rollout policy
    sigma: torch.Tensor  # [N]
    sigma_next: torch.Tensor  # [N]
    sample: torch.Tensor  # [N] long: row of the sample in its RolloutBatch


@dataclass
class RolloutBatch:
    latents: torch.Tensor  # [B, C, L] final x0 of every sample
    cond: Any  # conditioning, one row per sample
    group: torch.Tensor  # [B] long: global index of the sample's conditioning (its GRPO group)
    tree: torch.Tensor  # [B] long: global tree index
    branch_step: torch.Tensor  # [num_trees] the k of each tree
    transitions: list[Transitions]

    @property
    def num_samples(self) -> int:
        return self.latents.shape[0]

    @property
    def num_transitions(self) -> int:
        return sum(t.x.shape[0] for t in self.transitions)


ROLLOUT, MINIBATCH, EVALUATION = 0, 1, 2  # independent random streams of one run


def tree_generator(seed: int, iteration: int, tree: int, device: torch.device | str = "cpu",
                   stream: int = ROLLOUT) -> torch.Generator:
    """A generator seeded by (seed, stream, iteration, tree) alone: same tree on any rank or batch."""
    state = np.random.SeedSequence([int(seed), int(stream), int(iteration), int(tree)]).generate_state(2, dtype=np.uint32)
    g = torch.Generator(device=device)
    g.manual_seed(int(state[0]) << 32 | int(state[1]))
    return g


def mix_window_start(config: GRPOConfig, iteration: int) -> int:
    """MixGRPO's sliding window: start at step 0, move `mix_stride` every `mix_shift_every` iterations,
    wrap around inside the high-noise half."""
    lo, hi = config.branch_range
    return lo + (iteration // config.mix_shift_every * config.mix_stride) % (hi - lo + 1)


def suffix_grid(start: int, num_steps: int, suffix_steps: int) -> list[int]:
    """Indices into the rollout's sigma grid that the ODE suffix visits, from `start` to
    `num_steps` (sigma = 0): every index (suffix_steps = 0 or at least the steps left), or
    `suffix_steps` steps evenly spread over them (MixGRPO-Flash's coarser ODE after the window:
    nothing after the window is trained, so it only has to land on the same x0)."""
    left = num_steps - start
    if left <= 0:
        return [start]
    if suffix_steps <= 0 or suffix_steps >= left:
        return list(range(start, num_steps + 1))
    return sorted({int(round(v)) for v in np.linspace(start, num_steps, suffix_steps + 1)})


@dataclass(frozen=True)
class TreeStep:
    """One step of a tree's schedule: from sigmas[frm] to sigmas[to]."""

    frm: int
    to: int
    sde: bool


def tree_schedule(branch_step: int, window: int, num_steps: int, suffix_steps: int) -> list[TreeStep]:
    """ODE prefix 0..k-1, SDE window k..k+W-1, ODE suffix to sigma = 0 (see `suffix_grid`)."""
    k, W = branch_step, window
    steps = [TreeStep(i, i + 1, False) for i in range(k)] + [TreeStep(i, i + 1, True) for i in range(k, k + W)]
    grid = suffix_grid(k + W, num_steps, suffix_steps)
    return steps + [TreeStep(a, b, False) for a, b in zip(grid[:-1], grid[1:])]


@torch.no_grad()
def rollout(
    policy: Callable, cond: Any, tree_ids: list[int], groups: list[int], latent_shape: tuple[int, ...],
    sigmas: torch.Tensor, config: GRPOConfig, iteration: int, device: torch.device | str = "cpu",
    start: torch.Tensor | None = None,
) -> RolloutBatch:
    """Grow one tree per row of `cond` (rows = trees, `tree_ids` their global indices, `groups`
    their conditionings' global indices) and return every sample with its stored transitions.

    All trees advance together, one batched policy call per round (and one more for Heun
    suffix steps); a tree before its branch step contributes one row, after it M rows. `start`
    [n, *latent_shape] (one per tree): the trees start at sigmas[0] from (1 - s) start + s noise
    instead of from pure noise (SDEdit from a sketch, as the stem engine samples). Rounds
    before k + W are the same grid step for every tree; in the suffix each row carries its own
    sigmas (trees branch at different k, so their coarse suffix grids differ).
    """
    T, M = len(sigmas) - 1, config.branches
    n = len(tree_ids)
    flow = config.mode == "flow-grpo"
    W = T - 1 if flow else config.window
    gens = [tree_generator(config.seed, iteration, t, device) for t in tree_ids]
    if flow:
        ks = [0] * n
    elif config.mode == "mix-grpo":
        ks = [mix_window_start(config, iteration)] * n
    else:
        lo, hi = config.branch_range
        ks = [int(torch.randint(lo, hi + 1, (1,), generator=g, device=device)) for g in gens]
    schedules = [tree_schedule(k, W, T, 0 if flow else config.suffix_steps) for k in ks]
    # state [n, M, ...]: before its branch a tree's row 0 is the only live latent
    x = torch.zeros(n, M, *latent_shape, device=device, dtype=torch.float32)
    for t, g in enumerate(gens):
        count = M if flow else 1
        x[t, :count] = torch.randn(count, *latent_shape, generator=g, device=device)
    if start is not None:
        s0 = float(sigmas[0])
        x = (1.0 - s0) * start.to(device=device, dtype=torch.float32)[:, None] + s0 * x
    stored: list[list[tuple]] = [[] for _ in range(n)]
    sigmas = sigmas.to(device)
    for r in range(max(len(s) for s in schedules)):
        for t in range(n):
            if not flow and r == ks[t]:
                x[t, 1:] = x[t, 0]  # branch: M copies of the prefix latent
        rows = [(t, m) for t in range(n) if r < len(schedules[t]) for m in range(M if (flow or r >= ks[t]) else 1)]
        steps = [schedules[t][r] for t, _ in rows]
        tree_idx = torch.tensor([t for t, _ in rows], device=device)
        xr = torch.stack([x[t, m] for t, m in rows])
        cond_r = batch_index(cond, tree_idx)
        sig_r = sigmas[torch.tensor([st.frm for st in steps], device=device)]
        sig_next_r = sigmas[torch.tensor([st.to for st in steps], device=device)]
        v = policy(xr, sig_r, cond_r).float()
        out = euler_step(xr, v, sig_r, sig_next_r)
        is_sde = torch.tensor([st.sde for st in steps], device=device)
        is_suffix = torch.tensor([st.frm >= ks[t] + W for st, (t, _) in zip(steps, rows)], device=device)
        if config.suffix_solver == "heun":
            sel = (is_suffix & (sig_next_r > 0)).nonzero().flatten()
            if len(sel):
                v2 = policy(out[sel], sig_next_r[sel], batch_index(cond_r, sel)).float()
                out[sel] = euler_step(xr[sel], 0.5 * (v[sel] + v2), sig_r[sel], sig_next_r[sel])
        if bool(is_sde.any()):
            sel = is_sde.nonzero().flatten()
            s, s_next = sigmas[r], sigmas[r + 1]  # window rounds are grid step r for every tree
            # noise from each tree's own generator, in a fixed order (step, branch)
            noise = torch.cat([torch.randn(M, *latent_shape, generator=gens[t], device=device)
                               for t in sorted({rows[j][0] for j in sel.tolist()})])
            step = sde_step_with_logprob(xr[sel], v[sel], s, s_next, config.noise_level, float(sigmas[1]), noise=noise)
            out[sel] = step.x_next
            for j, i in enumerate(sel.tolist()):
                t, m = rows[i]
                stored[t].append((m, xr[i], step.x_next[j], step.logp[j]))
        for i, (t, m) in enumerate(rows):
            x[t, m] = out[i]
    latents = x.reshape(n * M, *latent_shape)
    transitions = []
    for slot in range(W):
        xs, xn, lp, sg, sn, idx = [], [], [], [], [], []
        for t in range(n):
            for m, xi, xo, logp in stored[t][slot * M:(slot + 1) * M]:
                step_i = ks[t] + slot
                xs.append(xi), xn.append(xo), lp.append(logp)
                sg.append(sigmas[step_i]), sn.append(sigmas[step_i + 1]), idx.append(t * M + m)
        transitions.append(Transitions(
            x=torch.stack(xs), x_next=torch.stack(xn), logp_old=torch.stack(lp), sigma=torch.stack(sg),
            sigma_next=torch.stack(sn), sample=torch.tensor(idx, device=device)))
    sample_tree = torch.arange(n).repeat_interleave(M)
    return RolloutBatch(
        latents=latents, cond=batch_index(cond, sample_tree.to(device)),
        group=torch.tensor(groups).repeat_interleave(M), tree=torch.tensor(tree_ids).repeat_interleave(M),
        branch_step=torch.tensor(ks), transitions=transitions,
    )
