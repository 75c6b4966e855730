"""An object that sounds by its own motion is named by what it is.

The sound library's visual words say what is seen around a sound: "throwing" lists a soccer
ball, "hammering" a screwdriver. That is the right name for a sound the scene makes, but an
object seen bouncing, falling, rolling or sliding sounds like itself hitting or rubbing on
things: a soccer ball that bounces is a soccer ball, not a throw. So when the object's events
all come from its motion, it is named, in this order, by:

1. ImageNet's label itself, when ImageNet is sure the object is a thing (not an animal: those
   sound by their voices, which the library names) and the object-kind probe
   (`object_kinds.py`) does not know better: on the looks it was trained on, ImageNet is often
   sure of the wrong thing (a lego brick is a "plectrum"), so there the probe's kind ("block")
   names it, unless ImageNet's label is a thing of that kind ("soccer ball" for "ball");
2. the kind of thing ImageNet's labels agree on, when no single label is sure: balls (soccer,
   croquet, ping-pong... balls share one sound: a hollow bounce) on an object that is round;
3. a toy, when ImageNet sees an animal in an object that moves like a thing (it falls, bounces,
   tumbles, never walks): a bear that bounces is a teddy bear, a duck a toy duck;
4. what a viewer calls it from its shape and motion (`shape_motion.py`): a round thing that
   bounces back is a ball, a box that slides and does not is a block;
5. otherwise its vocabulary class, or the honest "unknown object" (rather than the voice of
   an animal ImageNet is not sure is real, for an object that only hit things or moved in place).
People (footsteps) keep their class, and so do sources whose class sounds all the time (an
engine: "car passing", a whistle) unless all the object did was hit things: a "whistling" that
only falls, bounces and topples is a small plastic thing ImageNet took for a whistle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .naming import UNKNOWN, Naming, NamingConfig, imagenet_labels
from .object_kinds import ObjectKind
from .shape_motion import BounceStats, ShapeMotionConfig, ShapeStats, shape_name

FIRST_THING = 398  # ImageNet-1k's classes 0-397 are animals; from 398 on, things and scenes
CONTACT_EVENTS = ("bounce", "stop", "collision", "hit", "topple or knock")
MOTION_EVENTS = CONTACT_EVENTS + ("rolling or sliding", "shaking", "moving", "moved")
# ImageNet's balls: one kind of thing to a listener (a hollow bounce, a roll)
BALLS = ("soccer ball", "croquet ball", "golf ball", "ping-pong ball", "rugby ball", "tennis ball", "baseball",
         "basketball", "volleyball")
# toys of animals (ImageNet index ranges, inclusive): what a viewer calls one that moves like a thing
TOYS = ((294, 297, "teddy bear"), (97, 99, "toy duck"), (127, 146, "toy bird"), (7, 24, "toy bird"), (151, 268, "toy dog"),
        (281, 293, "toy cat"), (339, 340, "toy horse"), (385, 386, "toy elephant"), (365, 384, "toy monkey"))


@dataclass
class ObjectNameConfig:
    family_mass: float = 0.35  # probability ImageNet puts on balls that makes a round object a ball
    family_round: float = 1.4  # ... its box at most this elongated (longer / shorter side)
    toy_mass: float = 0.3  # probability on one toy's animal that makes a thing-like mover that toy
    toy_max: float = 0.9  # ... unless ImageNet is this sure of the animal (a real one, filmed)
    shape: ShapeMotionConfig = field(default_factory=ShapeMotionConfig)  # what shape and motion name (shape_motion.py)
    kind_frames: int = 3  # frames the object must be seen whole for its kind to be believed
    kind_min_side: float = 12.0  # pixels: a smaller object's crops say too little for the probe (as for ImageNet, naming.min_side)
    kind_round: float = 2.0  # a ball's box is at most this elongated (a far-off walker's is 2.5:1)
    kind_spread: float = 0.3  # ... and its log-aspect varies at most this much (a walker's swings with the gait)
    certain: float = 0.95  # an ImageNet thing label this sure names the object even against the kind probe
    kinds_path: str = ""  # the object-kind probe (object_kinds.py); empty: the packaged one


def thing_label(probs: np.ndarray, sure: float) -> tuple[str, float] | None:
    """(label, probability) of the top ImageNet class when it is a thing and at least `sure`."""
    p = np.asarray(probs, float)
    top = int(np.argmax(p))
    if top < FIRST_THING or p[top] < sure:
        return None
    return imagenet_labels()[top], float(p[top])


@lru_cache(maxsize=1)
def ball_classes() -> np.ndarray:
    labels = imagenet_labels()
    return np.asarray([labels.index(b) for b in BALLS], int)


def ball_label(probs: np.ndarray, shape: ShapeStats | None, cfg: ObjectNameConfig) -> tuple[str, float] | None:
    """("<kind> ball" or "ball", mass) when ImageNet's balls together hold `family_mass` on an
    object whose box is not elongated; the one ball that holds most of that mass names it."""
    p = np.asarray(probs, float)
    idx = ball_classes()
    mass = float(p[idx].sum())
    if mass < cfg.family_mass or shape is not None and shape.aspect > cfg.family_round:
        return None
    top = int(idx[np.argmax(p[idx])])
    label = imagenet_labels()[top] if p[top] >= 0.6 * mass else "ball"
    return label, mass


def toy_label(probs: np.ndarray, bounce: BounceStats, what: list[str], cfg: ObjectNameConfig) -> tuple[str, float] | None:
    """(toy, mass) when ImageNet's top label is an animal with a toy (`TOYS`) and the object moves
    like a thing: it bounced, hit, stopped, collided or toppled (an animal walks or runs)."""
    p = np.asarray(probs, float)
    top = int(np.argmax(p))
    if top >= FIRST_THING or not any(w in CONTACT_EVENTS for w in what) and bounce.bounces == 0:
        return None
    for lo, hi, toy in TOYS:
        if lo <= top <= hi:
            mass = float(p[lo:hi + 1].sum())
            return (toy, mass) if cfg.toy_mass <= mass < cfg.toy_max else None
    return None


def of_kind(label: str, kind: str) -> bool:
    """Whether an ImageNet label names a thing of a viewer's kind ("soccer ball" is a "ball")."""
    head = kind.split()[-1]
    return label == kind or label.endswith(" " + head) or kind == "ball" and label in BALLS


