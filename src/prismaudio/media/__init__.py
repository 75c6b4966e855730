"""Video and audio I/O through PyAV (FFmpeg inside the wheel; no system ffmpeg needed).

- `probe(path)`: duration, fps (variable-fps aware), size, rotation, audio streams.
- `decode_frames(path, fps, size)`: frames uniform in time as a uint8 tensor [T, H, W, 3].
- `read_audio(path, sample_rate)`: any container, rate or channel count -> float32 [C, N].
- `write_audio(path, wave, sample_rate)`: wav or flac, written atomically.
- `write_video(path, frames, fps)`: H.264 mp4 from frames (SynthCanvas, tests).
- `mux(video, wave, sample_rate, out)`: the video stream copied packet for packet, the
  waveform as AAC, exactly as long as the video to the sample (or cut to `duration`).
- `mux_file(video, audio_file, out)`: the same from an audio file, in blocks (long videos).
- `iter_span_frames(path, specs, spans)`: frames of many time spans in one decoding pass.

Every failure caused by the file becomes a `MediaError` naming the file and the problem.
"""

from ..fsutil import atomic_path
from .audio import AUDIO_FORMATS, fit_length, read_audio, write_audio
from .container import check_readable
from .encode import mux, write_video
from .frame_stream import Span, iter_span_frames
from .frames import FrameSpec, decode_frame_sets, decode_frames
from .mux_stream import mux_file
from .probe import AudioStreamInfo, VideoInfo, probe

# File name suffixes treated as videos when a folder is scanned or an upload is named.
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi"})

__all__ = [
    "AUDIO_FORMATS", "AudioStreamInfo", "VIDEO_SUFFIXES", "VideoInfo", "atomic_path", "check_readable", "decode_frames", "decode_frame_sets", "FrameSpec",
    "fit_length", "iter_span_frames", "mux", "mux_file", "probe", "Span", "read_audio", "write_audio", "write_video",
]
