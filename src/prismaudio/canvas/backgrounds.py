"""Backgrounds: solid colours, gradients and real photos (scikit-image / scikit-learn sample images).

The `ood` split draws from held-out styles: diagonal and radial gradients and a separate set
of photos, none of which ever appears in train/val/test.
"""

from __future__ import annotations

import colorsys
import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

IN_DIST_PHOTOS = ("astronaut.png", "coffee.png", "chelsea.png", "motorcycle_left.png", "brick.png", "grass.png", "china.jpg")
OOD_PHOTOS = ("rocket.jpg", "hubble_deep_field.jpg", "gravel.png", "retina.jpg", "flower.jpg")
IN_DIST_GRADIENTS = ("vertical", "horizontal")
OOD_GRADIENTS = ("diagonal", "radial")


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


@lru_cache(maxsize=None)
def photo_paths() -> dict[str, Path]:
    """Installed sample photos by file name (missing ones are simply not offered)."""
    found: dict[str, Path] = {}
    skimage = _package_dir("skimage")
    sklearn = _package_dir("sklearn")
    for name in IN_DIST_PHOTOS + OOD_PHOTOS:
        for base in ((skimage / "data") if skimage else None, (sklearn / "datasets" / "images") if sklearn else None):
            if base is not None and (base / name).is_file():
                found[name] = base / name
                break
    return found


def _colour(rng: np.random.Generator) -> list[int]:
    h, s, v = rng.uniform(0, 1), rng.uniform(0.2, 0.7), rng.uniform(0.3, 0.9)
    return [int(round(255 * c)) for c in colorsys.hsv_to_rgb(h, s, v)]


def choose_background(rng: np.random.Generator, ood: bool) -> dict:
    """A background spec (JSON-ready): kind solid | gradient | photo and its parameters."""
    photos = [p for p in (OOD_PHOTOS if ood else IN_DIST_PHOTOS) if p in photo_paths()]
    kinds = ["gradient", "photo"] if ood else ["solid", "gradient", "photo"]
    if not photos:
        kinds.remove("photo")
    kind = str(rng.choice(kinds))
    if kind == "solid":
        return {"kind": "solid", "colors": [_colour(rng)]}
    if kind == "gradient":
        direction = str(rng.choice(OOD_GRADIENTS if ood else IN_DIST_GRADIENTS))
        return {"kind": "gradient", "direction": direction, "colors": [_colour(rng), _colour(rng)]}
    name = str(rng.choice(photos))
    return {"kind": "photo", "name": Path(name).stem, "file": name, "crop": [float(v) for v in rng.uniform(0, 1, size=3)]}


@lru_cache(maxsize=16)
def _photo(name: str) -> np.ndarray:
    from PIL import Image

    with Image.open(photo_paths()[name]) as im:
        return np.asarray(im.convert("RGB"))


def render_background(spec: dict, width: int, height: int) -> np.ndarray:
    """uint8 [H, W, 3] for a spec from `choose_background`."""
    kind = spec["kind"]
    if kind == "solid":
        return np.broadcast_to(np.asarray(spec["colors"][0], np.uint8), (height, width, 3)).copy()
    if kind == "gradient":
        c0, c1 = (np.asarray(c, np.float32) for c in spec["colors"])
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        yy, xx = yy / max(1, height - 1), xx / max(1, width - 1)
        u = {
            "vertical": yy,
            "horizontal": xx,
            "diagonal": (xx + yy) / 2,
            "radial": np.clip(np.hypot(xx - 0.5, yy - 0.5) / 0.7071, 0, 1),
        }[spec["direction"]]
        return np.round(c0 + (c1 - c0) * u[..., None]).astype(np.uint8)
    from PIL import Image

    photo = _photo(spec["file"])
    ph, pw = photo.shape[:2]
    aspect = width / height
    frac, fx, fy = spec["crop"]
    crop_w = min(pw, ph * aspect) * (0.5 + 0.5 * frac)
    crop_h = crop_w / aspect
    left, top = fx * (pw - crop_w), fy * (ph - crop_h)
    box = (int(left), int(top), int(left + crop_w), int(top + crop_h))
    return np.asarray(Image.fromarray(photo).resize((width, height), Image.BILINEAR, box=box))
