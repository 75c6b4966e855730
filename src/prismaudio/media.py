"""Video and audio I/O through PyAV (FFmpeg inside the wheel; no system ffmpeg needed).

- `probe(path)`: duration, fps (variable-fps aware), size, rotation, audio streams.
- `decode_frames(path, fps, size)`: frames uniform in time as a uint8 tensor [T, H, W, 3].
- `read_audio(path, sample_rate)`: any container, rate or channel count -> float32 [C, N].
- `write_audio(path, wave, sample_rate)`: wav or flac, written atomically.
- `write_video(path, frames, fps)`: H.264 mp4 from frames (SynthCanvas, tests).
- `mux(video, wave, sample_rate, out)`: the video stream copied packet for packet, the
  waveform as AAC, exactly as long as the video to the sample.

Every failure caused by the file becomes a `MediaError` naming the file and the problem.
"""

from __future__ import annotations

import logging
import math
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterator, Literal

import av
import numpy as np
import soundfile as sf
import torch

from .errors import MediaError
from .fsutil import atomic_path  # noqa: F401  (re-exported: media.atomic_path)

log = logging.getLogger(__name__)

AUDIO_FORMATS = {".wav": "WAV", ".flac": "FLAC"}


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


def check_readable(path: str | Path) -> Path:
    """Raise a one-line MediaError if `path` is not an existing, readable regular file."""
    path = Path(path)
    if not path.exists():
        raise MediaError(f"{path}: no such file")
    if path.is_dir():
        raise MediaError(f"{path}: is a directory, not a media file")
    if not os.access(path, os.R_OK):
        raise MediaError(f"{path}: permission denied (file is not readable)")
    if path.stat().st_size == 0:
        raise MediaError(f"{path}: empty file")
    return path


@contextmanager
def _open(path: str | Path) -> Iterator[av.container.InputContainer]:
    path = check_readable(path)
    try:
        container = av.open(str(path), mode="r")
    except av.FFmpegError as e:
        raise MediaError(f"{path}: not a readable media file ({_short(e)})") from None
    try:
        yield container
    except av.FFmpegError as e:
        raise MediaError(f"{path}: corrupt or truncated media ({_short(e)})") from None
    finally:
        container.close()


def _short(e: Exception) -> str:
    text = getattr(e, "strerror", None) or str(e)
    return str(text).split("\n")[0][:160]


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
    with _open(path) as container:
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


def _fit(image: np.ndarray, size: tuple[int, int], mode: Literal["pad", "crop", "stretch"]) -> np.ndarray:
    """Resize an HxWx3 image to `size` (H, W) keeping aspect by padding (black) or centre crop."""
    from PIL import Image

    target_h, target_w = size
    h, w = image.shape[:2]
    if mode == "stretch":
        return np.asarray(Image.fromarray(image).resize((target_w, target_h), Image.BILINEAR))
    scale = min(target_w / w, target_h / h) if mode == "pad" else max(target_w / w, target_h / h)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    resized = np.asarray(Image.fromarray(image).resize((new_w, new_h), Image.BILINEAR))
    if mode == "pad":
        out = np.zeros((target_h, target_w, 3), dtype=np.uint8)
        top, left = (target_h - new_h) // 2, (target_w - new_w) // 2
        out[top : top + new_h, left : left + new_w] = resized
        return out
    top, left = (new_h - target_h) // 2, (new_w - target_w) // 2
    return np.ascontiguousarray(resized[top : top + target_h, left : left + target_w])


