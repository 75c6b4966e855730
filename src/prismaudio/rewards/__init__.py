"""Rewards for RL: one per plan module behind one protocol, and their weighted composite."""

from .base import Reward, RewardError, RewardSample
from .composite import REWARD_NAMES, CompositeReward, RewardsConfig, build_reward

__all__ = ["Reward", "RewardError", "RewardSample", "CompositeReward", "RewardsConfig", "build_reward", "REWARD_NAMES"]
