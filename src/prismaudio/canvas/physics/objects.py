"""What a PhysWorld scene is made of: object models, floor and backdrop photos, and the sound
class each object makes (pure data, no pybullet import).

Every object is one of pybullet_data's textured models, rescaled to a real-world size and
given a real mass, restitution and friction. Its `sound_class` is the SynthCanvas class that
sounds most alike (a leather ball on a floor thuds like a kick drum, a wooden block knocks
like a wood block); `alike` lists the other SynthCanvas classes a listener would accept for
it, `library_words` what to look for in a real sound library's class names, and `names` what
a viewer would call it (a plan label ending in one of them names the object right: "croquet
ball" for a red rubber ball is a ball). `names` is ground truth for the benchmark only: the
planner never reads this table.

Held out for the test split (never in train or val): the models marked `held_out` and the
photos in HELD_OUT_FLOORS / HELD_OUT_BACKDROPS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Shape = Literal["ball", "box", "slab", "figure"]


@dataclass(frozen=True)
class ObjectModel:
    name: str                      # what is seen ("soccer ball"); the manifest's `sprite`
    urdf: str                      # relative to pybullet_data
    size: tuple[float, float]      # largest extent in metres (sampled)
    mass: tuple[float, float]      # kg (sampled)
    restitution: float
    friction: float                # lateral
    rolling_friction: float
    shape: Shape                   # ball: rolls; box/slab: slides, topples; figure: tumbles
    material: str
    sound_class: str               # SynthCanvas class
    alike: tuple[str, ...] = ()    # other SynthCanvas classes that sound alike
    library_words: tuple[str, ...] = ()
    held_out: bool = False
    names: tuple[str, ...] = ()    # what a viewer calls it (head nouns; see `named_right`)


MODELS: tuple[ObjectModel, ...] = (
    ObjectModel("soccer ball", "soccerball.urdf", (0.2, 0.3), (0.4, 0.45), 0.8, 0.6, 0.002, "ball", "leather",
                "kick drum", ("floor tom", "low conga", "taiko drum"), ("ball bounce", "ball", "bounce", "thud", "kick"), names=("ball", "football")),
    ObjectModel("red rubber ball", "sphere2red.urdf", (0.12, 0.2), (0.05, 0.15), 0.85, 0.8, 0.002, "ball", "rubber",
                "bongo", ("open conga", "high tom", "mid tom"), ("rubber ball", "ball bounce", "ball", "bounce"), names=("ball",)),
    ObjectModel("checkered ball", "sphere2.urdf", (0.14, 0.24), (0.1, 0.3), 0.7, 0.7, 0.003, "ball", "plastic",
                "high tom", ("mid tom", "bongo", "melodic tom"), ("plastic ball", "ball", "bounce", "plastic"), names=("ball",)),
    ObjectModel("wooden cube", "cube.urdf", (0.12, 0.22), (0.3, 0.8), 0.35, 0.5, 0.0, "box", "wood",
                "low wood block", ("high wood block", "claves"), ("wood block", "wood impact", "wood", "knock"), names=("cube", "block", "box")),
    ObjectModel("rubber duck", "duck_vhacd.urdf", (0.16, 0.26), (0.05, 0.12), 0.5, 0.8, 0.01, "figure", "rubber",
                "mid tom", ("high tom", "bongo", "cuica"), ("rubber duck", "squeak", "rubber", "plastic"), names=("duck",)),
    ObjectModel("lego brick", "lego/lego.urdf", (0.1, 0.18), (0.02, 0.06), 0.45, 0.7, 0.0, "box", "plastic",
                "side stick", ("claves", "closed hi-hat"), ("plastic click", "plastic", "click", "tap"), names=("brick", "block", "lego")),
    ObjectModel("domino", "domino/domino.urdf", (0.15, 0.25), (0.05, 0.15), 0.3, 0.5, 0.0, "slab", "wood",
                "claves", ("high wood block", "low wood block", "side stick"), ("domino", "wood click", "wood", "clack"), names=("domino", "tile", "block")),
    ObjectModel("jenga block", "jenga/jenga.urdf", (0.15, 0.3), (0.05, 0.2), 0.3, 0.5, 0.0, "slab", "wood",
                "high wood block", ("low wood block", "claves"), ("wood block", "wood", "knock", "clack"), names=("block", "brick", "plank")),
    # ---- held out: only in the test split ------------------------------------------------
    ObjectModel("teddy bear", "teddy_vhacd.urdf", (0.18, 0.3), (0.1, 0.3), 0.15, 0.9, 0.02, "figure", "plush",
                "low conga", ("kick drum", "floor tom", "open conga"), ("thud", "soft impact", "cloth", "plush"), held_out=True, names=("teddy", "teddy bear")),
    ObjectModel("coffee mug", "objects/mug.urdf", (0.12, 0.18), (0.25, 0.4), 0.3, 0.6, 0.01, "figure", "ceramic",
                "agogo", ("cowbell", "ride bell", "crystal"), ("ceramic", "mug", "cup", "clink", "glass"), held_out=True, names=("mug", "cup")),
    ObjectModel("small checkered sphere", "sphere_small.urdf", (0.08, 0.12), (0.02, 0.06), 0.75, 0.7, 0.002, "ball", "plastic",
                "melodic tom", ("high tom", "bongo", "mid tom"), ("plastic ball", "ball", "bounce"), held_out=True, names=("ball", "sphere")),
)

# Sustained contact sounds (rolling, sliding) render with these classes: quiet noisy textures.
ROLL_CLASS = "seashore"
SLIDE_CLASS = "breath"
ROLL_WORDS = ("rolling", "roll", "rumble")
SLIDE_WORDS = ("scrape", "sliding", "slide", "friction", "rub")

# scikit-image photos (skimage/data) used as floor textures and backdrops.
FLOORS = ("brick", "grass", "coffee", "chelsea", "astronaut", "camera")
HELD_OUT_FLOORS = ("gravel", "moon", "page")
BACKDROPS = ("astronaut", "coffee", "chelsea", "rocket", "brick", "coins")
HELD_OUT_BACKDROPS = ("hubble_deep_field", "retina", "immunohistochemistry")
PLAIN_FLOOR = "checker"  # pybullet's own checkered plane texture


def model(name: str) -> ObjectModel:
    for m in MODELS:
        if m.name == name:
            return m
    raise KeyError(f"unknown PhysWorld object '{name}' (known: {', '.join(m.name for m in MODELS)})")


def models_for(split: str) -> list[ObjectModel]:
    """Train and val never see held-out models; test draws from all (at least one held out)."""
    return [m for m in MODELS if split == "test" or not m.held_out]


def floors_for(split: str) -> tuple[str, ...]:
    return FLOORS + (PLAIN_FLOOR,) if split != "test" else HELD_OUT_FLOORS


def backdrops_for(split: str) -> tuple[str, ...]:
    return BACKDROPS if split != "test" else HELD_OUT_BACKDROPS


def sound_classes_used() -> list[str]:
    """Every SynthCanvas class a PhysWorld build can need (objects and contact textures)."""
    names = [m.sound_class for m in MODELS] + [ROLL_CLASS, SLIDE_CLASS]
    return list(dict.fromkeys(names))
