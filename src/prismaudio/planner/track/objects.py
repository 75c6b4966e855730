"""The track pass's core: one shot's blobs -> tracks of moving objects (`tracking.py`), and
the shots' tracks put back on the clip's timeline in screen coordinates.

When an object parts from another mid-clip (the forward pass saw them as one until then), the
shot is tracked backwards too, where the two are seen apart first and split while merged; that
result is kept when it accounts for more object-frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..detect.camera import to_screen
from ..detect.foreground import AnalyserConfig, detect_blobs
from ..tracks import Analysis, Blob, Foreground, ShotDetection, Track, box_iou
from .tracking import drop_fragments, reversed_track, separations, track_blobs


def objects(blobs: list[list[Blob]], small: np.ndarray, factor: int, aspect: float, cfg: AnalyserConfig) -> list[Track]:
    """Tracks of the moving objects in per-frame `blobs` (frames `small` in the same order)."""
    from ..track.tracking import drop_fragments, track_blobs

    tracks = track_blobs(blobs, aspect=aspect, cfg=cfg, frames=small, factor=factor)
    # A track that barely moves and never changes size is a flicker or texture, not an object
    # (also the "ghost" a moving object leaves where the median background still holds it).
    moving = [tr for tr in tracks if max(np.ptp(tr.x), np.ptp(tr.y)) > cfg.min_travel]
    return drop_fragments(moving, len(blobs), cfg)


def coverage(tracks: list[Track], max_iou: float = 0.5) -> int:
    """Object-frames the tracks account for: seen frames, not counting a frame where a longer
    track's box nearly coincides (a duplicate or ghost of that object, not another object)."""
    total = 0
    for tr in tracks:
        for i in np.flatnonzero(tr.observed):
            f = tr.frames[i]
            dup = False
            for other in tracks:
                j = f - other.start
                if other is tr or len(other) < len(tr) or not 0 <= j < len(other) or not other.observed[j]:
                    continue
                if box_iou(tr.boxes[i], other.boxes[j]) > max_iou:
                    dup = True
                    break
            total += not dup
    return total


def track_foreground(found: Foreground, fps: float, cfg: AnalyserConfig | None = None) -> Analysis:
    """Tracks of the moving objects in one shot's blobs (`detect.foreground.detect_blobs`)."""
    cfg = cfg or AnalyserConfig()
    t, h, w = found.num_frames, found.height, found.width
    blobs, small, factor, notes = found.blobs, found.small, found.factor, found.notes
    if t < 2:
        return Analysis(fps, t, w, h, [], True, found.blank, found.background, notes)
    moving = objects(blobs, small, factor, w / h, cfg)
    if cfg.backward and separations(moving, cfg.backward_min_side):
        # Objects that part only later were one blob, one track, until then: tracked from the
        # end they are seen apart first and split while merged. Kept when they cover more.
        back = [reversed_track(tr, t) for tr in objects(blobs[::-1], small[::-1], factor, w / h, cfg)]
        if coverage(back) > (1 + cfg.backward_gain) * coverage(moving):
            moving = sorted(back, key=lambda tr: tr.start)
            for i, tr in enumerate(moving):
                tr.id = i
    static = not moving
    if static and not found.blank:
        notes.append("nothing moves in the video")
    return Analysis(fps, t, w, h, moving, static, found.blank, found.background, notes, small)


def analyse_frames(frames: np.ndarray, fps: float, cfg: AnalyserConfig | None = None) -> Analysis:
    """Track moving objects in uint8 frames [T, H, W, 3] (already at analysis resolution): the
    detect pass's blobs, then the track pass's tracks, for one shot with a still camera."""
    cfg = cfg or AnalyserConfig()
    return track_foreground(detect_blobs(frames, cfg), fps, cfg)


@dataclass
class Detection:
    analysis: Analysis
    frames: np.ndarray  # the (stabilised) frames the tracks' boxes refer to
    shots: list[tuple[int, int]] = field(default_factory=list)


def _to_screen(tracks: list[Track], path: np.ndarray, width: int) -> None:
    for tr in tracks:  # positions back on the screen, where the listener hears them
        tr.x = to_screen(tr.x, tr.frames, path, width)
        dx = np.round(path[np.clip(tr.frames, 0, len(path) - 1), 0]).astype(int)
        tr.boxes = [(b[0], b[1] + int(d), b[2], b[3] + int(d)) for b, d in zip(tr.boxes, dx)]


def track_shots(detections: list[ShotDetection], shots: list[tuple[int, int]], fps: float, cfg: AnalyserConfig) -> Detection:
    """Moving objects of the whole clip from the detect pass's shots: each shot tracked on its
    own, positions back in screen coordinates, the shots' tracks on the clip's timeline."""
    if len(shots) <= 1:
        (shot,) = detections
        analysis = track_foreground(shot.foreground, fps, cfg)
        if shot.path is not None:
            _to_screen(analysis.tracks, shot.path, analysis.width)
        if shot.note:
            analysis.notes.insert(0, shot.note)
        return Detection(analysis, shot.frames, shots)
    parts, notes, tracks = [], [], []
    for shot in detections:
        a = shot.start
        part = track_foreground(shot.foreground, fps, cfg)
        if shot.path is not None:
            _to_screen(part.tracks, shot.path, part.width)
        if shot.note:
            notes.append(f"shot at {a / fps:.2f} s: {shot.note}")
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
    num_frames = sum(p.num_frames for p in parts)
    work = np.concatenate([d.frames for d in detections])
    analysis = Analysis(fps, num_frames, first.width, first.height, sorted(tracks, key=lambda t: t.start), not tracks, blank,
                        parts[longest].background, notes + (list(dict.fromkeys(n for p in parts for n in p.notes)) if not tracks else []), None)
    return Detection(analysis, work, shots)
