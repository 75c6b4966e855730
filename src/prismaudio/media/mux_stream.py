"""Muxing a soundtrack FILE into a copy of a video, in constant memory (long videos).

The twin of `encode.mux` for audio that does not fit in memory: the video stream is copied
packet by packet (or cut, see video_copy), the audio file is read and AAC-encoded block by
block, padded with silence or stopped so that it is exactly as long as the output video.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator

import av
import numpy as np
import soundfile as sf

from ..fsutil import atomic_path
from .container import open_media
from .encode import _add_aac_stream, check_mux_target, cut_point, encode_audio_blocks
from .probe import probe
from .video_copy import add_video

log = logging.getLogger(__name__)
BLOCK = 1 << 16  # samples per read


def exact_blocks(path: Path, num_samples: int) -> Iterator[np.ndarray]:
    """[C, n] float32 blocks of the audio file, exactly `num_samples` in all (zero-padded or stopped)."""
    done = 0
    with sf.SoundFile(str(path)) as snd:
        while done < num_samples:
            data = snd.read(min(BLOCK, num_samples - done), dtype="float32", always_2d=True).T
            if data.shape[1] == 0:
                break
            done += data.shape[1]
            yield data
        channels = snd.channels
    while done < num_samples:
        n = min(BLOCK, num_samples - done)
        done += n
        yield np.zeros((channels, n), dtype=np.float32)


def mux_file(video_path: str | Path, audio_path: str | Path, out_path: str | Path,
             duration: float | None = None) -> Path:
    """Write a copy of `video_path` (cut to `duration` s when given) with the audio file as its
    only audio track, atomically."""
    info = probe(video_path)
    out_path = check_mux_target(out_path)
    audio_info = sf.info(str(audio_path))
    rate = int(audio_info.samplerate)
    end = cut_point(info.duration, duration)
    num_samples = round((info.duration if end is None else end) * rate)
    with open_media(video_path) as source, atomic_path(out_path) as tmp:
        fmt = "matroska" if out_path.suffix.lower() == ".mkv" else "mp4"
        with av.open(str(tmp), mode="w", format=fmt) as target:
            target.metadata.update(source.metadata)
            write_video_packets = add_video(source, target, end)
            astream = _add_aac_stream(target, rate, audio_info.channels)
            write_video_packets()
            encode_audio_blocks(target, astream, exact_blocks(Path(audio_path), num_samples), rate)
    log.info("muxed %d samples (%.3f s) into %s", num_samples, num_samples / rate, out_path)
    return out_path
