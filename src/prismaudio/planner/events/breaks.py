"""Where a trajectory breaks: the optimal piecewise-parabola fit of an object's screen path.

Between contacts an object is in free flight, rolling, sliding or at rest: on each axis its
screen position is a parabola in time (constant acceleration; perspective bends it a little
over a long span, not over a bounce). A contact is where one parabola ends and the next
begins with another velocity. So instead of thresholding frame-to-frame velocity changes
(which mistakes the apex of a throw for a bounce and misses bounces closer together than its
window) the track is cut into the segments that explain it best: dynamic programming over all
cut points minimises

    sum over segments of (squared residual of its parabola fit) / noise^2  +  penalty per cut

(optimal partitioning, Jackson et al. 2005). The noise is measured on the track itself (robust
spread of its third differences, which a parabola does not have). Each cut gives the two
segments' velocities where their curves meet: the contact's time (sub-frame) and its velocity
change (its strength). Pure numpy; `motion.py` decides which cuts are contacts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Break:
    index: int  # first sample of the segment after the cut
    time: float  # seconds: where the two fitted curves meet (between the samples around the cut)
    before: np.ndarray  # [2] velocity of the segment before, at `time` (units / s)
    after: np.ndarray  # [2] velocity of the segment after, at `time`

    @property
    def change(self) -> float:
        return float(np.linalg.norm(self.after - self.before))


def track_noise(pos: np.ndarray, floor: float) -> float:
    """Robust standard deviation of the position noise: the third differences of a parabola are
    zero, of white noise of spread s they have spread s * sqrt(20); contacts are outliers (MAD).
    Per axis, the larger: an axis along which the object never moves says nothing of the other."""
    p = np.asarray(pos, float)
    if len(p) < 5:
        return floor
    d3 = np.diff(p, n=3, axis=0)
    mad = np.median(np.abs(d3 - np.median(d3, axis=0)), axis=0)
    return max(floor, float(mad.max()) / 0.6745 / np.sqrt(20.0))


def _window_costs(t: np.ndarray, pos: np.ndarray, j: int, first: int) -> np.ndarray:
    """Squared residuals of the least-squares parabola (both axes) through samples i..j, for every
    i in first..j (time measured from t[j], so the sums stay well conditioned)."""
    u = t[first : j + 1] - t[j]
    y = pos[first : j + 1]
    rev = lambda a: np.cumsum(a[::-1], axis=0)[::-1]  # noqa: E731 (sums over i..j for each i)
    s = [rev(u ** k) for k in range(5)]
    sy = [rev(u[:, None] ** k * y) for k in range(3)]
    syy = rev(y * y).sum(1)
    a = np.stack([np.stack([s[r + c] for c in range(3)], -1) for r in range(3)], -2)  # [m, 3, 3]
    a = a + np.eye(3) * 1e-9 * np.maximum(s[0], 1.0)[:, None, None]  # one or two samples: any parabola through them
    b = np.stack(sy, 1)  # [m, 3, 2]
    coef = np.linalg.solve(a, b)
    return np.maximum(syy - np.einsum("mkd,mkd->m", coef, b), 0.0)


def optimal_cuts(t: np.ndarray, pos: np.ndarray, noise: float, penalty: float, max_len: int = 100) -> list[int]:
    """Indices where new segments begin (0 not included) in the fit minimising residual / noise^2
    + penalty per segment. Segments are at most `max_len` samples (a cut forced there has no
    velocity change and is no contact)."""
    n = len(t)
    if n < 4:
        return []
    best = np.full(n + 1, np.inf)  # best[j + 1]: cost of samples 0..j
    best[0] = 0.0
    start = np.zeros(n, int)
    w = 1.0 / max(noise, 1e-12) ** 2
    for j in range(n):
        first = max(0, j - max_len + 1)
        costs = _window_costs(t, pos, j, first) * w + best[first : j + 1] + penalty
        k = int(np.argmin(costs))
        best[j + 1] = costs[k]
        start[j] = first + k
    cuts, j = [], n - 1
    while j >= 0:
        i = start[j]
        if i > 0:
            cuts.append(i)
        j = i - 1
    return sorted(cuts)


def _fit(t: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """[deg + 1, 2] polynomial coefficients (highest first) of one segment: a parabola from 4
    samples on, a line from 2, a constant for one."""
    deg = 2 if len(t) >= 4 else min(1, len(t) - 1)
    return np.polyfit(t, pos, deg) if deg > 0 else pos[:1].copy()


def _meeting_time(ca: np.ndarray, cb: np.ndarray, lo: float, hi: float, axis: int) -> float:
    """Where curves a and b (one axis) meet in [lo, hi]; the middle when they do not."""
    diff = np.polysub(ca[:, axis], cb[:, axis])
    roots = np.roots(diff) if len(diff) > 1 and np.any(diff[:-1] != 0) else np.array([])
    roots = roots[np.isreal(roots)].real
    roots = roots[(roots >= lo - 1e-9) & (roots <= hi + 1e-9)]
    mid = 0.5 * (lo + hi)
    return float(roots[np.argmin(np.abs(roots - mid))]) if len(roots) else mid


def _velocity(c: np.ndarray, at: float) -> np.ndarray:
    if len(c) == 1:
        return np.zeros(c.shape[1])
    return np.array([np.polyval(np.polyder(c[:, d]), at) for d in range(c.shape[1])])


def breaks(t: np.ndarray, pos: np.ndarray, noise: float, penalty: float, max_len: int = 100) -> list[Break]:
    """The cuts of the best piecewise-parabola fit of `pos` [N, 2] at times `t`, each with the
    velocities of the segments on either side where they meet."""
    t = np.asarray(t, float)
    pos = np.asarray(pos, float)
    cuts = optimal_cuts(t, pos, noise, penalty, max_len)
    bounds = [0, *cuts, len(t)]
    fits = [_fit(t[a:b], pos[a:b]) for a, b in zip(bounds, bounds[1:])]
    out = []
    for k, i in enumerate(cuts):
        ca, cb = fits[k], fits[k + 1]
        lo, hi = float(t[i - 1]), float(t[i])
        mid = 0.5 * (lo + hi)
        axis = int(np.argmax(np.abs(_velocity(cb, mid) - _velocity(ca, mid))))
        at = _meeting_time(ca, cb, lo, hi, axis)
        out.append(Break(i, at, _velocity(ca, at), _velocity(cb, at)))
    return out
