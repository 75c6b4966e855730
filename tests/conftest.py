import os
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture
def mp4(tmp_path):
    from media_factory import make_video

    return make_video(tmp_path / "clip.mp4", seconds=2.0, fps=25, audio_rate=44100)


@pytest.fixture(scope="session")
def canvas_root(tmp_path_factory):
    """A tiny SynthCanvas build shared by the metric, reward and RL tests."""
    from evalsets import build_tiny_canvas

    return build_tiny_canvas(tmp_path_factory.mktemp("tiny_canvas") / "canvas")


@pytest.fixture(scope="session")
def short_canvas_root(tmp_path_factory):
    """Two 2 s SynthCanvas clips (the RL smoke test's prompts)."""
    from evalsets import build_tiny_canvas

    return build_tiny_canvas(tmp_path_factory.mktemp("short_canvas") / "canvas", classes=("cowbell", "trumpet"), duration=2.0)
