"""The library engine: what a Foley editor does with a sample library, automated.

Each planned source is rendered from recordings of its class (found by `ClassMatcher`) or from
its exemplar: one take per impact, at the event's onset, scaled by its strength; a take looped
with crossfades over a sustained event's span; an ambience bed over the clip (or over its
events). Repeats do not sound identical: successive impacts take different recordings where
the class has several, each with a small random gain and rate (pitch) change, seeded.

It is fast (no network), it follows the plan exactly, and it is the baseline the generative
engines must beat in benchmarks/bench_generator.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from ..errors import PrismError
from .base import StemRequest
from .matching import ClassMatch, ClassMatcher
from .voicing import add_at, change_rate, fade_edges, loop_to_length, rms_normalise, trim_to_attack

log = logging.getLogger(__name__)


@dataclass
class LibraryEngineConfig:
    gain_jitter_db: float = 1.5  # each take +-1.5 dB at random
    rate_jitter: float = 0.03  # each take played 3% faster or slower at most (about +-half a semitone)
    max_impact_s: float = 3.0  # an impact take is cut (with a fade) after this long
    loop_crossfade_s: float = 0.05
    sustain_fade_s: float = 0.02  # fade in and out of a sustained event's span
    ambience_gain: float = 0.5  # a bed sits under the events: half the level of a full-strength take
    sustained_rms: float = 0.2  # sustained takes levelled to this RMS, impacts to peak 1 (SynthCanvas's 0.1 vs 0.5)
    min_similarity: float = 0.45  # text match threshold (see matching.MIN_SIMILARITY)


@dataclass
class _Takes:
    """The material one source is rendered from: loaded takes, or recordings loaded when first
    chosen (a class may hold many long recordings; a clip uses a few)."""

    takes: list  # np.ndarray, or a Recording not loaded yet
    kind: str  # "impact" | "sustained" | "ambience": the class's kind (exemplars: "impact")
    last: int = -1
    warnings: list[str] = field(default_factory=list)


class LibraryEngine:
    """A StemEngine over a SoundLibrary (or exemplars only, when `library` is None)."""

    name = "library"

    def __init__(self, library=None, config: LibraryEngineConfig | None = None, text_encoder=None):
        self.library = library
        self.config = config or LibraryEngineConfig()
        self.matcher = ClassMatcher(library.classes, text_encoder, self.config.min_similarity) if library else None
        self.matches: dict[str, ClassMatch] = {}  # source id -> how its class was found (last request)
        self._audio: dict[tuple[str, int], np.ndarray] = {}

    # ---- material ------------------------------------------------------------------------
    def _recording(self, recording, sample_rate: int) -> np.ndarray | None:
        key = (recording.path, sample_rate)
        if key not in self._audio:
            try:
                wave = trim_to_attack(self.library.audio(recording, sample_rate), sample_rate)
            except PrismError as e:
                log.warning("sound library: skipping %s (%s)", recording.path, e)
                wave = np.zeros(0)
            peak = float(np.abs(wave).max()) if len(wave) else 0.0
            self._audio[key] = wave / peak if peak > 0 else np.zeros(0)
        take = self._audio[key]
        return take if len(take) else None

    def _material(self, source, request: StemRequest) -> _Takes | None:
        sr = request.sample_rate
        if source.id in request.exemplars:
            wave = trim_to_attack(np.asarray(request.exemplars[source.id], dtype=np.float64), sr)
            peak = float(np.abs(wave).max()) if len(wave) else 0.0
            if peak > 0:
                self.matches[source.id] = ClassMatch(None, "exemplar", 1.0)
                return _Takes([wave / peak], "ambience" if source.diffuse else "impact")
        if self.matcher is None:
            log.warning("source '%s' (%s): no sound library and no exemplar: left silent", source.id, source.label)
            return None
        match = self.matcher.match(source.label, source.description)
        self.matches[source.id] = match
        if match.class_name is None:
            log.warning("source '%s' (%s): no class of the sound library %s fits (best text similarity %.2f): "
                        "left silent; give it an exemplar or add the class", source.id, source.label,
                        self.library.root, match.score)
            return None
        if match.how == "text":
            log.info("source '%s' (%s) rendered as library class '%s' (text similarity %.2f)",
                     source.id, source.label, match.class_name, match.score)
        recordings = list(self.library.recordings_of(match.class_name))
        if not recordings:
            log.warning("source '%s': library class '%s' has no recording: left silent", source.id, match.class_name)
            return None
        kind = self.library.classes[match.class_name].kind
        return _Takes(recordings, "ambience" if source.diffuse else kind)

    def _load(self, material: _Takes, index: int, sample_rate: int) -> np.ndarray | None:
        item = material.takes[index]
        if isinstance(item, np.ndarray):
            return item
        wave = self._recording(item, sample_rate)
        material.takes[index] = wave if wave is not None else np.zeros(0)
        return wave

    # ---- voicing -------------------------------------------------------------------------
    def _next_take(self, material: _Takes, rng: np.random.Generator, sample_rate: int,
                   vary_rate: bool = True) -> np.ndarray:
        """A different recording from the last one where there is a choice, varied in gain and
        (for impacts) rate: a sustained take keeps its timing, so its own note changes stay put."""
        cfg = self.config
        choices = [i for i in range(len(material.takes)) if i != material.last] or [0]
        material.last = int(rng.choice(choices))
        rate = float(np.exp(rng.uniform(-cfg.rate_jitter, cfg.rate_jitter)))
        gain = 10.0 ** (rng.uniform(-cfg.gain_jitter_db, cfg.gain_jitter_db) / 20.0)
        order = [material.last] + [i for i in range(len(material.takes)) if i != material.last]
        for index in order:  # an unreadable recording (warned once) gives way to the next one
            take = self._load(material, index, sample_rate)
            if take is not None and len(take):
                material.last = index
                break
        else:
            return np.zeros(0)
        return (change_rate(take, rate) if vary_rate else take) * gain

    def _render_source(self, source, material: _Takes, request: StemRequest, rng: np.random.Generator) -> np.ndarray:
        cfg, sr, n = self.config, request.sample_rate, request.num_samples
        stem = np.zeros(n)
        events = request.plan.events_of(source.id)
        if material.kind == "ambience" and not events:  # a bed under the whole clip
            take = rms_normalise(self._next_take(material, rng, sr, vary_rate=False), cfg.sustained_rms)
            bed = loop_to_length(take, n, sr, cfg.loop_crossfade_s)
            return fade_edges(bed, sr, cfg.sustain_fade_s, cfg.sustain_fade_s) * cfg.ambience_gain
        for event in events:
            start = int(round(event.onset * sr))
            if event.kind == "impact" and material.kind != "ambience":
                take = self._next_take(material, rng, sr)[: int(cfg.max_impact_s * sr)]
                add_at(stem, fade_edges(take, sr, 0.0, 0.01) * event.strength, start)
            else:
                span = max(1, int(round(event.offset * sr)) - start)
                take = rms_normalise(self._next_take(material, rng, sr, vary_rate=False), cfg.sustained_rms)
                looped = loop_to_length(take, span, sr, cfg.loop_crossfade_s)
                level = event.strength * (cfg.ambience_gain if material.kind == "ambience" else 1.0)
                add_at(stem, fade_edges(looped, sr, cfg.sustain_fade_s, cfg.sustain_fade_s) * level, start)
        return stem

    def render_stems(self, request: StemRequest) -> dict[str, np.ndarray]:
        self.matches = {}
        stems = {}
        for index, source in enumerate(request.plan.semantic.sources):
            rng = np.random.default_rng([request.seed, index])  # per source: adding a source changes no other
            material = self._material(source, request)
            if material is None:
                stems[source.id] = np.zeros(request.num_samples, dtype=np.float32)
                continue
            stems[source.id] = self._render_source(source, material, request, rng).astype(np.float32)
        return stems
