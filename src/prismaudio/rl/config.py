"""GRPOConfig: every knob of RL post-training, one typed dataclass (presets: configs/grpo_*.yaml).

Public settings (../shared/docs/method.md section 5) live in configs/grpo_paper.yaml: M = 8
branches, W = 2 SDE steps, T = 24 steps, clip 1e-4, beta 0.04, AdamW 1e-5 / wd 1e-4,
grad-norm clip 1.0, CFG 5, weights semantic 1.0, temporal 0.6, spatial 0.4, aesthetic 0.1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MODES = ("fast-grpo", "flow-grpo", "mix-grpo")
ADVANTAGES = ("reward-sum", "per-reward")


@dataclass
class GRPOConfig:
    # what is trained and against what
    generator_checkpoint: str | None = None  # the pretrained generator (policy init)
    reference_checkpoint: str | None = None  # frozen KL reference; None = the generator checkpoint
    codec_checkpoint: str | None = None
    data: str | None = None  # cached generator features (train/data.py layout) of the rollout prompts
    eval_data: str | None = None  # cached features of the fixed held-out set (evaluators)
    manifest: str | None = None  # SynthCanvas manifest.jsonl: the plans of the cached clips (the rewards read them)
    eval_size: int = 16  # first eval_size held-out clips, evaluated every eval_every iterations
    clip_seconds: float | None = None  # crop every prompt to this length (None: the model's duration)
    random_init: bool = False  # benchmarks only: a random generator of `random_preset` when no checkpoint
    random_preset: str = "tiny"
    out_dir: str = "runs/grpo"
    # sampling
    mode: Literal["fast-grpo", "flow-grpo", "mix-grpo"] = "fast-grpo"
    num_steps: int = 24  # T
    shift: float = 1.0
    # noise level the rollouts start at: 1 = pure noise; below 1 every prompt carries a start
    # latent (a sketch) noised to it, SDEdit style, the path the stem engine samples
    start_sigma: float = 1.0
    noise_level: float = 0.7  # a in std_t = a sqrt(sigma / (1 - sigma))
    cfg_strength: float = 5.0  # used inside the policy, in rollout and update alike
    branches: int = 8  # M: copies made at the branch step (flow-grpo: the group members per tree)
    window: int = 2  # W: SDE steps after the branch (fast/mix)
    branch_max_fraction: float = 0.5  # k is drawn from 0 .. floor(T * this): the high-noise half
    trees_per_group: int = 2  # rollout trees sharing one conditioning (group = trees x M)
    suffix_solver: Literal["euler", "heun"] = "euler"
    suffix_steps: int = 0  # ODE steps after the window, spread over the grid (0: every grid step; fast/mix only)
    mix_shift_every: int = 25  # mix-grpo: iterations between window moves
    mix_stride: int = 1  # mix-grpo: steps the window moves each time
    # advantages
    advantage: Literal["reward-sum", "per-reward"] = "reward-sum"
    reward_weights: dict[str, float] = field(default_factory=lambda: {
        "semantic": 1.0, "temporal": 0.6, "spatial": 0.4, "aesthetic": 0.1})
    advantage_clip: float = 5.0
    # update
    prompts_per_iteration: int = 2  # conditionings per iteration, across all ranks
    updates_per_rollout: int = 1  # optimizer steps per rollout batch (disjoint sample minibatches)
    micro_batch: int = 16  # transitions per forward/backward (memory only: gradients accumulate)
    clip_range: float = 1e-4  # PPO clip of the ratio (tiny because logp is an element mean)
    beta: float = 0.04  # KL weight
    lr: float = 1e-5
    weight_decay: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float = 1.0
    ema_decay: float = 0.99
    # loop
    iterations: int = 100
    eval_every: int = 25
    checkpoint_every: int = 25
    seed: int = 0
    device: str = "auto"
    threads: int = 0  # torch threads (0 = leave torch's default)

    def __post_init__(self) -> None:
        if self.num_steps < 2:
            raise ValueError(f"num_steps must be at least 2, got {self.num_steps}")
        if self.branches < 1 or self.trees_per_group < 1:
            raise ValueError("branches and trees_per_group must be at least 1")
        if self.window < 1:
            raise ValueError(f"window must be at least 1 SDE step, got {self.window}")
        if self.mode != "flow-grpo" and self.window > self.num_steps - 1:
            raise ValueError(
                f"window of {self.window} SDE steps does not fit in {self.num_steps} steps "
                f"(at most num_steps - 1 = {self.num_steps - 1}: the last step to sigma = 0 is never an SDE step)")
        if not 0 < self.start_sigma <= 1:
            raise ValueError(f"start_sigma must be in (0, 1], got {self.start_sigma}")
        if self.suffix_steps < 0:
            raise ValueError(f"suffix_steps must be 0 (every grid step) or positive, got {self.suffix_steps}")
        if not 0 <= self.branch_max_fraction <= 1:
            raise ValueError("branch_max_fraction must be in [0, 1]")
        if self.noise_level <= 0:
            raise ValueError("noise_level must be positive (a zero noise level has no log-probability)")
        if self.clip_range <= 0 or self.beta < 0 or self.lr <= 0:
            raise ValueError("clip_range and lr must be positive, beta non-negative")
        if self.updates_per_rollout < 1 or self.micro_batch < 1 or self.prompts_per_iteration < 1:
            raise ValueError("updates_per_rollout, micro_batch and prompts_per_iteration must be at least 1")
        if self.group_size < 2:
            raise ValueError("a group needs at least 2 samples (trees_per_group x branches)")
        if not self.reward_weights:
            raise ValueError("reward_weights is empty")

    @property
    def group_size(self) -> int:
        return self.trees_per_group * self.branches

    @property
    def branch_range(self) -> tuple[int, int]:
        """Inclusive range of the branch step k: the high-noise half, leaving room for the window."""
        hi = min(int(self.num_steps * self.branch_max_fraction), self.num_steps - 1 - self.window)
        return 0, hi

    @property
    def trained_steps_per_sample(self) -> int:
        return self.num_steps - 1 if self.mode == "flow-grpo" else self.window
