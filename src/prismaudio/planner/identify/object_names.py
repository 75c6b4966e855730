"""An object that sounds by its own motion is named by what it is.

The sound library's visual words say what is seen around a sound: "throwing" lists a soccer
ball, "hammering" a screwdriver. That is the right name for a sound the scene makes, but an
object seen bouncing, falling, rolling or sliding sounds like itself hitting or rubbing on
things: a soccer ball that bounces is a soccer ball, not a throw. So when ImageNet is sure
the object is a thing (not an animal: those sound by their voices, which the library names)
and the object's events all come from its motion, its plan name is ImageNet's label itself
(free text, the generator hears it as such). Sources whose class sounds all the time (an
engine: "car passing") and people (footsteps) keep their class.
"""

from __future__ import annotations

import numpy as np

from .naming import Naming, NamingConfig, imagenet_labels

FIRST_THING = 398  # ImageNet-1k's classes 0-397 are animals; from 398 on, things and scenes
MOTION_EVENTS = ("bounce", "stop", "collision", "hit", "rolling or sliding", "shaking", "moving")


def thing_label(probs: np.ndarray, sure: float) -> tuple[str, float] | None:
    """(label, probability) of the top ImageNet class when it is a thing and at least `sure`."""
    p = np.asarray(probs, float)
    top = int(np.argmax(p))
    if top < FIRST_THING or p[top] < sure:
        return None
    return imagenet_labels()[top], float(p[top])


def named_by_itself(naming: Naming, probs: np.ndarray, what: list[str], cfg: NamingConfig) -> Naming:
    """`naming`, or the object's own ImageNet label when its events (`what`: each event's cause,
    `PlannedEvent.what`) all come from its motion and ImageNet is sure it is a thing (as sure
    as `free_text_prob`, or `min_mass` when that label is what named the class)."""
    if naming.person or naming.kind == "sustained" or not what or any(w not in MOTION_EVENTS for w in what):
        return naming
    # the class was chosen on this very label's evidence: as sure as that choice needed to be
    top = imagenet_labels()[int(np.argmax(probs))]
    thing = thing_label(probs, cfg.min_mass if top in naming.evidence else cfg.free_text_prob)
    if thing is None or thing[0] == naming.label:
        return naming
    label, p = thing
    touches = "moving over" if all(w in ("rolling or sliding", "shaking", "moving") for w in what) else "hitting"
    return Naming(label, f"a {label} {touches} things", None, round(p, 3), False, (label,))
