"""Multi-dimensional RL post-training of the flow generator (Fast-GRPO, Flow-GRPO, MixGRPO).

    sde.py         the SDE step with log-probability (one pure function) and the ODE steps
    rollout.py     rollout trees: ODE prefix -> branch into M -> SDE window -> ODE suffix
    advantages.py  group-normalised advantages (reward-sum or per-reward), group stats
    loss.py        PPO-clip on the likelihood ratio + KL to a frozen reference
    trainer.py     the loop: rollouts, rewards, advantages, update, EMA, logs, checkpoints
    config.py      GRPOConfig (presets in configs/grpo_*.yaml)
"""

from .advantages import AdvantageResult, GroupStatTracker, group_advantages
from .config import GRPOConfig
from .loss import kl_to_reference, ppo_clip_loss
from .sde import SDEStep, euler_step, sde_step_with_logprob, timestep_schedule

__all__ = [
    "AdvantageResult", "GRPOConfig", "GroupStatTracker", "SDEStep", "euler_step", "group_advantages",
    "kl_to_reference", "ppo_clip_loss", "sde_step_with_logprob", "timestep_schedule",
]
