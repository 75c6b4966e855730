"""Mastering a soundtrack file of any length in constant memory: the streaming twin of
`loudness.master` (same target, same limiter, same guarantees).

    pass 1: read the unnormalised file block by block -> integrated loudness (BS.1770, the
            block meter of loudness_meter) and the 4x oversampled true peak
    pass 2: gain = target - loudness; when the peak would pass the ceiling, the limiter runs
            block by block (each block with half a second of context on both sides, more
            than the limiter's look-ahead, hold and resampling filter reach, so a block's
            gain is what the whole file would give there) and, if it took loudness off,
            the scale is raised and measured again (at most MAX_MAKEUP_PASSES times)
    last:   the scaled, limited audio is written block by block (atomically), its loudness
            and true peak measured on the way for the report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import soundfile as sf

from ..fsutil import atomic_path
from .loudness import (DEFAULT_CEILING_DBTP, DEFAULT_LUFS, LIMIT_MARGIN_DB, MAX_MAKEUP_PASSES, SILENCE_LUFS,
                       _limited_gain, db_to_gain, gain_to_db, oversampled_peaks)
from .loudness_meter import LoudnessMeter

log = logging.getLogger(__name__)
BLOCK_S = 10.0
CONTEXT_S = 0.5  # > 3 limiter iterations x (look-ahead + hold + look-ahead) + the resampler's reach


@dataclass
class StreamMasterReport:
    """What mastering a file did (the per-sample gain of `MasterReport` is not kept: it is as long as the file)."""

    target_lufs: float | None
    loudness_in: float
    loudness_out: float
    true_peak_out: float
    limited_db: float  # deepest limiter reduction
    scale_db: float
    warnings: list[str] = field(default_factory=list)


def blocks_with_context(snd: sf.SoundFile, block: int, context: int) -> Iterator[tuple[np.ndarray, int, int]]:
    """(audio [C, m] with up to `context` samples either side, core start in it, core length)."""
    total = snd.frames
    for start in range(0, total, block):
        lo, hi = max(0, start - context), min(total, start + block + context)
        snd.seek(lo)
        data = snd.read(hi - lo, dtype="float64", always_2d=True).T
        yield data, start - lo, min(block, total - start)


def _scan(path: Path, sample_rate: int, scale: float, ceiling_dbtp: float | None, writer=None, peak: bool = True
          ) -> tuple[float, float, float]:
    """One pass: (loudness, true peak (linear; 0 when `peak` is False), smallest limiter gain
    relative to scale) of the file scaled by `scale` and, when `ceiling_dbtp` is given,
    limited; written to `writer`."""
    with sf.SoundFile(str(path)) as snd:
        meter = LoudnessMeter(sample_rate, snd.channels)
        measure, top, least = peak, 0.0, 1.0
        block, context = int(BLOCK_S * sample_rate), int(CONTEXT_S * sample_rate)
        for data, at, n in blocks_with_context(snd, block, context):
            if ceiling_dbtp is None:
                out = data * scale
            else:
                gain = _limited_gain(data, sample_rate, scale, ceiling_dbtp)
                out = data * gain
                least = min(least, float(gain[at:at + n].min()) / scale if scale > 0 else 1.0)
            core = out[:, at:at + n]
            if measure:
                peaks = oversampled_peaks(out)[at:at + n]
                top = max(top, float(peaks.max()) if len(peaks) else 0.0)
            meter.add(core)
            if writer is not None:
                writer.write(np.clip(core, -1.0, 1.0).T.astype(np.float32))
    return meter.integrated(), top, least


def master_file(src: str | Path, dst: str | Path, sample_rate: int, target_lufs: float | None = DEFAULT_LUFS,
                ceiling_dbtp: float = DEFAULT_CEILING_DBTP, subtype: str = "PCM_16") -> StreamMasterReport:
    """Normalise the audio file `src` to `target_lufs` (None: keep the level) under a true-peak
    ceiling, writing `dst` (.wav or .flac) atomically, in blocks (constant memory)."""
    src, dst = Path(src), Path(dst)
    fmt = {".wav": "WAV", ".flac": "FLAC"}.get(dst.suffix.lower())
    if fmt is None:
        raise ValueError(f"{dst}: unsupported audio format (use .wav or .flac)")
    warnings: list[str] = []
    loud_in, peak_in, _ = _scan(src, sample_rate, 1.0, None)
    scale = 1.0
    if not np.isfinite(loud_in) or loud_in < SILENCE_LUFS:
        if target_lufs is not None:
            warnings.append(f"the mix is silent (below the {SILENCE_LUFS:g} LUFS gate of BS.1770): not normalised")
    elif target_lufs is not None:
        scale = db_to_gain(target_lufs - loud_in)
    limit_at = ceiling_dbtp - LIMIT_MARGIN_DB
    limit = peak_in * scale > db_to_gain(limit_at)
    if limit and target_lufs is not None and np.isfinite(loud_in) and loud_in >= SILENCE_LUFS:
        for _ in range(MAX_MAKEUP_PASSES):  # limiting took loudness off: raise the scale and measure again
            short, _, _ = _scan(src, sample_rate, scale, ceiling_dbtp, peak=False)
            if not np.isfinite(short) or target_lufs - short < 0.1:
                break
            scale *= db_to_gain(target_lufs - short)
    with atomic_path(dst) as tmp:
        with sf.SoundFile(str(tmp), "w", samplerate=sample_rate, channels=_channels(src), format=fmt,
                          subtype=subtype) as out:
            # unlimited, the output's peak is the input's scaled: no need to resample it again
            loud_out, peak_out, least = _scan(src, sample_rate, scale, ceiling_dbtp if limit else None, out, peak=limit)
    if not limit:
        peak_out = peak_in * scale
    true_peak = gain_to_db(peak_out) if peak_out > 0 else float("-inf")
    if true_peak > ceiling_dbtp + 0.05:  # never reached in the tests; say so rather than hide it
        warnings.append(f"true peak {true_peak:.2f} dBTP is over the {ceiling_dbtp:g} dBTP ceiling")
    limited = gain_to_db(least) if limit else 0.0
    if target_lufs is not None and limited < -6.0:
        warnings.append(f"the limiter took up to {-limited:.1f} dB off peaks to reach {target_lufs:g} LUFS "
                        f"under {ceiling_dbtp:g} dBTP")
    for w in warnings:
        log.warning("%s", w)
    return StreamMasterReport(target_lufs, loud_in, loud_out, true_peak, limited, gain_to_db(scale), warnings)


def _channels(path: Path) -> int:
    return sf.info(str(path)).channels