def decode_frames(
    path: str | Path,
    fps: float,
    size: tuple[int, int] | None = None,
    resize_mode: Literal["pad", "crop", "stretch"] = "pad",
    start: float = 0.0,
    duration: float | None = None,
) -> torch.Tensor:
    """Frames sampled uniformly in time at `fps` as uint8 [T, H, W, 3].

    Sample k shows the frame on screen at time `start + k / fps` (the latest frame whose
    timestamp is not after it), so variable-frame-rate files are resampled correctly.
    `size` is (height, width); aspect is kept by padding or centre-cropping (`resize_mode`).
    """
    if fps <= 0:
        raise MediaError(f"{path}: fps must be positive, got {fps}")
    info = probe(path)
    end = info.duration if duration is None else min(info.duration, start + duration)
    count = max(1, int(math.floor((end - start) * fps + 1e-6)))
    targets = start + np.arange(count) / fps
    frames: list[np.ndarray] = []
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        first_pts: float | None = None
        current: np.ndarray | None = None
        k = 0
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            t = float(frame.pts * stream.time_base)
            if first_pts is None:
                first_pts = t
            t -= first_pts  # timestamps relative to the first frame
            while k < count and targets[k] < t - 1e-6 and current is not None:
                frames.append(current)
                k += 1
            if k >= count:
                break
            current = frame.to_ndarray(format="rgb24")
            if info.rotation:
                current = np.ascontiguousarray(np.rot90(current, k=-(info.rotation // 90)))
            if size is not None:
                current = _fit(current, size, resize_mode)
        while k < count and current is not None:
            frames.append(current)
            k += 1
    if not frames:
        raise MediaError(f"{path}: no decodable frames")
    return torch.from_numpy(np.stack(frames))


def _resample(container: av.container.InputContainer, sample_rate: int, channels: int | None) -> np.ndarray:
    stream = container.streams.audio[0]
    src_channels = stream.codec_context.channels
    out_channels = channels or src_channels
    layout = {1: "mono", 2: "stereo"}.get(out_channels)
    if layout is None:
        layout = av.AudioLayout(out_channels).name
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate)
    chunks = []
    for frame in container.decode(stream):
        for out in resampler.resample(frame):
            chunks.append(out.to_ndarray())
    for out in resampler.resample(None):
        chunks.append(out.to_ndarray())
    if not chunks:
        return np.zeros((out_channels, 0), dtype=np.float32)
    return np.concatenate(chunks, axis=1).astype(np.float32)


def read_audio(path: str | Path, sample_rate: int, channels: int | None = None) -> torch.Tensor:
    """Audio from any container (wav, flac, ogg, mp4, ...) as float32 [C, N] at `sample_rate`.

    `channels=None` keeps the source channel count; 1 downmixes, 2 upmixes mono to stereo.
    """
    if sample_rate <= 0:
        raise MediaError(f"{path}: sample rate must be positive, got {sample_rate}")
    with _open(path) as container:
        if not container.streams.audio:
            raise MediaError(f"{path}: no audio stream")
        stream = container.streams.audio[0]
        wave = _resample(container, sample_rate, channels)
        if stream.duration:
            # AAC pads its last frame; the container's duration (edit list) says where the
            # real audio ends, as a player honours it.
            wave = wave[:, : round(float(stream.duration * stream.time_base) * sample_rate)]
    return torch.from_numpy(np.ascontiguousarray(wave))


def write_audio(path: str | Path, wave: torch.Tensor | np.ndarray, sample_rate: int, subtype: str | None = None) -> Path:
    """Write [C, N] (or [N]) float audio as .wav or .flac, atomically. Values are clipped to [-1, 1]."""
    path = Path(path)
    fmt = AUDIO_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise MediaError(f"{path}: unsupported audio format (use .wav or .flac)")
    data = wave.detach().cpu().numpy() if isinstance(wave, torch.Tensor) else np.asarray(wave)
    data = np.atleast_2d(data).astype(np.float32)
    if not np.isfinite(data).all():
        raise MediaError(f"{path}: refusing to write audio containing NaN or inf")
    data = np.clip(data, -1.0, 1.0).T
    with atomic_path(path) as tmp:
        sf.write(str(tmp), data, sample_rate, format=fmt, subtype=subtype or "PCM_16")
    return path


def write_video(
    path: str | Path,
    frames: torch.Tensor | np.ndarray,
    fps: float,
    audio: torch.Tensor | np.ndarray | None = None,
    sample_rate: int | None = None,
    crf: int = 20,
) -> Path:
    """Encode uint8 frames [T, H, W, 3] as H.264 (yuv420p) mp4, optionally with AAC audio."""
    path = Path(path)
    data = frames.numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
    if data.ndim != 4 or data.shape[-1] != 3 or data.dtype != np.uint8:
        raise MediaError(f"{path}: frames must be uint8 [T, H, W, 3], got {data.dtype} {data.shape}")
    height, width = data.shape[1:3]
    if height % 2 or width % 2:
        raise MediaError(f"{path}: H.264 needs even width and height, got {width}x{height}")
    rate = Fraction(fps).limit_denominator(1001)
    with atomic_path(path) as tmp:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            vstream = container.add_stream("libx264", rate=rate)
            vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
            vstream.options = {"crf": str(crf), "preset": "veryfast"}
            vstream.codec_context.options = {"threads": "1"}
            astream = None
            if audio is not None:
                astream = _add_aac_stream(container, sample_rate, np.atleast_2d(_as_numpy(audio)).shape[0])
            for image in data:
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                for packet in vstream.encode(frame):
                    container.mux(packet)
            for packet in vstream.encode():
                container.mux(packet)
            if astream is not None:
                _encode_audio(container, astream, _as_numpy(audio), sample_rate)
    return path


def _as_numpy(wave: torch.Tensor | np.ndarray) -> np.ndarray:
    data = wave.detach().cpu().numpy() if isinstance(wave, torch.Tensor) else np.asarray(wave)
    return np.atleast_2d(data).astype(np.float32)


def _add_aac_stream(container: av.container.OutputContainer, sample_rate: int | None, channels: int):
    if not sample_rate:
        raise MediaError("audio sample rate is required")
    stream = container.add_stream("aac", rate=sample_rate)
    stream.layout = "stereo" if channels == 2 else "mono"
    stream.bit_rate = 192_000
    return stream


def _encode_audio(container, stream, wave: np.ndarray, sample_rate: int) -> None:
    """Encode planar float audio [C, N] in 1024-sample frames; timestamps in samples."""
    wave = np.ascontiguousarray(np.clip(wave, -1.0, 1.0))
    frame_size = stream.codec_context.frame_size or 1024
    for start in range(0, wave.shape[1], frame_size):
        chunk = np.ascontiguousarray(wave[:, start : start + frame_size])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=stream.layout.name)
        frame.sample_rate = sample_rate
        frame.pts = start
        frame.time_base = Fraction(1, sample_rate)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def fit_length(wave: torch.Tensor | np.ndarray, num_samples: int) -> np.ndarray:
    """Trim or zero-pad [C, N] audio to exactly `num_samples` (short fade-out where trimmed)."""
    data = _as_numpy(wave)
    if data.shape[1] >= num_samples:
        return data[:, :num_samples]
    return np.pad(data, ((0, 0), (0, num_samples - data.shape[1])))


def mux(video_path: str | Path, wave: torch.Tensor | np.ndarray, sample_rate: int, out_path: str | Path) -> Path:
    """Write a copy of `video_path` with `wave` as its only audio track.

    The video stream is copied packet for packet (no re-encode) and the container metadata
    is kept. The waveform is padded or trimmed to the video's duration to the sample and
    encoded as AAC; the mp4 edit list hides the encoder's priming samples, so a decoder
    returns exactly that many samples.
    """
    info = probe(video_path)
    out_path = Path(out_path)
    if out_path.suffix.lower() not in (".mp4", ".mov", ".m4v", ".mkv"):
        raise MediaError(f"{out_path}: muxed output must be .mp4, .mov, .m4v or .mkv")
    num_samples = round(info.duration * sample_rate)
    data = fit_length(wave, num_samples)
    with _open(video_path) as source, atomic_path(out_path) as tmp:
        fmt = "matroska" if out_path.suffix.lower() == ".mkv" else "mp4"
        with av.open(str(tmp), mode="w", format=fmt) as target:
            target.metadata.update(source.metadata)
            vin = source.streams.video[0]
            vout = target.add_stream_from_template(vin)
            vout.metadata.update(vin.metadata)
            astream = _add_aac_stream(target, sample_rate, data.shape[0])
            for packet in source.demux(vin):
                if packet.dts is None:
                    continue
                packet.stream = vout
                target.mux(packet)
            _encode_audio(target, astream, data, sample_rate)
    log.info("muxed %d samples (%.3f s) into %s", num_samples, num_samples / sample_rate, out_path)
    return out_path
