"""Each reward moves the same way as its metric on the same broken copies."""

import numpy as np
import pytest
import torch

from evalsets import make_items
from prismaudio.metrics.sanity import BREAKS, break_audio
from prismaudio.rewards import CompositeReward, RewardError, RewardSample, RewardsConfig
from prismaudio.config import load_config


@pytest.fixture(scope="module")
def scores(canvas_root):
    items = make_items(canvas_root)
    comp = CompositeReward(cfg=load_config(RewardsConfig, "configs/rewards_tiny.yaml"))
    motion = torch.from_numpy(np.stack([i.motion for i in items]))[..., None]
    out = {}
    for kind in (None,) + BREAKS:
        audio = torch.from_numpy(np.stack([i.audio if kind is None else break_audio(kind, i, items, k) for k, i in enumerate(items)]))
        sample = RewardSample(16000, [i.plan for i in items], motion, 25.0)
        out[kind or "self"] = {k: v.numpy() for k, v in comp.score_all(audio, sample).items()}
    return out


def test_shapes_and_composite_is_weighted_mean(scores):
    s = scores["self"]
    assert all(v.shape == (6,) for v in s.values())
    w = {"semantic": 1.0, "temporal": 1.0, "aesthetic": 0.5, "spatial": 1.0}
    expected = sum(w[k] * s[k] for k in w) / sum(w.values())
    np.testing.assert_allclose(s["composite"], expected, rtol=1e-5)


@pytest.mark.parametrize("kind,reward", [("shifted", "temporal"), ("swapped", "spatial"), ("noisy", "aesthetic"),
                                         ("wrong_class", "semantic")])
def test_each_reward_drops_on_its_breakage(scores, kind, reward):
    assert scores[kind][reward].mean() < scores["self"][reward].mean() - 0.15
    assert scores[kind]["composite"].mean() < scores["self"]["composite"].mean()


def test_rewards_unmoved_by_breakage_of_other_modules(scores):
    # a channel swap changes nothing a semantic or aesthetic model can hear
    np.testing.assert_allclose(scores["swapped"]["semantic"], scores["self"]["semantic"], atol=1e-4)
    np.testing.assert_allclose(scores["swapped"]["aesthetic"], scores["self"]["aesthetic"], atol=1e-4)


def test_resampled_input_and_reference_audio(canvas_root):
    from prismaudio.rewards.spatial import SpatialReward
    from scipy.signal import resample_poly

    # the clip whose source is furthest off centre: swapping its channels must matter
    item = max(make_items(canvas_root), key=lambda i: abs(float(np.mean(i.plan.spatial.tracks[0].x))))
    ref = torch.from_numpy(item.audio)[None]
    hi = torch.from_numpy(resample_poly(item.audio, 3, 1, axis=1).astype(np.float32))[None]
    r = SpatialReward()
    good = r.score(hi, RewardSample(48000, item.plan, reference=torch.from_numpy(resample_poly(item.audio, 3, 1, axis=1).astype(np.float32))[None]))
    bad = r.score(hi.flip(1), RewardSample(48000, item.plan, reference=torch.from_numpy(resample_poly(item.audio, 3, 1, axis=1).astype(np.float32))[None]))
    assert good.item() > 0.9 and bad.item() < good.item() - 0.3
    assert r.score(ref, RewardSample(16000, item.plan)).item() > 0.8


def test_bad_reward_inputs_are_clear_errors(canvas_root):
    item = make_items(canvas_root, ("grand piano",))[0]
    with pytest.raises(RewardError, match="unknown reward"):
        CompositeReward({"loudness": 1.0})
    from prismaudio.rewards.spatial import SpatialReward

    with pytest.raises(RewardError, match="2 plans for a batch of 1"):
        SpatialReward().score(torch.zeros(1, 2, 32000), RewardSample(16000, [item.plan, item.plan]))
    silent = SpatialReward().score(torch.zeros(1, 2, 32000), RewardSample(16000, item.plan))
    assert silent.item() == 0.0


def test_build_rewards_accepts_a_plain_context_object(canvas_root):
    from dataclasses import dataclass

    from prismaudio.rewards import build_rewards

    @dataclass
    class Context:  # like the RL environment's ClipContext
        ids: list
        plans: list
        reference: torch.Tensor | None

    item = make_items(canvas_root, ("cowbell",))[0]
    audio = torch.from_numpy(item.audio)[None]
    rewards = build_rewards(["spatial", "aesthetic"])
    ctx = Context([item.id], [item.plan], audio)
    assert rewards["spatial"].score(audio, ctx).item() > 0.8
    assert rewards["aesthetic"].score(audio, ctx).shape == (1,)
