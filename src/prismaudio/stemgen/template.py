"""Templates: a sample-triggered sketch of each source that the stem generator starts from.

A tiny flow model trained for hours on 2 CPU cores learns *when* a source sounds long before
it learns *what* it sounds like (issue 21: onset F1 0.93 on impacts, class accuracy 0.21 after
800 steps). A Foley editor starts from a recording of the right sound; so does the generator
here. For every source it can find material for, the library engine (engines/library.py)
lays a recording at the plan's events: the source's exemplar when it has one (a user's own
sound, heard or not in training), else a recording of its class from the sound library,
else a note of its class rendered from the sound bank. The generator then starts its flow at
noise level `template_sigma` from that sketch instead of from pure noise (SDEdit, Meng et al.
2022): the sketch fixes the timbre and the coarse envelope, the model redraws the detail, so
repeats and takes differ from the recording. A source with no material is generated from
noise as before.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import replace

import numpy as np

from ..engines.base import StemRequest
from ..errors import PrismError

log = logging.getLogger(__name__)

TEMPLATE_PEAK = 0.5  # stems in training peak near 0.5 (class-calibrated notes), as exemplars are normalised
SILENT = 1e-4


@functools.lru_cache(maxsize=4)
def _warn_once(message: str) -> None:
    log.warning("%s", message)


@functools.lru_cache(maxsize=2)
def _sound_bank(sample_rate: int):
    """One sound bank per rate for the process: loading the soundfont costs more than the notes."""
    from ..canvas.soundbank import SoundBank, default_soundfont

    return SoundBank(sample_rate, default_soundfont())


def sound_bank_takes(request: StemRequest, skip: set[str]) -> dict[str, np.ndarray]:
    """source id -> one rendered note of its class, for sources named like a sound-bank class
    (the SynthCanvas instruments and sounds), except those in `skip` (pure given the seed)."""
    from ..canvas.classes import BUILTIN_CLASSES

    by_name = {c.name.lower(): c for c in BUILTIN_CLASSES}
    wanted = [(i, s) for i, s in enumerate(request.plan.semantic.sources)
              if s.id not in skip and s.label.strip().lower() in by_name]
    if not wanted:
        return {}
    takes = {}
    try:
        bank = _sound_bank(request.sample_rate)
        for i, s in wanted:
            cls = by_name[s.label.strip().lower()]
            rng = np.random.default_rng([request.seed, i, 7])
            seconds = 4.0 if cls.kind != "impact" else None
            takes[s.id] = bank.render(cls, rng, seconds=seconds).audio.astype(np.float32)
    except PrismError as e:  # no soundfont synthesiser (a plain pip install): generated from noise
        _warn_once(f"no sketches from the sound bank ({str(e).splitlines()[0][:120]}); sources without an "
                   "exemplar or a library class are generated from noise")
        return {}
    return takes


def template_stems(request: StemRequest, engine) -> dict[str, np.ndarray]:
    """source id -> its template stem (mono, request.sample_rate, peak TEMPLATE_PEAK) for the
    sources the library engine `engine` finds material for; sources without any are absent."""
    library = getattr(engine, "library", None)
    matcher = getattr(engine, "matcher", None)
    have = set(request.exemplars)
    if matcher is not None:
        have |= {s.id for s in request.plan.semantic.sources if matcher.match(s.label, s.description).class_name}
    takes = {**sound_bank_takes(request, have), **request.exemplars}
    if not takes and library is None:
        return {}
    stems = engine.render_stems(replace(request, exemplars=takes))
    out = {}
    for source_id, wave in stems.items():
        peak = float(np.abs(wave).max()) if len(wave) else 0.0
        if peak > SILENT:
            sustained = any(e.kind != "impact" for e in request.plan.events_of(source_id))
            out[source_id] = (wave * template_gain(wave, sustained)).astype(np.float32)
    return out


def template_gain(wave: np.ndarray, sustained: bool) -> float:
    """The gain that puts a sketch at the level the stem generator was trained on (the sound
    bank's class calibration): impacts peak at TEMPLATE_PEAK, sustained sources at
    SUSTAINED_RMS over where they sound (at most peak 0.9). One peak for both put a sustained
    bed about 10 dB louder against the impacts than SynthCanvas mixes it, and its own level
    changes were then heard as onsets."""
    from ..canvas.soundbank import SUSTAINED_RMS

    peak = float(np.abs(wave).max())
    if not sustained:
        return TEMPLATE_PEAK / peak
    sounding = wave[np.abs(wave) > peak * 1e-3]
    rms = float(np.sqrt(np.mean(sounding.astype(np.float64) ** 2)))
    return min(SUSTAINED_RMS / rms, 0.9 / peak)
