"""Scene choreography: where each sprite is on every frame, and when it makes a sound.

Pure functions of a numpy Generator. A scene is a static camera on a background with 1-4
sprites. Positions are pixel centres per frame; the manifest stores them normalised
(x in [-1 left, 1 right], y in [-1 top, 1 bottom]).

Impact sprites stay visible and make one sound per visual event, each at an exact frame:
- bounce: ballistic arcs; the sprite touches the floor (squashed) at the event frame;
- jump:   rests on the floor and hops; lands (squashed) at the event frame;
- hit:    wanders; jolts sideways and swells at the event frame;
- squash: wanders; squashes flat at the event frame;
- flash:  wanders; flashes bright at the event frame.
Every event also shows a burst ring at the contact point that appears at the event frame and
fades over three frames, so the frame difference peaks exactly there.

Sustained sprites sound while visible (onset at the first visible frame, offset at the end
of the last): glide (enters at one edge, leaves at the other), pop (pops in and out),
approach / recede (grows or shrinks: distance changes, loudness follows scale), stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .classes import SoundClass

IMPACT_VISUALS = ("bounce", "jump", "hit", "squash", "flash")
SUSTAINED_MOTIONS = ("glide", "pop", "approach", "recede", "stay")
SPRITE_FRACTION = 0.22  # sprite size at scale 1, as a fraction of min(width, height)
BASE_SPEED = 0.15  # max horizontal speed at speed factor 1, in frame widths per second
GLIDE_SPEED = 0.2  # glide speed at speed factor 1, in frame widths per second
RING_ALPHA = (1.0, 0.7, 0.45, 0.25, 0.1)  # appears at once, fades slowly: the diff peaks at the event
FLASH_LEVEL = {"flash": (1.0, 0.7, 0.45, 0.25, 0.1)}
SOFT_FLASH = (0.5, 0.35, 0.2, 0.1)
SQUASH = (0.6, 0.72, 0.84, 0.93)
BOUNCE_HOLD = 2  # frames a bouncing sprite rests on the floor after each contact
MIN_GAP_S = 0.4  # between two impacts of one source
CROSS_GAP_FRAMES = 3  # between impacts of different sources


@dataclass
class SpriteTrack:
    """Per-frame drawing state of one source (arrays of length num_frames)."""

    source_id: str
    class_name: str
    kind: str
    style: str
    size: float  # sprite side in pixels at scale 1
    cx: np.ndarray
    cy: np.ndarray
    scale: np.ndarray
    sx: np.ndarray  # horizontal stretch (squash)
    sy: np.ndarray  # vertical stretch (squash)
    flash: np.ndarray  # 0..1 brightening
    ring: np.ndarray  # 0..1 burst ring opacity
    ring_x: np.ndarray
    ring_y: np.ndarray
    visible: np.ndarray  # bool
    ring_r: np.ndarray | None = None  # burst ring radius in pixels (fixed while it fades)


@dataclass
class SceneEvent:
    source: str
    frame: int  # onset frame (onset time = frame / fps)
    kind: str  # impact | sustained
    visual: str  # bounce, jump, hit, squash, flash | appear
    end_frame: int  # sustained: last visible frame; impact: == frame
    gain: float = 1.0  # loudness factor of this event's sound (PhysWorld: from the contact's impulse)


@dataclass
class Scene:
    width: int
    height: int
    fps: float
    num_frames: int
    speed: float
    sprites: list[SpriteTrack] = field(default_factory=list)
    events: list[SceneEvent] = field(default_factory=list)

    def normalised(self, sprite: SpriteTrack) -> tuple[np.ndarray, np.ndarray]:
        x = np.clip(2.0 * sprite.cx / self.width - 1.0, -1.0, 1.0)
        y = np.clip(2.0 * sprite.cy / self.height - 1.0, -1.0, 1.0)
        return x, y


def _pulse(n: int, frame: int, values: tuple[float, ...], base: float = 0.0) -> np.ndarray:
    out = np.full(n, base, dtype=np.float64)
    for i, v in enumerate(values):
        if 0 <= frame + i < n:
            out[frame + i] = v
    return out


def pick_frames(rng: np.random.Generator, count: int, lo: int, hi: int, gap: int, taken: list[int]) -> list[int]:
    """Up to `count` frames in [lo, hi], `gap` apart, and CROSS_GAP_FRAMES from `taken`."""
    frames: list[int] = []
    if hi < lo:
        return frames
    for _ in range(80 * max(1, count)):
        if len(frames) == count:
            break
        f = int(rng.integers(lo, hi + 1))
        if all(abs(f - g) >= gap for g in frames) and all(abs(f - g) >= CROSS_GAP_FRAMES for g in taken):
            frames.append(f)
    return sorted(frames)


class _Builder:
    def __init__(self, rng, width, height, fps, num_frames, speed):
        self.rng, self.W, self.H, self.fps, self.T, self.speed = rng, width, height, fps, num_frames, speed
        self.base = SPRITE_FRACTION * min(width, height)
        self.t = np.arange(num_frames) / fps

    def wander_x(self, lane: float | None, scale_max: float) -> np.ndarray:
        """Smooth horizontal wandering: x = c + A sin(w t + phase), max speed set by the speed factor."""
        rng, W = self.rng, self.W
        margin = 0.6 * self.base * scale_max
        room = max(1.0, (W - 2 * margin) / 2)
        amp = float(rng.uniform(0.25, 0.6)) * room if lane is None else float(rng.uniform(0.1, 0.25)) * room
        if lane is None:
            centre = float(rng.uniform(margin + amp, W - margin - amp))
        else:
            centre = float(np.clip(W / 2 + lane * room, margin + amp, W - margin - amp))
        omega = self.speed * BASE_SPEED * W / max(amp, 1e-6)
        return centre + amp * np.sin(omega * self.t + float(rng.uniform(0, 2 * np.pi)))

    def scale_track(self, lo=0.7, hi=1.3) -> np.ndarray:
        s0, s1 = self.rng.uniform(lo, hi, size=2)
        return np.linspace(s0, s1, self.T)


def _impact_sprite(b: _Builder, sid: str, cls: SoundClass, style: str, frames: list[int], lane: float | None) -> SpriteTrack:
    T, H = b.T, b.H
    scale = b.scale_track()
    size = b.base
    cx = b.wander_x(lane, float(scale.max()))
    sx, sy = np.ones(T), np.ones(T)
    flash = np.zeros(T)
    ring = np.zeros(T)
    floor = 0.9 * H
    half_h = 0.5 * size * scale
    if style in ("bounce", "jump"):
        for f in frames:
            sy = np.minimum(sy, _pulse(T, f, SQUASH, 1.0))
        sx = 1.0 + 0.7 * (1.0 - sy)
        rest = floor - half_h * sy  # centre when the bottom touches the floor
        top = 0.06 * H + half_h
        lift = np.zeros(T)
        if style == "bounce":
            gap0 = int(b.rng.integers(10, 20))
            contacts = [frames[0] - gap0] + list(frames) + [max(frames[-1] + int(b.rng.integers(10, 20)), T + 2)]
            hmax = np.maximum(rest - top, 1.0)
            for a, c in zip(contacts[:-1], contacts[1:]):
                a = a + BOUNCE_HOLD  # stays squashed on the floor for a moment, then takes off
                span = c - a
                k = np.arange(max(a, 0), min(c, T))
                u = (k - a) / span
                height = np.minimum(hmax[k], 0.55 * hmax[k] * (span / 15.0) ** 2)
                lift[k] = height * 4 * u * (1 - u)
        else:  # jump: short hops into each landing; x only moves while airborne
            x_rest = np.empty(T)
            pos = float(cx[0])
            x_rest[:] = pos
            margin = 0.6 * size * scale.max()
            prev = -100
            for f in frames:
                hop = int(min(9, max(4, f - prev - 2)))
                start = max(0, f - hop)
                step = float(b.rng.uniform(0.08, 0.2) * b.W * b.rng.choice([-1, 1]) * b.speed)
                target = float(np.clip(pos + step, margin, b.W - margin))
                k = np.arange(start, f + 1)
                u = (k - start) / max(1, f - start)
                lift[k] = np.minimum(0.3 * H, rest[k] - top[k]) * 4 * u * (1 - u)
                x_rest[start : f + 1] = pos + (target - pos) * u
                x_rest[f + 1 :] = target
                pos, prev = target, f
            cx = x_rest
        cy = rest - lift
        ring_y = np.full(T, floor)
        ring_x = cx.copy()
        flash_curve = SOFT_FLASH
    else:
        cy = float(b.rng.uniform(0.3, 0.7) * H) + 0.04 * H * np.sin(2 * np.pi * 0.3 * b.speed * b.t + b.rng.uniform(0, 6.3))
        if style == "squash":
            for f in frames:
                sy = np.minimum(sy, _pulse(T, f, (0.55, 0.68, 0.8, 0.92), 1.0))
            sx = 1.0 + 0.8 * (1.0 - sy)
        if style == "hit":
            direction = float(b.rng.choice([-1, 1]))
            for f in frames:
                cx = cx + direction * 0.18 * size * _pulse(T, f, (1.0, 0.7, 0.45, 0.25, 0.1))
                sx = sx * (1 + _pulse(T, f, (0.2, 0.14, 0.09, 0.05)))
            sy = sx.copy()
        ring_x, ring_y = cx.copy(), np.asarray(cy, dtype=float).copy()
        flash_curve = FLASH_LEVEL.get(style, SOFT_FLASH)
    ring_x, ring_y = np.array(ring_x, dtype=float), np.array(ring_y, dtype=float) * np.ones(T)
    ring_r = 0.7 * size * scale
    for f in frames:
        flash = np.maximum(flash, _pulse(T, f, flash_curve))
        ring = np.maximum(ring, _pulse(T, f, RING_ALPHA))
        for arr in (ring_x, ring_y, ring_r):  # the ring stays as it appeared while it fades
            arr[f : f + len(RING_ALPHA)] = arr[f]
    return SpriteTrack(sid, cls.name, "impact", style, size, np.asarray(cx, float), np.asarray(cy, float) * np.ones(T),
                       scale, sx, sy, flash, ring, ring_x, ring_y, np.ones(T, dtype=bool), ring_r)


def _visible_span(b: _Builder) -> tuple[int, int]:
    T, rng = b.T, b.rng
    min_len = max(int(0.25 * T), int(0.8 * b.fps), 2)
    a = 0 if rng.random() < 0.3 else int(rng.integers(0, max(1, int(0.4 * T))))
    a = min(a, max(0, T - 1 - min_len))
    end = T - 1 if rng.random() < 0.3 else int(rng.integers(min(a + min_len, T - 1), T))
    return a, max(end, min(a + min_len, T - 1))


def _sustained_sprite(b: _Builder, sid: str, cls: SoundClass, style: str, lane: float | None) -> SpriteTrack:
    T, W, H, rng = b.T, b.W, b.H, b.rng
    size = b.base
    if style == "stay":
        a, e = 0, T - 1
    else:
        a, e = _visible_span(b)
    scale = np.full(T, float(rng.uniform(0.7, 1.3)))
    if style == "approach":
        scale = np.full(T, 0.55)
        scale[a : e + 1] = np.linspace(0.55, 1.45, e - a + 1)
        scale[e + 1 :] = 1.45
    elif style == "recede":
        scale = np.full(T, 1.45)
        scale[a : e + 1] = np.linspace(1.45, 0.55, e - a + 1)
        scale[e + 1 :] = 0.55
    cy = float(rng.uniform(0.25, 0.7) * H) + 0.05 * H * np.sin(2 * np.pi * 0.25 * b.speed * b.t + rng.uniform(0, 6.3))
    half = 0.5 * size * scale
    if style == "glide":
        direction = float(rng.choice([-1, 1]))
        v = b.speed * GLIDE_SPEED * W / b.fps  # pixels per frame
        start = -half[a] + 0.3 * 2 * half[a] if a > 0 else float(rng.uniform(0.15, 0.5) * W)
        x = start + v * (np.arange(T) - a)
        if direction < 0:
            x = W - x
        # leaves when fully outside the frame
        outside = np.flatnonzero((np.arange(T) > a) & ((x - half > W) | (x + half < 0)))
        e = int(outside[0]) - 1 if outside.size else T - 1  # a glide ends when it has left
        cx = x
    else:
        cx = b.wander_x(lane, float(scale.max()))
        if style == "pop":
            ramp = np.ones(T)
            for i, v in enumerate((0.35, 0.7)):
                if a > 0 and a + i <= e:
                    ramp[a + i] = v
                if e < T - 1 and e - i >= a:
                    ramp[e - i] = v
            scale = scale * ramp
    visible = np.zeros(T, dtype=bool)
    visible[a : e + 1] = True
    visible &= (cx + half > 0) & (cx - half < W)
    ones = np.ones(T)
    return SpriteTrack(sid, cls.name, "sustained", style, size, np.asarray(cx, float), cy * ones, scale, ones.copy(), ones.copy(),
                       np.zeros(T), np.zeros(T), cx * 0, cx * 0, visible)


def make_scene(
    rng: np.random.Generator,
    classes: list[SoundClass],
    width: int,
    height: int,
    fps: float,
    duration: float,
    speed: float,
    single: bool,
) -> Scene:
    """Choreograph one scene with one source per class in `classes`."""
    T = max(2, int(round(duration * fps)))
    b = _Builder(rng, width, height, fps, T, speed)
    scene = Scene(width, height, fps, T, speed)
    lanes = None if single else list(rng.permutation(np.linspace(-0.7, 0.7, len(classes))))
    taken: list[int] = []
    gap = max(2, int(round(MIN_GAP_S * fps)))
    lo, hi = 2, T - 4
    for i, cls in enumerate(classes):
        sid = f"s{i}"
        lane = None if lanes is None else float(lanes[i])
        if cls.kind == "impact":
            style = str(rng.choice(IMPACT_VISUALS))
            room = max(1, (hi - lo) // gap + 1)
            count = int(rng.integers(2, 6)) if single else int(rng.integers(1, 4))
            count = max(1, min(count, room, int(duration / 0.8) + 1))
            frames = pick_frames(rng, count, lo, hi, gap, taken) or pick_frames(rng, 1, lo, hi, gap, []) or [max(0, min(lo, T - 1))]
            taken.extend(frames)
            sprite = _impact_sprite(b, sid, cls, style, frames, lane)
            scene.events.extend(SceneEvent(sid, f, "impact", style, f) for f in frames)
        else:
            style = str(rng.choice(SUSTAINED_MOTIONS))
            sprite = _sustained_sprite(b, sid, cls, style, lane)
            vis = np.flatnonzero(sprite.visible)
            if vis.size == 0:  # cannot happen with the spans above; keep the source audible anyway
                sprite.visible[:] = True
                vis = np.arange(T)
            scene.events.append(SceneEvent(sid, int(vis[0]), "sustained", "appear", int(vis[-1])))
        scene.sprites.append(sprite)
    scene.events.sort(key=lambda e: (e.frame, e.source))
    return scene
