"""People: the moving regions that are a person's head, body or hands, seen by their faces
(here) or by their silhouettes (`silhouettes.py`).

ImageNet has no person class, and the naming (`naming.py`) finds people only by their clothes
or by a tall shape that keeps walking. A talking or gesturing person (a dialogue scene, someone
on the phone) is neither: their head, torso and hands bob and sway, the motion analysis finds
"contacts" in that, and ImageNet names the pieces by what they wear ("bow tie", "neck brace").
A face detector sees what the classifier does not: OpenCV's frontal-face Haar cascade (shipped
in the opencv-python wheel, no download) on a few frames of the shot.

A face is a person's only if it lives: a face printed on a poster or a photo in the scene moves
only as the camera carries it, to the pixel on a still camera (`living_faces`). Each living face stands for
a body (`body_region`: the face's box grown sideways and down, where the shoulders, arms and
hands are). A track is part of a person when its box centre lies in such a body region in at
least `min_share` of the sampled frames it is seen in (`person_tracks`). The events pass then
hears such a track only by its footsteps where the person walks (their face travels across the
picture), never by contacts: a gesture is no knock.

A tall track the people detector sees as a person (`silhouettes.py`) is one too, walking where
its track travels; a tall track it searched and never saw as one is no walker, whatever its
shape and gait (`People.not_people`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..tracks import Track, box_iou
from .silhouettes import SilhouetteConfig, silhouette_shares

log = logging.getLogger(__name__)

CASCADE = "haarcascade_frontalface_default.xml"


@dataclass
class PeopleConfig:
    enabled: bool = True  # look for people (faces, silhouettes) on the open path (footage that is not SynthCanvas)
    every_seconds: float = 0.4  # one frame in this many seconds is searched for faces
    min_face: int = 24  # pixels (at analysis size): the cascade's own window; smaller faces are not searched for
    scale_step: float = 1.15  # the cascade's image pyramid step (1.1 finds a few more faces at 1.5 times the cost)
    min_neighbours: int = 4  # overlapping detections a face needs (fewer: more faces in textures)
    side_widths: float = 1.5  # a body reaches this many face widths left and right of the face
    above_heights: float = 1.0  # ... this many face heights above it (hair, a raised hand)
    below_heights: float = 6.0  # ... and this many below it (torso, arms, hands on a table)
    min_share: float = 0.5  # a track is part of a person if its centre is in a body in this share of its searched frames
    min_frames: int = 2  # ... and in at least this many of them (one stray face in a texture makes no person)
    min_travel: float = 2.0  # a person walks if their face ends this many face heights from where it began
    silhouettes: SilhouetteConfig = field(default_factory=SilhouetteConfig)  # people seen by their shape (silhouettes.py)
    still_spread: float = 0.5  # pixels: a face whose box only moves with the camera (3+ sightings) is a picture of one
    picture_share: float = 0.1  # ... or within this share of its width (a homography carries a face on the floor so far)


@lru_cache(maxsize=1)
def cascade():
    """OpenCV's frontal-face cascade (read once per process), or None where this OpenCV has none
    (OpenCV 5 dropped the cascades and the class that reads them)."""
    import cv2

    path = getattr(getattr(cv2, "data", None), "haarcascades", "") + CASCADE
    if not hasattr(cv2, "CascadeClassifier") or not Path(path).is_file():
        log.info("no face cascade in this OpenCV (%s): people are found by their clothes, silhouettes and gait only",
                 cv2.__version__)
        return None
    found = cv2.CascadeClassifier(path)
    return None if found.empty() else found


def search_frames(num_frames: int, fps: float, every_seconds: float) -> np.ndarray:
    """The frame numbers searched for faces: one every `every_seconds`, from the first."""
    step = max(1, int(round(every_seconds * fps)))
    return np.arange(0, num_frames, step)


def search_window(boxes: list[tuple[int, int, int, int]], height: int, width: int, cfg: PeopleConfig
                  ) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) of the part of a frame that may hold the face of a person whose
    parts are these track boxes (top, left, bottom, right): their union grown up by the body's
    reach below a face and sideways by its reach beside one, measured in the boxes' own size.
    None where no box is there or the window is smaller than a face."""
    if not boxes:
        return None
    b = np.asarray(boxes, float)
    size = float(max(np.max(b[:, 2] - b[:, 0]), np.max(b[:, 3] - b[:, 1]), 1.0))
    top = max(0, int(b[:, 0].min() - size * 1.5))
    bottom = min(height, int(b[:, 2].max() + size * 0.5))
    left = max(0, int(b[:, 1].min() - size))
    right = min(width, int(b[:, 3].max() + size))
    if bottom - top < cfg.min_face or right - left < cfg.min_face:
        return None
    return top, left, bottom, right


