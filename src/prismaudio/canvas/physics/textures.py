"""Photos from scikit-image's bundled data (skimage/data, no download) as floor textures and
backdrops, and the image effects of a clip: backdrop compositing, blur and sensor noise."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ...errors import ConfigError
from .camera import CameraPath


@lru_cache(maxsize=32)
def photo(name: str) -> np.ndarray:
    """An RGB uint8 photo by its skimage.data name (grey photos are made RGB)."""
    import skimage.data

    fn = getattr(skimage.data, name, None)
    if fn is None:
        raise ConfigError(f"PhysWorld: scikit-image has no bundled photo '{name}'")
    img = np.asarray(fn())
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.dtype != np.uint8:
        img = (255 * (img.astype(np.float64) / max(float(img.max()), 1e-9))).astype(np.uint8)
    return np.ascontiguousarray(img[..., :3])


def texture_file(name: str, folder: str) -> str:
    """A PNG of the photo in `folder` (written once per process) for pybullet's loadTexture."""
    from PIL import Image

    path = Path(folder) / f"{name}.png"
    if not path.is_file():
        Image.fromarray(photo(name)).resize((512, 512)).save(path)
    return str(path)


def backdrop_frames(name: str, colour: tuple[int, int, int], camera: CameraPath, T: int, width: int, height: int) -> np.ndarray:
    """[T, H, W, 3] backdrop: a photo wider than the frame that slides as the camera turns
    (azimuth), or a plain colour."""
    if name == "plain":
        return np.broadcast_to(np.asarray(colour, np.uint8), (T, height, width, 3))
    from PIL import Image

    pano_w = int(round(width * 1.6))
    pano = np.asarray(Image.fromarray(photo(name)).resize((pano_w, height)))
    span = max(1e-6, 60.0)  # degrees of azimuth that slide the window across the whole panorama
    out = np.empty((T, height, width, 3), np.uint8)
    for k in range(T):
        u = k / max(1, T - 1)
        s = u * u * (3 - 2 * u)
        az = camera.azimuth[0] + (camera.azimuth[1] - camera.azimuth[0]) * s
        x0 = int(round(np.clip(0.5 - az / span, 0.0, 1.0) * (pano_w - width)))
        out[k] = pano[:, x0 : x0 + width]
    return out


def composite(frames: np.ndarray, background: np.ndarray, backdrop: np.ndarray) -> np.ndarray:
    """Backdrop where the renderer drew nothing."""
    out = frames.copy()
    out[background] = backdrop[background]
    return out


def blur(frames: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0:
        return frames
    import cv2

    return np.stack([cv2.GaussianBlur(f, (0, 0), sigma) for f in frames])


def add_noise(frames: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    if sigma <= 0:
        return frames
    noisy = frames.astype(np.float32) + rng.normal(0.0, sigma, frames.shape).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8)
