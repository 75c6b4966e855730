"""The one spatial renderer: place a mono stem in the stereo image from the plan's x(t) and
distance(t), per sample. Shared by the SynthCanvas reference, the stem engines and the mixer,
so a spatial edit of a plan re-renders from cached stems without sampling again.

Cues (sign conventions as `prismaudio.dsp.spatial`: x in [-1 left, +1 right]):
- ILD: constant-power pan, theta = (PAN_WIDTH * x + 1) * pi / 4, gains (cos theta, sin theta);
  PAN_WIDTH < 1 keeps the far channel audible at the edges (about -18 dB at |x| = 1);
- ITD: the far ear hears the source MAX_ITD_S * |x| later (0.6 ms at the edges), by a
  windowed-sinc fractional delay: linear interpolation is a low-pass whose depth depends on
  the fraction (about -3 to -8 dB at 4-6 kHz at 16 kHz), which made the far ear duller than
  the pan law says and biased the level difference in the high band;
- distance: gain 1 / distance (relative distance, 1 = reference), clamped to GAIN_RANGE;
- diffuse sources (ambience): no point position; two decorrelating all-pass-like filters
  (flat magnitude, random phase) give a wide, enveloping image with the same energy.
"""

from __future__ import annotations

import numpy as np

MAX_ITD_S = 0.0006
PAN_WIDTH = 0.85
GAIN_RANGE = (0.3, 2.0)
SINC_HALF_WIDTH = 16  # taps each side: flat (< 0.1 dB) to 0.8 of Nyquist
SINC_KAISER_BETA = 8.0
DECORRELATOR_S = 0.02  # impulse length of the diffuse decorrelators: short enough to keep transients
DECORRELATOR_SEED = 1234  # fixed: the same stem renders the same wide image every time


