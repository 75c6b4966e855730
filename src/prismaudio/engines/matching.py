"""Which library class a planned source sounds like: exact name first, then a text match of the
source's label and description against each class's name, description and visual words."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

MIN_SIMILARITY = 0.45  # MiniLM cosine under which no class is taken to fit (unrelated pairs score ~0.1-0.3)


def normalise_name(name: str) -> str:
    """'Floor_Tom', 'floor tom', 'floor-tom' -> 'floor tom'."""
    return " ".join(re.split(r"[\s_\-/]+", name.strip().lower())).strip()


def exact_class(label: str, class_names: list[str]) -> str | None:
    """The class whose name equals the label (ignoring case, spaces, '_' and '-'), if any."""
    wanted = normalise_name(label)
    return next((name for name in class_names if normalise_name(name) == wanted), None)


def word_class(label: str, class_names: list[str]) -> str | None:
    """The one class whose name holds every word of the label ('dog' -> 'dog barking'), if
    exactly one does: cheap, and as sure as an exact name."""
    words = set(normalise_name(label).split())
    if not words:
        return None
    found = [name for name in class_names if words <= set(normalise_name(name).split())]
    return found[0] if len(found) == 1 else None


def class_text(cls) -> str:
    """What a library class is, as text: name, description, visual words."""
    parts = [normalise_name(cls.name)]
    if cls.description:
        parts.append(cls.description)
    if cls.visual_words:
        parts.append(", ".join(cls.visual_words))
    return ". ".join(parts)


@dataclass
class ClassMatch:
    class_name: str | None
    how: str  # "exact" | "words" | "text" | "exemplar" | "none"
    score: float


class ClassMatcher:
    """label (+ description) -> library class. Text matching embeds the class texts once with
    the MiniLM sentence encoder (`embed(texts) -> [B, D]` normalised); any object with that
    method will do."""

    def __init__(self, classes: dict, text_encoder=None, min_similarity: float = MIN_SIMILARITY):
        self.classes = classes
        self.names = list(classes)
        self.min_similarity = min_similarity
        self._encoder = text_encoder
        self._class_vectors: np.ndarray | None = None
        # (label, description) -> its match: a source is matched again for every window of a
        # long video and by every engine that asks (the stem engine's sketches, then the library
        # engine), each time a sentence embedding
        self._matches: dict[tuple[str, str], ClassMatch] = {}

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self._encoder is None:
            from ..encoders.text import TextEncoder

            self._encoder = TextEncoder()
        return np.asarray(self._encoder.embed(texts), dtype=np.float64)

    def match(self, label: str, description: str = "") -> ClassMatch:
        key = (label, description)
        if key not in self._matches:
            self._matches[key] = self._match(label, description)
        return self._matches[key]

    def _match(self, label: str, description: str) -> ClassMatch:
        found = exact_class(label, self.names)
        if found is not None:
            return ClassMatch(found, "exact", 1.0)
        if not self.names:
            return ClassMatch(None, "none", 0.0)
        found = word_class(label, self.names)
        if found is not None:
            return ClassMatch(found, "words", 1.0)
        if self._class_vectors is None:
            self._class_vectors = self._embed([class_text(self.classes[n]) for n in self.names])
        query = normalise_name(label) + (f". {description}" if description else "")
        scores = self._class_vectors @ self._embed([query])[0]
        best = int(np.argmax(scores))
        if scores[best] < self.min_similarity:
            return ClassMatch(None, "none", float(scores[best]))
        return ClassMatch(self.names[best], "text", float(scores[best]))
