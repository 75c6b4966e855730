"""PlannerConfig loads from YAML through prismaudio.config like every other config: the preset
holds the defaults, an unknown key is an error naming it, and `prismaudio plan --config` takes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from prismaudio.cli import main
from prismaudio.config import load_config
from prismaudio.errors import ConfigError
from prismaudio.planner.config import PlannerConfig

PRESET = Path(__file__).resolve().parents[1] / "configs" / "planner_default.yaml"


def test_the_preset_holds_the_defaults():
    assert load_config(PlannerConfig, PRESET) == PlannerConfig()


def test_a_nested_setting_is_read_and_an_unknown_key_named(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("max_sources: 2\nanalyser:\n  neck_radius: 0.0\nswaps:\n  enabled: false\n")
    cfg = load_config(PlannerConfig, good)
    assert (cfg.max_sources, cfg.analyser.neck_radius, cfg.swaps.enabled) == (2, 0.0, False)
    bad = tmp_path / "bad.yaml"
    bad.write_text("analyser:\n  neck_radious: 0.1\n")
    with pytest.raises(ConfigError, match="neck_radious"):
        load_config(PlannerConfig, bad)


def test_plan_cli_refuses_a_bad_config_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("max_source: 3\n")
    video = tmp_path / "missing.mp4"
    video.write_bytes(b"")
    assert main(["plan", str(video), "--config", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "max_source" in err[0]
