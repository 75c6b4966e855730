"""One decoding pass serves several consumers: each sampling exactly as decode_frames gives it."""

import numpy as np
import torch

from prismaudio import media
from prismaudio.media import FrameSpec, decode_frame_sets, decode_frames


def test_frame_sets_equal_separate_decodes(tmp_path):
    frames = np.zeros((30, 48, 64, 3), dtype=np.uint8)
    for k in range(30):
        frames[k, 10:30, 2 * k:2 * k + 8] = 40 + 7 * k  # a moving, changing block: any mix-up shows
    video = media.write_video(tmp_path / "v.mp4", frames, 25)
    specs = [FrameSpec(25.0, (32, 40), "stretch"), FrameSpec(8.0, (24, 24)), FrameSpec(12.5, (16, 16), "crop")]
    together = decode_frame_sets(video, specs, duration=1.0)
    for spec, got in zip(specs, together):
        alone = decode_frames(video, spec.fps, spec.size, spec.resize_mode, duration=1.0)
        assert got.shape == alone.shape and torch.equal(got, alone)
