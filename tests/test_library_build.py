"""`library build` on a tiny fixture: generated audio in fake package folders and a user
folder, with every kind of bad input; then SynthCanvas rendered from the result. The parts
that need the real Debian packages skip when those are not installed."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from prismaudio.library import SoundLibrary
from prismaudio.library.build import LibraryBuildConfig, build_library


def _burst(path, sr=22050, seconds=0.3, freq=500.0, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    n = int(sr * seconds)
    env = np.exp(-np.arange(n) / (0.05 * sr))
    x = 0.5 * env * (np.sin(2 * np.pi * freq * np.arange(n) / sr) + 0.3 * rng.standard_normal(n))
    x = np.concatenate([np.zeros(int(0.1 * sr)), x, np.zeros(int(0.2 * sr))])  # silence to trim
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.repeat(x[:, None], channels, axis=1) if channels > 1 else x, sr)
    return path


@pytest.fixture
def fixture(tmp_path):
    pkg = tmp_path / "pkg"
    for i in range(3):
        _burst(pkg / "steps" / f"step_snow{i}.wav", freq=300 + 100 * i, seed=i)
        _burst(pkg / "glass" / f"break{i}.ogg", sr=44100, freq=2000 + 300 * i, seed=10 + i)
    shutil.copy(pkg / "glass" / "break0.ogg", pkg / "glass" / "break_copy.ogg")      # same bytes: one recording
    (pkg / "glass" / "break_empty.ogg").write_bytes(b"")                              # empty file
    (pkg / "glass" / "break_bad.ogg").write_bytes(b"OggS not really an ogg file" * 10)  # unreadable
    _burst(pkg / "steps" / "step_snow_odd.wav", sr=2000, freq=200)                    # sample rate never seen
    _burst(pkg / "steps" / "step_snow_many.wav", channels=12)                         # channel count never seen
    sf.write(str(pkg / "steps" / "step_snow_silent.wav"), np.zeros(4000), 16000)      # silence only
    table = tmp_path / "recordings.yaml"
    table.write_text(
        f"packages:\n"
        f"  fake-data: {{root: {pkg}, licence: CC0, licences: {{'glass/*': CC-BY-3.0}}}}\n"
        f"  missing-data: {{root: {tmp_path / 'not-installed'}}}\n"
        "classes:\n"
        "  - {name: footsteps on snow, kind: impact, audioset: ['Walk, footsteps'], visual: [snow, person],"
        "     files: {fake-data: ['steps/step_snow*.wav'], missing-data: ['*.ogg']}}\n"
        "  - {name: glass breaking, kind: impact, audioset: [Glass, Shatter], visual: [window], files: {fake-data: ['glass/*.ogg']}}\n"
        "  - {name: nothing here, kind: impact, audioset: [Glass], visual: [x], files: {fake-data: ['nope/*.wav']}}\n",
        encoding="utf-8")
    user = tmp_path / "user"
    for i in range(2):
        _burst(user / "door knock" / f"knock{i}.wav", freq=150 + 50 * i, seed=20 + i)
        _burst(user / "Glass Breaking" / f"mine{i}.wav", freq=3000, seed=30 + i)   # folder 'glass-breaking': clash
    (user / "empty folder").mkdir()
    (user / "classes.yaml").write_text("door knock:\n  kind: impact\n  audioset: [Knock]\n", encoding="utf-8")
    return tmp_path, table, user


def _cfg(out, table, **kw):
    return LibraryBuildConfig(out=str(out), table=str(table), soundfont_classes=False, curate=False, workers=1, **kw)


def test_build_skips_each_bad_file_with_one_line_and_builds_the_rest(fixture):
    tmp, table, user = fixture
    out = tmp / "lib"
    result = build_library(_cfg(out, table, user=str(user)), progress=False)
    lib = SoundLibrary.load(out)
    assert set(lib.classes) == {"footsteps on snow", "glass breaking", "door knock"}
    assert len(lib.recordings_of("footsteps on snow")) == 3
    assert len(lib.recordings_of("glass breaking")) == 3
    assert lib.classes["door knock"].origin == "user" and lib.classes["door knock"].audioset == ("Knock",)
    reasons = {Path(d["file"]).name: d["reason"] for d in result.report["dropped"]}
    assert "same audio as" in reasons["break_copy.ogg"]
    assert "empty file" in reasons["break_empty.ogg"]
    assert "break_bad.ogg" in reasons["break_bad.ogg"]
    assert "2000 Hz" in reasons["step_snow_odd.wav"]
    assert "12 channels" in reasons["step_snow_many.wav"]
    assert "silent" in reasons["step_snow_silent.wav"]
    problems = "\n".join(result.problems)
    assert "package missing-data is not installed" in problems
    assert "nope/*.wav: no audio file matches" in problems
    assert "empty folder: folder has no audio" in problems
    assert "'Glass Breaking' clashes with class 'glass breaking'" in problems
    # every kept file: mono FLAC at the library rate, trimmed, normalised; attributed with its licence
    for recs in lib.recordings.values():
        for r in recs:
            data, rate = sf.read(str(out / r.path))
            assert data.ndim == 1 and rate == 44100 and r.path.endswith(".flac")
            assert abs(len(data) / rate - r.duration) < 1e-3 and r.duration < 0.45  # the 0.3 s silences are gone
            assert 0.05 < np.abs(data).max() <= 0.9
    attribution = (out / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "| glass breaking | glass-breaking/fake-break1.flac | fake-data |" in attribution
    assert "CC-BY-3.0" in attribution and "| CC0 |" in attribution and "user-supplied" in attribution
    report = json.loads((out / "build-report.json").read_text(encoding="utf-8"))
    assert report["real_classes"] == 3 and report["real_classes_with_3"] == 2


def test_second_run_reuses_everything_and_redoes_only_what_changed(fixture):
    tmp, table, user = fixture
    out = tmp / "lib"
    first = build_library(_cfg(out, table), progress=False)
    assert first.processed == 11 and first.reused == 0  # 6 good files, 5 bad ones (the copy is never processed)
    again = build_library(_cfg(out, table), progress=False)
    assert again.processed == 0 and again.reused == 11
    assert again.report["dropped"] == first.report["dropped"]
    kept = SoundLibrary.load(out).recordings_of("footsteps on snow")
    _burst(tmp / "pkg" / "steps" / "step_snow1.wav", freq=900, seed=99)          # a source changed
    third = build_library(_cfg(out, table), progress=False)
    assert third.processed == 1
    (tmp / "pkg" / "steps" / "step_snow2.wav").unlink()                           # a source removed
    build_library(_cfg(out, table), progress=False)
    now = SoundLibrary.load(out).recordings_of("footsteps on snow")
    assert len(now) == len(kept) - 1 and not (out / kept[-1].path).exists()  # the folder follows its sources


def test_user_folder_replaces_the_library(fixture):
    tmp, table, user = fixture
    out = tmp / "mine"
    build_library(_cfg(out, table, user=str(user), mode="replace"), progress=False)
    lib = SoundLibrary.load(out)
    assert set(lib.classes) == {"door knock", "Glass Breaking"}


def test_soundfont_note_renders_into_the_library(tmp_path):
    from prismaudio.canvas.soundbank import default_soundfont
    from prismaudio.library.jobs import Job, Worker

    worker = Worker(str(tmp_path), 16000, default_soundfont())
    outcome = worker.run(Job("grand piano", "impact", "grand-piano/k060-v120.flac", "soundfont", "MIT", "soundfont:60", "x", note=(60, 120)))
    assert outcome.reason == "" and 0.2 < outcome.duration <= 0.8
    sustained = worker.run(Job("church organ", "sustained", "church-organ/k043-v115.flac", "soundfont", "MIT", "soundfont:43", "y", note=(43, 115)))
    assert 2.5 < sustained.duration <= 3.05
    data, rate = sf.read(str(tmp_path / "grand-piano" / "k060-v120.flac"))
    assert rate == 16000 and np.abs(data).max() > 0.05


def test_canvas_renders_from_a_library(fixture):
    from prismaudio.canvas.build import build
    from prismaudio.canvas.options import CanvasConfig
    from prismaudio.canvas.sprites import EMOJI_FONT

    if not Path(EMOJI_FONT).is_file():
        pytest.skip("Noto Color Emoji not installed (SynthCanvas needs it for sprites)")
    tmp, table, user = fixture
    out = tmp / "lib"
    build_library(_cfg(out, table, user=str(user)), progress=False)
    cfg = CanvasConfig(library=str(out), single_per_class=1, multi=1, ood=1, duration=2.0, width=64, height=64, workers=1)
    result = build(tmp / "canvas", cfg, progress=False)
    assert result.total == 5
    lines = [json.loads(x) for x in (tmp / "canvas" / "manifest.jsonl").read_text().splitlines()]
    classes = {s["class_name"] for line in lines for s in line["sources"]}
    assert classes <= {"footsteps on snow", "glass breaking", "door knock"} and len(classes) == 3
    ood = [x for x in lines if x["group"] == "ood"][0]
    assert len(ood["sources"]) == 3  # every library class, real recordings included
    audio, _ = sf.read(str(tmp / "canvas" / lines[0]["audio"]))
    assert np.abs(audio).max() > 0.01
    assert "library" in json.loads((tmp / "canvas" / "build.json").read_text())["config"]


def test_cli_one_line_on_a_bad_user_folder(tmp_path):
    cmd = [sys.executable, "-m", "prismaudio", "library", "build", "--out", str(tmp_path / "lib"), "--no-soundfont",
           "--no-recordings", "--no-curate", "--user", str(tmp_path / "nope")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "nope" in proc.stderr


@pytest.mark.skipif(not Path("/usr/share/games/minetest").is_dir() or not Path("/usr/share/buckle/wav").is_dir(),
                    reason="the sound library's Debian packages are not installed (`make library` installs them)")
def test_installed_packages_give_real_classes():
    from prismaudio.library.sources import load_recording_table, resolve_sources

    problems = []
    files, _ = resolve_sources(load_recording_table(), problems)
    per_class = {}
    for f in files:
        per_class.setdefault(f.class_name, []).append(f)
    assert len(per_class["footsteps on snow"]) >= 5
    assert len(per_class["letter key press"]) >= 20
    assert all(f.licence for f in files)
    assert {f.licence for f in per_class["wooden door"] if f.package == "minetest-data"} == {"CC-BY-3.0"}
