"""Foreground where the camera moves: it pans, turns or travels.

An orbit, a dolly or a tracking shot over a 3D floor turns and scales the picture: shifted back
along one translation (`camera.stabilise`, the older way, still used where the homographies
below do not explain the change), the textured floor still slides, and a background model over
the whole shot sees every stone of it change. The floor is a plane, so from one frame
to the next its picture moves by a homography (`camera.frame_homographies`, RANSAC over
Lucas-Kanade corners). Each frame gets a background of its own: the frames 8 and 16 before and
after it, carried into its view by the chained homographies, and their median taken pixel by
pixel. The floor lines up and drops out; an object that moves in the world is somewhere else in
most of those frames and stands out where it is now. Chains stay short (16 steps): the error of
a chain grows with its length. Objects that rest for more than about half a second join their
own background, which is no loss here: where the camera moves, the planner hears objects by
their motion.
"""

from __future__ import annotations

import numpy as np


def chained(steps: np.ndarray, source: int, target: int) -> np.ndarray:
    """[3, 3]: carries pixel coordinates of frame `source` into frame `target`'s picture, from
    `steps` [T, 3, 3] whose entry k carries frame k's coordinates into frame k-1's."""
    out = np.eye(3)
    if source > target:
        for k in range(target + 1, source + 1):
            out = out @ steps[k]
    else:
        for k in range(source + 1, target + 1):
            out = out @ np.linalg.inv(steps[k])
    return out


def scaled(steps: np.ndarray, factor: int) -> np.ndarray:
    """The same homographies for frames `factor` times smaller (the motion frames)."""
    s = np.diag([1.0 / factor, 1.0 / factor, 1.0])
    return np.einsum("ij,tjk,kl->til", s, steps, np.linalg.inv(s))


def explains_change(frames: np.ndarray, steps: np.ndarray, gap: int = 8, samples: int = 12, threshold: float = 20.0,
                    max_left: float = 0.1, min_gain: float = 0.3) -> bool:
    """Whether the camera's homographies are what changes the picture: between frames `gap`
    apart, with the later one carried into the earlier one's view, under `max_left` of the
    picture still changes, or at least `min_gain` of the change is gone (medians over `samples`
    pairs). Where the camera stands still but objects carry all the corners (sprites over a
    smooth gradient), the homographies follow an object and explain nothing of the rest."""
    import cv2

    t, h, w = frames.shape[:3]
    gap = max(1, min(gap, t - 1))
    ones = np.full((h, w), 255, np.uint8)
    raw, left = [], []
    for k in np.unique(np.linspace(0, t - 1 - gap, min(samples, t - gap)).round().astype(int)):
        m = chained(steps, k + gap, k)
        view = cv2.warpPerspective(frames[k + gap], m, (w, h), flags=cv2.INTER_LINEAR)
        seen = cv2.warpPerspective(ones, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0) > 0
        if not seen.any():
            continue
        raw.append(float((np.abs(frames[k + gap].astype(np.int16) - frames[k]).max(-1) > threshold)[seen].mean()))
        left.append(float((np.abs(view.astype(np.int16) - frames[k]).max(-1) > threshold)[seen].mean()))
    if not raw:
        return False
    before, after = float(np.median(raw)), float(np.median(left))
    return after < max_left or after <= (1 - min_gain) * before


def warped_backgrounds(frames: np.ndarray, steps: np.ndarray, offsets: tuple[int, ...] = (-16, -8, 8, 16),
                       min_views: int = 2) -> np.ndarray:
    """[T, H, W, 3] uint8: for each frame, the median of the frames `offsets` away carried into
    its picture; where fewer than `min_views` of them see a pixel (the camera had not yet looked
    there), the frame itself (nothing is foreground there)."""
    import cv2

    t, h, w = frames.shape[:3]
    out = frames.copy()
    ones = np.full((h, w), 255, np.uint8)
    for k in range(t):
        views = []
        for offset in offsets:
            other = k + offset
            if not 0 <= other < t:
                continue
            m = chained(steps, other, k)
            view = cv2.warpPerspective(frames[other], m, (w, h), flags=cv2.INTER_LINEAR,
                                       borderMode=cv2.BORDER_CONSTANT).astype(np.float32)
            seen = cv2.warpPerspective(ones, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0) > 0
            view[~seen] = np.nan
            views.append(view)
        if len(views) < min_views:
            continue
        stack = np.stack(views)
        counts = np.isfinite(stack[..., 0]).sum(0)
        covered = counts >= min_views
        out[k][covered] = np.clip(np.round(seen_median(stack[:, covered], counts[covered])), 0, 255).astype(np.uint8)
    return out


def seen_median(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Median over axis 0 of `values` [V, N, C] whose unseen entries are NaN, `counts` [N] the
    seen ones per entry (at least one): sorted, NaNs last, the middle one or two of the seen
    (what `np.nanmedian` gives, at a fraction of its cost on a few views)."""
    ordered = np.sort(values, axis=0)
    lo = ((counts - 1) // 2)[None, :, None].repeat(values.shape[2], -1)
    hi = (counts // 2)[None, :, None].repeat(values.shape[2], -1)
    return (np.take_along_axis(ordered, lo, 0)[0] + np.take_along_axis(ordered, hi, 0)[0]) / 2
