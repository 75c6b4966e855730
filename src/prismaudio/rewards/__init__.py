"""Rewards for RL: one per plan module behind one protocol, and their weighted composite."""

from .base import Reward, RewardError, RewardSample, as_reward_sample
from .composite import REWARD_NAMES, CompositeReward, RewardsConfig, build_reward, build_rewards

__all__ = ["Reward", "RewardError", "RewardSample", "CompositeReward", "RewardsConfig", "build_reward", "build_rewards", "as_reward_sample", "REWARD_NAMES"]
