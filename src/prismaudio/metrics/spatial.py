"""Spatial metrics on the stereo image.

- `ITD-error-ms`, `ILD-error-dB`: framewise GCC-PHAT ITD and ILD of the prediction against
  the reference (100 ms frames, 50 ms hop), mean absolute difference over the frames where
  the reference is active;
- `side-accuracy`: fraction of frames where a plan source is sounding and the prediction is
  active whose perceived side (from the ILD through the inverse constant-power pan law)
  matches `side_of(x)` of the plan's spatial track. Needs a plan; no reference needed.
Mono input: all spatial metrics are n/a, with the reason in the sample's notes.
"""

from __future__ import annotations

import numpy as np

from ..dsp.spatial import framewise
from ..planner.plan import Plan, side_of
from .base import SAMPLE_RATE, EvalPair, mean_or_none

KEYS = ("ITD-error-ms", "ILD-error-dB", "side-accuracy")
IMPACT_SPAN_S = 0.3  # an impact is heard for about this long after its onset


def x_from_ild(ild_db: np.ndarray | float) -> np.ndarray:
    """Horizontal position in [-1, 1] whose constant-power pan gives this ILD (left louder = negative x)."""
    g = 10 ** (np.asarray(ild_db, np.float64) / 20)  # left/right amplitude = cot(angle)
    angle = np.arctan2(1.0, g)
    return np.clip(angle * 4 / np.pi - 1, -1, 1)


def x_from_rendered_ild(ild_db: np.ndarray | float) -> np.ndarray:
    """The position at which the shared renderer (render/spatial.py) gives this ILD: its pan law
    is x_from_ild's narrowed to PAN_WIDTH, so x_from_ild alone reads a source the renderer put
    at x as 0.85 x (a perfect render's heard-vs-planned slope is then 0.85, not 1)."""
    from ..render.spatial import PAN_WIDTH

    return np.clip(x_from_ild(ild_db) / PAN_WIDTH, -1, 1)


def heard_until(event) -> float:
    """When a planned event stops being heard: an impact rings for IMPACT_SPAN_S after its
    onset at least, a sustained event ends at its offset."""
    return max(event.offset, event.onset + IMPACT_SPAN_S) if event.kind == "impact" else event.offset


def sounding_positions(plan: Plan, times: np.ndarray):
    """Per planned event with a track: (mask of `times` where it is heard, its x there)."""
    for e in plan.temporal.events:
        track = plan.track(e.source)
        if track is None:
            continue
        inside = (times >= e.onset) & (times < heard_until(e))
        yield inside, np.asarray(track.x_at(times[inside]))


def truth_sides(plan: Plan, times: np.ndarray) -> np.ndarray:
    """Side (-1, 0, 1) of the sounding source at each time; 2 where none or sources disagree."""
    out = np.full(len(times), 2, int)
    for inside, xs in sounding_positions(plan, times):
        sides = np.array([side_of(float(x)) for x in xs])
        cur = out[inside]
        out[inside] = np.where(cur == 2, sides, np.where(cur == sides, cur, 3))
    out[out == 3] = 2
    return out


SILENCE = 1e-4  # peak below this: no stereo image at all


def side_accuracy(pred: np.ndarray, plan: Plan, sample_rate: int = SAMPLE_RATE, fw: dict | None = None) -> float | None:
    """None when the plan has nothing sounding; 0 for silence (no source is anywhere)."""
    fw = fw or framewise(pred, sample_rate)
    truth = truth_sides(plan, fw["times"])
    use = fw["active"] & (truth != 2)
    if not use.any():
        return None
    if np.abs(pred).max() < SILENCE:
        return 0.0
    guess = np.array([side_of(float(x)) for x in x_from_ild(fw["ild"][use])])
    return float(np.mean(guess == truth[use]))


def itd_ild_errors(pred: np.ndarray, gt: np.ndarray, sample_rate: int = SAMPLE_RATE,
                   fw_pred: dict | None = None) -> tuple[float | None, float | None]:
    n = min(pred.shape[1], gt.shape[1])
    fp = fw_pred if fw_pred is not None and pred.shape[1] == n else framewise(pred[:, :n], sample_rate)
    fg = framewise(gt[:, :n], sample_rate)
    use = fg["active"]
    if not use.any():
        return None, None
    return (float(np.mean(np.abs(fp["itd"][use] - fg["itd"][use])) * 1e3),
            float(np.mean(np.abs(fp["ild"][use] - fg["ild"][use]))))


class SpatialMetrics:
    name = "spatial"

    def __init__(self):
        self.values: dict[str, list] = {k: [] for k in KEYS}

    def update(self, pair: EvalPair) -> dict:
        out: dict = {k: None for k in KEYS}
        if pair.pred.shape[0] != 2:
            pair.notes.append("prediction is mono: spatial metrics n/a")
        else:
            fw = framewise(pair.pred, SAMPLE_RATE)
            if pair.gt is not None and pair.gt.shape[0] == 2:
                out["ITD-error-ms"], out["ILD-error-dB"] = itd_ild_errors(pair.pred, pair.gt, fw_pred=fw)
            elif pair.gt is not None:
                pair.notes.append("reference is mono: ITD/ILD errors n/a")
            if pair.plan is not None and pair.plan.spatial.tracks:
                out["side-accuracy"] = side_accuracy(pair.pred, pair.plan, fw=fw)
        for k in KEYS:
            self.values[k].append(out[k])
        return out

    def compute(self) -> dict:
        return {k: mean_or_none(v) for k, v in self.values.items()}
