"""SynthCanvas classes from a sound library (`prismaudio canvas build --library DIR`).

Every library class becomes a SoundClass whose recipe draws one of its recordings per event
(source "library": the SoundBank plays it as a recording, impact or looped). Ambience is
sustained on the canvas (it sounds while its sprite is on screen). Sprites: the class's own
emoji when it has one that is still free, else the next free emoji of the colour font, in
code point order (so a build is deterministic); a library of 300+ classes needs more emoji
than any hand-made list, so the font's own table is read.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from .classes import SoundClass, SoundRecipe
from .userbank import _fallback_pool

IMPACT_TAIL_S = 2.0
EMOJI_RANGES = ((0x1F300, 0x1F5FF), (0x1F680, 0x1F6FF), (0x1F900, 0x1F9FF), (0x1FA70, 0x1FAFF), (0x2600, 0x27BF))


def emoji_pool(font_path: str, used: set[str]) -> list[str]:
    """Free single-code-point emoji: the user bank's pool first, then every other emoji the
    font maps in the usual emoji blocks (when fontTools can read it)."""
    pool = [s for s in _fallback_pool() if s not in used]
    try:
        from fontTools.ttLib import TTFont

        cmap = TTFont(font_path, lazy=True).getBestCmap() or {}
    except Exception:  # no fontTools or an unreadable font: the fixed pool only
        return pool
    seen = set(pool) | used
    for cp in sorted(cmap):
        ch = chr(cp)
        if any(lo <= cp <= hi for lo, hi in EMOJI_RANGES) and ch not in seen:
            pool.append(ch)
            seen.add(ch)
    return pool


def library_sound_classes(root: str | Path, emoji_font: str, used: set[str] | None = None) -> list[SoundClass]:
    """The library's classes (in its order) as SynthCanvas classes; ConfigError naming the folder."""
    from ..library import SoundLibrary

    lib = SoundLibrary.load(root)
    used = set(used or ())
    wanted = [c.sprite for c in lib.classes.values() if c.sprite]
    pool = None
    out: list[SoundClass] = []
    for name, c in lib.classes.items():
        files = tuple(str((lib.root / r.path).resolve()) for r in lib.recordings_of(name))
        if not files:
            continue
        sprite = c.sprite if c.sprite and c.sprite not in used else ""
        if not sprite:
            if pool is None:
                pool = [s for s in emoji_pool(emoji_font, used | set(wanted))]
            if not pool:
                raise ConfigError(f"sound library {root}: no free emoji left for class '{name}'")
            sprite = pool.pop(0)
        used.add(sprite)
        kind = "impact" if c.kind == "impact" else "sustained"
        recipe = SoundRecipe("library", files=files, hold=0.0, tail=IMPACT_TAIL_S, velocity=(100, 127))
        out.append(SoundClass(name, kind, sprite, c.description or f"{name} sound", recipe, tuple(c.audioset)))
    if not out:
        raise ConfigError(f"sound library {root}: no class has a recording")
    return out