def detect_faces(frames: np.ndarray, tracks: list[Track], fps: float, cfg: PeopleConfig) -> dict[int, np.ndarray]:
    """Faces (x, y, w, h in frame pixels, [n, 4]) in the searched frames, looked for only near the
    tracks seen there (`search_window`); {} without a cascade."""
    finder = cascade()
    if finder is None or not tracks or len(frames) == 0:
        return {}
    import cv2

    height, width = frames.shape[1:3]
    seen: dict[int, list[tuple[int, int, int, int]]] = {}
    for tr in tracks:
        for k, on, box in zip(tr.frames, tr.observed, tr.boxes):
            if on:
                seen.setdefault(int(k), []).append(box)
    out: dict[int, np.ndarray] = {}
    for k in search_frames(len(frames), fps, cfg.every_seconds):
        window = search_window(seen.get(int(k), []), height, width, cfg)
        if window is None:
            continue
        top, left, bottom, right = window
        grey = cv2.cvtColor(np.ascontiguousarray(frames[k, top:bottom, left:right]), cv2.COLOR_RGB2GRAY)
        found = finder.detectMultiScale(grey, cfg.scale_step, cfg.min_neighbours, minSize=(cfg.min_face, cfg.min_face))
        if len(found):
            out[int(k)] = np.asarray(found, float).reshape(-1, 4) + [left, top, 0, 0]
    return out


def living_faces(faces: dict[int, np.ndarray], cfg: PeopleConfig, steps: np.ndarray | None = None) -> dict[int, np.ndarray]:
    """The faces less those of a picture (a poster, a photo on the floor): a face seen 3+ times
    that sits, at every sighting, where the one before it was carried by the camera (`steps`
    [T, 3, 3], entry k carrying frame k's pixels into frame k-1's; None: a still camera) within
    `still_spread` pixels or `picture_share` of its width. A real head shifts, nods and turns;
    a printed one moves only as the camera carries it. Faces are followed from sighting to
    sighting by their carried boxes overlapping (IoU >= 0.3)."""
    items = [(k, i, box) for k in sorted(faces) for i, box in enumerate(faces[k])]
    groups: list[list[tuple[int, int, np.ndarray]]] = []
    moves: list[list[float]] = []  # per group: how far each sighting is from the one before, carried
    for k, i, box in items:
        for g, m in zip(groups, moves):
            last_k, _, last = g[-1]
            carried = carried_box(last, last_k, k, steps)
            if last_k != k and box_iou(corners(carried), corners(box)) >= 0.3:
                m.append(float(np.abs(carried - box).max()))
                g.append((k, i, box))
                break
        else:
            groups.append([(k, i, box)])
            moves.append([])
    still = {(k, i) for g, m in zip(groups, moves)
             if len(g) >= 3 and max(m) <= max(cfg.still_spread, cfg.picture_share * float(np.median([b[2] for _, _, b in g])))
             for k, i, _ in g}
    out = {k: np.asarray([b for i, b in enumerate(v) if (k, i) not in still]).reshape(-1, 4) for k, v in faces.items()}
    return {k: v for k, v in out.items() if len(v)}


def carried_box(box: np.ndarray, source: int, target: int, steps: np.ndarray | None) -> np.ndarray:
    """An (x, y, w, h) box of frame `source` carried into frame `target`'s picture by the camera
    (its corners through the chained homographies, `compensated.chained`); unchanged without them."""
    if steps is None or source == target:
        return np.asarray(box, float)
    from ..detect.compensated import chained

    x, y, w, h = (float(v) for v in box)
    corners = np.array([[x, y, 1.0], [x + w, y + h, 1.0]]) @ chained(steps, source, target).T
    corners = corners[:, :2] / corners[:, 2:3]
    (x0, y0), (x1, y1) = corners.min(0), corners.max(0)
    return np.array([x0, y0, x1 - x0, y1 - y0])


