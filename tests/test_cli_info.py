"""`prismaudio info` on good files and on every kind of bad input (one line, exit 2, no traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import av
import numpy as np
import pytest
import soundfile as sf

from media_factory import make_video
from prismaudio.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "prismaudio", *args], capture_output=True, text=True, timeout=120)


def test_info_table_and_json(tmp_path, capsys):
    a = make_video(tmp_path / "with audio.mp4", seconds=1.0, audio_rate=44100)
    b = make_video(tmp_path / "silent.webm", seconds=1.0, video_codec="libvpx", container="webm")
    assert main(["info", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "with audio.mp4" in out and "aac 44100 Hz 2ch" in out and "audio: none" in out
    assert main(["info", "--json", str(a)]) == 0
    record = json.loads(capsys.readouterr().out.strip())
    assert record["duration"] == pytest.approx(1.0, abs=0.05) and record["audio_streams"][0]["channels"] == 2


def _zero_frame_video(path):
    """A container with a video stream that holds no frames (only the audio stream has packets)."""
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=25)
        v.width, v.height, v.pix_fmt = 64, 64, "yuv420p"
        a = out.add_stream("aac", rate=16000)
        a.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        for packet in [*a.encode(frame), *a.encode()]:
            out.mux(packet)
    assert path.exists()
    return path


def _bad_inputs(tmp_path):
    good = make_video(tmp_path / "good.mp4", seconds=1.0, audio_rate=44100)
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 20)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(good.read_bytes()[:2000])
    audio_only = tmp_path / "sound.wav"
    sf.write(audio_only, np.zeros((1600, 2)), 16000)
    zero = _zero_frame_video(tmp_path / "zero.mkv")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    folder = tmp_path / "a folder.mp4"
    folder.mkdir()
    return {
        "missing": (tmp_path / "nope é.mp4", "no such file"),
        "directory": (folder, "is a directory"),
        "text": (text, "not a readable media file"),
        "truncated": (truncated, "media"),
        "no video": (audio_only, "no video stream"),
        "zero duration": (zero, "zero duration"),
        "empty": (empty, "empty file"),
    }


def test_every_bad_input_is_one_line_exit_2(tmp_path):
    for name, (path, message) in _bad_inputs(tmp_path).items():
        result = run_cli("info", str(path))
        assert result.returncode == 2, name
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert "Traceback" not in result.stderr, name
        assert any(message in line and path.name in line for line in lines), (name, result.stderr)


def test_unreadable_file(tmp_path, monkeypatch, capsys):
    path = make_video(tmp_path / "locked.mp4", seconds=0.5)
    os.chmod(path, 0)
    if os.geteuid() == 0:  # root reads anything: make the access check see what a user would
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(path) else real_access(p, mode))
    assert main(["info", str(path)]) == 2
    assert "permission denied" in capsys.readouterr().err


def test_batch_skips_bad_files_and_reports(tmp_path):
    good = make_video(tmp_path / "good.mp4", seconds=1.0)
    result = run_cli("info", str(tmp_path / "missing.mp4"), str(good))
    assert result.returncode == 2
    assert "good.mp4" in result.stdout  # the good file was still processed
    assert "1 of 2" in result.stderr


def test_debug_shows_traceback(tmp_path):
    result = run_cli("--debug", "info", str(tmp_path / "missing.mp4"))
    assert result.returncode != 0 and "Traceback" in result.stderr
