"""The detect pass: a clip's shots, the camera motion of each and its foreground blobs.

Edited footage has cuts: a background model across a cut sees the whole picture change
and finds ghosts. The clip is split into shots at cuts (`cut_frames`: a spike of the colour
histogram's change that also renews most of the picture); within each shot the camera's pan is estimated and
taken out (`camera.py`) and moving pixels are grouped into blobs (`foreground.py`); the track pass
(`track/objects.py`) tracks them and puts the shots back on the clip's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tracks import ShotDetection
from .camera import (CameraConfig, camera_moves, camera_offsets, changed_share, frame_homographies, pan_explains_change,
                     picture_drifts, stabilise)
from .compensated import explains_change
from .foreground import AnalyserConfig, block_mean, detect_blobs, motion_factor


@dataclass
class ShotConfig:
    enabled: bool = True
    min_change: float = 0.12  # histogram change (total variation, 0..1) between two frames that may be a cut
    outlier: float = 6.0  # ... and at least this many times the clip's median change
    local: float = 2.5  # ... and this many times the largest change of the two frames either side (a spike, not fast motion)
    min_pixel_change: float = 0.08  # ... and the picture's brightness changes this much on average (0..1): most of it is new
    min_seconds: float = 0.5  # shots shorter than this are joined to the previous one


def histogram_changes(frames: np.ndarray, bins: int = 8) -> np.ndarray:
    """[T] total-variation distance (0..1) of each frame's coarse colour histogram to the previous one's (0 first)."""
    t = len(frames)
    out = np.zeros(t)
    if t < 2:
        return out
    q = np.asarray(frames[:, ::4, ::4], np.int32) * bins >> 8  # every 4th pixel: the histogram is as telling
    codes = (q[..., 0] * bins + q[..., 1]) * bins + q[..., 2] + (np.arange(t) * bins ** 3)[:, None, None]
    hist = np.bincount(codes.ravel(), minlength=t * bins ** 3).reshape(t, bins ** 3).astype(float)
    hist /= np.maximum(hist.sum(1, keepdims=True), 1.0)
    out[1:] = 0.5 * np.abs(np.diff(hist, axis=0)).sum(1)
    return out


def brightness_changes(frames: np.ndarray) -> np.ndarray:
    """[T] mean absolute change (0..1) of each frame's brightness from the previous one's (0 first)."""
    out = np.zeros(len(frames))
    if len(frames) > 1:
        grey = np.asarray(frames[:, ::4, ::4], np.float32).mean(-1)
        out[1:] = np.abs(np.diff(grey, axis=0)).mean((1, 2)) / 255.0
    return out


def spikes(change: np.ndarray, reach: int = 2) -> np.ndarray:
    """[T] each frame's change over the largest change of the `reach` frames on either side
    (itself left out; the first frame's change is never a neighbour)."""
    out = np.zeros(len(change))
    for k in range(1, len(change)):
        around = np.r_[change[max(1, k - reach) : k], change[k + 1 : k + 1 + reach]]
        out[k] = change[k] / max(float(around.max()) if len(around) else 0.0, 1e-3)
    return out


def cut_frames(frames: np.ndarray, cfg: ShotConfig) -> list[int]:
    """Frames that begin a new shot. A cut changes the colours far more than the clip usually
    changes from frame to frame, as a spike (fast motion or a pan changes them for many frames
    running; a flash changes them twice, there and back), and renews most of the picture (a
    large object coming in changes the colours but leaves the rest as it was). Cuts between
    shots of one place in one light (grey streets, a dim restaurant) change the histogram by
    only 0.15-0.3, so an absolute bar alone misses them."""
    change = histogram_changes(frames)
    typical = max(float(np.median(change[1:])), 1e-3)
    candidates = [k for k in range(1, len(frames)) if change[k] >= cfg.min_change and change[k] >= cfg.outlier * typical]
    if not candidates:
        return []  # (most clips: the other two tests are not worth their cost)
    spike = spikes(change)
    return [k for k in candidates if spike[k] >= cfg.local and brightness_changes(frames[k - 1 : k + 1])[1] >= cfg.min_pixel_change]


def shot_bounds(frames: np.ndarray, fps: float, cfg: ShotConfig) -> list[tuple[int, int]]:
    """[(first, last)] frame ranges of the shots (one range when there is no cut)."""
    t = len(frames)
    if not cfg.enabled or t < 3:
        return [(0, t - 1)] if t else []
    cuts = cut_frames(frames, cfg)
    min_len = max(2, int(round(cfg.min_seconds * fps)))
    starts = [0]
    for k in cuts:
        if k - starts[-1] >= min_len and t - k >= min_len:
            starts.append(k)
    return [(a, b - 1) for a, b in zip(starts, starts[1:] + [t])]


def _shot_camera(frames: np.ndarray, analyser: AnalyserConfig, cfg: CameraConfig
                 ) -> tuple[np.ndarray, np.ndarray | None, str, np.ndarray | None]:
    """(frames to analyse, the pan taken out of them or None, a note, the camera's
    frame-to-frame homographies or None) for one shot (`ShotDetection`'s fields but its blobs).
    Where the picture drifts, the camera's frame-to-frame homographies: each frame's background
    is then its neighbours carried into its view (`compensated.py`; a pan is a homography too,
    and an orbit, a dolly or a tracking shot over a 3D floor is not one translation). Where they
    do not explain the change, or with `compensate` off, a pan one translation explains is taken
    out (`stabilise`)."""
    if not cfg.enabled or len(frames) < 2:
        return frames, None, "", None
    factor = motion_factor(frames.shape[1], frames.shape[2], analyser.motion_side)
    idx = np.unique(np.linspace(0, len(frames) - 1, min(12, len(frames))).round().astype(int))
    probe = block_mean(frames[np.r_[idx, len(frames) // 2]], factor)
    if changed_share(probe[:-1], probe[-1]) < cfg.min_change:
        return frames, None, "", None  # most of the picture stays as it is: the camera is still (and the flow is not worth its cost)
    if cfg.compensate and picture_drifts(frames, percentile=cfg.drift_percentile):
        steps = frame_homographies(frames)
        # (sprites carrying all the corners over a smooth backdrop, or a large object moving
        # through the picture, leave a change the homographies do not explain: a pan is looked for)
        if explains_change(frames, steps):
            note = ("the camera moves; each frame was compared with the frames around it, carried into its view, "
                    "before looking for moving objects")
            return frames, None, note, steps
    small = block_mean(frames, factor)
    path = factor * camera_offsets(small, cfg.min_inliers, cfg.min_spread)
    if not camera_moves(path, frames.shape[2], frames.shape[1], cfg.min_path) or not pan_explains_change(frames, path):
        return frames, None, "", None
    path = path - path[len(path) // 2]  # the middle frame's view loses least of the scene
    reach = np.ptp(path, axis=0) / np.array([frames.shape[2], frames.shape[1]])
    note = (f"the camera moves (over {100 * reach[0]:.0f}% of the width, {100 * reach[1]:.0f}% of the height); "
            "its motion was taken out before looking for moving objects")
    return stabilise(frames, path), path, note, None


def detect_shots(frames: np.ndarray, fps: float, analyser: AnalyserConfig, camera: CameraConfig,
                 shots_cfg: ShotConfig) -> tuple[list[tuple[int, int]], list[ShotDetection]]:
    """The clip's shots and, for each, its foreground blobs with the camera's motion taken out
    (the track pass, `track/objects.track_shots`, links them into tracks)."""
    shots = shot_bounds(frames, fps, shots_cfg)
    out = []
    for a, b in shots if len(shots) > 1 else [(0, len(frames) - 1)]:
        work, path, note, steps = _shot_camera(frames[a : b + 1] if len(shots) > 1 else frames, analyser, camera)
        out.append(ShotDetection(a, work, detect_blobs(work, analyser, steps), path, note, steps))
    return shots, out