def corners(face: np.ndarray) -> tuple[float, float, float, float]:
    """An (x, y, w, h) face box as (top, left, bottom, right), the tracks' box order."""
    x, y, w, h = (float(v) for v in face)
    return y, x, y + h, x + w


def body_region(face: np.ndarray, cfg: PeopleConfig) -> tuple[float, float, float, float]:
    """(top, left, bottom, right) where the body of a person with this face (x, y, w, h) is."""
    x, y, w, h = (float(v) for v in face)
    return y - cfg.above_heights * h, x - cfg.side_widths * w, y + h + cfg.below_heights * h, x + w + cfg.side_widths * w


@dataclass
class PersonPart:
    """A track that is (part of) a person seen by their face or silhouette."""

    share: float  # of its searched frames or crops, how many say it is (part of) a person
    walks: bool  # the faces it hangs from travel (`travels`): the person walks; else they sway, talk, gesture
    by: str = "face"  # "face" or "silhouette" (then whether it walks is the events pass's: its own path travels)


@dataclass
class People:
    """What the identify pass found out about people, by track id."""

    parts: dict[int, PersonPart] = field(default_factory=dict)  # tracks that are (parts of) people
    not_people: set[int] = field(default_factory=set)  # tall tracks the people detector searched and never saw as one


def person_tracks(tracks: list[Track], faces: dict[int, np.ndarray], cfg: PeopleConfig) -> dict[int, PersonPart]:
    """Track id -> its `PersonPart`, for the tracks whose box centre lies in the body of a face
    found there in at least `min_share` of their searched frames (and `min_frames` of them).
    Whether the person walks is read from the faces, not from the track: the tracks of a swaying
    or gesturing body jump between hands, sleeves and the wall they uncover, and their boxes'
    width swings at a step's rate; a walker's face crosses the picture."""
    out: dict[int, PersonPart] = {}
    for tr in tracks:
        searched = 0
        held: list[np.ndarray] = []  # the face the track hangs from, in each frame it does
        for k, on, box in zip(tr.frames, tr.observed, tr.boxes):
            if not on or int(k) not in faces:
                continue
            searched += 1
            cy, cx = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
            for face in faces[int(k)]:
                top, left, bottom, right = body_region(face, cfg)
                if top <= cy <= bottom and left <= cx <= right:
                    held.append(face)
                    break
        # (frames with no face found count neither way: a turned head is no evidence against a person)
        if len(held) >= cfg.min_frames and len(held) / searched >= cfg.min_share:
            f = np.asarray(held, float)
            centres = f[:, :2] + f[:, 2:] / 2.0
            out[tr.id] = PersonPart(round(len(held) / searched, 3),
                                    travels(centres, f[:, 3], np.ones(len(f), bool), cfg.min_travel))
    return out


def find_people(frames: np.ndarray, tracks: list[Track], fps: float, cfg: PeopleConfig,
                steps: np.ndarray | None = None) -> People:
    """The tracks that are parts of people seen by their faces (`person_tracks`) or by their
    silhouettes (`silhouettes.py`), and the tall ones searched and never seen as a person;
    nothing when off. `steps`: the camera's frame-to-frame homographies in `frames`' pixels
    (None: still)."""
    if not cfg.enabled:
        return People()
    faces = living_faces(detect_faces(frames, tracks, fps, cfg), cfg, steps)
    parts = person_tracks(tracks, faces, cfg) if faces else {}
    shapes = silhouette_shares(frames, [tr for tr in tracks if tr.id not in parts], cfg.silhouettes)
    for tid, share in shapes.items():
        if share >= cfg.silhouettes.person_share:
            parts[tid] = PersonPart(share, False, "silhouette")
    return People(parts, {tid for tid, share in shapes.items() if share == 0.0})


def travels(positions: np.ndarray, heights: np.ndarray, observed: np.ndarray, min_travel: float) -> bool:
    """Whether something walks: the median place of its last quarter of seen frames is at least
    `min_travel` of its median height from that of its first quarter (`positions` [N, 2] and
    `heights` [N] in one unit). A talking head sways about one place."""
    seen = np.flatnonzero(observed)
    if len(seen) < 3:
        return False
    q = max(1, len(seen) // 4)
    start = np.median(positions[seen[:q]], axis=0)
    end = np.median(positions[seen[-q:]], axis=0)
    return bool(np.linalg.norm(end - start) >= min_travel * float(np.median(heights[seen])))