def fits_kind(kind: ObjectKind, shape: ShapeStats | None, bounce: BounceStats, cfg: ObjectNameConfig) -> bool:
    """Whether the object's shape and motion allow the probe's kind: it was seen whole long enough
    to tell and large enough for its crops to show it (a far-off walker 10 px wide is upscaled
    noise to the probe as to ImageNet), a ball's box is neither elongated nor changing (it looks
    alike from every side), a block does not bounce back again and again."""
    if shape is None or shape.frames < cfg.kind_frames or shape.side < cfg.kind_min_side:
        return False
    if kind.label == "ball":
        return shape.aspect <= cfg.kind_round and shape.spread <= cfg.kind_spread
    if kind.label == "block":
        return not (bounce.bounces >= cfg.shape.ball_bounces and bounce.restitution >= cfg.shape.lively)
    return True


def named_by_itself(naming: Naming, probs: np.ndarray, what: list[str], cfg: NamingConfig,
                    shape: ShapeStats | None = None, bounce: BounceStats | None = None,
                    names: ObjectNameConfig | None = None, kind: ObjectKind | None = None) -> Naming:
    """`naming`, or the object's own name when its events (`what`: each event's cause,
    `PlannedEvent.what`) all come from its motion (see the module note for the order). `shape`
    and `bounce`: the tracked object's shape and bounces (`shape_motion.py`; None: unknown);
    `kind`: what the object-kind probe says it is (`object_kinds.py`; None: it does not know)."""
    names = names or ObjectNameConfig()
    bounce = bounce or BounceStats(0, 0.0)
    if kind is not None and not fits_kind(kind, shape, bounce, names):
        kind = None
    if naming.person or not what:
        return naming
    if kind is not None and naming.kind == "sustained" and naming.confidence < kind.probability:
        # a sustained class the probe is surer is wrong (a lego brick ImageNet took for a whistle):
        # the object keeps its events, under its kind's name
        return Naming(kind.label, kind.description, None, kind.sure, False, (f"looks like a {kind.label}",))
    if naming.kind == "sustained" and not all(w in CONTACT_EVENTS for w in what) or any(w not in MOTION_EVENTS for w in what):
        return naming
    touches = "moving over" if all(w in ("rolling or sliding", "shaking", "moving", "moved") for w in what) else "hitting"
    # 1. the class was chosen on this very label's evidence: as sure as that choice needed to be
    top = imagenet_labels()[int(np.argmax(probs))]
    thing = thing_label(probs, cfg.min_mass if top in naming.evidence else cfg.free_text_prob)
    if thing is not None and (kind is None or of_kind(thing[0], kind.label) or thing[1] >= names.certain):
        if thing[0] == naming.label:
            return naming
        label, p = thing
        return Naming(label, f"a {label} {touches} things", None, round(p, 3), False, (label,))
    if kind is not None:
        ball = ball_label(probs, shape, names) if kind.label == "ball" else None
        if ball is not None and ball[0] != "ball":  # ImageNet's balls say which ball
            return Naming(ball[0], f"a {ball[0]} {touches} things", None, round(max(kind.sure, ball[1]), 3), False, (ball[0],))
        return Naming(kind.label, kind.description, None, kind.sure, False, (f"looks like a {kind.label}",))
    # 2. balls together
    ball = ball_label(probs, shape, names)
    if ball is not None:
        label, mass = ball
        return Naming(label, f"a {label} {touches} things", None, round(min(1.0, mass), 3), False, (label,))
    # 3. an animal that moves like a thing (and not like a ball): its toy
    seen = shape_name(shape, bounce, names.shape)
    toy = toy_label(probs, bounce, what, names) if seen is None or seen.label != "ball" else None
    if toy is not None:
        label, mass = toy
        return Naming(label, f"a {label} {touches} things", None, round(min(1.0, mass), 3), False, (top,))
    # 4. shape and motion, over a vocabulary guess less sure than they are
    if seen is not None and (naming.label == UNKNOWN or naming.confidence < seen.confidence):
        return Naming(seen.label, seen.description, None, seen.confidence, False, (seen.why,))
    # 5. an animal's voice nothing supports: the object only hit things or moved in place, as things
    # do, and ImageNet is not sure enough of the animal for a real one, filmed (`toy_max`): no gull's
    # call for a toppling domino ImageNet took for an albatross (0.59)
    animal = int(np.argmax(probs)) < FIRST_THING and float(np.max(probs)) < names.toy_max
    if animal and top in naming.evidence and all(w in CONTACT_EVENTS + ("moved",) for w in what):
        return Naming(UNKNOWN, "an object moving and touching things", None, naming.confidence, False, naming.evidence)
    return naming
