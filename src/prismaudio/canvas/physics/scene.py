"""Sample a PhysWorld scene: objects and how they move, camera, light, floor, backdrop and
video degradations (pure function of a numpy Generator; no pybullet here).

World frame: z up, the floor is z = 0, the camera looks roughly along +y, so world x is
screen left-right. Objects are spread over lanes across the visible width, both sides of
the frame when there are two or more.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .camera import CameraPath
from .objects import ObjectModel, backdrops_for, floors_for, models_for

MOTIONS = {  # what each shape can do
    "ball": ("drop", "throw", "push", "still"),
    "box": ("drop", "throw", "push", "still"),
    "slab": ("topple", "drop", "push", "still"),
    "figure": ("drop", "throw", "push", "still"),
}
CAMERA_MOTIONS = ("pan", "orbit", "dolly", "track")


@dataclass
class ObjectSpec:
    model: str
    size: float                       # largest extent, m
    mass: float                       # kg
    position: tuple[float, float, float]  # start; z is ignored for objects that start on the floor
    yaw: float                        # degrees
    tilt: tuple[float, float]         # roll, pitch in degrees (drops tumble)
    velocity: tuple[float, float, float]  # given at release, m/s
    spin: tuple[float, float, float]  # angular velocity at release, rad/s
    release: float                    # s: held still until then
    motion: str                       # drop | throw | push | topple | still


@dataclass
class Light:
    direction: tuple[float, float, float]
    colour: tuple[float, float, float]
    ambient: float
    diffuse: float
    specular: float
    shadow: bool


@dataclass
class SceneSpec:
    width: int
    height: int
    fps: float
    duration: float
    objects: list[ObjectSpec]
    camera: CameraPath
    light: Light
    floor: str
    backdrop: str                     # a photo name, or "plain"
    backdrop_colour: tuple[int, int, int]
    blur: float                       # Gaussian sigma in pixels (0: none)
    noise: float                      # sensor noise sigma in 8-bit levels (0: none)
    crf: int                          # H.264 quality (higher: stronger compression)
    still: bool = False               # no object moves
    held_out: list[str] = field(default_factory=list)


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def sample_camera(rng: np.random.Generator, moving: bool) -> CameraPath:
    az0, el0, d0 = _u(rng, -25, 25), _u(rng, 8, 35), _u(rng, 1.0, 2.0)
    target = (_u(rng, -0.1, 0.1), _u(rng, -0.1, 0.2), _u(rng, 0.1, 0.25))
    az, el, d, tgt, motion = (az0, az0), (el0, el0), (d0, d0), (target, target), "static"
    if moving:
        motion = str(rng.choice(CAMERA_MOTIONS))
        sign = float(rng.choice([-1.0, 1.0]))
        if motion == "pan":
            az = (az0, az0 + sign * _u(rng, 6, 15))
            tgt = (target, (target[0] + sign * _u(rng, 0.1, 0.3), target[1], target[2]))
        elif motion == "orbit":
            az = (az0, az0 + sign * _u(rng, 15, 35))
        elif motion == "dolly":
            d = (d0, d0 * _u(rng, 0.7, 1.3))
            el = (el0, el0 + _u(rng, -5, 5))
        else:  # track: the camera slides sideways, the target with it
            shift = sign * _u(rng, 0.2, 0.5)
            tgt = (target, (target[0] + shift, target[1], target[2]))
    return CameraPath(tgt, az, el, d, _u(rng, 40, 60), motion)


def lanes(rng: np.random.Generator, n: int, half_width: float) -> list[float]:
    """x positions of n objects across the view: spread evenly with jitter, shuffled; two or
    more always include both sides of the frame."""
    if n == 1:
        return [float(rng.choice([-1.0, 1.0])) * _u(rng, 0.15, 0.6) * half_width]
    base = np.linspace(-0.6, 0.6, n) * half_width
    jitter = rng.uniform(-0.25, 0.25, n) * (1.2 * half_width / n)
    xs = base + jitter
    xs[0], xs[-1] = min(xs[0], -0.15 * half_width), max(xs[-1], 0.15 * half_width)
    return [float(v) for v in rng.permutation(xs)]


def sample_object(rng: np.random.Generator, model: ObjectModel, x: float, depth: float, duration: float, still: bool) -> ObjectSpec:
    motion = "still" if still else str(rng.choice(MOTIONS[model.shape]))
    size, mass = _u(rng, *model.size), _u(rng, *model.mass)
    toward = -np.sign(x) if abs(x) > 0.05 else float(rng.choice([-1.0, 1.0]))
    latest = max(0.2, duration - 2.5)  # leave time for the motion to be seen and heard
    pos, vel, spin, tilt = (x, depth, 0.0), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (0.0, 0.0)
    release = 0.0
    if motion == "drop":
        pos = (x, depth, _u(rng, 0.3, 0.9) + size)
        tilt = (_u(rng, -40, 40), _u(rng, -40, 40))
        spin = tuple(rng.uniform(-2, 2, 3).tolist())
        release = _u(rng, 0.0, latest)
    elif motion == "throw":
        pos = (x, depth, _u(rng, 0.2, 0.6) + size)
        vel = (toward * _u(rng, 0.4, 1.2), _u(rng, -0.3, 0.3), _u(rng, 0.0, 1.5))
        tilt = (_u(rng, -30, 30), _u(rng, -30, 30))
        spin = tuple(rng.uniform(-4, 4, 3).tolist())
        release = _u(rng, 0.0, latest)
    elif motion == "push":
        vel = (toward * _u(rng, 0.8, 3.0), _u(rng, -0.3, 0.3), 0.0)
        release = _u(rng, 0.2, latest)
    elif motion == "topple":  # stood on end, leaned past its tipping angle by tilt[0] degrees, let go
        tilt = (_u(rng, 2.0, 8.0) * float(rng.choice([-1.0, 1.0])), 0.0)
        release = _u(rng, 0.2, latest)
    return ObjectSpec(model.name, round(size, 4), round(mass, 4), tuple(round(v, 4) for v in pos), round(_u(rng, 0, 360), 2),
                      tuple(round(v, 2) for v in tilt), tuple(round(v, 4) for v in vel), tuple(round(float(v), 4) for v in spin),
                      round(release, 4), motion)


def sample_scene(rng: np.random.Generator, split: str, n_objects: int, still: bool, width: int, height: int, fps: float,
                 duration: float, moving_camera_fraction: float) -> SceneSpec:
    camera = sample_camera(rng, rng.random() < moving_camera_fraction)
    eye, target = camera.pose(0.0)
    dist = float(np.linalg.norm(eye - target))
    half_width = dist * np.tan(np.radians(camera.fov) / 2) * width / height
    pool = models_for(split)
    chosen = [pool[i] for i in rng.integers(0, len(pool), n_objects)]
    held = [m for m in pool if m.held_out]
    if split == "test" and held and not any(m.held_out for m in chosen):
        chosen[int(rng.integers(n_objects))] = held[int(rng.integers(len(held)))]
    xs = lanes(rng, n_objects, 0.8 * half_width)
    objects = [sample_object(rng, m, target[0] + x, target[1] + _u(rng, -0.25, 0.25), duration, still) for m, x in zip(chosen, xs)]
    light = Light(
        (_u(rng, -1, 1), _u(rng, -1, 0.5), _u(rng, 0.6, 1.5)),
        tuple(round(_u(rng, 0.85, 1.0), 3) for _ in range(3)),
        _u(rng, 0.35, 0.7), _u(rng, 0.4, 0.8), _u(rng, 0.0, 0.4), bool(rng.random() < 0.5),
    )
    floors, backdrops = floors_for(split), backdrops_for(split)
    backdrop = str(rng.choice(backdrops)) if rng.random() < 0.75 else "plain"
    return SceneSpec(
        width, height, fps, duration, objects, camera, light, str(rng.choice(floors)), backdrop,
        tuple(int(v) for v in rng.integers(40, 230, 3)),
        blur=round(_u(rng, 0.3, 1.5), 3) if rng.random() < 0.4 else 0.0,
        noise=round(_u(rng, 1.0, 6.0), 3) if rng.random() < 0.4 else 0.0,
        crf=int(rng.choice([18, 23, 28, 33])),
        still=still or all(o.motion == "still" for o in objects),  # nothing moves, whatever the reason
        held_out=[m.name for m in chosen if m.held_out],
    )
