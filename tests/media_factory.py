"""Builds small real media files for tests (PyAV only): any container, codec, fps pattern."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def moving_bar_frames(num_frames: int, height: int = 64, width: int = 96) -> np.ndarray:
    """Frames with a white bar whose column encodes the frame index (easy to check after decode)."""
    frames = np.zeros((num_frames, height, width, 3), np.uint8)
    for i in range(num_frames):
        frames[i, 8:, (i * 3) % width : (i * 3) % width + 3] = 255
        frames[i, :8] = min(255, i * 4)  # grey strip on top: brightness = 4 x frame index
    return frames


def make_video(
    path: str | Path,
    seconds: float = 2.0,
    fps: int = 25,
    size: tuple[int, int] = (64, 96),
    audio_rate: int | None = None,
    audio_channels: int = 2,
    video_codec: str = "libx264",
    audio_codec: str = "aac",
    container: str | None = None,
    frame_times: list[float] | None = None,
    metadata: dict | None = None,
) -> Path:
    """Write a test video. `frame_times` (seconds) makes a variable-frame-rate file."""
    path = Path(path)
    height, width = size
    times = frame_times if frame_times is not None else [i / fps for i in range(int(round(seconds * fps)))]
    frames = moving_bar_frames(len(times), height, width)
    with av.open(str(path), mode="w", format=container) as out:
        if metadata:
            out.metadata.update(metadata)
        time_base = Fraction(1, 1000) if frame_times is not None else Fraction(1, fps)
        v = out.add_stream(video_codec, rate=fps)
        v.width, v.height, v.pix_fmt = width, height, "yuv420p"
        v.time_base = time_base
        a = None
        if audio_rate:
            a = out.add_stream(audio_codec, rate=audio_rate)
            a.layout = "stereo" if audio_channels == 2 else "mono"
        for t, image in zip(times, frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = int(round(t / time_base))
            frame.time_base = time_base
            for packet in v.encode(frame):
                out.mux(packet)
        for packet in v.encode():
            out.mux(packet)
        if a is not None:
            n = int(seconds * audio_rate)
            tt = np.arange(n) / audio_rate
            wave = np.stack([0.3 * np.sin(2 * np.pi * 440 * tt)] * audio_channels).astype(np.float32)
            fs = a.codec_context.frame_size or 1024
            for s in range(0, n, fs):
                chunk = np.ascontiguousarray(wave[:, s : s + fs])
                fmt = a.codec_context.format.name if a.codec_context.format else "fltp"
                if fmt.endswith("p"):
                    frame = av.AudioFrame.from_ndarray(chunk.astype(np.float32), format="fltp", layout=a.layout.name)
                else:
                    frame = av.AudioFrame.from_ndarray(chunk.T.reshape(1, -1).astype(np.float32), format="flt", layout=a.layout.name)
                frame.sample_rate = audio_rate
                frame.pts = s
                for packet in a.encode(frame):
                    out.mux(packet)
            for packet in a.encode():
                out.mux(packet)
    return path


def sliding_block_video(path: str | Path, seconds: float, fps: int = 25) -> Path:
    """A 32x32 video of a grey block sliding right and wrapping every 16 frames (something to plan)."""
    from prismaudio import media

    frames = np.zeros((int(round(seconds * fps)), 32, 32, 3), dtype=np.uint8)
    for k in range(len(frames)):
        frames[k, 8:24, (k % 16):(k % 16) + 8] = 200
    return media.write_video(path, frames, fps)
