"""Reading audio from any container at a target rate, writing wav/flac atomically."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import soundfile as sf
import torch

from ..errors import MediaError
from ..fsutil import atomic_path
from .container import open_media


AUDIO_FORMATS = {".wav": "WAV", ".flac": "FLAC"}


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
    with open_media(path) as container:
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


def fit_length(wave: torch.Tensor | np.ndarray, num_samples: int) -> np.ndarray:
    """Trim or zero-pad [C, N] audio to exactly `num_samples` (short fade-out where trimmed)."""
    data = _as_numpy(wave)
    if data.shape[1] >= num_samples:
        return data[:, :num_samples]
    return np.pad(data, ((0, 0), (0, num_samples - data.shape[1])))


def _as_numpy(wave: torch.Tensor | np.ndarray) -> np.ndarray:
    data = wave.detach().cpu().numpy() if isinstance(wave, torch.Tensor) else np.asarray(wave)
    return np.atleast_2d(data).astype(np.float32)
