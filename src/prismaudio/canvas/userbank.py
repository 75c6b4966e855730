"""A user's own sound bank: `<bank>/<class>/*.wav` plus an optional `<bank>/classes.yaml`.

classes.yaml maps a class (folder) name to optional fields::

    dog bark:
      kind: impact            # impact (default) | sustained
      sprite: "🐕"            # an emoji or an image file relative to the bank folder
      description: a dog barking once
      audioset: [Bark, Dog]

Classes without an entry get kind impact, a free emoji and the description "<name> sound".
`mode` replace uses only the bank's classes; extend adds them to the built-in classes (a
bank class with a built-in name replaces that class).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..config import from_dict, load_yaml
from ..errors import ConfigError
from ..validate import excerpt
from .classes import SoundClass, SoundRecipe
from .sprites import is_image_path

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3")
def _fallback_pool() -> list[str]:
    # A fixed pool of single-codepoint emoji unused by the built-in classes.
    text = "🍎🍊🍋🍉🍇🍓🍒🍑🥝🍅🥑🥕🥦🍄🥜🍞🧀🍕🍔🌮🍿🍩🍪🎂🍫🍬🍭🧃🧊🏀🏈🎾🏐🏉🎱🏓🏸🥊🎯🪁🪀🎲🧩🧸🪆🧪🔭🔬🩺🪥🧴🧽🪒🎈🎀🪄🧿🛼🛹🛷🥌🎿🪂🚲🛴🚗🚕🚙🚌🚎🚓🚑🚒🚐🛻🚚🚛🦽🛵🛺🚤⛵🚢🚀🪐🌍🌋🗻🎠🎢🌈⛄🔥💧🌵🌲🌳🍀🍁🍂🐶🐱🐭🐹🐰🦊🐻🐼🐨🐯🦁🐷🐸🐵🐔🐧🦅🦉🦇🐺🐗🐴🦄🐝🐛🦋🐌🐞🐜🦗🐢🦎🦖🦕🐙🦑🦐🦞🦀🐡🐠🐬🦈🐊🐅🐆🦓🦍🦧🐪🦘🐃🐂🐏🐑🦙🐕🐩🐈🐓🦃🦚🦢🦩🐇🦝🦨🦡🦫🦦🦥🐁🐀🦔"
    return [ch for ch in text if ch != "\ufe0f"]


@dataclass
class UserClassSpec:
    kind: Literal["impact", "sustained"] = "impact"
    sprite: str | None = None
    description: str | None = None
    audioset: list[str] = field(default_factory=list)


def _audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


def load_user_bank(bank: str | Path, used_sprites: set[str]) -> list[SoundClass]:
    """Classes from a sound bank folder; one-line ConfigError on anything malformed."""
    bank = Path(bank)
    if not bank.is_dir():
        raise ConfigError(f"sound bank not found or not a folder: {bank}")
    specs: dict[str, UserClassSpec] = {}
    yaml_path = bank / "classes.yaml"
    if yaml_path.exists():
        data = load_yaml(yaml_path)
        for name, entry in data.items():
            if not isinstance(name, str) or not name.strip():
                raise ConfigError(f"{yaml_path}: class names must be non-empty strings, got {excerpt(name)}")
            specs[name] = from_dict(UserClassSpec, entry if entry is not None else {}, where=f"{yaml_path}: {name}")
    folders = {p.name: p for p in sorted(bank.iterdir()) if p.is_dir() and not p.name.startswith(".")}
    for name in specs:
        if name not in folders or not _audio_files(folders[name]):
            raise ConfigError(f"{yaml_path}: class '{name}' has no recordings (expected {bank / name}/*.wav)")
    pool = [s for s in _fallback_pool() if s not in used_sprites]
    classes = []
    for name, folder in folders.items():
        files = _audio_files(folder)
        if not files:
            log.warning("sound bank: %s has no audio files; skipped", folder)
            continue
        spec = specs.get(name, UserClassSpec())
        sprite = spec.sprite
        if sprite and is_image_path(sprite):
            sprite = str((bank / sprite).resolve())
            if not Path(sprite).is_file():
                raise ConfigError(f"{yaml_path}: sprite image of '{name}' not found: {sprite}")
        if not sprite:
            if not pool:
                raise ConfigError(f"sound bank: no free emoji left for '{name}'; give it a sprite in classes.yaml")
            sprite = pool.pop(0)
        recipe = SoundRecipe("user", files=tuple(str(f.resolve()) for f in files), hold=0.0, tail=2.0, velocity=(100, 127))
        classes.append(SoundClass(name, spec.kind, sprite, spec.description or f"{name} sound", recipe, tuple(spec.audioset)))
    return classes


def combine(builtin: list[SoundClass], user: list[SoundClass], mode: str) -> list[SoundClass]:
    if mode == "replace":
        return list(user)
    names = {c.name for c in user}
    return [c for c in builtin if c.name not in names] + list(user)