def pan_gains(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Constant-power (left, right) gains for positions x in [-1, 1] (clipped)."""
    theta = (PAN_WIDTH * np.clip(np.asarray(x, dtype=np.float64), -1.0, 1.0) + 1.0) * np.pi / 4.0
    return np.cos(theta), np.sin(theta)


def itd_samples(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """Delay of the right channel relative to the left, in samples (> 0: source on the left)."""
    return -MAX_ITD_S * sample_rate * np.clip(np.asarray(x, dtype=np.float64), -1.0, 1.0)


def distance_gain(distance: np.ndarray) -> np.ndarray:
    """Amplitude gain of a source at a relative distance (1 = reference): 1 / distance, clamped."""
    d = np.asarray(distance, dtype=np.float64)
    return np.clip(1.0 / np.maximum(d, 1e-6), *GAIN_RANGE)


def _kaiser_sinc(t: np.ndarray, half_width: int) -> np.ndarray:
    """Kaiser-windowed sinc evaluated at offsets t (samples), zero outside |t| < half_width."""
    w = np.i0(SINC_KAISER_BETA * np.sqrt(np.clip(1.0 - (t / half_width) ** 2, 0.0, 1.0))) / np.i0(SINC_KAISER_BETA)
    return np.where(np.abs(t) < half_width, np.sinc(t) * w, 0.0)


SINC_PHASES = 1024  # fractional positions tabulated: 1/1024 sample error, far below audibility


def _sinc_table(half_width: int) -> np.ndarray:
    """[SINC_PHASES + 1, 2 * half_width] kernel taps for fractions 0 .. 1 (polyphase table)."""
    frac = np.arange(SINC_PHASES + 1)[:, None] / SINC_PHASES
    taps = np.arange(-half_width + 1, half_width + 1)[None, :]
    return _kaiser_sinc(frac - taps, half_width)


_TABLES: dict[int, np.ndarray] = {}


def fractional_delay(signal: np.ndarray, delay: np.ndarray | float, half_width: int = SINC_HALF_WIDTH) -> np.ndarray:
    """y[n] = signal(n - delay[n]) by windowed-sinc interpolation; `delay` per sample (any sign,
    any fraction) or one number. Outside the signal is silence. Vectorised: one pass per tap
    over a tabulated polyphase kernel."""
    x = np.asarray(signal, dtype=np.float64)
    n = len(x)
    if n == 0:
        return x.copy()
    table = _TABLES.get(half_width)
    if table is None:
        table = _TABLES[half_width] = _sinc_table(half_width)
    delay = np.broadcast_to(np.asarray(delay, dtype=np.float64), (n,))
    pad = half_width + int(np.ceil(np.max(np.abs(delay)))) + 1
    padded = np.concatenate([np.zeros(pad), x, np.zeros(pad)])
    # Only outputs that can hear a non-zero input are computed: impact stems are mostly silence.
    from scipy.ndimage import maximum_filter1d

    active = maximum_filter1d((x != 0).astype(np.uint8), size=2 * pad + 1, mode="constant") > 0
    idx = np.flatnonzero(active)
    out = np.zeros(n)
    if idx.size == 0:
        return out
    pos = idx - delay[idx]
    base = np.floor(pos).astype(np.int64)
    phase = np.rint((pos - base) * SINC_PHASES).astype(np.int64)
    start = base + pad
    acc = np.zeros(idx.size)
    for k, j in enumerate(range(-half_width + 1, half_width + 1)):
        acc += padded[start + j] * table[phase, k]
    out[idx] = acc
    return out


def place_point(mono: np.ndarray, x: np.ndarray, distance: np.ndarray | None, sample_rate: int) -> np.ndarray:
    """[2, N] float64: a point source at per-sample position x(t) and relative distance(t)."""
    mono = np.asarray(mono, dtype=np.float64)
    x = np.clip(np.broadcast_to(np.asarray(x, dtype=np.float64), mono.shape), -1.0, 1.0)
    if distance is not None:
        mono = mono * distance_gain(np.broadcast_to(distance, mono.shape))
    delay = itd_samples(x, sample_rate)  # > 0: right ear later
    left = fractional_delay(mono, np.maximum(-delay, 0.0)) if np.any(delay < 0) else mono
    right = fractional_delay(mono, np.maximum(delay, 0.0)) if np.any(delay > 0) else mono
    gl, gr = pan_gains(x)
    return np.stack([left * gl, right * gr])


def decorrelators(sample_rate: int, seed: int = DECORRELATOR_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Two FIR filters with exactly flat magnitude and independent random phase (length
    DECORRELATOR_S): each keeps a sound's spectrum, together they make left and right incoherent."""
    n = max(16, int(DECORRELATOR_S * sample_rate))
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(2):
        phase = rng.uniform(-np.pi, np.pi, n // 2 + 1)
        phase[0] = 0.0
        if n % 2 == 0:
            phase[-1] = 0.0
        out.append(np.fft.irfft(np.exp(1j * phase), n))
    return out[0], out[1]


def place_diffuse(mono: np.ndarray, sample_rate: int, gain: float = 1.0) -> np.ndarray:
    """[2, N] float64: a wide, decorrelated image of a diffuse source (ambience), same total energy."""
    from scipy.signal import fftconvolve

    mono = np.asarray(mono, dtype=np.float64) * gain
    if len(mono) == 0:
        return np.zeros((2, 0))
    h_left, h_right = decorrelators(sample_rate)
    scale = np.sqrt(0.5)  # constant power: half the energy in each channel, as a centred pan
    return np.stack([fftconvolve(mono, h_left)[: len(mono)] * scale, fftconvolve(mono, h_right)[: len(mono)] * scale])


def place_stem(mono: np.ndarray, sample_rate: int, x: np.ndarray | None = None, distance: np.ndarray | None = None,
               diffuse: bool = False) -> np.ndarray:
    """[2, N] float32: a stem placed as the plan says. A point source without a track sits in
    the centre; a diffuse one is spread wide (its mean distance, if any, sets its level)."""
    if diffuse:
        gain = float(np.mean(distance_gain(distance))) if distance is not None and np.size(distance) else 1.0
        return place_diffuse(mono, sample_rate, gain).astype(np.float32)
    return place_point(mono, np.zeros(len(mono)) if x is None else x, distance, sample_rate).astype(np.float32)


def place_plan_stems(stems: dict[str, np.ndarray], plan, sample_rate: int) -> dict[str, np.ndarray]:
    """source id -> [2, N] placed stem, each from its plan track (x(t), distance(t)) and diffuse flag."""
    placed = {}
    for source_id, mono in stems.items():
        t = np.arange(len(mono)) / sample_rate
        track = plan.track(source_id)
        source = plan.source(source_id)
        x = track.x_at(t) if track is not None and track.times else None
        dist = track.distance_at(t) if track is not None and track.times and track.distance else None
        placed[source_id] = place_stem(mono, sample_rate, x, dist, diffuse=source.diffuse)
    return placed
