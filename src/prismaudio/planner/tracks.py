"""What the detect and track passes find: blobs, one shot's detections, tracks, the analysis.

The lowest floor of the planner (it imports nothing of it): every pass builds on these types,
and the Scene (`scene.py`) carries them from pass to pass.

Positions are normalised: x, y in [0, 1] of the frame width/height; sizes as fractions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Blob:
    x: float  # centroid, fraction of width
    y: float
    w: float  # bbox size, fraction of width/height
    h: float
    area: float  # fraction of the frame area
    box: tuple[int, int, int, int]  # pixel bbox (top, left, bottom, right) in analysis frames
    brightness: float  # mean luminance of the object's pixels (0..255)
    colour: tuple[float, float, float] = (0.0, 0.0, 0.0)  # mean RGB of the object's pixels
    pix: np.ndarray | None = field(default=None, repr=False)  # its pixels (flat indices into the analysis frame)
    owner: int | None = None  # a piece split from a merged blob for this track id


@dataclass
class Track:
    """One object over time: arrays indexed by `frames` (analysis frame numbers)."""

    id: int
    frames: np.ndarray
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    h: np.ndarray
    area: np.ndarray
    brightness: np.ndarray
    observed: np.ndarray  # False where the position was bridged over a gap
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def start(self) -> int:
        return int(self.frames[0])

    @property
    def end(self) -> int:
        return int(self.frames[-1])

    def __len__(self) -> int:
        return len(self.frames)


@dataclass
class Analysis:
    fps: float
    num_frames: int
    width: int  # analysis frame size
    height: int
    tracks: list[Track]
    static: bool  # nothing moved
    blank: bool  # frames carry no picture (black or one flat colour)
    background: np.ndarray  # [h, w, 3] uint8 at motion-analysis resolution
    notes: list[str] = field(default_factory=list)
    small: np.ndarray | None = field(default=None, repr=False)  # the frames at motion-analysis resolution

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps

    @property
    def small_factor(self) -> int:
        """How many times smaller the motion frames (`small`) are than the analysis frames the
        tracks' boxes are in (1 without motion frames)."""
        return 1 if self.small is None else max(1, int(round(self.width / self.small.shape[2])))


@dataclass
class Foreground:
    """One shot's moving pixels grouped into blobs, frame by frame (what the track pass links)."""

    num_frames: int
    width: int  # analysis frame size
    height: int
    small: np.ndarray  # the frames at motion-analysis resolution
    factor: int  # ... this many times smaller than the analysis frames
    background: np.ndarray  # [h, w, 3] uint8 at motion-analysis resolution
    blank: bool  # frames carry no picture (black or one flat colour)
    blobs: list[list[Blob]] = field(default_factory=list)  # per frame (empty for a single frame)
    notes: list[str] = field(default_factory=list)


@dataclass
class ShotDetection:
    """The detect pass's result for one shot: its frames (stabilised where the camera moved),
    the camera's path and the foreground blobs."""

    start: int  # first frame of the shot in the clip
    frames: np.ndarray  # the shot's frames as analysed (shifted back along `path` where that was taken out)
    foreground: Foreground
    path: np.ndarray | None = None  # the camera's pan [T, 2] (pixels) where it was taken out by shifting the frames, else None
    note: str = ""  # what the camera did
    camera_steps: np.ndarray | None = None  # [T, 3, 3] frame-to-frame homographies where each frame was compared with its
    # neighbours carried into its view (detect/compensated.py), else None


def with_unseen_rows(track: Track, frames: np.ndarray, rows: dict[str, np.ndarray], boxes: list, before: bool) -> Track:
    """The track with unseen rows (`observed` False) added before its own (or after them):
    `frames` [k] their frame numbers in order, `rows` their x, y, w, h, area and brightness ([k]
    each), `boxes` their k boxes. Where a track is held over frames its object was not followed
    (`repair/rests.py`, `repair/carried.py`)."""
    k = len(frames)

    def joined(mine, extra) -> np.ndarray:
        return np.concatenate([extra, np.asarray(mine)] if before else [np.asarray(mine), extra])

    return Track(track.id, joined(track.frames, np.asarray(frames, int)),
                 *(joined(getattr(track, name), np.asarray(rows[name], float)) for name in ("x", "y", "w", "h", "area", "brightness")),
                 joined(track.observed, np.zeros(k, bool)), list(boxes) + list(track.boxes) if before else list(track.boxes) + list(boxes))


def blob_from_pixels(flat: np.ndarray, frame: np.ndarray, factor: int = 1) -> Blob:
    """Statistics of the object made of pixels `flat` (flat indices into `frame` [h, w, 3]);
    the box is in pixels of frames `factor` times larger (the decode resolution)."""
    h, w = frame.shape[:2]
    ys, xs = np.divmod(flat, w)
    rgb = frame.reshape(-1, 3)[flat].astype(np.float32)
    colour = rgb.mean(0)
    top, bottom = int(ys.min()), int(ys.max()) + 1
    left, right = int(xs.min()), int(xs.max()) + 1
    box = (top * factor, left * factor, min(h * factor, bottom * factor), min(w * factor, right * factor))
    return Blob(
        x=float((xs.mean() + 0.5) / w), y=float((ys.mean() + 0.5) / h), w=(right - left) / w, h=(bottom - top) / h,
        area=float(len(flat) / (h * w)), box=box, brightness=float(colour @ np.array([0.299, 0.587, 0.114], np.float32)),
        colour=(float(colour[0]), float(colour[1]), float(colour[2])), pix=flat,
    )


def box_at(track: Track, frame: int, seen_only: bool = False) -> tuple[int, int, int, int] | None:
    """The track's box (top, left, bottom, right) at analysis frame `frame`; None outside its
    span, or (`seen_only`) where its position was bridged over a gap."""
    i = frame - track.start
    if 0 <= i < len(track) and (not seen_only or track.observed[i]):
        return track.boxes[i]
    return None


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two boxes (top, left, bottom, right)."""
    inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def boxes_overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int], pad: float = 0.0) -> bool:
    """Whether boxes (top, left, bottom, right) overlap, each grown by `pad` pixels towards the other."""
    return a[0] - pad < b[2] and b[0] - pad < a[2] and a[1] - pad < b[3] and b[1] - pad < a[3]
