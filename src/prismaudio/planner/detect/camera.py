"""Camera motion is not object motion: estimate the camera's pan and take it out before tracking.

Global motion between consecutive frames: corners tracked by sparse optical flow (OpenCV
Lucas-Kanade) and one similarity transform fitted by RANSAC; it is the camera's when it
carries most corners, spread over the picture. Its translations are summed into the
camera's path; frames are shifted back along it (`stabilise`), so the
background model and the tracker see a still scene; object positions are later put back
into screen coordinates (`to_screen`) for the spatial plan.

Chosen over phase correlation (tried first): the correlation peak follows a large moving
object or a periodic texture, and it cannot say which part of the picture moved; the
RANSAC inliers can (their share and spread tell a pan from an object). Both are maintained
OpenCV primitives. Only the translation is taken out: pans are what handheld footage
mostly does, and a translation keeps the mapping back to the screen trivial.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tracks import Analysis


@dataclass
class CameraConfig:
    enabled: bool = True
    min_inliers: float = 0.7  # the camera's motion carries at least this share of the tracked corners ...
    min_spread: float = 0.6  # ... spread over at least this share of the picture's width or height (a sixth of it the other way)
    min_change: float = 0.2  # share of pixels that must change from the middle frame before camera motion is looked for
    min_path: float = 0.02  # the camera moved if its path leaves this frame fraction of its start
    compensate: bool = True  # where the picture drifts (the camera pans, turns or travels), each frame's
    # background is its neighbours carried into its view by homographies (compensated.py)
    drift_percentile: float = 25.0  # open path: the scene's corners (outside the tracked objects) move by more than
    # 0.25 px at this percentile when the camera moves (picture_drifts). The median finds 8 more of PhysWorld's 52
    # moving cameras (a plain floor, corners only on the backdrop), but contacts did not gain (train + val P 0.500 -> 0.509,
    # R 0.374 -> 0.370; test P 0.664 -> 0.655, R 0.346 -> 0.333)


def _gray(frames: np.ndarray) -> np.ndarray:
    f = np.asarray(frames, np.float32)
    return f[..., 0] * 0.299 + f[..., 1] * 0.587 + f[..., 2] * 0.114


def _gray8(frames: np.ndarray) -> np.ndarray:
    """8-bit grey pictures, what OpenCV's corner finder and Lucas-Kanade flow take."""
    return np.clip(_gray(frames), 0, 255).astype(np.uint8)


def _followable(frames: np.ndarray) -> np.ndarray | None:
    """The frames as 8-bit grey pictures to follow corners through, or None where there is
    nothing to follow: a single frame, or a picture under 16 px on a side."""
    if len(frames) < 2:
        return None
    g = _gray8(frames)
    return g if min(g.shape[1:3]) >= 16 else None


