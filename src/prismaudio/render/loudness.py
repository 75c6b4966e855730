"""Loudness normalisation (ITU-R BS.1770 integrated loudness, via pyloudnorm) and a true-peak
limiter (4x oversampled peak detection, look-ahead, hold; never clips).

Broadcast and streaming deliverables are specified this way: an integrated loudness target
(EBU R128: -23 LUFS) and a true-peak ceiling (-1 dBTP). Sample peaks are not enough: the
reconstructed waveform between samples can exceed them by up to ~3 dB, which is what clips in
a codec or a DAC; the 4x oversampled peak catches that.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

log = logging.getLogger(__name__)

DEFAULT_LUFS = -23.0
DEFAULT_CEILING_DBTP = -1.0
OVERSAMPLE = 4
LOOKAHEAD_S = 0.0025  # the gain ramps down over 2x this before a peak (attack) and up after the hold
HOLD_S = 0.04  # keep the reduced gain this long after a peak, so the gain does not flutter on a tone
LIMIT_MARGIN_DB = 0.05  # the limiter aims this far under the ceiling: the gain's own modulation moves peaks a little
MAX_MAKEUP_PASSES = 3  # loudness lost to the limiter is made up by raising the scale, at most this often
MIN_LOUDNESS_S = 0.4  # BS.1770 gating blocks: shorter mixes are measured ungated
SILENCE_LUFS = -70.0  # BS.1770 absolute gate: below it a mix counts as silent


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def gain_to_db(gain: float) -> float:
    return float(20.0 * np.log10(max(gain, 1e-12)))


def oversampled_peaks(audio: np.ndarray, factor: int = OVERSAMPLE) -> np.ndarray:
    """Per original sample, the largest |value| of the `factor`x oversampled waveform over all channels."""
    audio = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    n = audio.shape[-1]
    if n == 0:
        return np.zeros(0)
    up = np.abs(resample_poly(audio, factor, 1, axis=-1))[:, : n * factor]
    return up.max(axis=0).reshape(n, factor).max(axis=1)


def true_peak_dbtp(audio: np.ndarray, factor: int = OVERSAMPLE) -> float:
    """True peak in dBTP (4x oversampled, as BS.1770-4 Annex 2); -inf for silence."""
    peaks = oversampled_peaks(audio, factor)
    peak = float(peaks.max()) if len(peaks) else 0.0
    return 20.0 * np.log10(peak) if peak > 0 else float("-inf")


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (LUFS) of [C, N] audio by BS.1770; -inf for silence. Mixes shorter
    than one 400 ms gating block are measured ungated (K-weighted mean square of the whole)."""
    import pyloudnorm

    audio = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    if audio.shape[-1] == 0 or not np.any(audio):
        return float("-inf")
    meter = pyloudnorm.Meter(sample_rate)
    if audio.shape[-1] < int(MIN_LOUDNESS_S * sample_rate) + 1:
        # one block of the whole signal: repeat it to a block's length (same mean square, no gating)
        reps = int(np.ceil((MIN_LOUDNESS_S * sample_rate + 1) / audio.shape[-1])) + 1
        audio = np.tile(audio, reps)
    with np.errstate(divide="ignore"):
        value = float(meter.integrated_loudness(audio.T))
    return value if np.isfinite(value) else float("-inf")


def limiter_gain(audio: np.ndarray, sample_rate: int, ceiling_dbtp: float = DEFAULT_CEILING_DBTP,
                 lookahead_s: float = LOOKAHEAD_S, hold_s: float = HOLD_S, peaks: np.ndarray | None = None) -> np.ndarray:
    """Per-sample gain (<= 1) that keeps the 4x oversampled peak under the ceiling.

    The needed gain is min-filtered over [n - lookahead - hold, n + lookahead] and then averaged
    over [n - lookahead, n + lookahead]: every value in that average is at most the gain needed
    at n, so the smoothed gain never lets a peak through, and it ramps instead of jumping.
    """
    ceiling = db_to_gain(ceiling_dbtp)
    peaks = oversampled_peaks(audio) if peaks is None else peaks
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    if need.size == 0 or need.min() >= 1.0:
        return np.ones_like(need)
    look = max(1, int(round(lookahead_s * sample_rate)))
    hold = max(0, int(round(hold_s * sample_rate)))
    hold += hold % 2  # an even hold keeps the shifted window below whole samples
    back, ahead = look + hold, look
    half, shift = (back + ahead) // 2, hold // 2
    # held[n] = min(need[n - back .. n + ahead]): a centred min filter read `shift` samples late
    padded = np.concatenate([np.ones(shift), need])
    held = minimum_filter1d(padded, size=2 * half + 1, mode="nearest")[: len(need)]
    smooth = uniform_filter1d(held, size=2 * look + 1, mode="nearest")
    return np.minimum(smooth, need)  # exact at the edges, where the filters see "nearest" padding


