"""train/fit.py: the small heads' AdamW fit through the one loop."""

import numpy as np
import pytest
import torch

from prismaudio.train.fit import fit, scheduler


def _problem(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 5, generator=g)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.1
    torch.manual_seed(seed)
    return x, y, torch.nn.Linear(5, 1)


@pytest.mark.parametrize("schedule", ["cosine", "one-cycle", "constant"])
def test_fit_takes_the_same_steps_as_a_hand_written_adamw_loop(schedule):
    x, y, model = _problem()
    _, _, twin = _problem()
    loss_of = lambda m: ((m(x)[:, 0] - y) ** 2).mean()  # noqa: E731
    fit(model.parameters(), lambda step: loss_of(model), 40, 1e-2, weight_decay=1e-3, schedule=schedule)
    opt = torch.optim.AdamW(twin.parameters(), lr=1e-2, weight_decay=1e-3)
    sched = scheduler(opt, schedule, 40, 1e-2)
    for _ in range(40):
        loss = loss_of(twin)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
    for a, b in zip(model.parameters(), twin.parameters()):
        assert torch.equal(a, b)


def test_fit_lowers_the_loss_and_returns_the_last_one():
    x, y, model = _problem(1)
    before = float(((model(x)[:, 0] - y) ** 2).mean())
    last = fit(model.parameters(), lambda step: ((model(x)[:, 0] - y) ** 2).mean(), 300, 5e-2)
    assert last < before / 20
    assert fit(model.parameters(), lambda step: torch.zeros((), requires_grad=True), 0, 1e-3) == 0.0


def test_an_unknown_schedule_is_refused():
    _, _, model = _problem()
    with pytest.raises(ValueError, match="schedule"):
        fit(model.parameters(), lambda step: model.weight.sum(), 3, 1e-3, schedule="linear")


def test_the_sprite_probe_trains_as_before():
    """gate.fit_probe through fit(): the same weights as its own loop gave (full batch, no schedule)."""
    from prismaudio.planner_training.gate import fit_probe

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    got = fit_probe(x, y, hidden=8, epochs=25)
    torch.manual_seed(0)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.GELU(), torch.nn.Linear(8, 1))
    opt = torch.optim.AdamW(net.parameters(), 1e-3, weight_decay=1e-2)
    weight = torch.where(yt > 0, 0.5 / float(yt.mean()), 0.5 / (1 - float(yt.mean())))
    for _ in range(25):
        opt.zero_grad()
        loss = (weight * torch.nn.functional.binary_cross_entropy_with_logits(net(xt)[:, 0], yt, reduction="none")).mean()
        loss.backward()
        opt.step()
    assert torch.equal(got["w1"], net[0].weight.detach()) and torch.equal(got["b2"], net[2].bias.detach())