def camera_offsets(frames: np.ndarray, min_inliers: float = 0.7, min_spread: float = 0.6, max_corners: int = 80,
                   min_corners: int = 20) -> np.ndarray:
    """[T, 2] (dx, dy) pixels: where the picture of frame t has moved since frame 0 (zeros
    where no camera motion is seen).

    Corners of a keyframe are followed by pyramidal Lucas-Kanade flow into each later frame
    and one similarity transform is fitted to them by RANSAC. It is the camera's motion only
    when it carries most corners (`min_inliers`) spread over the picture (their box at least
    `min_spread` of its width or height, a sixth of that the other way): an object moving over a flat or still background
    carries a few corners of one place, a pan carries all of them everywhere. Measuring
    against a keyframe (renewed when its corners are lost) keeps slow pans visible and keeps
    per-frame errors from adding up."""
    import cv2

    t = len(frames)
    out = np.zeros((t, 2))
    g = _followable(frames)
    if g is None:
        return out
    h, w = g.shape[1:3]
    key, base, pts = 0, np.zeros(2), None
    k = 1
    while k < t:
        if pts is None:
            pts = cv2.goodFeaturesToTrack(g[key], maxCorners=max_corners, qualityLevel=0.01, minDistance=max(3, min(h, w) // 30))
            if pts is None or len(pts) < min_corners:  # a flat picture: too little to follow
                pts, key, base = None, k, out[k - 1]
                out[k] = base
                k += 1
                continue
        nxt, status, _ = cv2.calcOpticalFlowPyrLK(g[key], g[k], pts, None, winSize=(15, 15), maxLevel=3)
        ok = status.ravel() == 1
        shift = None
        if ok.sum() >= 8:
            a, b = pts[ok].reshape(-1, 2), nxt[ok].reshape(-1, 2)
            m, inl = cv2.estimateAffinePartial2D(a, b, method=cv2.RANSAC, ransacReprojThreshold=1.0)
            if m is not None:
                inl = inl.ravel().astype(bool)
                spread = np.ptp(a[inl], axis=0) / (w, h) if inl.any() else np.zeros(2)
                if inl.sum() >= min_inliers * len(pts) and spread.max() >= min_spread and spread.min() >= min_spread / 6:
                    shift = b[inl].mean(0) - a[inl].mean(0)
                    if inl.sum() < 0.8 * len(pts) or np.abs(shift).max() > min(h, w) / 4:
                        key, base, pts = k, base + shift, None  # renew the keyframe here
                        out[k] = base
                        k += 1
                        continue
        if shift is None and key != k - 1:
            # the keyframe's corners are lost (left the picture, occluded): try again from the previous frame
            key, base, pts = k - 1, out[k - 1], None
            continue
        if shift is None:
            # lost (a cut, a blur, the camera swung away): start again from here
            key, base, pts = k, out[k - 1], None
            out[k] = base
        else:
            out[k] = base + shift
        k += 1
    return out


def camera_moves(path: np.ndarray, width: int, height: int, min_path: float) -> bool:
    if len(path) == 0:
        return False
    reach = np.abs(path - path[0]).max(axis=0)
    return bool(reach[0] > min_path * width or reach[1] > min_path * height)


def stabilise(frames: np.ndarray, path: np.ndarray, samples: int = 24) -> np.ndarray:
    """Frames shifted back along the camera path, so the scene stays put. The strip a frame does
    not cover (the camera looked elsewhere) is filled with what the other frames show there
    (their median), not smeared edges, which the background model would take for objects."""
    import cv2

    t, h, w = frames.shape[:3]
    out = np.empty_like(frames)
    valid = np.empty((t, h, w), bool)
    ones = np.ones((h, w), np.uint8)
    for k, (dx, dy) in enumerate(path):
        m = np.float32([[1, 0, -dx], [0, 1, -dy]])
        out[k] = cv2.warpAffine(frames[k], m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        valid[k] = cv2.warpAffine(ones, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0).astype(bool)
    if valid.all():
        return out
    idx = np.unique(np.linspace(0, t - 1, min(samples, t)).round().astype(int))
    stack = np.where(valid[idx, ..., None], out[idx].astype(np.float32), np.nan)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fill = np.nanmedian(stack, axis=0)
    fill = np.where(np.isnan(fill), np.nanmean(fill) if np.isfinite(fill).any() else 0.0, fill)
    fill = np.clip(fill, 0, 255).astype(np.uint8)
    return np.where(valid[..., None], out, fill[None])


def changed_share(frames: np.ndarray, ref: np.ndarray, threshold: float = 20.0) -> float:
    """Median over frames of the share of pixels that differ from `ref` by more than `threshold`."""
    if len(frames) == 0:
        return 0.0
    diff = np.abs(frames.astype(np.int16) - ref.astype(np.int16)).max(axis=-1) > threshold
    return float(np.median(diff.mean(axis=(1, 2))))


def pan_explains_change(frames: np.ndarray, path: np.ndarray, samples: int = 12, min_share: float = 0.2,
                        min_gain: float = 0.5) -> bool:
    """Whether the camera path is what changes the picture: most pixels change from the middle
    frame (`min_share`) and shifting the frames back along the path takes away at least
    `min_gain` of that. Sprites moving over a smooth background can carry RANSAC's corners,
    but they change few pixels, and following them changes more."""
    t = len(frames)
    if t < 3:
        return False
    idx = np.unique(np.linspace(0, t - 1, min(samples, t)).round().astype(int))
    mid = t // 2
    raw = changed_share(frames[idx], frames[mid])
    if raw < min_share:
        return False
    still = stabilise(frames[idx], path[idx] - path[mid])
    return changed_share(still, still[np.argmin(np.abs(idx - mid))]) <= (1 - min_gain) * raw


def to_screen(x: np.ndarray, frames: np.ndarray, path: np.ndarray, width: int) -> np.ndarray:
    """Stabilised x (frame fraction) at analysis frames `frames` -> x on the screen."""
    if len(path) == 0:
        return x
    idx = np.clip(np.asarray(frames, int), 0, len(path) - 1)
    return np.asarray(x, float) + path[idx, 0] / width


def frame_homographies(frames: np.ndarray, max_corners: int = 200, min_inliers: int = 12) -> np.ndarray:
    """[T, 3, 3]: entry k maps frame k's pixel coordinates to frame k-1's (entry 0: identity).

    A translation (`camera_offsets`) is what a pan does; an orbiting or dollying camera turns
    and scales the floor too. The floor is a plane, so between two frames its picture moves by
    a homography: corners followed by Lucas-Kanade flow, one homography fitted by RANSAC (the
    moving objects' corners are its outliers). Identity where too few corners are found (a
    flat picture, a cut). Kept frame to frame, not chained over the clip: chained, an orbit's
    small perspective errors grow without bound."""
    import cv2

    t = len(frames)
    out = np.tile(np.eye(3), (t, 1, 1))
    g = _followable(frames)
    if g is None:
        return out
    h, w = g.shape[1:3]
    for k in range(1, t):
        pts = cv2.goodFeaturesToTrack(g[k], maxCorners=max_corners, qualityLevel=0.01, minDistance=max(3, min(h, w) // 40))
        if pts is None or len(pts) < min_inliers:
            continue
        prev, status, _ = cv2.calcOpticalFlowPyrLK(g[k], g[k - 1], pts, None, winSize=(15, 15), maxLevel=3)
        ok = status.ravel() == 1
        if ok.sum() < min_inliers:
            continue
        m, inl = cv2.findHomography(pts[ok].reshape(-1, 2), prev[ok].reshape(-1, 2), cv2.RANSAC, 1.0)
        if m is not None and inl is not None and inl.sum() >= min_inliers:
            out[k] = m
    return out


def _map(h: np.ndarray, xy: np.ndarray) -> np.ndarray:
    q = h @ np.array([xy[0], xy[1], 1.0])
    return q[:2] / (q[2] if abs(q[2]) > 1e-9 else 1e-9)


def own_path(xy: np.ndarray, frames: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """[N, 2] pixel positions seen at analysis frames `frames` -> the object's own path: from its
    first position on, each move less what the camera did between the two frames (the new
    position carried back into the previous frame's picture by `steps`). A still object on a
    moving camera's floor keeps its first position; a bouncing one bounces there."""
    xy = np.asarray(xy, float)
    out = xy.copy()
    for i in range(1, len(xy)):
        back = xy[i]
        for k in range(int(frames[i]), int(frames[i - 1]), -1):  # into frame frames[i - 1]'s picture
            back = _map(steps[min(k, len(steps) - 1)], back)
        out[i] = out[i - 1] + (back - xy[i - 1])
    return out


def spread_over_picture(points: np.ndarray, shape: tuple, min_extent: float = 0.3) -> bool:
    """Whether points [N, 2] (x, y) span at least `min_extent` of the picture's width or height
    (pure): the scene's own texture does; the corners of one small object on a plain backdrop
    do not, and their motion says nothing about the camera's."""
    if len(points) == 0:
        return False
    extent = (points.max(0) - points.min(0)) / np.array([shape[1], shape[0]], float)
    return bool(extent.max() >= min_extent)


def outside_boxes(points: np.ndarray, boxes: list, margin: float = 3.0) -> np.ndarray:
    """[N] bool: points (x, y) inside none of the boxes (x0, y0, x1, y1), grown by `margin` (pure)."""
    keep = np.ones(len(points), bool)
    for x0, y0, x1, y1 in boxes:
        keep &= ~((points[:, 0] >= x0 - margin) & (points[:, 0] <= x1 + margin)
                  & (points[:, 1] >= y0 - margin) & (points[:, 1] <= y1 + margin))
    return keep


def picture_drifts(frames: np.ndarray, pairs: int = 8, min_shift: float = 0.25, gap: int = 12, max_corners: int = 100,
                   objects_at=None, percentile: float = 25.0) -> bool:
    """Whether the camera moves at all: over a few pairs of frames `gap` apart, corners followed
    by Lucas-Kanade flow move by more than `min_shift` pixels at `percentile` over the corners
    (the lower quartile by default, so moving objects do not count even where they carry most
    corners; a still camera gives 0.0 to 0.15 even through compression). `objects_at(k)`: the
    tracked objects' boxes in frame k, whose corners are left out: with them, a higher
    percentile is not fooled by a part of the picture that stays put while the camera moves (a
    plain floor with corners only along a far edge, a logo). Cheap: a few frames, not all."""
    import cv2

    t = len(frames)
    if t < 2:
        return False
    shifts = []
    gap = max(1, min(gap, t - 1))
    for k in np.unique(np.linspace(0, t - 1 - gap, min(pairs, t - gap)).round().astype(int)):
        a, b = (_gray8(frames[i]) for i in (k, k + gap))  # only the frames used
        pts = cv2.goodFeaturesToTrack(a, maxCorners=max_corners, qualityLevel=0.01, minDistance=3)
        if pts is not None and objects_at is not None:  # the camera shows in the scene, not on the objects
            pts = pts[outside_boxes(pts.reshape(-1, 2), objects_at(k) + objects_at(k + gap))]
        if pts is None or len(pts) < 8 or not spread_over_picture(pts.reshape(-1, 2), a.shape):
            continue  # corners in one small patch are an object on a plain backdrop, not the scene
        nxt, status, _ = cv2.calcOpticalFlowPyrLK(a, b, pts, None, winSize=(15, 15), maxLevel=3)
        ok = status.ravel() == 1
        if ok.sum() >= 8 and ok.mean() >= 0.5:  # most corners lost: a flat backdrop's noise, nothing to follow
            # by default the lower quartile over the corners: on a flat backdrop most corners may
            # sit on untracked moving objects, but with a still camera a quarter of them stay put
            shifts.append(float(np.percentile(np.linalg.norm((nxt - pts).reshape(-1, 2)[ok], axis=1), percentile)))
    # the upper quartile: a slow start or stop of the camera leaves some pairs still, and a large
    # object crossing the picture can carry one pair's corners
    return bool(shifts) and float(np.percentile(shifts, 75)) > min_shift


def scene_homographies(frames: np.ndarray, shots: list, cfg: CameraConfig, analysis: Analysis | None = None,
                       shot_steps: np.ndarray | None = None) -> np.ndarray | None:
    """The camera's motion as frame-to-frame homographies (`camera.frame_homographies`; those
    the detect pass measured, `shot_steps`, when it did), or None where it does not move
    (`camera.picture_drifts`, judged outside the tracked objects of `analysis`), is off, or the
    clip has cuts (each shot would need its own)."""
    if len(shots) == 1 and shot_steps is not None:
        return shot_steps  # the detect pass measured them already (the camera turns or travels)
    boxes: dict[int, list] = {}
    for track in analysis.tracks if analysis is not None else []:
        for frame, box in zip(track.frames, track.boxes):
            boxes.setdefault(int(frame), []).append(box)
    if not cfg.enabled or len(frames) < 3 or len(shots) > 1 or not picture_drifts(
            frames, objects_at=lambda k: boxes.get(int(k), []), percentile=cfg.drift_percentile):
        return None
    return frame_homographies(frames)
