import math

import pytest
import torch

from prismaudio.rl.advantages import GroupStatTracker, group_advantages


def test_reward_sum_advantage_hand_computed():
    # group 0: composite R = 1*a + 0.5*b = [1, 2, 3]; group 1: [0, 4]
    rewards = {"a": torch.tensor([1.0, 1.0, 2.0, 0.0, 2.0]), "b": torch.tensor([0.0, 2.0, 2.0, 0.0, 4.0])}
    groups = torch.tensor([0, 0, 0, 1, 1])
    res = group_advantages(rewards, groups, {"a": 1.0, "b": 0.5}, "reward-sum")
    std0 = math.sqrt(2 / 3)
    expected = [-1 / (std0 + 1e-4), 0.0, 1 / (std0 + 1e-4), -2 / (2 + 1e-4), 2 / (2 + 1e-4)]
    torch.testing.assert_close(res.advantages.double(), torch.tensor(expected, dtype=torch.float64), rtol=1e-6, atol=1e-6)
    assert res.trained.all() and res.num_flat_groups == 0


def test_per_reward_advantage_hand_computed():
    rewards = {"a": torch.tensor([1.0, 3.0, 5.0, 5.0]), "b": torch.tensor([10.0, 10.0, 0.0, 20.0])}
    groups = torch.tensor([0, 0, 1, 1])
    res = group_advantages(rewards, groups, {"a": 1.0, "b": 0.6}, "per-reward")
    # group 0: a -> [-1, 1] (std 1), b flat -> 0;  group 1: a flat -> 0, b -> 0.6 * [-1, 1]
    expected = torch.tensor([-1 / (1 + 1e-8), 1 / (1 + 1e-8), -0.6 * 10 / (10 + 1e-8), 0.6 * 10 / (10 + 1e-8)])
    torch.testing.assert_close(res.advantages, expected.float())
    # the two variants differ: reward-sum mixes scales before normalising
    rs = group_advantages(rewards, groups, {"a": 1.0, "b": 0.6}, "reward-sum")
    assert not torch.allclose(rs.advantages, res.advantages)


def test_clamp_flat_groups_and_nonfinite_rewards():
    r = torch.tensor([0.0] * 9 + [100.0, 7.0, 7.0, 7.0, float("nan"), 1.0, 2.0])
    groups = torch.tensor([0] * 10 + [1] * 3 + [2] * 3)
    res = group_advantages({"a": r}, groups, {"a": 1.0}, "reward-sum", clip=5.0)
    torch.testing.assert_close(res.advantages[9], torch.tensor(3.0), atol=1e-4, rtol=0)  # z = 3: inside the clamp
    assert res.num_flat_groups == 1 and not res.trained[10:13].any() and (res.advantages[10:13] == 0).all()
    assert res.num_invalid == 1 and res.invalid[13] and not res.trained[13] and res.advantages[13] == 0
    torch.testing.assert_close(res.advantages[14:], torch.tensor([-0.5, 0.5]) / (0.5 + 1e-4))  # NaN left out of the stats
    big = group_advantages({"a": torch.tensor([0.0] * 99 + [1.0])}, torch.zeros(100, dtype=torch.long), {"a": 1.0}, clip=5.0)
    assert big.advantages.max() == 5.0  # z = 9.95 clamped


def test_unknown_weight_and_tracker():
    with pytest.raises(KeyError):
        group_advantages({"a": torch.zeros(2)}, torch.zeros(2, dtype=torch.long), {"b": 1.0})
    r = {"a": torch.tensor([1.0, 2.0, 3.0, 3.0])}
    groups = torch.tensor([0, 0, 1, 1])
    res = group_advantages(r, groups, {"a": 1.0})
    tr = GroupStatTracker()
    tr.update(["x", "y"], r["a"], groups, res)
    assert tr.last_mean == {"x": 1.5, "y": 3.0} and tr.total_flat_groups == 1
    assert tr.stats()["tracker/conditionings_seen"] == 2
