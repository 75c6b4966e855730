"""The detect pass: shots, camera motion and moving objects of a clip -> one Analysis.

Edited footage has cuts: a background model across a cut sees the whole picture change
and finds ghosts. The clip is split into shots where consecutive frames' colour histograms
differ far more than anywhere else; within each shot the camera's pan is estimated and
taken out (`camera.py`) and moving objects are tracked (`analyser.py`); the shots' tracks
are put back on the clip's timeline (positions in screen coordinates).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .analyser import AnalyserConfig, Analysis, Track, analyse_frames, block_mean, motion_factor
from .camera import CameraConfig, camera_moves, camera_offsets, changed_share, pan_explains_change, stabilise, to_screen


@dataclass
class ShotConfig:
    enabled: bool = True
    min_change: float = 0.4  # histogram change (total variation, 0..1) between two frames that may be a cut
    outlier: float = 6.0  # ... and at least this many times the clip's median change
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


def shot_bounds(frames: np.ndarray, fps: float, cfg: ShotConfig) -> list[tuple[int, int]]:
    """[(first, last)] frame ranges of the shots (one range when there is no cut)."""
    t = len(frames)
    if not cfg.enabled or t < 3:
        return [(0, t - 1)] if t else []
    change = histogram_changes(frames)
    typical = float(np.median(change[1:]))
    cuts = [k for k in range(1, t) if change[k] >= cfg.min_change and change[k] >= cfg.outlier * max(typical, 1e-3)]
    min_len = max(2, int(round(cfg.min_seconds * fps)))
    starts = [0]
    for k in cuts:
        if k - starts[-1] >= min_len and t - k >= min_len:
            starts.append(k)
    return [(a, b - 1) for a, b in zip(starts, starts[1:] + [t])]


@dataclass
class Detection:
    analysis: Analysis
    frames: np.ndarray  # the (stabilised) frames the tracks' boxes refer to
    shots: list[tuple[int, int]] = field(default_factory=list)


def _shot_camera(frames: np.ndarray, analyser: AnalyserConfig, cfg: CameraConfig) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(frames to analyse, camera path or None, note) for one shot."""
    if not cfg.enabled or len(frames) < 2:
        return frames, None, ""
    factor = motion_factor(frames.shape[1], frames.shape[2], analyser.motion_side)
    idx = np.unique(np.linspace(0, len(frames) - 1, min(12, len(frames))).round().astype(int))
    probe = block_mean(frames[np.r_[idx, len(frames) // 2]], factor)
    if changed_share(probe[:-1], probe[-1]) < cfg.min_change:
        return frames, None, ""  # most of the picture stays as it is: the camera is still (and the flow is not worth its cost)
    small = block_mean(frames, factor)
    path = factor * camera_offsets(small, cfg.min_inliers, cfg.min_spread)
    if not camera_moves(path, frames.shape[2], frames.shape[1], cfg.min_path) or not pan_explains_change(frames, path):
        return frames, None, ""
    path = path - path[len(path) // 2]  # the middle frame's view loses least of the scene
    reach = np.ptp(path, axis=0) / np.array([frames.shape[2], frames.shape[1]])
    note = (f"the camera moves (over {100 * reach[0]:.0f}% of the width, {100 * reach[1]:.0f}% of the height); "
            "its motion was taken out before looking for moving objects")
    return stabilise(frames, path), path, note


def _to_screen(tracks: list[Track], path: np.ndarray, width: int) -> None:
    for tr in tracks:  # positions back on the screen, where the listener hears them
        tr.x = to_screen(tr.x, tr.frames, path, width)
        dx = np.round(path[np.clip(tr.frames, 0, len(path) - 1), 0]).astype(int)
        tr.boxes = [(b[0], b[1] + int(d), b[2], b[3] + int(d)) for b, d in zip(tr.boxes, dx)]


def detect(frames: np.ndarray, fps: float, analyser: AnalyserConfig, camera: CameraConfig, shots_cfg: ShotConfig) -> Detection:
    """Moving objects of the whole clip, shot by shot, with the camera's motion taken out."""
    shots = shot_bounds(frames, fps, shots_cfg)
    if len(shots) <= 1:
        work, path, note = _shot_camera(frames, analyser, camera)
        analysis = analyse_frames(work, fps, analyser)
        if path is not None:
            _to_screen(analysis.tracks, path, analysis.width)
            analysis.notes.insert(0, note)
        return Detection(analysis, work, shots)
    parts, notes, tracks = [], [], []
    work_all = np.empty_like(frames)
    for a, b in shots:
        work, path, note = _shot_camera(frames[a : b + 1], analyser, camera)
        work_all[a : b + 1] = work
        part = analyse_frames(work, fps, analyser)
        if path is not None:
            _to_screen(part.tracks, path, part.width)
            notes.append(f"shot at {a / fps:.2f} s: {note}")
        for tr in part.tracks:
            tr.frames = tr.frames + a
            tr.id = len(tracks)
            tracks.append(tr)
        parts.append(part)
    cuts = ", ".join(f"{a / fps:.2f} s" for a, _ in shots[1:])
    notes.insert(0, f"the video has {len(shots)} shots (cuts at {cuts}); each was analysed on its own")
    longest = max(range(len(parts)), key=lambda i: parts[i].num_frames)
    first = parts[0]
    blank = all(p.blank for p in parts)
    analysis = Analysis(fps, len(frames), first.width, first.height, sorted(tracks, key=lambda t: t.start), not tracks, blank,
                        parts[longest].background, notes + (list(dict.fromkeys(n for p in parts for n in p.notes)) if not tracks else []), None)
    return Detection(analysis, work_all, shots)
