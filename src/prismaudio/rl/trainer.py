"""The GRPO loop: rollouts -> decode -> rewards -> group advantages -> PPO-clip update.

One iteration:
  1. pick `prompts_per_iteration` conditionings (a permutation seeded by (seed, iteration));
     grow `trees_per_group` trees for each; the trees are spread over the ranks;
  2. decode every sample and score it with every reward; all-gather the rewards so each rank
     computes the same group statistics a single process would;
  3. one optimizer step per minibatch (default: one per rollout batch), its gradient
     accumulated over exactly the stored transitions of its samples, summed over ranks;
  4. EMA, logs (TensorBoard + JSONL), periodic evaluation of the EMA policy with the
     evaluators (never the rewards) on a fixed held-out set, checkpoints.

Rollout noise and data order are functions of (seed, iteration, tree), so resume is exact.
Faults: a non-finite reward drops that sample (counted), a flat group gives no update
(counted), a non-finite gradient skips the optimizer step (counted): weights are never
written from a non-finite value.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.distributed as torch_dist

from ..config import to_dict
from ..errors import ConfigError
from ..flow.batching import batch_cat, batch_index
from ..flow.samplers import GuidedVelocity, get_sampler
from ..train.checkpoint import latest_checkpoint, load_checkpoint, restore_training_state, save_training_state
from ..train.distributed import DistInfo, all_gather_tensor
from ..train.ema import lerp_weights
from ..train.loop import Every, run_loop
from .advantages import GroupStatTracker, group_advantages
from .config import GRPOConfig
from .loss import kl_to_reference, ppo_clip_loss
from .rollout import EVALUATION, MINIBATCH, RolloutBatch, rollout, tree_generator
from .sde import sde_step_with_logprob, timestep_schedule

log = logging.getLogger(__name__)

CHECKPOINT_KIND = "grpo"
CHECKPOINT_VERSION = 1


@dataclass
class Prompt:
    """One conditioning: what the model reads (batch of 1) and what the rewards read (batch of 1)."""

    key: str
    cond: Any
    reward_sample: Any = None
    start: torch.Tensor | None = None  # [1, *latent_shape]: the sketch rollouts start from (start_sigma < 1)


@dataclass
class RLEnvironment:
    """Everything around the policy: latent size, decoder, rewards, evaluators, prompts."""

    latent_shape: tuple[int, ...]
    decode: Callable[[torch.Tensor], torch.Tensor]  # latents [B, C, L] -> audio [B, 2, N]
    rewards: dict[str, Any]  # name -> reward with score(audio, sample) -> [B] (or a callable)
    train_prompts: list[Prompt]
    eval_prompts: list[Prompt] = field(default_factory=list)
    evaluators: dict[str, Any] = field(default_factory=dict)  # name -> score(audio, sample) -> [B]
    # the evaluation suite over a whole held-out set: (audio [B, 2, N], prompts) -> {metric: value}
    suite: Callable[[torch.Tensor, list[Prompt]], dict[str, float]] | None = None


def _score(fn: Any, audio: torch.Tensor, sample: Any) -> torch.Tensor:
    out = fn.score(audio, sample) if hasattr(fn, "score") else fn(audio, sample)
    out = torch.as_tensor(out, dtype=torch.float32).detach().cpu().flatten()
    if out.shape[0] != audio.shape[0]:
        raise ValueError(f"a reward returned {out.shape[0]} scores for {audio.shape[0]} clips")
    return out


def _starts(prompts: list[Prompt], config: GRPOConfig) -> torch.Tensor | None:
    """The prompts' start latents [n, ...] when rollouts start from sketches, else None."""
    if config.start_sigma >= 1.0:
        return None
    missing = [p.key for p in prompts if p.start is None]
    if missing:
        raise ConfigError(f"start_sigma {config.start_sigma} < 1 needs a start latent per prompt; {missing[0]} has none")
    return torch.cat([p.start for p in prompts])


