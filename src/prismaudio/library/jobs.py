"""One recording of the library build: decode (or render) it, trim its silence, resample,
normalise its loudness and write it as mono FLAC. Runs in worker processes.

A bad input is never fatal: it comes back as an Outcome with a one-line reason naming the
file (unreadable, empty, silent, an odd sample rate or channel count), and the build skips it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import PrismError
from .process import normalise_loudness, trim_silence

PROCESS_VERSION = 1                   # bump when processing changes: every file is redone
MIN_SECONDS = 0.02
MAX_SECONDS = {"impact": 8.0, "sustained": 30.0, "ambience": 30.0}
SOURCE_RATES = (4000, 192000)          # a source sample rate outside this is not audio we trust
MAX_CHANNELS = 8
FADE_OUT_S = 0.05


@dataclass(frozen=True)
class Job:
    class_name: str
    kind: str
    rel: str                           # output path below the library root
    package: str
    licence: str
    source_file: str                   # a file to decode, or "soundfont:<program/key>" for a note
    fingerprint: str                   # what decides the output; equal fingerprint = reuse
    note: tuple[int, int] | None = None  # (key, velocity) of a soundfont class


@dataclass(frozen=True)
class Outcome:
    rel: str
    duration: float = 0.0
    reason: str = ""                   # non-empty: skipped, and why


def file_fingerprint(path: Path, sample_rate: int) -> str:
    st = path.stat()
    return f"file:{path}:{st.st_size}:{st.st_mtime_ns}:{sample_rate}:{PROCESS_VERSION}"


def content_hash(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def probe(path: Path) -> None:
    """MediaError-like PrismError when the file is not audio we accept."""
    import soundfile as sf

    from ..media.container import check_readable

    check_readable(path)
    try:
        info = sf.info(str(path))
        rate, channels, frames = info.samplerate, info.channels, info.frames
    except Exception:  # not libsndfile's: ask FFmpeg (mp3, odd containers)
        from ..media.container import open_media

        with open_media(path) as c:
            if not c.streams.audio:
                raise PrismError(f"{path}: no audio stream") from None
            s = c.streams.audio[0]
            rate, channels, frames = s.codec_context.sample_rate, s.codec_context.channels, 1
    if not SOURCE_RATES[0] <= rate <= SOURCE_RATES[1]:
        raise PrismError(f"{path}: sample rate {rate} Hz is outside {SOURCE_RATES[0]}-{SOURCE_RATES[1]} Hz")
    if not 1 <= channels <= MAX_CHANNELS:
        raise PrismError(f"{path}: {channels} channels (expected 1-{MAX_CHANNELS})")
    if frames == 0:
        raise PrismError(f"{path}: no audio frames")


def decode(path: Path, sample_rate: int) -> np.ndarray:
    """Mono float32 at `sample_rate`. Some game WAVs carry INFO tags that are not UTF-8, which
    FFmpeg's reader refuses: those are read by libsndfile at their own rate and resampled here."""
    from math import gcd

    import soundfile as sf
    from scipy.signal import resample_poly

    from ..media.audio import read_audio

    try:
        return read_audio(path, sample_rate, channels=1).numpy()[0]
    except UnicodeDecodeError:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        mono = data.mean(axis=1)
        g = gcd(int(rate), sample_rate)
        return resample_poly(mono, sample_rate // g, int(rate) // g).astype(np.float32)


def finish(wave: np.ndarray, sample_rate: int, kind: str) -> np.ndarray:
    """Trim, cap the length (with a fade) and normalise; empty when nothing is left."""
    wave = trim_silence(wave, sample_rate)
    if len(wave) < MIN_SECONDS * sample_rate:
        return wave[:0]
    cap = int(MAX_SECONDS.get(kind, 30.0) * sample_rate)
    if len(wave) > cap:
        wave = wave[:cap].copy()
        n = int(FADE_OUT_S * sample_rate)
        wave[-n:] *= np.linspace(1.0, 0.0, n, dtype=np.float32)
    wave, _ = normalise_loudness(wave, sample_rate)
    return wave


class Worker:
    """Per-process state: the soundfont synth and the soundfont classes by name."""

    def __init__(self, root: str, sample_rate: int, soundfont: str | None):
        self.root = Path(root)
        self.sr = sample_rate
        self.soundfont = soundfont
        self._bank = None
        self._classes = None

    def _note(self, job: Job) -> np.ndarray:
        from ..canvas.soundbank import SoundBank
        from .soundfont import render_note, soundfont_classes

        if self._bank is None:
            self._bank = SoundBank(self.sr, self.soundfont)
            self._classes = {c.sound.name: c.sound for c in soundfont_classes()}
        return render_note(self._bank, self._classes[job.class_name], *job.note)

    def run(self, job: Job) -> Outcome:
        from ..media.audio import write_audio

        try:
            if job.note is not None:
                wave = self._note(job)
            else:
                path = Path(job.source_file)
                probe(path)
                wave = decode(path, self.sr)
            if not np.isfinite(wave).all():
                raise PrismError(f"{job.source_file}: audio holds NaN or inf samples")
            wave = finish(wave, self.sr, job.kind)
            if not len(wave):
                return Outcome(job.rel, reason=f"{job.source_file}: silent or shorter than {MIN_SECONDS * 1000:.0f} ms")
            write_audio(self.root / job.rel, wave[None], self.sr)
            return Outcome(job.rel, len(wave) / self.sr)
        except PrismError as e:
            return Outcome(job.rel, reason=str(e))
        except (OSError, RuntimeError, ValueError) as e:  # a decoder choking on a damaged file
            return Outcome(job.rel, reason=f"{job.source_file}: unreadable ({type(e).__name__}: {str(e).splitlines()[0][:120]})")


_WORKER: Worker | None = None


def init_worker(root: str, sample_rate: int, soundfont: str | None) -> None:
    global _WORKER
    _WORKER = Worker(root, sample_rate, soundfont)


def run_job(job: Job) -> Outcome:
    return _WORKER.run(job)
