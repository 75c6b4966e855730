"""Warm-starting the generator on a latent with the codec's added pitch channels."""

from __future__ import annotations

import torch

from prismaudio.models.conditioning import Conditions
from prismaudio.models.config import GeneratorConfig
from prismaudio.models.dit import FlowDiT
from prismaudio.models.widen import widen_latent_channels
from prismaudio.config import from_dict


def tiny(channels: int) -> FlowDiT:
    cfg = from_dict(GeneratorConfig, {"preset": "micro", "sample_rate": 16000, "hop": 320, "latent_channels": channels,
                                      "duration": 1.0, "width": 32, "depth": 1, "heads": 2, "patch": 2,
                                      "semantic_dim": 8, "sync_dim": 4, "text_dim": 8, "text_tokens": 4,
                                      "label_buckets": 8, "max_sources": 2})
    return FlowDiT(cfg).eval()


def test_widened_generator_predicts_the_old_channels_unchanged_and_zero_for_new_ones():
    torch.manual_seed(0)
    old = tiny(6)
    with torch.no_grad():
        for p in old.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # patch_out starts at zero: make every weight matter
    new = tiny(8)
    new.load_state_dict(widen_latent_channels(old.state_dict(), 6, 2, insert_at=3, count=2))
    x_old = torch.randn(2, 6, 50)
    x_new = torch.cat([x_old[:, :3], torch.randn(2, 2, 50), x_old[:, 3:]], dim=1)
    sigma = torch.tensor([0.3, 0.8])
    with torch.no_grad():
        v_old = old(x_old, sigma, Conditions())
        v_new = new(x_new, sigma, Conditions())
    assert torch.allclose(v_new[:, :3], v_old[:, :3], atol=1e-5)
    assert torch.allclose(v_new[:, 5:], v_old[:, 3:], atol=1e-5)
    assert torch.all(v_new[:, 3:5] == 0)
