"""Open-vocabulary naming: what the image encoder sees -> the nearest class of the sound library.

The frozen EfficientNet-Lite0 names an object crop with ImageNet labels (probabilities over
1000 classes). The sound classes are those of a sound library (name, description and
visual words of each `LibraryClass`; without a built library, the library's class table
and the everyday sources of `imagenet_sounds`). A class whose visual words contain the
crop's top labels takes their probability; otherwise labels and classes are embedded by
the text encoder (MiniLM) and a class scores the probability-weighted similarity of the
crop's top labels to it. The best class names the
source when both its similarity and the probability mass behind it are high enough; else
the top ImageNet label itself, as free text, when the classifier is sure of it; else the
honest answer "unknown object". Every answer carries its confidence.

People: ImageNet has no person class, but it sees clothes (jeans, jerseys, suits...). A
tall object dressed in clothes is a person: its sound is footsteps (timed from the gait, see
`gait.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

LABELS_PATH = Path(__file__).resolve().parents[2] / "assets" / "planner" / "imagenet_labels.txt"
UNKNOWN = "unknown object"

# ImageNet classes that show what people wear or carry close to them: with a tall moving
# shape, evidence of a person (ImageNet has no person class).
CLOTHING = (
    "jeans", "T-shirt", "cardigan", "suit", "miniskirt", "sweatshirt", "trench coat", "fur coat", "lab coat",
    "kimono", "abaya", "poncho", "cloak", "overskirt", "hoop skirt", "sarong", "pajamas", "bulletproof vest",
    "military uniform", "academic gown", "apron", "bra", "swimsuit", "swimming cap", "bow tie", "Windsor tie",
    "backpack", "cowboy hat", "sombrero", "umbrella", "crutch", "running shoe", "slip-on shoe", "cowboy boot",
    "clogs", "sandal", "sock", "poke bonnet", "wig", "vestment", "knee pad", "purse", "mail bag", "gown",
    "chain mail", "breastplate",
)


@dataclass(frozen=True)
class VocabClass:
    name: str
    kind: str  # impact | sustained | ambience
    description: str = ""
    words: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        words = ", ".join(self.words)
        return f"{self.name}: {self.description}" + (f" ({words})" if words else "")


@dataclass
class NamingConfig:
    top: int = 5  # ImageNet labels considered per object
    min_similarity: float = 0.55  # text similarity of a label to a class that counts as a match
    min_mass: float = 0.3  # probability behind the matching labels needed to use the class
    free_text_prob: float = 0.5  # top ImageNet label this sure: used as a free-text name
    min_side: float = 12.0  # pixels (analysis frames): a smaller object is too small for the classifier to name
    person_mass: float = 0.2  # clothing probability that, with a tall shape, makes a person
    person_aspect: float = 1.6  # height / width of a person's box (at least)
    sure_object: float = 0.6  # a walking tall shape is a person unless ImageNet is this sure it is something else
    library_path: str = ""  # a sound library (library.json or folders); empty: the built-in vocabulary


@dataclass
class Naming:
    label: str
    description: str
    kind: str | None  # the class's kind (a prior for the motion), None for free text
    confidence: float
    person: bool = False
    evidence: tuple[str, ...] = ()  # the ImageNet labels behind it


@lru_cache(maxsize=1)
def imagenet_labels() -> tuple[str, ...]:
    return tuple(LABELS_PATH.read_text().splitlines())


def default_vocabulary() -> list[VocabClass]:
    """Without a built library: the library's own class table (its recorded classes and its
    soundfont classes, SynthCanvas's among them, each with visual words), then the everyday
    sources ImageNet classes map to (`imagenet_sounds`) for what the table does not cover."""
    from .imagenet_sounds import imagenet_sound

    out: list[VocabClass] = []
    try:
        from ...library.soundfont import soundfont_classes
        from ...library.sources import load_recording_table

        for c in load_recording_table().classes:
            out.append(VocabClass(c.name, c.kind, c.description or c.name, tuple(c.visual)))
        for c in soundfont_classes():
            out.append(VocabClass(c.sound.name, c.sound.kind, c.sound.description, tuple(c.visual_words)))
    except ImportError:  # a runtime without the library package's tables
        from ...canvas.classes import builtin_classes

        out += [VocabClass(c.name, c.kind, c.description) for c in builtin_classes()]
    names = {v.name for v in out}
    labels = imagenet_labels()
    found: dict[str, VocabClass] = {}
    words: dict[str, list[str]] = {}
    for i in range(len(labels)):
        hit = imagenet_sound(i)
        if hit is None or hit[0] in names:
            continue
        label, desc, kind = hit
        found.setdefault(label, VocabClass(label, kind, desc))
        words.setdefault(label, []).append(labels[i])
    out += [VocabClass(v.name, v.kind, v.description, tuple(words[v.name])) for v in found.values()]
    if "footsteps" not in names:
        out.append(VocabClass("footsteps", "impact", "a person walking, footsteps", ("person", "walking", "pedestrian")))
    return out


def library_vocabulary(path: str) -> list[VocabClass]:
    from ...library.catalog import SoundLibrary

    lib = SoundLibrary.load(path)
    return [VocabClass(c.name, c.kind, c.description, tuple(c.visual_words)) for c in lib.classes.values()]


class TextIndex:
    """MiniLM embeddings of the vocabulary and of ImageNet labels (cached per label)."""

    def __init__(self, vocab: list[VocabClass]):
        from ...encoders.text import TextEncoder

        self.vocab = vocab
        self.encoder = TextEncoder(max_tokens=48)
        self.matrix = self.encoder.embed([v.text for v in vocab]).numpy() if vocab else np.zeros((0, 384), np.float32)
        self._labels: dict[str, np.ndarray] = {}

    def label_vectors(self, labels: list[str]) -> np.ndarray:
        todo = [lab for lab in labels if lab not in self._labels]
        if todo:
            for lab, v in zip(todo, self.encoder.embed([f"a {lab}" for lab in todo]).numpy()):
                self._labels[lab] = v
        return np.stack([self._labels[lab] for lab in labels]) if labels else np.zeros((0, 384), np.float32)


_INDEX: dict[str, TextIndex] = {}


def text_index(cfg: NamingConfig) -> TextIndex:
    key = cfg.library_path
    if key not in _INDEX:
        _INDEX[key] = TextIndex(library_vocabulary(key) if key else default_vocabulary())
    return _INDEX[key]


def class_scores(probs: np.ndarray, label_vecs: np.ndarray, class_vecs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per class: the probability-weighted mean similarity of the top labels to it [C], and the
    similarity matrix labels x classes [K, C]. `probs` [K] are the labels' probabilities."""
    sims = label_vecs @ class_vecs.T
    w = np.asarray(probs, float)
    score = (w[:, None] * sims).sum(0) / max(w.sum(), 1e-9)
    return score, sims


