"""Strict typed configs: unknown keys name the closest valid key, wrong types name the field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from prismaudio.config import dump_yaml, from_dict, load_config
from prismaudio.errors import ConfigError


@dataclass
class Optim:
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.99)


@dataclass
class Experiment:
    name: str
    steps: int = 10
    preset: Literal["tiny", "paper"] = "tiny"
    optim: Optim = field(default_factory=Optim)
    tags: list[str] = field(default_factory=list)
    warmup: int | None = None


def test_loads_nested_yaml(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("name: run\nsteps: 5\noptim:\n  lr: 3\n  betas: [0.8, 0.9]\ntags: [a, b]\n")
    cfg = load_config(Experiment, path)
    assert cfg.optim.lr == 3.0 and isinstance(cfg.optim.lr, float)
    assert cfg.optim.betas == (0.8, 0.9) and cfg.tags == ["a", "b"] and cfg.warmup is None
    assert load_config(Experiment, tmp_path / "exp.yaml", overrides={"optim": {"lr": 0.5}}).optim.lr == 0.5
    assert from_dict(Experiment, __import__("yaml").safe_load(dump_yaml(cfg))) == cfg


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "x", "stpes": 3}, "unknown key 'stpes' (did you mean 'steps'?)"),
        ({"name": "x", "optim": {"lr_rate": 1}}, "config.optim: unknown key 'lr_rate' (did you mean 'lr'?)"),
        ({"name": "x", "steps": "ten"}, "config.steps: expected an integer"),
        ({"name": "x", "steps": 2.5}, "config.steps: expected an integer"),
        ({"name": "x", "preset": "huge"}, "config.preset: 'huge' is not one of 'tiny', 'paper'"),
        ({"name": "x", "optim": {"betas": [0.9]}}, "config.optim.betas: expected 2 items"),
        ({"steps": 1}, "missing required key(s): name"),
        ({"name": "x", "tags": "a"}, "config.tags: expected a list"),
    ],
)
def test_errors_name_the_key(data, message):
    with pytest.raises(ConfigError) as e:
        from_dict(Experiment, data)
    assert message in str(e.value)


def test_bad_yaml_file(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(Experiment, path)
    with pytest.raises(ConfigError, match="not found"):
        load_config(Experiment, tmp_path / "missing.yaml")
