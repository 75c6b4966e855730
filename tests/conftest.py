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
