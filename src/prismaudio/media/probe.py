"""`probe(path)`: stream facts (duration, fps incl. variable frame rate, size, rotation, audio) without decoding pictures."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import av
import numpy as np

from ..errors import MediaError
from .container import open_media


@dataclass
class AudioStreamInfo:
    index: int
    codec: str
    sample_rate: int
    channels: int
    duration: float | None


@dataclass
class VideoInfo:
    path: str
    container: str
    duration: float  # seconds of video (first frame start to last frame end)
    fps: float  # average frame rate
    variable_fps: bool
    num_frames: int
    width: int  # as stored (before rotation)
    height: int
    rotation: int  # degrees clockwise to rotate stored frames for display (0, 90, 180, 270)
    video_codec: str
    audio_streams: list[AudioStreamInfo] = field(default_factory=list)

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) after rotation."""
        return (self.height, self.width) if self.rotation % 180 else (self.width, self.height)

    def to_dict(self) -> dict:
        return asdict(self)


def _rotation(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> int:
    """Clockwise degrees to rotate stored frames for display (phone videos carry 90/270).

    Read from the legacy 'rotate' tag or, failing that, from the display matrix of the first
    decoded frame (PyAV reports it counter-clockwise).
    """
    tag = stream.metadata.get("rotate")
    if tag is not None:
        try:
            return int(round(float(tag))) % 360
        except ValueError:
            pass
    try:
        for frame in container.decode(stream):
            return int(round(-getattr(frame, "rotation", 0) or 0)) % 360
    except av.FFmpegError:
        return 0
    return 0


def probe(path: str | Path) -> VideoInfo:
    """Read stream facts without decoding pictures (packets are demuxed to time the frames)."""
    with open_media(path) as container:
        if not container.streams.video:
            raise MediaError(f"{path}: no video stream")
        vstream = container.streams.video[0]
        tb = vstream.time_base
        times, durations = [], []
        for packet in container.demux(vstream):
            if packet.size == 0 or packet.pts is None:
                continue
            times.append(packet.pts)
            durations.append(packet.duration or 0)
        if not times:
            raise MediaError(f"{path}: zero duration (the video stream has no frames)")
        order = np.sort(np.asarray(times, dtype=np.int64))
        last_dur = durations[int(np.argmax(times))]
        deltas = np.diff(order)
        if last_dur <= 0:
            last_dur = int(np.median(deltas)) if len(deltas) else 0
        span = float((order[-1] - order[0] + last_dur) * tb)
        if span <= 0:
            span = float(container.duration / av.time_base) if container.duration else 0.0
        if span <= 0:
            raise MediaError(f"{path}: zero duration")
        num_frames = len(order)
        variable = bool(len(deltas) > 1 and (deltas.max() - deltas.min()) > max(1, 0.02 * np.median(deltas)))
        container.seek(0, stream=vstream)
        rotation = _rotation(container, vstream)
        audio = [
            AudioStreamInfo(
                index=s.index,
                codec=s.codec_context.name,
                sample_rate=int(s.codec_context.sample_rate or s.rate or 0),
                channels=int(s.codec_context.channels),
                duration=float(s.duration * s.time_base) if s.duration else None,
            )
            for s in container.streams.audio
        ]
        return VideoInfo(
            path=str(path),
            container=container.format.name,
            duration=span,
            fps=num_frames / span,
            variable_fps=variable,
            num_frames=num_frames,
            width=vstream.codec_context.width,
            height=vstream.codec_context.height,
            rotation=rotation,
            video_codec=vstream.codec_context.name,
            audio_streams=audio,
        )
