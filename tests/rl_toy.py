"""A small self-contained RL world for the tests of prismaudio.rl: a conv velocity network
over latents [B, C, L] with a condition vector, a fixed linear "decoder" to stereo audio,
and rewards that measure simple, well-defined properties of that audio."""

from __future__ import annotations

import torch
from torch import nn

from prismaudio.rl.trainer import Prompt, RLEnvironment

C, L, D, HOP = 4, 16, 8, 8


class TinyVelocity(nn.Module):
    def __init__(self, channels: int = C, cond_dim: int = D, width: int = 32, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.inp = nn.Conv1d(channels, width, 3, padding=1)
        self.cond = nn.Linear(cond_dim + 1, width)
        self.mid = nn.Conv1d(width, width, 3, padding=1)
        self.out = nn.Conv1d(width, channels, 3, padding=1)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.2)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = self.inp(x) + self.cond(torch.cat([cond, sigma[:, None]], dim=1))[:, :, None]
        return self.out(torch.tanh(self.mid(torch.tanh(h)))) + x * 0.5


class LinearDecoder:
    """latents [B, C, L] -> audio [B, 2, L * HOP]: channels 0/1 feed left/right, upsampled."""

    def __init__(self):
        self.mix = torch.tensor([[1.0, 0.0, 0.3, 0.0], [0.0, 1.0, 0.0, 0.3]])

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        return torch.einsum("oc,bcl->bol", self.mix, z.float()).repeat_interleave(HOP, dim=-1)


def left_level(audio: torch.Tensor, sample) -> torch.Tensor:
    return audio[:, 0].mean(dim=-1)


def right_quiet(audio: torch.Tensor, sample) -> torch.Tensor:
    return -audio[:, 1].abs().mean(dim=-1)


def make_env(num_prompts: int = 4, rewards=None, evaluators=None) -> RLEnvironment:
    g = torch.Generator().manual_seed(123)
    prompts = [Prompt(key=f"p{i}", cond=torch.randn(1, D, generator=g), reward_sample=[f"p{i}"]) for i in range(num_prompts)]
    return RLEnvironment(
        latent_shape=(C, L), decode=LinearDecoder(),
        rewards=rewards or {"left": left_level, "quiet": right_quiet},
        train_prompts=prompts, eval_prompts=prompts[:2],
        evaluators=evaluators or {"left_level": left_level},
    )


def ddp_worker(rank: int, world: int, port: int, out: str, config_dict: dict) -> None:
    """One torchrun-like rank (gloo): train a few iterations, write the log rows and weights."""
    import json
    import os

    import torch.distributed as dist
    from safetensors.torch import save_file

    from prismaudio.config import from_dict
    from prismaudio.rl.config import GRPOConfig
    from prismaudio.rl.trainer import GRPOTrainer
    from prismaudio.train.distributed import DistInfo, cleanup

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    if world > 1:
        dist.init_process_group("gloo", rank=rank, world_size=world)
    cfg = from_dict(GRPOConfig, config_dict)
    model = TinyVelocity()
    import copy

    trainer = GRPOTrainer(cfg, model, copy.deepcopy(model), make_env(), dist=DistInfo(rank=rank, world_size=world),
                          out_dir=f"{out}/run{world}")
    rows = trainer.train(resume=False)
    if rank == 0:
        with open(f"{out}/rows{world}.json", "w") as f:
            json.dump(rows, f)
        save_file({k: v.contiguous() for k, v in trainer.model.state_dict().items()}, f"{out}/weights{world}.safetensors")
    cleanup(DistInfo(rank=rank, world_size=world))
    if world > 1:
        # A spawned rank's results are written and its group is torn down; leave without
        # running C++ static destructors, where gloo's worker threads can still abort the
        # process ('terminate called without an active exception') on a loaded machine.
        os._exit(0)
