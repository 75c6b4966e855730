"""Which sound each PhysWorld object makes: a SynthCanvas class (default) or, with a sound
library (`--library DIR`, prismaudio.library), the library class whose name best matches the
object's words (a library without a match for an object falls back to the SynthCanvas class).

Rolling and sliding spans sound with a quiet noisy texture class (ROLL_CLASS / SLIDE_CLASS,
or the library's rolling / scraping class when it has one)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from ..classes import SoundClass, SoundRecipe, builtin_classes, select_classes
from .objects import MODELS, ROLL_CLASS, ROLL_WORDS, SLIDE_CLASS, SLIDE_WORDS

log = logging.getLogger(__name__)


@dataclass
class SoundChoice:
    """The class of each object model, of rolling and of sliding, and every class they use."""

    objects: dict[str, str]          # model name -> class name
    roll: str
    slide: str
    classes: dict[str, SoundClass]   # class name -> class


def best_match(words: tuple[str, ...], names: list[str], kinds: dict[str, str], kind: str) -> str | None:
    """The first of `words` (in preference order) that a class name of `kind` contains."""
    for w in words:
        for n in sorted(names):
            if kinds[n] == kind and w.lower() in n.lower():
                return n
    return None


def _library_classes(root: str) -> dict[str, SoundClass]:
    from ...library.catalog import SoundLibrary

    lib = SoundLibrary.load(root)
    out = {}
    for name, c in lib.classes.items():
        files = tuple(str((lib.root / r.path).resolve()) for r in lib.recordings_of(name))
        if not files:
            continue
        kind = "sustained" if c.kind in ("sustained", "ambience") else "impact"
        recipe = SoundRecipe("user", files=files, hold=0.0, tail=2.0, velocity=(100, 127))
        out[name] = SoundClass(name, kind, "🔈", c.description or f"{name} sound", recipe, tuple(c.audioset))
    return out


def choose_sounds(library: str | None = None) -> SoundChoice:
    builtin = {c.name: c for c in builtin_classes()}
    objects = {m.name: m.sound_class for m in MODELS}
    roll, slide = ROLL_CLASS, SLIDE_CLASS
    classes: dict[str, SoundClass] = {}
    if library:
        lib = _library_classes(library)
        names, kinds = list(lib), {n: c.kind for n, c in lib.items()}
        for m in MODELS:
            hit = best_match(m.library_words, names, kinds, "impact")
            if hit:
                objects[m.name] = hit
            else:
                log.warning("sound library %s: no class for '%s'; using SynthCanvas '%s'", library, m.name, m.sound_class)
        roll = best_match(ROLL_WORDS, names, kinds, "sustained") or roll
        slide = best_match(SLIDE_WORDS, names, kinds, "sustained") or slide
        classes.update({n: lib[n] for n in set(objects.values()) | {roll, slide} if n in lib})
    for n in set(objects.values()) | {roll, slide}:
        if n not in classes:
            classes[n] = select_classes(list(builtin.values()), [n])[0]
    return SoundChoice(objects, roll, slide, {n: fixed_velocity(c) for n, c in classes.items()})


def fixed_velocity(cls: SoundClass) -> SoundClass:
    """The class played always at the top of its velocity range: an impact's loudness then
    comes from its strength alone (the event's gain), not from a random note velocity."""
    top = cls.recipe.velocity[1]
    return replace(cls, recipe=replace(cls.recipe, velocity=(top, top)))
