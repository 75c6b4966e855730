"""BS.1770 integrated loudness measured block by block, in constant memory.

pyloudnorm needs the whole signal in memory; an hour of 44.1 kHz stereo is 2.5 GB as float64.
This meter gives the same figure from blocks of any size: the K-weighting filters run with
their state carried from block to block, and for each 400 ms gating block (75 % overlap) only
the running sum of squares at its two ends is kept (two floats per channel per 100 ms). The
block boundaries and the gating (absolute -70 LUFS, relative -10 LU) are pyloudnorm's to the
sample, so the two agree to rounding (tests/test_stream_audio.py checks it).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

GATE_S = 0.4  # BS.1770 gating block
STEP = 0.25  # blocks start every quarter block (75 % overlap)
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0
CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)  # L, R, C, Ls, Rs


def k_weighting(sample_rate: int) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """(b, a, passband gain) of the two K-weighting stages, exactly as pyloudnorm designs them."""
    import pyloudnorm

    meter = pyloudnorm.Meter(sample_rate)
    return [(np.asarray(f.b, dtype=np.float64), np.asarray(f.a, dtype=np.float64), float(f.passband_gain))
            for f in meter._filters.values()]


def block_bounds(j: int, sample_rate: int) -> tuple[int, int]:
    """Samples [lower, upper) of gating block j (pyloudnorm's float expressions, so its rounding)."""
    return int(GATE_S * (j * STEP) * sample_rate), int(GATE_S * (j * STEP + 1) * sample_rate)


def gated_loudness(z: np.ndarray) -> float:
    """Integrated loudness (LUFS) from per-block mean squares z [C, J] by BS.1770's two gates;
    -inf when nothing passes the gates (silence)."""
    if z.shape[1] == 0:
        return float("-inf")
    weights = np.asarray(CHANNEL_WEIGHTS[: z.shape[0]])[:, None]
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10.0 * np.log10((weights * z).sum(axis=0))
    above = block_lufs >= ABSOLUTE_GATE
    if not above.any():
        return float("-inf")
    with np.errstate(divide="ignore"):
        relative = -0.691 + 10.0 * np.log10((weights[:, 0] * z[:, above].mean(axis=1)).sum()) + RELATIVE_GATE
    gated = (block_lufs > relative) & above
    if not gated.any():
        return float("-inf")
    with np.errstate(divide="ignore"):
        return float(-0.691 + 10.0 * np.log10((weights[:, 0] * z[:, gated].mean(axis=1)).sum()))


class LoudnessMeter:
    """Feed [C, n] blocks with `add`, read `integrated()` at any time (LUFS, -inf for silence)."""

    def __init__(self, sample_rate: int, channels: int):
        if not 1 <= channels <= len(CHANNEL_WEIGHTS):
            raise ValueError(f"BS.1770 weights cover 1 to {len(CHANNEL_WEIGHTS)} channels, got {channels}")
        self.rate, self.channels = sample_rate, channels
        self.stages = k_weighting(sample_rate)
        self.state = [np.zeros((channels, len(a) - 1)) for _, a, _ in self.stages]
        self.count = 0  # samples seen
        self.total = np.zeros(channels)  # running sum of squares of the weighted signal
        self.marks: dict[int, np.ndarray] = {0: np.zeros(channels)}  # sample index -> running sum there
        self.next = [0, 0]  # per end (lower, upper): the first block whose end is not yet marked

    def add(self, block: np.ndarray) -> None:
        x = np.atleast_2d(np.asarray(block, dtype=np.float64))
        if x.shape[0] != self.channels:
            raise ValueError(f"expected {self.channels} channels, got {x.shape[0]}")
        n = x.shape[1]
        if n == 0:
            return
        for i, (b, a, gain) in enumerate(self.stages):
            x, self.state[i] = lfilter(b, a, x, axis=1, zi=self.state[i])
            x = x * gain
        cums = np.cumsum(x * x, axis=1) + self.total[:, None]
        start, end = self.count, self.count + n
        for side in (0, 1):  # mark every block boundary that falls inside this block
            while (pos := block_bounds(self.next[side], self.rate)[side]) <= end:
                if pos > start and pos not in self.marks:
                    self.marks[pos] = cums[:, pos - start - 1].copy()
                self.next[side] += 1
        self.total, self.count = cums[:, -1].copy(), end

    def _sum_at(self, pos: int) -> np.ndarray:
        return self.marks[pos] if pos < self.count else self.total  # a block running past the end stops there

    def integrated(self) -> float:
        seconds = self.count / self.rate
        blocks = int(np.round((seconds - GATE_S) / (GATE_S * STEP))) + 1
        if self.count == 0 or blocks <= 0:
            return float("-inf")
        z = np.empty((self.channels, blocks))
        for j in range(blocks):
            lower, upper = block_bounds(j, self.rate)
            z[:, j] = (self._sum_at(upper) - self._sum_at(lower)) / (GATE_S * self.rate)
        return gated_loudness(z)
