"""The default-model recipe: stage bookkeeping, bundles it writes, and what a user sees when
the packaged model is missing or damaged."""

from __future__ import annotations

import json

import pytest
import torch

from prismaudio import pipeline
from prismaudio.cli import main
from prismaudio.encoders.cache import ClipEntry, shard_of
from prismaudio.errors import CheckpointError, PrismError
from prismaudio.pipeline import PrismAudio
from prismaudio.recipe import RecipeConfig, RecipePaths
from prismaudio.recipe.bundle import write_bundle
from prismaudio.recipe.evaluation import results_table
from prismaudio.recipe.stages import _extract_jobs
from prismaudio.train.checkpoint import export_weights


def test_list_shows_every_stage_todo_in_an_empty_work_dir(tmp_path, capsys):
    code = main(["recipe", "--list", "--work-dir", str(tmp_path / "work"), "--canvas-dir", str(tmp_path / "none")])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert [line.split()[0] for line in lines] == ["canvas", "codec", "decoder", "features", "generator", "evaluators",
                                                   "grpo", "stems", "stems-grpo", "evaluate", "bundle"]
    assert all(line.split()[1] == "todo" for line in lines)


def test_decoder_stage_derives_its_config_from_the_trained_codec(tmp_path, capsys):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"work_dir: {tmp_path / 'work'}\ndecoder_config: configs/codec_tiny_decoder.yaml\ndecoder_steps: 0\n")
    assert main(["recipe", str(recipe), "--list"]) == 0
    assert "decoder     off" in capsys.readouterr().out  # 0 steps: the stage is skipped
    paths = RecipePaths(tmp_path / "work", tmp_path / "canvas")
    assert paths.decoding_codec == paths.codec  # until the fine-tuned decoder exists
    paths.work.mkdir()
    paths.codec_decoder.write_bytes(b"x")
    assert paths.decoding_codec == paths.codec_decoder


