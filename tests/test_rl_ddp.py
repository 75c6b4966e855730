import json
import socket

import pytest
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file

from rl_toy import ddp_worker

CONFIG = dict(num_steps=6, branches=3, window=2, trees_per_group=2, prompts_per_iteration=2, cfg_strength=2.0,
              clip_range=0.2, beta=0.04, lr=3e-3, reward_weights={"left": 1.0, "quiet": 0.5}, advantage="per-reward",
              micro_batch=4, eval_every=0, checkpoint_every=1000, iterations=2)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_ranks_match_one_process(tmp_path):
    ddp_worker(0, 1, _port(), str(tmp_path), CONFIG)
    mp.spawn(ddp_worker, args=(2, _port(), str(tmp_path), CONFIG), nprocs=2, join=True)
    one = json.loads((tmp_path / "rows1.json").read_text())
    two = json.loads((tmp_path / "rows2.json").read_text())
    for a, b in zip(one, two):
        for key in ("reward/left/mean", "reward/left/std", "reward/quiet/mean", "reward/quiet/std",
                    "advantage/mean", "advantage/std", "advantage/min", "advantage/max", "kl", "ratio/mean"):
            assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-5), key
        assert a["groups"] == b["groups"] == 2
    w1, w2 = load_file(str(tmp_path / "weights1.safetensors")), load_file(str(tmp_path / "weights2.safetensors"))
    for k in w1:
        torch.testing.assert_close(w1[k], w2[k], rtol=1e-4, atol=1e-5)
