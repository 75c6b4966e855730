"""Plain physics clips with exact contact times, for the planner's motion events (not SynthCanvas).

A ball (or several) falls and bounces on a floor under gravity with restitution, seen by a
fixed or panning camera over a shaded wall and floor; a block slides and stops; nothing moves.
Contacts are solved analytically, so each one's time (to the sample) and impact speed are exact.

    python benchmarks/motion_clips.py OUT_DIR [--count N]   # writes OUT_DIR/<id>.mp4 + truth.jsonl
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Body:
    colour: tuple[int, int, int]
    radius: float  # pixels
    x0: float
    y0: float  # pixels (down is +)
    vx: float  # pixels / s
    vy: float
    restitution: float = 0.7
    shape: str = "ball"  # ball | block (a block slides on the floor with friction)
    friction: float = 0.0  # px/s^2 deceleration while sliding


@dataclass
class Scene:
    width: int = 320
    height: int = 240
    fps: float = 25.0
    duration: float = 8.0
    floor: float = 200.0  # floor line (pixels)
    gravity: float = 900.0  # px / s^2
    pan: float = 0.0  # camera pan speed, px / s (the whole picture moves)
    noise: float = 2.0
    bodies: list[Body] = field(default_factory=list)


def simulate(scene: Scene, body: Body, dt: float = 1e-4):
    """Positions per frame and contacts [(time, speed)] of one body, integrated at `dt`."""
    n = int(round(scene.duration * scene.fps))
    x, y, vx, vy = body.x0, body.y0, body.vx, body.vy
    xs, ys, contacts = [], [], []
    t, next_frame, k = 0.0, 0.0, 0
    resting = False
    while k < n:
        if t >= next_frame - 1e-12:
            xs.append(x)
            ys.append(y)
            k += 1
            next_frame = k / scene.fps
        if not resting:
            vy += scene.gravity * dt
            y += vy * dt
            if y + body.radius >= scene.floor and vy > 0:
                y = scene.floor - body.radius
                speed = vy
                if speed > 60:
                    contacts.append((t, float(speed)))
                vy = -body.restitution * vy if body.shape == "ball" else 0.0
                if abs(vy) < 60:
                    vy, resting = 0.0, True
        if resting and body.friction:
            vx = np.sign(vx) * max(0.0, abs(vx) - body.friction * dt)
        x += vx * dt
        if x - body.radius < 0 and vx < 0 or x + body.radius > scene.width and vx > 0:
            if body.shape == "ball":
                if abs(vx) > 60:
                    contacts.append((t, float(abs(vx))))
                vx = -body.restitution * vx
        t += dt
    return np.array(xs), np.array(ys), contacts


def render(scene: Scene, tracks, rng: np.random.Generator) -> np.ndarray:
    n = len(tracks[0][1]) if tracks else int(round(scene.duration * scene.fps))
    h, w = scene.height, scene.width
    extra = int(abs(scene.pan) * scene.duration) + 2
    W = w + extra
    yy, xx = np.mgrid[0:h, 0:W]
    wall = np.stack([150 + 30 * np.sin(xx / 23.0) * np.cos(yy / 17.0), 140 + 20 * np.sin(xx / 41.0), 120 + 0 * xx], -1)
    floor = np.stack([110 + 10 * ((xx // 16 + yy // 16) % 2), 110 + 10 * ((xx // 16 + yy // 16) % 2), 115 + 0 * xx], -1)
    world = np.where((yy >= scene.floor)[..., None], floor, wall).astype(np.float32)
    frames = np.empty((n, h, w, 3), np.uint8)
    gy, gx = np.mgrid[0:h, 0:w]
    for k in range(n):
        off = int(round(abs(scene.pan) * k / scene.fps))
        off = off if scene.pan >= 0 else extra - 2 - off
        img = world[:, off : off + w].copy()
        for body, xs, ys in tracks:
            cx, cy, r = xs[k] - (off if scene.pan else 0), ys[k], body.radius
            if body.shape == "ball":
                d2 = (gx - cx) ** 2 + (gy - cy) ** 2
                inside = d2 <= r * r
                shade = np.clip(1.1 - 0.5 * np.sqrt(((gx - cx + r / 3) ** 2 + (gy - cy + r / 3) ** 2)) / r, 0.4, 1.1)
            else:
                inside = (np.abs(gx - cx) <= r) & (np.abs(gy - cy) <= r)
                shade = np.ones((h, w))
            col = np.array(body.colour, np.float32)[None, None] * shade[..., None]
            img = np.where(inside[..., None], col, img)
            if body.shape == "ball":  # its shadow on the floor
                sh = ((gx - cx) / (1.2 * r)) ** 2 + ((gy - scene.floor - 3) / 3.0) ** 2 <= 1
                img = np.where((sh & ~inside)[..., None], img * 0.7, img)
        img += rng.normal(0, scene.noise, img.shape)
        frames[k] = np.clip(img, 0, 255).astype(np.uint8)
    return frames


COLOURS = [(220, 40, 40), (40, 80, 220), (240, 200, 40), (40, 180, 70), (230, 120, 30)]


def random_scene(rng: np.random.Generator, kind: str) -> Scene:
    s = Scene()
    if kind == "still":
        return s
    if kind == "pan":
        s.pan = float(rng.choice([-1, 1]) * rng.uniform(15, 35))
        return s
    count = 1 if kind == "one" else int(rng.integers(2, 4))
    xs = rng.permutation(np.linspace(50, 270, count)) if count > 1 else [rng.uniform(60, 260)]
    for i in range(count):
        block = kind == "many" and i == count - 1 and rng.random() < 0.5
        s.bodies.append(Body(
            colour=COLOURS[int(rng.integers(len(COLOURS)))] if count == 1 else COLOURS[i],
            radius=float(rng.uniform(10, 18)), x0=float(xs[i]), y0=float(rng.uniform(25, 90)),
            vx=float(rng.uniform(-30, 30)) if not block else float(rng.choice([-1, 1]) * rng.uniform(60, 100)),
            vy=0.0, restitution=float(rng.uniform(0.6, 0.8)),
            shape="block" if block else "ball", friction=float(rng.uniform(40, 80)) if block else 0.0,
        ))
    s.pan = float(rng.uniform(-15, 15)) if kind != "one" and rng.random() < 0.3 else 0.0
    return s


def make(out: Path, count: int, seed: int = 0) -> list[dict]:
    from prismaudio.media.encode import write_video

    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    kinds = ["one", "many", "one", "many", "still", "pan"]
    rows = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        scene = random_scene(rng, kind)
        tracks, truth = [], []
        for j, body in enumerate(scene.bodies):
            xs, ys, contacts = simulate(scene, body)
            tracks.append((body, xs, ys))
            truth.append({"id": f"b{j}", "shape": body.shape, "contacts": contacts,
                          "x": [float(v) / scene.width for v in xs[:: int(scene.fps // 5)]]})
        frames = render(scene, tracks, rng)
        name = f"{kind}_{i:03d}"
        write_video(out / f"{name}.mp4", frames, scene.fps)
        rows.append({"id": name, "kind": kind, "pan": scene.pan, "bodies": truth, "duration": scene.duration})
    (out / "truth.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    make(Path(a.out), a.count, a.seed)
