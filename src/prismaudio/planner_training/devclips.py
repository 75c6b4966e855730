"""Small synthetic clips with exact ground truth, for the planner's tests and self-checks.

Discs (or any RGBA sprites) bounce under gravity off the floor and the walls of a static
scene, may enter late and leave early. Physics runs at 1 ms steps, so each bounce has a
sub-frame time. This is deliberately independent of SynthCanvas: tests must not need
a built canvas, and the analyser must work on scenes it was not tuned on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class DevSource:
    sprite: np.ndarray  # [h, w, 4] uint8 RGBA
    x0: float  # start centre, fraction of width
    y0: float
    vx: float  # fractions of width per second
    vy: float
    appear: float = 0.0  # seconds
    disappear: float | None = None


@dataclass
class DevClip:
    frames: np.ndarray  # [T, H, W, 3] uint8
    fps: float
    impacts: list[list[float]]  # per source: bounce times (s)
    x: list[np.ndarray]  # per source: centre x per frame (fraction of width; nan when absent)
    spans: list[tuple[float, float]] = field(default_factory=list)


def disc(radius: int, colour: tuple[int, int, int]) -> np.ndarray:
    yy, xx = np.mgrid[-radius:radius, -radius:radius] + 0.5
    alpha = (np.hypot(xx, yy) <= radius).astype(np.uint8) * 255
    rgb = np.broadcast_to(np.asarray(colour, np.uint8), alpha.shape + (3,))
    return np.dstack([rgb, alpha])


def gradient_background(h: int, w: int, top=(40, 60, 90), bottom=(170, 150, 120)) -> np.ndarray:
    a = np.linspace(0, 1, h)[:, None, None]
    row = (1 - a) * np.asarray(top) + a * np.asarray(bottom)
    return np.broadcast_to(row, (h, w, 3)).astype(np.uint8).copy()


def render_clip(
    sources: list[DevSource],
    duration: float = 4.0,
    fps: float = 25.0,
    size: tuple[int, int] = (224, 224),
    background: np.ndarray | None = None,
    gravity: float = 3.0,
    floor: float = 0.88,
) -> DevClip:
    h, w = size
    bg = gradient_background(h, w) if background is None else background
    n = int(round(duration * fps))
    dt = 0.001
    steps = int(round(duration / dt))
    frames = np.repeat(bg[None], n, axis=0)
    impacts, xs, spans = [], [], []
    for src in sources:
        sh, sw = src.sprite.shape[:2]
        rx, ry = sw / 2 / w, sh / 2 / h
        x, y, vx, vy = src.x0, src.y0, src.vx, src.vy
        end = duration if src.disappear is None else src.disappear
        pos = np.full((n, 2), np.nan)
        hits: list[float] = []
        for k in range(steps + 1):
            t = k * dt
            frame = t * fps
            if abs(frame - round(frame)) < dt * fps / 2 and round(frame) < n and src.appear <= t < end:
                pos[int(round(frame))] = (x, y)
            if t >= src.appear:
                vy += gravity * dt
                x += vx * dt
                y += vy * dt
                if y + ry >= floor and vy > 0:
                    vy = -vy
                    if src.appear < t < end:
                        hits.append(round(t, 4))
                if (x - rx <= 0 and vx < 0) or (x + rx >= 1 and vx > 0):
                    vx = -vx
                    if src.appear < t < end:
                        hits.append(round(t, 4))
        for f in range(n):
            if np.isnan(pos[f, 0]):
                continue
            _paste(frames[f], src.sprite, pos[f, 0] * w, pos[f, 1] * h)
        impacts.append(sorted(hits))
        xs.append(pos[:, 0])
        spans.append((src.appear, end))
    return DevClip(frames=frames, fps=fps, impacts=impacts, x=xs, spans=spans)


def _paste(canvas: np.ndarray, sprite: np.ndarray, cx: float, cy: float) -> None:
    sh, sw = sprite.shape[:2]
    top, left = int(round(cy - sh / 2)), int(round(cx - sw / 2))
    t0, l0 = max(0, top), max(0, left)
    b0, r0 = min(canvas.shape[0], top + sh), min(canvas.shape[1], left + sw)
    if b0 <= t0 or r0 <= l0:
        return
    part = sprite[t0 - top : b0 - top, l0 - left : r0 - left].astype(np.float32)
    alpha = part[..., 3:] / 255.0
    region = canvas[t0:b0, l0:r0].astype(np.float32)
    canvas[t0:b0, l0:r0] = (alpha * part[..., :3] + (1 - alpha) * region).astype(np.uint8)
