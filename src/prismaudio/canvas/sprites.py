"""Emoji sprites from Noto Color Emoji (or a user's RGBA image), cached per process.

Pillow draws a colour glyph only at the bitmap strike size (109 px) with
`embedded_color=True`; the glyph is cropped to its bounding box, padded square and resized
to a 128 px master from which every frame's size is resampled.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ConfigError

EMOJI_FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
STRIKE = 109
MASTER = 128


def is_image_path(sprite: str) -> bool:
    return Path(sprite).suffix.lower() in (".png", ".webp", ".gif", ".jpg", ".jpeg")


def check_emoji_font(path: str, sprites: list[str]) -> None:
    """One-line error when emoji sprites are needed and the font is missing or unreadable."""
    if all(is_image_path(s) for s in sprites):
        return
    if not Path(path).is_file():
        raise ConfigError(f"emoji font not found: {path} (install fonts-noto-color-emoji or pass --emoji-font)")
    try:
        _font(path)
    except OSError as e:
        raise ConfigError(f"{path}: not a usable colour emoji font ({e})") from None


@lru_cache(maxsize=4)
def _font(path: str):
    from PIL import ImageFont

    return ImageFont.truetype(path, STRIKE)


@lru_cache(maxsize=512)
def sprite_image(sprite: str, font_path: str = EMOJI_FONT) -> np.ndarray:
    """RGBA uint8 [MASTER, MASTER, 4] for an emoji or an image file."""
    from PIL import Image, ImageDraw

    if is_image_path(sprite):
        try:
            with Image.open(sprite) as im:
                img = im.convert("RGBA")
        except OSError as e:
            raise ConfigError(f"{sprite}: sprite image is not readable ({e})") from None
    else:
        img = Image.new("RGBA", (2 * STRIKE, 2 * STRIKE), (0, 0, 0, 0))
        ImageDraw.Draw(img).text((STRIKE, STRIKE), sprite, font=_font(font_path), embedded_color=True, anchor="mm")
    bbox = img.getchannel("A").getbbox()
    if bbox is None:
        raise ConfigError(f"sprite {sprite!r} renders empty (not in {Path(font_path).name}?)")
    img = img.crop(bbox)
    side = max(img.size)
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    square.paste(img, ((side - img.size[0]) // 2, (side - img.size[1]) // 2))
    return np.asarray(square.resize((MASTER, MASTER), Image.LANCZOS))


@lru_cache(maxsize=4096)
def sized(sprite: str, width: int, height: int, font_path: str = EMOJI_FONT) -> np.ndarray:
    """float32 RGBA [height, width, 4] in 0..1 (colour not premultiplied)."""
    from PIL import Image

    img = Image.fromarray(sprite_image(sprite, font_path)).resize((width, height), Image.BILINEAR)
    return np.asarray(img, dtype=np.float32) / 255.0


@lru_cache(maxsize=256)
def ring_mask(radius: int, thickness: int) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, luminance) of a burst ring: a white band with thin dark edges, [2r+1, 2r+1]."""
    r_out = radius + thickness
    yy, xx = np.mgrid[-r_out : r_out + 1, -r_out : r_out + 1]
    d = np.abs(np.hypot(xx, yy) - radius)
    alpha = np.clip(thickness / 2 + 1.5 - d, 0, 1).astype(np.float32)
    lum = np.where(d <= thickness / 2, 1.0, 0.0).astype(np.float32)
    return alpha, lum
