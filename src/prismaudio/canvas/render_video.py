"""Draw a choreographed scene into uint8 frames [T, H, W, 3] (no audio)."""

from __future__ import annotations

import numpy as np

from .choreography import Scene
from .sprites import EMOJI_FONT, ring_mask, sized


def _blend(frame: np.ndarray, rgba: np.ndarray, left: int, top: int) -> None:
    """Alpha-composite float RGBA (0..1) onto a float frame (0..255) in place, clipped to the frame."""
    H, W = frame.shape[:2]
    h, w = rgba.shape[:2]
    x0, y0, x1, y1 = max(0, left), max(0, top), min(W, left + w), min(H, top + h)
    if x0 >= x1 or y0 >= y1:
        return
    patch = rgba[y0 - top : y1 - top, x0 - left : x1 - left]
    alpha = patch[..., 3:4]
    region = frame[y0:y1, x0:x1]
    region *= 1.0 - alpha
    region += alpha * patch[..., :3] * 255.0


def render_frames(scene: Scene, background: np.ndarray, sprites: dict[str, str], font_path: str = EMOJI_FONT) -> np.ndarray:
    """Frames of `scene`; `sprites` maps class name -> sprite (emoji or image path).

    Sprites are drawn far-to-near (small scale first); burst rings go on top.
    """
    T, H, W = scene.num_frames, scene.height, scene.width
    bg = background.astype(np.float32)
    out = np.empty((T, H, W, 3), dtype=np.uint8)
    order = sorted(range(len(scene.sprites)), key=lambda i: float(scene.sprites[i].scale.mean()))
    for k in range(T):
        frame = bg.copy()
        for i in order:
            s = scene.sprites[i]
            if not s.visible[k]:
                continue
            w = max(2, int(round(s.size * s.scale[k] * s.sx[k])))
            h = max(2, int(round(s.size * s.scale[k] * s.sy[k])))
            rgba = sized(sprites[s.class_name], w, h, font_path)
            if s.flash[k] > 0:
                rgba = rgba.copy()
                rgba[..., :3] += (1.0 - rgba[..., :3]) * float(s.flash[k])
            _blend(frame, rgba, int(round(s.cx[k] - w / 2)), int(round(s.cy[k] - h / 2)))
        for s in scene.sprites:
            if s.ring[k] > 0 and s.visible[k]:
                radius = max(3, int(round(s.ring_r[k] if s.ring_r is not None else 0.7 * s.size * s.scale[k])))
                thick = max(2, int(round(0.1 * s.size)))
                alpha, lum = ring_mask(radius, thick)
                rgba = np.concatenate([np.repeat(lum[..., None], 3, axis=2), (alpha * float(s.ring[k]))[..., None]], axis=2)
                r = alpha.shape[0] // 2
                _blend(frame, rgba, int(round(s.ring_x[k])) - r, int(round(s.ring_y[k])) - r)
        np.clip(frame, 0, 255, out=frame)
        out[k] = frame.astype(np.uint8)
    return out