def test_unknown_stage_is_one_line_and_exit_2(tmp_path, capsys):
    code = main(["recipe", "--only", "vocoder", "--work-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "unknown stage 'vocoder'" in err[0]


def test_validation_shards_take_every_nth_clip_once():
    cfg = RecipeConfig(val_every_nth=4, extract_workers=2)
    shards = [s for split, s in _extract_jobs(cfg, RecipePaths.of(cfg)) if split == "val"]
    entries = [ClipEntry(f"clip{i:03d}", None, None, None, "val") for i in range(40)]
    taken = sorted(e.id for s in shards for e in shard_of(entries, tuple(map(int, s.split("/")))))
    assert taken == [f"clip{i:03d}" for i in range(0, 40, 4)]


def test_results_table_has_a_row_per_model_and_marks_missing_metrics():
    results = {"clips": {"test": 3}, "scores": {"test": {"reference": {"class-accuracy": 1.0, "side-accuracy": 0.97},
                                                         "after RL": {"class-accuracy": 0.5}}}}
    table = results_table(results)
    assert "SynthCanvas test (3 clips)" in table
    assert "| reference | 1.000 |" in table and "| after RL | 0.500 |" in table
    assert "n/a" in table.splitlines()[-2]


@pytest.fixture(scope="module")
def tiny_parts(tmp_path_factory):
    """A recipe work dir holding a codec and a generator checkpoint (random tiny weights)."""
    torch.set_num_threads(2)
    pipe = PrismAudio.tiny_random(seed=1)
    work = tmp_path_factory.mktemp("recipe")
    bundle = pipe.save_bundle(work / "from_pipe")
    paths = RecipePaths(work, work / "canvas")
    (bundle / "codec.safetensors").rename(paths.codec)
    export_weights(paths.generator, "generator", 1, pipe.config, pipe.generator)
    return RecipeConfig(work_dir=str(work), bundle_num_steps=8), paths


def test_bundle_records_how_each_component_was_trained_and_loads(tiny_parts):
    cfg, paths = tiny_parts
    folder = write_bundle(cfg, paths)
    index = json.loads((folder / "prismaudio.json").read_text())
    assert index["post_training"] is None  # no Fast-GRPO output: the pretrained generator is shipped
    assert index["components"]["recipe"]["name"] == "tiny"
    assert {"classifier", "clap_eval", "quality_reward"} <= set(index["components"]["evaluators"])
    head = index["components"]["planner_heads"]["recognition_head"]
    assert head["kind"] and head["version"] >= 1 and "config" in head  # each part's version and training config
    model = PrismAudio.from_pretrained(folder, device="cpu")
    assert model.config.preset == "tiny"
    assert model.defaults["num_steps"] == cfg.bundle_num_steps  # the recipe's sampling default ships with it
    assert not (paths.bundle.with_name("bundle.partial")).exists()


def test_damaged_packaged_model_names_the_file_and_the_rebuild_command(tiny_parts, tmp_path, monkeypatch):
    cfg, paths = tiny_parts
    folder = write_bundle(cfg, paths)
    models = tmp_path / "models"
    (models / "tiny").mkdir(parents=True)
    for f in folder.iterdir():
        (models / "tiny" / f.name).write_bytes(f.read_bytes())
    monkeypatch.setattr(pipeline.bundle, "MODEL_DIRS", [models])
    data = (models / "tiny" / "codec.safetensors").read_bytes()
    (models / "tiny" / "codec.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError) as err:
        PrismAudio.from_pretrained("tiny", device="cpu")
    assert "codec.safetensors" in str(err.value) and "make train-default" in str(err.value)
    (models / "tiny" / "generator.safetensors").unlink()
    with pytest.raises(PrismError, match="generator.safetensors.*make train-default"):
        PrismAudio.from_pretrained("tiny", device="cpu")


def test_stem_stage_can_be_switched_off_and_its_outputs_join_the_bundle(tmp_path, capsys):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"work_dir: {tmp_path / 'work'}\nstem_config: null\n")
    assert main(["recipe", str(recipe), "--list"]) == 0
    assert "stems       off" in capsys.readouterr().out
    paths = RecipePaths(tmp_path / "work", tmp_path / "canvas")
    assert paths.stem_model.parent == paths.exemplar_bank.parent == paths.work


def test_stem_grpo_stage_follows_the_stems_stage_on_the_recipes_own_files(tmp_path, capsys):
    from prismaudio.recipe.stages import STAGE_NAMES, stem_grpo_config
    from prismaudio.stemgen.grpo import load_stem_grpo

    assert STAGE_NAMES.index("stems-grpo") == STAGE_NAMES.index("stems") + 1
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"work_dir: {tmp_path / 'work'}\nstem_grpo_iterations: 0\n")
    assert main(["recipe", str(recipe), "--list"]) == 0
    assert "stems-grpo  off" in capsys.readouterr().out
    cfg = RecipeConfig(work_dir=str(tmp_path / "work"), stem_grpo_iterations=7)
    paths = RecipePaths.of(cfg)
    run = load_stem_grpo(stem_grpo_config(cfg, paths))  # the derived config loads strictly
    assert run.plans.stem_model == str(paths.stem_model) and run.plans.exemplar_bank == str(paths.exemplar_bank)
    assert run.plans.codec == str(paths.codec) and run.grpo.iterations == 7 and run.grpo.out_dir == str(paths.stem_grpo_run)
    assert paths.shipped_stem_model(after_grpo=True) == paths.stem_model  # until the stage has written its model
    paths.stem_grpo_run.mkdir(parents=True, exist_ok=True)
    paths.stem_model_rl.write_bytes(b"x")
    assert paths.shipped_stem_model(after_grpo=True) == paths.stem_model_rl
    assert paths.shipped_stem_model(after_grpo=False) == paths.stem_model  # the default: RL did not win