def exact_matches(probs: np.ndarray, labels: list[str], vocab: list[VocabClass]) -> tuple[VocabClass, float, tuple[str, ...]] | None:
    """The class whose visual words hold the most probability of the top ImageNet labels (the
    library lists exact ImageNet labels among its visual words), with that mass; None if none."""
    best = None
    for c in vocab:
        words = {w.lower() for w in c.words}
        hits = [(lab, float(p)) for lab, p in zip(labels, probs) if lab.lower() in words]
        if hits:
            mass = sum(p for _, p in hits)
            if best is None or mass > best[1] + 1e-9:
                best = (c, mass, tuple(lab for lab, _ in hits))
    return best


def clothing_mass(probs: np.ndarray) -> float:
    labels = imagenet_labels()
    idx = [i for i, lab in enumerate(labels) if lab in CLOTHING]
    return float(np.asarray(probs)[idx].sum())


def person_confidence(probs: np.ndarray, aspect: float, walks: bool, cfg: NamingConfig) -> float:
    """How sure a tall shape is a person (0: not one). Clothes seen on it say so; so does a tall
    shape that keeps walking while ImageNet is sure of nothing else (small, far-away people:
    the classifier cannot see them, but their shape and gait give them away)."""
    if aspect < cfg.person_aspect:
        return 0.0
    clothes = clothing_mass(probs)
    if clothes >= cfg.person_mass:
        return float(min(1.0, 0.5 + clothes))
    if walks and float(np.max(probs)) < cfg.sure_object:
        return float(np.clip(0.3 + 0.2 * (aspect - cfg.person_aspect) + clothes, 0.3, 0.7))
    return 0.0


def person_naming(confidence: float, probs: np.ndarray) -> Naming:
    """A walking person: heard by their footsteps (`probs`: the track's ImageNet probabilities,
    whose top labels are kept as what was seen on them)."""
    labels = imagenet_labels()
    return Naming("footsteps", "a person walking, footsteps", "impact", round(float(confidence), 3), True,
                  tuple(labels[i] for i in np.argsort(-np.asarray(probs))[:3]))


def name_object(probs: np.ndarray, aspect: float, cfg: NamingConfig | None = None, index: TextIndex | None = None,
                walks: bool = False, side: float = np.inf, may_be_person: bool = True) -> Naming:
    """Name one object from its mean ImageNet probabilities [1000], its box aspect (h / w),
    whether it keeps moving (`walks`), the shorter side of its box in pixels (`side`) and whether
    it may be a person at all (`may_be_person`: false where the people detector searched it and
    saw none, `identify/silhouettes.py`)."""
    cfg = cfg or NamingConfig()
    probs = np.asarray(probs, float)
    labels = imagenet_labels()
    person = person_confidence(probs, aspect, walks, cfg) if may_be_person else 0.0
    if person > 0:
        return person_naming(person, probs)
    if side < cfg.min_side:  # a few pixels upscaled: whatever ImageNet says is noise
        return Naming(UNKNOWN, "an object moving and touching things", None, 0.0, False, ())
    top = np.argsort(-probs)[: cfg.top]
    top_labels = [labels[i] for i in top]
    index = index or text_index(cfg)
    exact = exact_matches(probs[top], top_labels, index.vocab)
    if exact is not None and exact[1] >= cfg.min_mass:
        c, mass, hits = exact
        return Naming(c.name, c.description or c.name, c.kind, round(min(1.0, mass), 3), False, hits)
    if len(index.vocab):
        score, sims = class_scores(probs[top], index.label_vectors(top_labels), index.matrix)
        best = int(np.argmax(score))
        match = sims[:, best] >= cfg.min_similarity
        mass = float(probs[top][match].sum())
        if mass >= cfg.min_mass:
            c = index.vocab[best]
            sim = float(sims[match, best].max())
            return Naming(c.name, c.description or c.name, c.kind, round(min(1.0, mass * sim / cfg.min_similarity), 3), False,
                          tuple(lab for lab, m in zip(top_labels, match) if m))
    if probs[top[0]] >= cfg.free_text_prob:
        lab = labels[top[0]]
        return Naming(lab, f"a {lab}", None, round(float(probs[top[0]]), 3), False, (lab,))
    return Naming(UNKNOWN, "an object moving and touching things", None, round(float(probs[top[0]]), 3), False, tuple(top_labels[:3]))
