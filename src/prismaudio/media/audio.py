"""Reading audio from any container at a target rate, writing wav/flac atomically."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import soundfile as sf
import torch

from ..errors import MediaError
from ..fsutil import atomic_path
from .container import check_readable, open_media


AUDIO_FORMATS = {".wav": "WAV", ".flac": "FLAC"}
MAX_CHANNELS = 64


def _resample(container: av.container.InputContainer, sample_rate: int) -> np.ndarray:
    """Decode the first audio stream to float32 [C, N] at `sample_rate`, channels as stored.

    The resampler writes packed (interleaved) float: PyAV's `to_ndarray` on planar frames of
    many channels (an 8-channel 48 kHz WAV) reads past its plane pointers and segfaults.
    """
    stream = container.streams.audio[0]
    channels = stream.codec_context.channels
    if not 1 <= channels <= MAX_CHANNELS:
        raise MediaError(f"{container.name}: {channels} audio channels is not supported (1 to {MAX_CHANNELS})")
    resampler = av.AudioResampler(format="flt", layout=stream.layout.name, rate=sample_rate)
    chunks = []

    def take(frames) -> None:
        for out in frames:
            chunks.append(out.to_ndarray().reshape(-1, channels).T)

    for frame in container.decode(stream):
        take(resampler.resample(frame))
    take(resampler.resample(None))
    if not chunks:
        return np.zeros((channels, 0), dtype=np.float32)
    return np.concatenate(chunks, axis=1).astype(np.float32)


def remix(wave: np.ndarray, channels: int) -> np.ndarray:
    """[C, N] to `channels`: mono is copied to every channel, a downmix to mono is the mean,
    and otherwise the first channels are kept (front left/right come first in every layout).

    Done here rather than by FFmpeg's rematrix, which scales a mono upmix by -3 dB.
    """
    if wave.shape[0] == channels:
        return wave
    if wave.shape[0] == 1:
        return np.repeat(wave, channels, axis=0)
    if channels == 1:
        return wave.mean(axis=0, keepdims=True)
    if wave.shape[0] > channels:
        return wave[:channels]
    return np.concatenate([wave, np.repeat(wave[-1:], channels - wave.shape[0], axis=0)])


def _read_plain(path: str | Path, sample_rate: int) -> np.ndarray | None:
    """wav/flac already at `sample_rate` through libsndfile (about 20x faster than decoding
    with FFmpeg); None when the file needs FFmpeg (other formats, other rates, or damage)."""
    path = check_readable(path)
    if path.suffix.lower() not in AUDIO_FORMATS:
        return None
    try:
        info = sf.info(str(path))
        if info.samplerate != sample_rate:
            return None
        data, _ = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError):
        return None
    return data.T


def read_audio(path: str | Path, sample_rate: int, channels: int | None = None) -> torch.Tensor:
    """Audio from any container (wav, flac, ogg, mp4, ...) as float32 [C, N] at `sample_rate`.

    `channels=None` keeps the source channel count; otherwise see `remix` (1 is the mean of
    the channels, 2 from mono copies it to both sides).
    """
    if sample_rate <= 0:
        raise MediaError(f"{path}: sample rate must be positive, got {sample_rate}")
    fast = _read_plain(path, sample_rate)
    if fast is not None:
        return torch.from_numpy(np.ascontiguousarray(fast if channels is None else remix(fast, channels)))
    with open_media(path) as container:
        if not container.streams.audio:
            raise MediaError(f"{path}: no audio stream")
        stream = container.streams.audio[0]
        wave = _resample(container, sample_rate)
        if channels is not None:
            wave = remix(wave, channels)
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


def fit_length(wave: torch.Tensor | np.ndarray, num_samples: int, fade: int = 256) -> np.ndarray:
    """Trim or zero-pad [C, N] audio to exactly `num_samples`.

    Where sound is cut, the last `fade` samples (256: 5.8 ms at 44.1 kHz, 16 ms at 16 kHz) fade
    out on a raised-cosine ramp, so the cut does not end on a click.
    """
    data = _as_numpy(wave)
    if data.shape[1] < num_samples:
        return np.pad(data, ((0, 0), (0, num_samples - data.shape[1])))
    out = data[:, :num_samples].copy()
    n = min(fade, num_samples)
    if data.shape[1] > num_samples and n > 0:
        out[:, num_samples - n :] *= fade_out_ramp(n)
    return out


def fade_out_ramp(n: int) -> np.ndarray:
    """[n] gains from 1 down to 0 (exclusive of 1, ending at 0) on a raised-cosine curve."""
    return (0.5 + 0.5 * np.cos(np.pi * np.arange(1, n + 1) / n)).astype(np.float32)


def _as_numpy(wave: torch.Tensor | np.ndarray) -> np.ndarray:
    data = wave.detach().cpu().numpy() if isinstance(wave, torch.Tensor) else np.asarray(wave)
    return np.atleast_2d(data).astype(np.float32)