def _limited_gain(audio: np.ndarray, sample_rate: int, scale: float, ceiling_dbtp: float,
                  peaks: np.ndarray | None = None) -> np.ndarray:
    """scale x limiter gain, iterated: the resampler's view of a limited waveform differs slightly.
    `peaks`: oversampled peaks of `audio` (unscaled), when already known."""
    gain = np.full(audio.shape[-1], scale)
    for i in range(3):
        known = peaks * scale if i == 0 and peaks is not None else None
        lim = limiter_gain(audio * gain, sample_rate, ceiling_dbtp - LIMIT_MARGIN_DB, peaks=known)
        if lim.size == 0 or lim.min() >= 1.0:
            break
        gain = gain * lim
    return gain


@dataclass
class MasterReport:
    """What mastering did: `gain` is per sample (scalar normalisation x limiter), so stems
    scaled by it sum to the mastered mix."""

    gain: np.ndarray
    target_lufs: float | None
    loudness_in: float
    loudness_out: float
    true_peak_out: float
    limited_db: float  # deepest limiter reduction
    warnings: list[str] = field(default_factory=list)


def master(audio: np.ndarray, sample_rate: int, target_lufs: float | None = DEFAULT_LUFS,
           ceiling_dbtp: float = DEFAULT_CEILING_DBTP) -> tuple[np.ndarray, MasterReport]:
    """Normalise [C, N] audio to `target_lufs` (None: keep the level) and true-peak limit it to
    `ceiling_dbtp`. Silent or very short audio is handled (no NaN) with a warning."""
    audio = np.nan_to_num(np.atleast_2d(np.asarray(audio, dtype=np.float64)))
    n = audio.shape[-1]
    warnings: list[str] = []
    loud_in = integrated_loudness(audio, sample_rate)
    scale, normalise = 1.0, False
    if loud_in == float("-inf") or loud_in < SILENCE_LUFS:
        if target_lufs is not None:
            quiet = "no signal" if not np.any(audio) else f"below the {SILENCE_LUFS:g} LUFS gate of BS.1770"
            warnings.append(f"the mix is silent ({quiet}): not normalised")
    elif target_lufs is not None:
        if n < int(MIN_LOUDNESS_S * sample_rate):
            warnings.append(f"the mix is only {n / sample_rate:.2f} s long: loudness measured ungated (BS.1770 gates "
                            f"{MIN_LOUDNESS_S:.1f} s blocks)")
        scale, normalise = db_to_gain(target_lufs - loud_in), True
    peaks = oversampled_peaks(audio)
    gain = _limited_gain(audio, sample_rate, scale, ceiling_dbtp, peaks)
    if gain.size and gain.min() >= scale:  # nothing limited (the common case): the scale alone is exact
        out = audio * scale
        top = float(peaks.max()) * scale
        tp = 20.0 * np.log10(top) if top > 0 else float("-inf")
        loud_out = loud_in + gain_to_db(scale) if np.isfinite(loud_in) else loud_in
        for w in warnings:
            log.warning("%s", w)
        return out.astype(np.float32), MasterReport(gain.astype(np.float32), target_lufs, loud_in, loud_out, tp, 0.0,
                                                    warnings)
    for _ in range(MAX_MAKEUP_PASSES):  # limiting took loudness off: raise the scale and limit again
        if not normalise:
            break
        short = integrated_loudness(audio * gain, sample_rate)
        if not np.isfinite(short) or target_lufs - short < 0.1:
            break
        scale *= db_to_gain(target_lufs - short)
        gain = _limited_gain(audio, sample_rate, scale, ceiling_dbtp)
    out = audio * gain
    tp = true_peak_dbtp(out)
    if tp > ceiling_dbtp:  # last resort, never reached in the tests: a plain scale, still no clipping
        gain *= db_to_gain(ceiling_dbtp - tp - 0.01)
        out = audio * gain
        tp = true_peak_dbtp(out)
    limited = gain_to_db(float(gain.min()) / scale) if n and scale > 0 else 0.0
    loud_out = integrated_loudness(out, sample_rate)
    if target_lufs is not None and limited < -6.0:
        warnings.append(f"the limiter took up to {-limited:.1f} dB off peaks to reach {target_lufs:g} LUFS "
                        f"under {ceiling_dbtp:g} dBTP")
    for w in warnings:
        log.warning("%s", w)
    return out.astype(np.float32), MasterReport(gain.astype(np.float32), target_lufs, loud_in, loud_out, tp, limited,
                                                warnings)
