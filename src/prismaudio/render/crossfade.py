"""Joining overlapping windows of audio without a click or a level change (pure).

Two windows overlap by a few hundred milliseconds; across the overlap the first fades out
(gain a) and the second fades in (gain b). What keeps the level constant depends on how alike
the two signals are there. With correlation r between them, the joined power is
    a^2 P + b^2 P + 2 r a b P,
so the gains must satisfy a^2 + b^2 + 2 r a b = 1:
- uncorrelated windows (r = 0: the model engine samples each window from its own noise) need
  EQUAL POWER (a^2 + b^2 = 1); a linear fade would dip 3 dB in the middle of every seam;
- identical material (r = 1: both windows render the same planned event the same way) needs
  EQUAL GAIN (a + b = 1); an equal-power fade would swell 3 dB.
`crossfade_gains` covers both and everything between: it takes a linear ramp p and normalises
(1 - p, p) for the measured correlation, so the fade is smooth (no click) and the level flat.
"""

from __future__ import annotations

import numpy as np

SILENT_POWER = 1e-12


def crossfade_gains(n: int, correlation: float) -> tuple[np.ndarray, np.ndarray]:
    """(fade-out, fade-in) gains over `n` overlapping samples for signals of the given
    correlation (clipped to [0, 1]): equal power at 0, equal gain at 1, a^2 + b^2 + 2rab = 1
    in between. Both are monotone and meet at the middle."""
    r = float(np.clip(correlation, 0.0, 1.0))
    p = (np.arange(n, dtype=np.float64) + 0.5) / max(n, 1)
    a, b = 1.0 - p, p
    norm = np.sqrt(a * a + b * b + 2.0 * r * a * b)
    return a / norm, b / norm


def overlap_correlation(first: np.ndarray, second: np.ndarray) -> float:
    """Zero-lag normalised correlation of two [C, n] (or [n]) signals over their overlap,
    clipped to [0, 1]: 0 for uncorrelated (or silent) material, 1 for identical material.
    Anti-correlated material counts as uncorrelated (equal power is the safe choice there)."""
    x = np.asarray(first, dtype=np.float64).ravel()
    y = np.asarray(second, dtype=np.float64).ravel()
    den = np.sqrt(float(np.dot(x, x)) * float(np.dot(y, y)))
    if den <= SILENT_POWER:
        return 0.0
    return float(np.clip(np.dot(x, y) / den, 0.0, 1.0))


def crossfade(tail: np.ndarray, head: np.ndarray) -> np.ndarray:
    """The overlap of two windows joined: `tail` (end of the earlier window) fading out and
    `head` (start of the later one) fading in, both [C, n]; the fade law follows their
    measured correlation (see the module docstring)."""
    tail, head = np.atleast_2d(tail), np.atleast_2d(head)
    if tail.shape != head.shape:
        raise ValueError(f"crossfade: overlap shapes differ ({tail.shape} vs {head.shape})")
    fade_out, fade_in = crossfade_gains(tail.shape[-1], overlap_correlation(tail, head))
    return (tail * fade_out + head * fade_in).astype(np.result_type(tail, head))
