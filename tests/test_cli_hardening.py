"""Issue 24, command line: each defect a new user found, as a test (exit 2 with one line, no
traceback, no lost input, no nonsense accepted)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from media_factory import make_video
import prismaudio
from prismaudio.cli import main

PACKAGE = Path(prismaudio.__file__).resolve().parent


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """The real entry point in-process; argparse's SystemExit becomes the exit code."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def one_error(code: int, err: str, *words: str) -> str:
    """Exit 2, exactly one line on stderr, an error line that holds `words` (case-insensitive)."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, err
    assert "Traceback" not in err
    errors = [ln for ln in lines if ln.startswith("error") and not re.match(r"error: \d+ of \d+ .*failed$", ln)]
    assert len(errors) == 1, err
    for w in words:
        assert w.lower() in errors[0].lower(), errors[0]
    return errors[0]


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return make_video(tmp_path_factory.mktemp("v") / "v.mp4", seconds=1.0, audio_rate=16000)


def good_plan(**over) -> dict:
    plan = {
        "duration": 1.0,
        "semantic": {"sources": [{"id": "s1", "label": "dog", "description": "barks"}]},
        "temporal": {"events": [{"source": "s1", "onset": 0.2, "offset": 0.5, "kind": "impact"}]},
        "spatial": {"tracks": [{"source": "s1", "times": [0.0, 1.0], "x": [-0.5, 0.5], "distance": [1.0, 1.0]}]},
    }
    plan.update(over)
    return plan


def write_plan(path: Path, plan: dict | str | bytes) -> Path:
    if isinstance(plan, bytes):
        path.write_bytes(plan)
    else:
        path.write_text(plan if isinstance(plan, str) else json.dumps(plan))
    return path


# ---- data loss ----------------------------------------------------------------------------
def test_generate_into_the_folder_of_its_input_is_refused_before_any_work(video, capsys):
    before = digest(video)
    code, _, err = run(["generate", video, "-o", video.parent, "--model", "tiny-random"], capsys)
    one_error(code, err, "overwrite an input")
    assert digest(video) == before


def test_videos_with_the_same_stem_get_distinct_outputs(tmp_path):
    from prismaudio.commands.generate import check_outputs, output_stems, outputs_for

    a, b = tmp_path / "a" / "good.mp4", tmp_path / "b" / "good.mp4"
    c = tmp_path / "a" / "other.mp4"
    stems = output_stems([a, b, c])
    assert stems == {a: "a-good", b: "b-good", c: "other"}
    paths = [p for v in (a, b, c) for p in outputs_for(v, tmp_path / "out", "wav", True, stems[v]).values()]
    assert len(set(paths)) == len(paths)
    check_outputs([a, b, c], stems, tmp_path / "out", "wav", True, None)  # no error
    from prismaudio.errors import ConfigError

    with pytest.raises(ConfigError, match="given twice"):
        output_stems([a, a])


def test_eight_channel_48k_wav_is_read(tmp_path):
    """Segfaulted (exit 139) inside PyAV's resampling."""
    from prismaudio.media import read_audio

    t = np.arange(4800) / 48000
    wave = np.stack([np.sin(2 * np.pi * 440 * t) * (k + 1) / 10 for k in range(8)], axis=1).astype(np.float32)
    path = tmp_path / "eight.wav"
    sf.write(str(path), wave, 48000, subtype="FLOAT")
    out = read_audio(path, 16000)
    assert out.shape == (8, 1600)
    peaks = out.abs().amax(dim=1).numpy()
    assert np.allclose(peaks, [(k + 1) / 10 for k in range(8)], rtol=0.05)  # channels kept in order
    assert read_audio(path, 16000, channels=2).shape == (2, 1600)


def test_training_never_writes_into_the_package(tmp_path, capsys):
    from prismaudio.cli import build_parser

    for target in ("planner", "clap", "evaluators"):
        argv = ["train", target, "--out", PACKAGE / "assets" / "planner"]
        if target != "planner":
            argv += ["--canvas", tmp_path]
        code, _, err = run(argv, capsys)
        one_error(code, err, "inside the installed prismaudio package")
    from prismaudio.commands.train_evaluators import settings_from

    args = build_parser().parse_args(["train", "clap", "--canvas", str(tmp_path)])
    assert settings_from(args).out == "runs/evaluators"
    code, _, err = run(["train", "codec", "--out", PACKAGE], capsys)
    one_error(code, err, "inside the installed")


