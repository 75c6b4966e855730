"""Camera pose over time and the projection of world points to the screen (pure numpy).

Matrices follow OpenGL (and pybullet): a right-handed view matrix from eye / target / up and
a perspective projection from the vertical field of view. They are handed to pybullet's
renderer as column-major lists, so a point projected here lands on the pixel the renderer
draws it at. Screen x is normalised device x in [-1 left, 1 right]; screen y is flipped to
the manifest's convention, [-1 top, 1 bottom].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEAR, FAR = 0.05, 40.0


@dataclass
class CameraPath:
    """A camera that looks at `target` from spherical coordinates around it; each of azimuth,
    elevation, distance and target moves linearly (eased) from its start to its end value."""

    target: tuple[tuple[float, float, float], tuple[float, float, float]]  # start, end (metres)
    azimuth: tuple[float, float]    # degrees; 0 looks along +y (world x is screen right)
    elevation: tuple[float, float]  # degrees above the horizon
    distance: tuple[float, float]   # metres from the target
    fov: float                      # vertical field of view, degrees
    motion: str = "static"          # static | pan | orbit | dolly | track

    def pose(self, u: float) -> tuple[np.ndarray, np.ndarray]:
        """(eye, target) at clip fraction u in [0, 1] (smoothstep eased)."""
        s = u * u * (3.0 - 2.0 * u)
        lerp = lambda a, b: a + (b - a) * s  # noqa: E731
        az = np.radians(lerp(*self.azimuth))
        el = np.radians(lerp(*self.elevation))
        d = lerp(*self.distance)
        target = lerp(np.asarray(self.target[0], float), np.asarray(self.target[1], float))
        eye = target + d * np.array([np.sin(az) * np.cos(el), -np.cos(az) * np.cos(el), np.sin(el)])
        return eye, target


def look_at(eye: np.ndarray, target: np.ndarray, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """4x4 view matrix (row-major, acts on column vectors), as gluLookAt."""
    eye, target, up = (np.asarray(v, dtype=np.float64) for v in (eye, target, up))
    f = target - eye
    f /= np.linalg.norm(f)
    s = np.cross(f, up)
    s /= np.linalg.norm(s)
    u = np.cross(s, f)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = s, u, -f
    m[:3, 3] = -m[:3, :3] @ eye
    return m


def perspective(fov_deg: float, aspect: float, near: float = NEAR, far: float = FAR) -> np.ndarray:
    """4x4 projection matrix (row-major), as gluPerspective."""
    f = 1.0 / np.tan(np.radians(fov_deg) / 2.0)
    m = np.zeros((4, 4))
    m[0, 0], m[1, 1] = f / aspect, f
    m[2, 2], m[2, 3] = (far + near) / (near - far), 2.0 * far * near / (near - far)
    m[3, 2] = -1.0
    return m


def gl_list(m: np.ndarray) -> list[float]:
    """Column-major flat list, the layout pybullet's getCameraImage takes."""
    return [float(v) for v in np.asarray(m).T.reshape(-1)]


def project(points: np.ndarray, view: np.ndarray, proj: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(screen x in [-1 left, 1 right], screen y in [-1 top, 1 bottom], in_front) of [N, 3] points.

    Not clipped: |x| > 1 is outside the frame. Points behind the camera get in_front False.
    """
    pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
    homo = np.concatenate([pts, np.ones((len(pts), 1))], axis=1)
    clip = homo @ (proj @ view).T
    w = clip[:, 3]
    front = w > 1e-6
    safe = np.where(front, w, 1.0)
    return clip[:, 0] / safe, -clip[:, 1] / safe, front