class GRPOTrainer:
    def __init__(self, config: GRPOConfig, model: torch.nn.Module, reference: torch.nn.Module | None,
                 env: RLEnvironment, dist: DistInfo | None = None, out_dir: str | Path | None = None,
                 model_config: Any = None, record: dict | None = None):
        """`record`: more settings stored in every checkpoint (the stem GRPO's plan settings)."""
        self.config, self.env, self.dist = config, env, dist or DistInfo()
        self.device = self.dist.device
        self.model = model.to(self.device).eval()  # eval: no dropout, so ratio == 1 on-policy
        if config.beta > 0 and reference is None:
            raise ConfigError("beta > 0 needs a frozen reference model (reference_checkpoint)")
        self.reference = reference.to(self.device).eval().requires_grad_(False) if reference is not None else None
        self.ema = copy.deepcopy(self.model).requires_grad_(False)
        self.model_config = model_config
        self.record = record
        missing = [k for k in config.reward_weights if k not in env.rewards]
        if missing:
            raise ConfigError(f"reward_weights names {', '.join(missing)} but the rewards are {', '.join(env.rewards)}")
        total_trees = config.prompts_per_iteration * config.trees_per_group
        if total_trees % self.dist.world_size:
            raise ConfigError(f"{total_trees} trees per iteration do not split over {self.dist.world_size} ranks")
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.params, lr=config.lr, weight_decay=config.weight_decay, betas=config.betas)
        # a rollout from a sketch runs the same grid scaled to start at start_sigma (stemgen/sampling.py)
        self.sigmas = (timestep_schedule(config.num_steps, config.shift) * config.start_sigma).to(self.device)
        self.policy = GuidedVelocity(self.model, cfg_strength=config.cfg_strength)
        self.tracker = GroupStatTracker()
        self.out_dir = Path(out_dir or config.out_dir)
        self.iteration = 0
        self.skipped_steps = 0
        self._writer = None
        if self.dist.enabled:  # identical starting weights on every rank
            for p in self.model.state_dict().values():
                torch_dist.broadcast(p, 0)
            self.ema.load_state_dict(self.model.state_dict())

    # ---- 1-2. rollouts and rewards ----------------------------------------------------------
    def iteration_prompts(self, iteration: int) -> list[int]:
        n, p = len(self.env.train_prompts), self.config.prompts_per_iteration
        rng = np.random.default_rng([self.config.seed, iteration, 1])
        return rng.choice(n, size=p, replace=p > n).tolist()

    def collect(self, iteration: int) -> tuple[RolloutBatch, dict[str, torch.Tensor], torch.Tensor, list[str]]:
        """This rank's rollout batch, and the all-gathered rewards [B_global] and groups."""
        cfg = self.config
        prompts = [self.env.train_prompts[i] for i in self.iteration_prompts(iteration)]
        trees = [(g, j) for g in range(len(prompts)) for j in range(cfg.trees_per_group)]
        per_rank = len(trees) // self.dist.world_size
        mine = list(range(self.dist.rank * per_rank, (self.dist.rank + 1) * per_rank))
        cond = batch_cat([prompts[trees[t][0]].cond for t in mine])
        cond = cond.to(self.device) if hasattr(cond, "to") else cond
        batch = rollout(self.policy, cond, mine, [trees[t][0] for t in mine], self.env.latent_shape,
                        self.sigmas, cfg, iteration, self.device, start=_starts([prompts[trees[t][0]] for t in mine], cfg))
        audio = self.env.decode(batch.latents)
        samples = batch_cat([prompts[trees[t][0]].reward_sample for t in mine])
        samples = batch_index(samples, torch.arange(len(mine)).repeat_interleave(cfg.branches))
        local = {name: _score(fn, audio, samples) for name, fn in self.env.rewards.items()}
        rewards = {name: all_gather_tensor(self.dist, r.to(self.device)).cpu() for name, r in local.items()}
        groups = torch.tensor([g for g, _ in trees]).repeat_interleave(cfg.branches)
        return batch, rewards, groups, [p.key for p in prompts]

    # ---- 3. the update ----------------------------------------------------------------------
    def _transition_terms(self, batch: RolloutBatch, tr, rows: torch.Tensor, adv: torch.Tensor):
        cfg = self.config
        x, x_next = tr.x[rows], tr.x_next[rows]
        sigma, sigma_next = tr.sigma[rows], tr.sigma_next[rows]
        cond = batch_index(batch.cond, tr.sample[rows])
        v = self.policy(x, sigma, cond)
        step = sde_step_with_logprob(x, v, sigma, sigma_next, cfg.noise_level, float(self.sigmas[1]), prev_sample=x_next)
        ppo = ppo_clip_loss(step.logp, tr.logp_old[rows], adv[tr.sample[rows]].to(self.device), cfg.clip_range)
        if self.reference is not None and cfg.beta > 0:
            with torch.no_grad():
                v_ref = GuidedVelocity(self.reference, cfg_strength=cfg.cfg_strength)(x, sigma, cond)
                ref = sde_step_with_logprob(x, v_ref, sigma, sigma_next, cfg.noise_level, float(self.sigmas[1]), prev_sample=x_next)
            kl = kl_to_reference(step.mean, ref.mean, step.std)
        else:
            kl = torch.zeros_like(ppo.loss)
        return ppo, kl

    def update(self, batch: RolloutBatch, advantages: torch.Tensor, trained: torch.Tensor, iteration: int) -> dict:
        """Optimizer step(s) on this rank's trained samples; gradients summed over ranks."""
        cfg = self.config
        local_trained = trained.nonzero().flatten()
        order = local_trained[torch.randperm(len(local_trained), generator=tree_generator(cfg.seed, iteration, 0, stream=MINIBATCH))]
        minibatches = [order[i::cfg.updates_per_rollout] for i in range(cfg.updates_per_rollout)]
        ratios, clipped, kls, losses, steps = [], [], [], [], 0
        for mb in minibatches:
            chosen = torch.zeros(batch.num_samples, dtype=torch.bool)
            chosen[mb] = True
            slabs = [(tr, chosen[tr.sample.cpu()].nonzero().flatten().to(self.device)) for tr in batch.transitions]
            count = torch.tensor(float(sum(len(r) for _, r in slabs)), device=self.device)
            if self.dist.enabled:
                torch_dist.all_reduce(count)
            if count.item() == 0:
                continue
            self.optimizer.zero_grad(set_to_none=False)
            for tr, rows in slabs:
                for chunk in rows.split(cfg.micro_batch):
                    ppo, kl = self._transition_terms(batch, tr, chunk, advantages)
                    ((ppo.loss.sum() + cfg.beta * kl.sum()) / count).backward()
                    ratios.append(ppo.ratio.cpu()), clipped.append(ppo.clipped.cpu())
                    kls.append(kl.detach().cpu()), losses.append(ppo.loss.detach().cpu())
            steps += self._optimizer_step()
        cat = lambda xs: torch.cat(xs) if xs else torch.zeros(0)  # noqa: E731
        r, c, k, lo = cat(ratios).double(), cat(clipped).double(), cat(kls).double(), cat(losses).double()
        # statistics over every rank's transitions (what one process would log)
        sums = torch.tensor([r.sum(), c.sum(), k.sum(), lo.sum(), float(len(r))], dtype=torch.float64)
        rmin = torch.tensor([float(r.min()) if len(r) else math.inf], dtype=torch.float64)
        rmax = torch.tensor([float(r.max()) if len(r) else -math.inf], dtype=torch.float64)
        if self.dist.enabled:
            torch_dist.all_reduce(sums)
            torch_dist.all_reduce(rmin, op=torch_dist.ReduceOp.MIN)
            torch_dist.all_reduce(rmax, op=torch_dist.ReduceOp.MAX)
        n = float(sums[4])
        mean = lambda i: float(sums[i] / n) if n else float("nan")  # noqa: E731
        return {
            "ratio/mean": mean(0), "ratio/min": float(rmin) if n else float("nan"),
            "ratio/max": float(rmax) if n else float("nan"), "clip_fraction": mean(1), "kl": mean(2),
            "policy_loss": mean(3), "transitions": int(n), "optimizer_steps": steps,
        }

    def _optimizer_step(self) -> int:
        grads = []
        for p in self.params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            grads.append(p.grad)
        if self.dist.enabled:
            for g in grads:
                torch_dist.all_reduce(g)
        finite = all(bool(torch.isfinite(g).all()) for g in grads)
        if not finite:
            self.skipped_steps += 1
            log.warning("non-finite gradient: optimizer step skipped (%d so far)", self.skipped_steps)
            self.optimizer.zero_grad(set_to_none=True)
            return 0
        torch.nn.utils.clip_grad_norm_(self.params, self.config.grad_clip)
        self.optimizer.step()
        lerp_weights(self.ema, self.model, self.config.ema_decay)  # a fixed decay: RL starts from a trained model
        return 1

    # ---- one iteration ----------------------------------------------------------------------
    def step(self, iteration: int) -> dict:
        cfg = self.config
        t0 = time.perf_counter()
        batch, rewards, groups, keys = self.collect(iteration)
        t1 = time.perf_counter()
        result = group_advantages(rewards, groups, cfg.reward_weights, cfg.advantage, cfg.advantage_clip)
        composite = sum(w * rewards[k] for k, w in cfg.reward_weights.items())
        self.tracker.update(keys, composite, groups, result)
        n_local = batch.num_samples
        lo = self.dist.rank * n_local
        stats = self.update(batch, result.advantages[lo:lo + n_local], result.trained[lo:lo + n_local], iteration)
        t2 = time.perf_counter()
        ok = ~result.invalid
        row: dict[str, Any] = {"iteration": iteration}
        for name, r in rewards.items():
            row[f"reward/{name}/mean"] = float(r[ok].mean()) if ok.any() else float("nan")
            row[f"reward/{name}/std"] = float(r[ok].std(unbiased=False)) if ok.any() else float("nan")
        row["reward/composite/mean"] = float(composite[ok].mean()) if ok.any() else float("nan")
        a = result.advantages[result.trained]
        row.update({
            "advantage/mean": float(a.mean()) if len(a) else 0.0, "advantage/std": float(a.std(unbiased=False)) if len(a) else 0.0,
            "advantage/min": float(a.min()) if len(a) else 0.0, "advantage/max": float(a.max()) if len(a) else 0.0,
            "dropped_samples": result.num_invalid, "flat_groups": result.num_flat_groups, "groups": result.num_groups,
            "skipped_steps": self.skipped_steps, "branch_steps": batch.branch_step.tolist(),
            "time/rollout_s": t1 - t0, "time/update_s": t2 - t1,
        })
        row.update(stats)
        return row

    # ---- 4. evaluation, logging, checkpoints ------------------------------------------------
    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """EMA policy, plain ODE sampler, fixed noise per held-out prompt; evaluators' means."""
        prompts = self.env.eval_prompts
        if not prompts or not (self.env.evaluators or self.env.suite):
            return {}
        noise = torch.stack([torch.randn(self.env.latent_shape, generator=tree_generator(self.config.seed, 0, i, stream=EVALUATION))
                             for i in range(len(prompts))]).to(self.device)
        cond = batch_cat([p.cond for p in prompts])
        cond = cond.to(self.device) if hasattr(cond, "to") else cond
        # the plain ODE sampler of inference (Euler or Heun over the rollout's grid)
        start = _starts(prompts, self.config)
        if start is not None:
            s0 = float(self.sigmas[0])
            noise = (1.0 - s0) * start.to(self.device) + s0 * noise
        latents = get_sampler(self.config.suffix_solver)(GuidedVelocity(self.ema, cond, self.config.cfg_strength),
                                                         noise.float(), self.sigmas)
        audio = self.env.decode(latents)
        samples = batch_cat([p.reward_sample for p in prompts])
        out = {}
        for name, fn in self.env.evaluators.items():
            scores = _score(fn, audio, samples)
            out[f"eval/{name}"] = float(scores[torch.isfinite(scores)].mean())
        if self.env.suite is not None:
            out.update({f"eval/{k}": float(v) for k, v in self.env.suite(audio, prompts).items()
                        if isinstance(v, (int, float)) and v is not None})
        return out

    def _log(self, row: dict) -> None:
        if not self.dist.is_main:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with open(self.out_dir / "log.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        if self._writer is None:
            from ..log import tensorboard_writer as SummaryWriter

            self._writer = SummaryWriter(str(self.out_dir / "tb"))
        for k, v in row.items():
            if isinstance(v, (int, float)) and k != "iteration" and math.isfinite(v):
                self._writer.add_scalar(k, v, row["iteration"])
        self._writer.flush()

    def save(self, iteration: int) -> Path | None:
        if not self.dist.is_main:
            return None
        extra = {"tracker": self.tracker.state_dict(), "skipped_steps": self.skipped_steps,
                 "model_config": to_dict(self.model_config) if self.model_config is not None else None}
        if self.record:
            extra["record"] = self.record
        path = self.out_dir / f"step_{iteration:08d}.safetensors"
        return save_training_state(path, CHECKPOINT_KIND, CHECKPOINT_VERSION, self.config, iteration,
                                   self.model, self.optimizer, self.ema, extra=extra)

    def resume(self) -> int:
        """Continue from the newest checkpoint in out_dir; returns the next iteration."""
        path = latest_checkpoint(self.out_dir)
        if path is None:
            return 0
        ckpt = load_checkpoint(path, kind=CHECKPOINT_KIND, map_location=str(self.device))
        done = restore_training_state(ckpt, self.model, self.optimizer, self.ema)
        self.tracker.load_state_dict(ckpt.extra.get("tracker", {}))
        self.skipped_steps = int(ckpt.extra.get("skipped_steps", 0))
        log_path = self.out_dir / "log.jsonl"
        if self.dist.is_main and log_path.is_file():  # drop rows logged after that checkpoint
            rows = [ln for ln in log_path.read_text().splitlines() if ln and json.loads(ln)["iteration"] <= done]
            log_path.write_text("".join(r + "\n" for r in rows))
        log.info("resumed from %s (iteration %d)", path, done)
        return done + 1

    def train(self, iterations: int | None = None, resume: bool = True, progress: bool = False) -> list[dict]:
        total = self.config.iterations if iterations is None else iterations
        start = self.resume() if resume else 0
        if start == 0 and self.config.eval_every > 0:
            ev = self.evaluate()
            if ev:
                self._log({"iteration": -1, **ev})  # before RL
        every = self.config.eval_every
        rows = run_loop(self.step, start, total, [  # the shared loop (train/loop.py), in this order:
            Every(every, lambda done, row: row.update(self.evaluate()), at_end=every > 0),  # evaluate into the row
            Every(1, lambda done, row: self._log(row)),
            Every(self.config.checkpoint_every, lambda done, row: self.save(done - 1), at_end=True),
        ], progress=progress, desc="grpo", unit="it")
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        return rows