# ---- output paths: one line, before the work ----------------------------------------------
def _bad_places(tmp_path: Path) -> dict[str, Path]:
    afile = tmp_path / "afile.txt"
    afile.write_text("x")
    folder = tmp_path / "afolder"
    folder.mkdir()
    return {"file": afile, "folder": folder, "inside_file": afile / "x" / "out", "unwritable": Path("/proc/prismaudio_x")}


FILE_OUTPUTS = [("plan", "-o"), ("codec", "-o")]
DIR_OUTPUTS = [("generate", "-o"), ("eval", "-o"), ("eval", "--cache"), ("codec", "--plots"), ("extract", "--out")]


def _argv(cmd: str, flag: str, place: Path, video: Path, tmp_path: Path) -> list:
    audio = tmp_path / "audio"
    if not audio.exists():
        audio.mkdir()
        sf.write(str(audio / "a.wav"), np.zeros((1600, 2), np.float32), 16000)
    if cmd == "plan":
        return ["plan", video, flag, place]
    if cmd == "generate":
        return ["generate", video, flag, place, "--model", "tiny-random"]
    if cmd == "eval":
        return ["eval", "--pred-audio", audio, "--gt-audio", audio, flag, place]
    if cmd == "codec":
        return ["codec", "eval", "--audio", audio, "--checkpoint", tmp_path / "none.safetensors", flag, place]
    return ["extract", "--manifest", tmp_path / "manifest.jsonl", flag, place]


