"""Run one PhysWorld scene in pybullet and record what happened: frames, segmentation,
per-frame object poses and speeds, and every contact at every simulation step.

The simulation steps at `substeps` x the frame rate (at least 240 Hz), so frame k is drawn
exactly at t = k / fps, after k * substeps steps. Before t = 0 the world settles for
SETTLE_S (objects placed on the floor come to rest), with objects that will be dropped or
thrown held still in the air; each of those is let go at its release time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import PrismError
from .camera import gl_list, look_at, perspective
from .contacts import STATIC, PairContact
from .objects import ObjectModel, model
from .scene import SceneSpec
from .textures import texture_file

MIN_SIM_HZ = 240.0
SETTLE_S = 1.0
FLOOR_RESTITUTION = 0.8
FLOOR_FRICTION = 0.6
FLOOR_SIZE = 3.0  # metres
GROUND_MOTIONS = ("push", "topple", "still")
HELD_MOTIONS = ("drop", "throw", "topple")  # held still in place until their release


@dataclass
class Recording:
    """What the simulator saw; arrays over frames [T] or [T, N objects]."""

    fps: float
    substeps: int
    frames: np.ndarray         # [T, H, W, 3] uint8, backdrop not yet composited
    background: np.ndarray     # [T, H, W] bool: pixels showing nothing (where the backdrop goes)
    pixels: np.ndarray         # [T, N] visible pixel count of each object
    position: np.ndarray       # [T, N, 3] centre of mass, m
    speed: np.ndarray          # [T, N] m/s
    spin: np.ndarray           # [T, N] rad/s
    floor_contact: np.ndarray  # [T, N] fraction of the frame's steps touching scenery
    eye: np.ndarray            # [T, 3]
    target: np.ndarray         # [T, 3]
    views: np.ndarray          # [T, 4, 4]
    projections: np.ndarray    # [T, 4, 4]
    contacts: list[PairContact]
    radius: np.ndarray         # [N] half the largest extent, m

    @property
    def dt(self) -> float:
        return 1.0 / (self.fps * self.substeps)


def substeps_for(fps: float) -> int:
    return max(1, math.ceil(MIN_SIM_HZ / fps))


def _quat(p, yaw: float, tilt: tuple[float, float], upright_axis: int | None) -> list[float]:
    roll, pitch = math.radians(tilt[0]), math.radians(tilt[1])
    if upright_axis == 0:  # longest axis along x: stand it up on its end
        pitch += math.pi / 2
    elif upright_axis == 1:
        roll += math.pi / 2
    return list(p.getQuaternionFromEuler([roll, pitch, math.radians(yaw)]))


class World:
    """One pybullet DIRECT session holding a scene (close() releases it)."""

    def __init__(self, spec: SceneSpec, texture_dir: str):
        import pybullet as p
        import pybullet_data

        self.p, self.spec = p, spec
        self.cid = p.connect(p.DIRECT)
        if self.cid < 0:
            raise PrismError("pybullet: could not start a physics server")
        self.fps = spec.fps
        self.substeps = substeps_for(spec.fps)
        self.dt = 1.0 / (spec.fps * self.substeps)
        kw = {"physicsClientId": self.cid}
        self.data_path = pybullet_data.getDataPath()
        p.setAdditionalSearchPath(self.data_path, **kw)
        p.setGravity(0, 0, -9.81, **kw)
        p.setTimeStep(self.dt, **kw)
        self.floor = self._floor(texture_dir)
        self.models: list[ObjectModel] = [model(o.model) for o in spec.objects]
        self.bodies, self.radius = [], []
        for o, m in zip(spec.objects, self.models):
            body, radius = self._load(o, m)
            self.bodies.append(body)
            self.radius.append(radius)
        self.index = {b: i for i, b in enumerate(self.bodies)}
        self.held = {i: p.getBasePositionAndOrientation(b, **kw) for i, b in enumerate(self.bodies)
                     if spec.objects[i].motion not in ("still",)}

    def _floor(self, texture_dir: str) -> int:
        """An infinite collision plane under a FLOOR_SIZE square of textured floor; beyond it
        the renderer draws nothing and the backdrop shows."""
        p, kw = self.p, {"physicsClientId": self.cid}
        half = FLOOR_SIZE / 2
        collision = p.createCollisionShape(p.GEOM_PLANE, **kw)
        visual = p.createVisualShape(p.GEOM_BOX, halfExtents=[half, half, 0.005], visualFramePosition=[0, 0, -0.005], **kw)
        floor = p.createMultiBody(0, collision, visual, [0, 0, 0], **kw)
        p.changeDynamics(floor, -1, restitution=FLOOR_RESTITUTION, lateralFriction=FLOOR_FRICTION, **kw)
        name = self.spec.floor
        path = texture_file(name, texture_dir) if name != "checker" else str(Path(self.data_path) / "checker_grid.jpg")
        p.changeVisualShape(floor, -1, textureUniqueId=p.loadTexture(path, **kw), rgbaColor=[1, 1, 1, 1], **kw)
        return floor

    def _load(self, o, m: ObjectModel) -> tuple[int, float]:
        p, kw = self.p, {"physicsClientId": self.cid}
        probe = p.loadURDF(m.urdf, [0, 0, 5], **kw)
        lo, hi = p.getAABB(probe, -1, **kw)
        p.removeBody(probe, **kw)
        extent = np.asarray(hi) - np.asarray(lo)
        scale = o.size / max(float(extent.max()), 1e-6)
        upright = int(np.argmax(extent)) if o.motion == "topple" and int(np.argmax(extent)) != 2 else None
        quat = _quat(p, 0.0 if o.motion == "topple" else o.yaw, o.tilt if o.motion in ("drop", "throw") else (0.0, 0.0), upright)
        body = p.loadURDF(m.urdf, list(o.position), quat, globalScaling=scale, **kw)
        p.changeDynamics(body, -1, mass=o.mass, restitution=m.restitution, lateralFriction=m.friction,
                         rollingFriction=m.rolling_friction, spinningFriction=m.rolling_friction, **kw)
        if o.motion == "topple":
            p.resetBasePositionAndOrientation(body, list(o.position), self._tipped(body, quat, o), **kw)
        if o.motion in GROUND_MOTIONS:  # rest it on the floor
            lo, _ = p.getAABB(body, -1, **kw)
            pos, orn = p.getBasePositionAndOrientation(body, **kw)
            p.resetBasePositionAndOrientation(body, [pos[0], pos[1], pos[2] - lo[2] + 1e-3], orn, **kw)
        return body, 0.5 * o.size

    def _tipped(self, body: int, upright: list[float], o) -> list[float]:
        """An object standing on end, leaned over its thin side by `o.tilt[0]` degrees past the
        angle where it tips: held there, it topples when released."""
        p, kw = self.p, {"physicsClientId": self.cid}
        lo, hi = p.getAABB(body, -1, **kw)
        ext = np.asarray(hi) - np.asarray(lo)
        thin = 0 if ext[0] < ext[1] else 1
        sign = -1.0 if o.tilt[0] < 0 else 1.0
        angle = sign * (math.atan2(ext[thin], ext[2]) + math.radians(abs(o.tilt[0])))
        axis = [0.0, 1.0, 0.0] if thin == 0 else [1.0, 0.0, 0.0]
        tilt = p.getQuaternionFromAxisAngle(axis, angle)
        yaw = p.getQuaternionFromEuler([0.0, 0.0, math.radians(o.yaw)])
        q = p.multiplyTransforms([0, 0, 0], tilt, [0, 0, 0], upright)[1]
        return list(p.multiplyTransforms([0, 0, 0], yaw, [0, 0, 0], q)[1])

    # ---- stepping --------------------------------------------------------------------------
    def _hold(self, t: float) -> None:
        p, kw = self.p, {"physicsClientId": self.cid}
        for i, (pos, orn) in list(self.held.items()):
            o = self.spec.objects[i]
            if t >= o.release:
                p.resetBaseVelocity(self.bodies[i], list(o.velocity), list(o.spin), **kw)
                del self.held[i]
            elif o.motion in HELD_MOTIONS:
                p.resetBasePositionAndOrientation(self.bodies[i], pos, orn, **kw)
                p.resetBaseVelocity(self.bodies[i], [0, 0, 0], [0, 0, 0], **kw)

    def settle(self) -> None:
        p, kw = self.p, {"physicsClientId": self.cid}
        for _ in range(int(round(SETTLE_S / self.dt))):
            self._hold(-1.0)
            p.stepSimulation(**kw)
        for i, b in enumerate(self.bodies):  # a settled object is at rest, exactly
            if i in self.held or self.spec.objects[i].motion == "still":
                p.resetBaseVelocity(b, [0, 0, 0], [0, 0, 0], **kw)
        self.held = {i: p.getBasePositionAndOrientation(self.bodies[i], **kw) for i in self.held}

    def _velocities(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        p, kw = self.p, {"physicsClientId": self.cid}
        out = []
        for b in self.bodies:
            lin, ang = p.getBaseVelocity(b, **kw)
            pos, _ = p.getBasePositionAndOrientation(b, **kw)
            out.append((np.asarray(lin), np.asarray(ang), np.asarray(pos)))
        return out

    def _pair_contacts(self, step: int, before) -> tuple[list[PairContact], set[int]]:
        """This step's contacts merged per body pair; and the objects touching scenery."""
        p = self.p
        pairs: dict[tuple[int, int], PairContact] = {}
        grounded: set[int] = set()
        for cp in p.getContactPoints(physicsClientId=self.cid):
            a, b = self.index.get(cp[1], STATIC), self.index.get(cp[2], STATIC)
            if a == b:
                continue
            normal, where = np.asarray(cp[7]), np.asarray(cp[5])  # normal on B, from B to A; point on A
            va = before[a][0] + np.cross(before[a][1], where - before[a][2]) if a != STATIC else np.zeros(3)
            vb = before[b][0] + np.cross(before[b][1], where - before[b][2]) if b != STATIC else np.zeros(3)
            approach = float(-(va - vb) @ normal)
            key = (a, b)
            c = pairs.get(key)
            if c is None:
                sa = float(np.linalg.norm(before[a][0])) if a != STATIC else 0.0
                sb = float(np.linalg.norm(before[b][0])) if b != STATIC else 0.0
                pairs[key] = PairContact(step, a, b, float(cp[9]), approach, sa, sb)
            else:
                c.force += float(cp[9])
                c.approach = max(c.approach, approach)
            if STATIC in (a, b):
                grounded.add(b if a == STATIC else a)
        return list(pairs.values()), grounded

    def render(self, view: np.ndarray, proj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p, s, L = self.p, self.spec, self.spec.light
        w, h, rgba, _, seg = p.getCameraImage(
            s.width, s.height, gl_list(view), gl_list(proj), lightDirection=list(L.direction), lightColor=list(L.colour),
            lightDistance=6.0, shadow=int(L.shadow), lightAmbientCoeff=L.ambient, lightDiffuseCoeff=L.diffuse,
            lightSpecularCoeff=L.specular, renderer=p.ER_TINY_RENDERER, physicsClientId=self.cid)
        rgb = np.asarray(rgba, dtype=np.uint8).reshape(h, w, 4)[..., :3]
        return rgb, np.asarray(seg, dtype=np.int32).reshape(h, w)

    def run(self) -> Recording:
        p, s, kw = self.p, self.spec, {"physicsClientId": self.cid}
        self.settle()
        T, N = int(round(s.duration * s.fps)), len(self.bodies)
        frames = np.empty((T, s.height, s.width, 3), np.uint8)
        background = np.empty((T, s.height, s.width), bool)
        pixels, speed, spin = np.zeros((T, N), np.int32), np.zeros((T, N)), np.zeros((T, N))
        position, floor_contact = np.zeros((T, N, 3)), np.zeros((T, N))
        eyes, targets, views, projs = np.zeros((T, 3)), np.zeros((T, 3)), np.zeros((T, 4, 4)), np.zeros((T, 4, 4))
        proj = perspective(s.camera.fov, s.width / s.height)
        contacts: list[PairContact] = []
        step = 0
        for k in range(T):
            eye, target = s.camera.pose(k / max(1, T - 1))
            view = look_at(eye, target)
            rgb, seg = self.render(view, proj)
            frames[k], background[k] = rgb, seg < 0
            vel = self._velocities()
            for i, b in enumerate(self.bodies):
                pixels[k, i] = int(np.count_nonzero(seg == b))
                position[k, i] = vel[i][2]
                speed[k, i] = float(np.linalg.norm(vel[i][0]))
                spin[k, i] = float(np.linalg.norm(vel[i][1]))
            eyes[k], targets[k], views[k], projs[k] = eye, target, view, proj
            for _ in range(self.substeps):  # the steps between frame k and k + 1
                self._hold(step * self.dt)
                before = self._velocities()
                p.stepSimulation(**kw)
                step += 1
                pairs, grounded = self._pair_contacts(step, before)
                contacts += pairs
                for i in grounded:
                    floor_contact[k, i] += 1.0 / self.substeps
        return Recording(s.fps, self.substeps, frames, background, pixels, position, speed, spin, floor_contact,
                         eyes, targets, views, projs, contacts, np.asarray(self.radius))

    def close(self) -> None:
        try:
            self.p.disconnect(physicsClientId=self.cid)
        except Exception:  # already gone (pybullet raises a bare error): nothing to release
            pass


def simulate(spec: SceneSpec, texture_dir: str) -> Recording:
    world = World(spec, texture_dir)
    try:
        return world.run()
    finally:
        world.close()