@pytest.mark.parametrize("cmd,flag", FILE_OUTPUTS + DIR_OUTPUTS)
@pytest.mark.parametrize("kind", ["file", "folder", "inside_file", "unwritable"])
def test_bad_output_paths_are_one_line(cmd, flag, kind, video, tmp_path, capsys):
    place = _bad_places(tmp_path)[kind]
    expects_file = (cmd, flag) in FILE_OUTPUTS
    if (kind == "file" and expects_file) or (kind == "folder" and not expects_file):
        pytest.skip("a valid place for this output")
    code, _, err = run(_argv(cmd, flag, place, video, tmp_path), capsys)
    one_error(code, err, str(place) if kind != "inside_file" else "afile.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["afile.txt", "afolder", "audio"])  # nothing made


def test_atomic_path_turns_os_errors_into_one_line(tmp_path):
    from prismaudio.errors import PrismError
    from prismaudio.fsutil import atomic_path

    (tmp_path / "f").write_text("x")
    for bad in (tmp_path / "f" / "inside.json", tmp_path):
        with pytest.raises(PrismError, match="cannot write here|is a folder"):
            with atomic_path(bad) as tmp:
                tmp.write_text("never")


# ---- plans, manifests, configs that are not what they claim ------------------------------
BAD_TEXT = {
    "binary": bytes(range(256)) * 4,
    "latin1": '{"duration": 1.0, "notes": ["caf\u00e9"]}'.encode("latin-1"),
    "deep": ("[" * 100_000 + "]" * 100_000).encode(),
    "huge_int": ('{"duration": ' + "9" * 5000 + "}").encode(),
    "huge_int_float": ('{"duration": 1' + "0" * 400 + "}").encode(),
}


@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_bad_plan_files_are_one_line(kind, video, tmp_path, capsys):
    plan = write_plan(tmp_path / "p.json", BAD_TEXT[kind])
    code, _, err = run(["plan", video, "--check", plan], capsys)
    line = one_error(code, err, "p.json")
    assert len(line) < 400


@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_bad_manifests_are_one_line(kind, tmp_path, capsys):
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_bytes(BAD_TEXT[kind].replace(b"\n", b" "))
    audio = tmp_path / "audio"
    audio.mkdir()
    sf.write(str(audio / "a.wav"), np.zeros((1600, 2), np.float32), 16000)
    code, _, err = run(["extract", "--manifest", manifest, "--out", tmp_path / "feat"], capsys)
    one_error(code, err, "manifest.jsonl")
    from prismaudio.errors import PrismError
    from prismaudio.metrics.evaluate import load_manifest

    with pytest.raises(PrismError, match="manifest.jsonl"):
        load_manifest(manifest)


def test_a_video_given_as_yaml_config_is_one_line(video, tmp_path, capsys):
    code, _, err = run(["canvas", "build", tmp_path / "c", "--config", video], capsys)
    one_error(code, err, "not a UTF-8 text YAML config")


def test_error_lines_quote_a_short_excerpt(video, tmp_path, capsys):
    plan = good_plan()
    plan["semantic"]["sources"][0]["label"] = [0.5] * 1_000_000  # about 5 MB quoted in full before
    code, _, err = run(["plan", video, "--check", write_plan(tmp_path / "p.json", plan)], capsys)
    line = one_error(code, err, "label", "1000000 items")
    assert len(line) < 300


# ---- options --------------------------------------------------------------------------------
@pytest.mark.parametrize("argv,words", [
    (["generate", "{v}", "-o", "{t}/o", "--seed", "18446744073709551616"], ["--seed", "4294967295"]),
    (["generate", "{v}", "-o", "{t}/o", "--seed", "1e40"], ["--seed"]),
    (["generate", "{v}", "-o", "{t}/o", "--seed", "-1"], ["--seed"]),
    (["generate", "{v}", "-o", "{t}/o", "--cfg-strength", "nan"], ["--cfg-strength", "finite"]),
    (["generate", "{v}", "-o", "{t}/o", "--cfg-strength", "inf"], ["--cfg-strength", "finite"]),
    (["generate", "{v}", "-o", "{t}/o", "--num-steps", "100000"], ["--num-steps", "1000"]),
    (["generate", "{v}", "-o", "{t}/o", "--duration", "nan"], ["--duration"]),
    (["canvas", "build", "{t}/c", "--seed", "-1"], ["--seed"]),
    (["canvas", "build", "{t}/c", "--classes", ""], ["--classes"]),
    (["canvas", "classes", "--classes", " , "], ["--classes"]),
    (["eval", "--pred-audio", "{t}", "--gt-audio", "{t}", "--threads", "-1"], ["--threads"]),
    (["codec", "eval", "--audio", "{t}", "--phase-iterations", "100000"], ["--phase-iterations", "1000"]),
    (["codec", "eval", "--audio", "{t}", "--limit", "-1"], ["--limit"]),
    (["train", "clap", "--canvas", "{t}", "--limit", "-1"], ["--limit"]),
    (["plan", "{v}", "--llm-url", "notaurl"], ["--llm-url"]),
    (["extract", "--manifest", "{t}/m.jsonl", "--out", "{t}/f", "--reuse", "{t}/missing"], ["--reuse"]),
])
def test_nonsense_options_are_one_line(argv, words, video, tmp_path, capsys):
    argv = [a.replace("{v}", str(video)).replace("{t}", str(tmp_path)) for a in argv]
    (tmp_path / "m.jsonl").write_text("")
    code, _, err = run(argv, capsys)
    one_error(code, err, *words)
    assert not (tmp_path / "c").exists() and not (tmp_path / "o").exists()


def test_a_file_that_is_not_a_soundfont_leaves_nothing_behind(tmp_path, capsys):
    fake = tmp_path / "passwd"
    fake.write_text("root:x:0:0:root:/root:/bin/bash\n")
    out = tmp_path / "canvas"
    code, _, err = run(["canvas", "build", out, "--soundfont", fake, "--classes", "kick drum",
                        "--single-per-class", "1", "--multi", "0", "--ood", "0", "--workers", "1"], capsys)
    one_error(code, err, "not a SoundFont")
    assert not (out / "manifest.jsonl").exists()


def test_broken_pipe_is_quiet():
    """`prismaudio canvas classes | head`: no BrokenPipeError traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "prismaudio", "canvas", "classes"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert proc.returncode == 0 and err == ""


# ---- plans: nonsense refused, with the field named -----------------------------------------
def _event(**over):
    return {"source": "s1", "onset": 0.2, "offset": 0.5, "kind": "impact", **over}


def _track(**over):
    return {"source": "s1", "times": [0.0, 1.0], "x": [-0.5, 0.5], "distance": [1.0, 1.0], **over}


BAD_PLANS = {
    "onset NaN": (good_plan(temporal={"events": [_event(onset=float("nan"))]}), "events[0].onset"),
    "offset Infinity": (good_plan(temporal={"events": [_event(offset=float("inf"))]}), "events[0].offset"),
    "onset == offset": (good_plan(temporal={"events": [_event(onset=0.3, offset=0.3)]}), "events[0].offset"),
    "times NaN": (good_plan(spatial={"tracks": [_track(times=[0.0, float("nan")])]}), "tracks[0].times[1]"),
    "x Infinity": (good_plan(spatial={"tracks": [_track(x=[float("-inf"), 0.0])]}), "tracks[0].x[0]"),
    "distance NaN": (good_plan(spatial={"tracks": [_track(distance=[1.0, float("nan")])]}), "tracks[0].distance[1]"),
    "distance 1e30": (good_plan(spatial={"tracks": [_track(distance=[1.0, 1e30])]}), "tracks[0].distance"),
    "distance 1e-30": (good_plan(spatial={"tracks": [_track(distance=[1e-30, 1.0])]}), "tracks[0].distance"),
    "duplicate tracks": (good_plan(spatial={"tracks": [_track(), _track()]}), "tracks[1].source"),
    "version 999": (good_plan(version=999), "plan.version"),
    "label of spaces": (good_plan(semantic={"sources": [{"id": "s1", "label": "   "}]}), "sources[0]"),
    "duration NaN": (good_plan(duration=float("nan")), "plan.duration"),
}


@pytest.mark.parametrize("name", sorted(BAD_PLANS))
def test_plan_check_refuses_nonsense_naming_the_field(name, video, tmp_path, capsys):
    plan, field = BAD_PLANS[name]
    path = write_plan(tmp_path / "p.json", json.dumps(plan))  # json writes NaN / Infinity as JS does
    code, _, err = run(["plan", video, "--check", path], capsys)
    one_error(code, err, "p.json", field)


def test_a_good_plan_still_passes_and_one_without_events_warns(video, tmp_path, capsys):
    code, out, err = run(["plan", video, "--check", write_plan(tmp_path / "p.json", good_plan())], capsys)
    assert code == 0 and "ok (1 sources, 1 events)" in out and err == ""
    quiet = write_plan(tmp_path / "q.json", good_plan(temporal={"events": []}))
    code, out, err = run(["plan", video, "--check", quiet], capsys)
    assert code == 0 and "warning:" in err and "no events" in err


def test_a_silent_soundtrack_is_reported(tmp_path, capsys):
    import torch

    from prismaudio.commands.generate import _warn_if_silent
    from prismaudio.pipeline import GenerationResult
    from prismaudio.planner.plan import Plan

    plan = Plan.from_dict(good_plan(temporal={"events": []}))
    _warn_if_silent(Path("v.mp4"), GenerationResult(torch.zeros(2, 16000), 16000, plan))
    assert "soundtrack is silent" in capsys.readouterr().err
    _warn_if_silent(Path("v.mp4"), GenerationResult(torch.full((2, 16000), 0.1), 16000, plan))
    assert "no sound events" in capsys.readouterr().err
    _warn_if_silent(Path("v.mp4"), GenerationResult(torch.full((2, 16000), 0.1), 16000, Plan.from_dict(good_plan())))
    assert capsys.readouterr().err == ""


# ---- eval and codec eval on bad audio -------------------------------------------------------
def _tone(n: int, rate: int = 16000) -> np.ndarray:
    t = np.arange(n) / rate
    x = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return np.stack([x, x], axis=1)


def test_eval_refuses_nan_audio_and_reads_tiny_clips(tmp_path, capsys):
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    pred.mkdir(), gt.mkdir()
    for stem in ("nan", "inf", "one", "ten"):
        sf.write(str(gt / f"{stem}.wav"), _tone(16000), 16000)
    bad = _tone(16000)
    bad[100:200] = np.nan
    sf.write(str(pred / "nan.wav"), bad, 16000, subtype="FLOAT")
    bad[100:200] = np.inf
    sf.write(str(pred / "inf.wav"), bad, 16000, subtype="FLOAT")
    sf.write(str(pred / "one.wav"), _tone(1), 16000)    # stft RuntimeError before
    sf.write(str(pred / "ten.wav"), _tone(10), 16000)
    code, out, err = run(["-q", "eval", "--pred-audio", pred, "--gt-audio", gt, "-o", tmp_path / "out", "--plots", "0"],
                         capsys)
    assert code == 2 and "Traceback" not in err
    assert "error: 2 of 4 pair(s) failed" in err and "NaN/inf" in err
    per = json.loads((tmp_path / "out" / "metrics.json").read_text())["per_sample"]
    assert set(per) == {"one", "ten"}


@pytest.fixture(scope="module")
def micro_checkpoint(tmp_path_factory) -> Path:
    import torch

    from codec_helpers import micro_config
    from prismaudio.codec import StereoCodec
    from prismaudio.codec.stereo_codec import CHECKPOINT_KIND, CHECKPOINT_VERSION
    from prismaudio.train.checkpoint import export_weights

    torch.manual_seed(0)
    cfg = micro_config()
    return export_weights(tmp_path_factory.mktemp("codec") / "micro.safetensors", CHECKPOINT_KIND, CHECKPOINT_VERSION,
                          cfg, StereoCodec(cfg))


def test_codec_eval_skips_a_bad_file_and_plots_silence(micro_checkpoint, tmp_path, capsys):
    audio = tmp_path / "audio"
    audio.mkdir()
    sf.write(str(audio / "b_silent.wav"), np.zeros((1600, 2), np.float32), 16000)  # matplotlib error before
    (audio / "c_bad.wav").write_bytes(b"RIFF but not a wave file")
    t8 = np.arange(4800) / 48000
    sf.write(str(audio / "d_eight.wav"), np.tile(0.2 * np.sin(2 * np.pi * 300 * t8)[:, None], (1, 8)), 48000)
    report = tmp_path / "r.json"
    code, out, err = run(["-q", "codec", "eval", "--audio", audio, "--checkpoint", micro_checkpoint, "-o", report,
                          "--phase-iterations", "2"], capsys)
    assert code == 2 and "Traceback" not in err
    assert "c_bad.wav" in err and "error: 1 of 3 file(s) failed" in err
    data = json.loads(report.read_text())
    assert data["summary"]["codec"]["clips"] == 2 and len(data["failed"]) == 1
    assert {p.name for p in (tmp_path / "r_plots").iterdir()} == {"b_silent.png", "d_eight.png"}


# ---- configs ------------------------------------------------------------------------------
def test_yaml_numbers_without_a_dot_are_numbers(tmp_path):
    """PyYAML reads `lr: 3e-4` as the string '3e-4'; a float field takes it as 0.0003."""
    from dataclasses import dataclass

    from prismaudio.config import load_config
    from prismaudio.errors import ConfigError

    @dataclass
    class Opt:
        lr: float = 1.0
        steps: int = 1

    path = tmp_path / "c.yaml"
    path.write_text("lr: 3e-4\n")
    assert load_config(Opt, path).lr == pytest.approx(3e-4)
    for bad in ("lr: fast", "lr: .nan", "lr: 1e999", "steps: '3'"):
        path.write_text(bad + "\n")
        with pytest.raises(ConfigError, match="c.yaml.(lr|steps)"):
            load_config(Opt, path)


@pytest.mark.parametrize("argv", [
    ["info", "{long}.mp4"],
    ["plan", "{long}.mp4", "--check", "{long}.json"],
    ["eval", "--pred-audio", "{long}", "--gt-audio", "{t}", "-o", "{t}/e"],
    ["generate", "{v}", "-o", "{t}/g", "--plan", "{long}.json"],
    ["plan", "{v}", "-o", "{t}/{long}.json"],
])
def test_names_too_long_are_one_line(argv, video, tmp_path, capsys):
    long = "x" * 300
    argv = [a.replace("{long}", long).replace("{v}", str(video)).replace("{t}", str(tmp_path)) for a in argv]
    code, _, err = run(argv, capsys)
    line = one_error(code, err, "too long")
    assert len(line) < 300
