"""Render a scene's stereo reference soundtrack: one mono timeline per source, placed in
space from its horizontal position over time, then mixed.

Spatial cues, per source and per sample (so both vary smoothly as the sprite moves):
- ILD: constant-power pan, theta = (PAN_WIDTH * x + 1) * pi / 4, gains (cos theta, sin theta);
  PAN_WIDTH < 1 keeps the far channel audible at the edges (about -18 dB at |x| = 1);
- ITD: the far ear hears the source `MAX_ITD_S * |x|` later (fractional delay by linear
  interpolation), 0.6 ms at the edges. Sign convention as `prismaudio.dsp.spatial`: a source
  on the left (x < 0) delays the right channel;
- distance: gain = scale (1 at the reference distance; distance = 1 / scale).
The mix is scaled down only if its peak exceeds PEAK_LIMIT, so it never clips.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .choreography import Scene
from .classes import SoundClass
from .soundbank import SoundBank

MAX_ITD_S = 0.0006
PAN_WIDTH = 0.85
PEAK_LIMIT = 0.9
GAIN_RANGE = (0.3, 2.0)


@dataclass
class RenderedEvent:
    source: str
    onset: float
    offset: float
    kind: str
    frame: int
    end_frame: int
    visual: str
    key: int | None
    velocity: int


def spatialize(mono: np.ndarray, x: np.ndarray, sample_rate: int) -> np.ndarray:
    """[2, N] from a mono signal and a per-sample position x in [-1, 1]."""
    mono = np.asarray(mono, dtype=np.float64)
    x = np.clip(np.asarray(x, dtype=np.float64), -1.0, 1.0)
    theta = (PAN_WIDTH * x + 1.0) * np.pi / 4.0
    delay = MAX_ITD_S * sample_rate * x  # samples; > 0: source on the right, left ear later
    idx = np.arange(len(mono), dtype=np.float64)
    left = np.interp(idx - np.maximum(delay, 0.0), idx, mono, left=0.0, right=0.0)
    right = np.interp(idx - np.maximum(-delay, 0.0), idx, mono, left=0.0, right=0.0)
    return np.stack([left * np.cos(theta), right * np.sin(theta)])


def render_audio(
    scene: Scene,
    classes: dict[str, SoundClass],
    bank: SoundBank,
    rng: np.random.Generator,
    duration: float,
) -> tuple[np.ndarray, list[RenderedEvent], float]:
    """(stereo float32 [2, N], events with their audible offsets, mix gain applied)."""
    sr = bank.sr
    n = int(round(duration * sr))
    frame_t = np.arange(scene.num_frames) / scene.fps
    t = np.arange(n) / sr
    mix = np.zeros((2, n), dtype=np.float64)
    events: list[RenderedEvent] = []
    for sprite in scene.sprites:
        cls = classes[sprite.class_name]
        mono = np.zeros(n, dtype=np.float64)
        for ev in (e for e in scene.events if e.source == sprite.source_id):
            start = int(round(ev.frame / scene.fps * sr))
            if start >= n:
                continue
            if ev.kind == "impact":
                note = bank.render(cls, rng)
            else:
                stop = min(n, int(round((ev.end_frame + 1) / scene.fps * sr)))
                note = bank.render(cls, rng, seconds=(stop - start) / sr)
            audio = note.audio[: n - start] * ev.gain
            mono[start : start + len(audio)] += audio
            offset = (ev.end_frame + 1) / scene.fps if ev.kind == "sustained" else (start + len(audio)) / sr
            events.append(RenderedEvent(
                ev.source, start / sr, min(duration, offset), ev.kind, ev.frame, ev.end_frame, ev.visual,
                note.key if cls.recipe.source in ("gm", "drum") else None, note.velocity,
            ))
        x, _ = scene.normalised(sprite)
        gain = np.clip(np.interp(t, frame_t, sprite.scale), *GAIN_RANGE)
        mix += spatialize(mono * gain, np.interp(t, frame_t, x), sr)
    peak = float(np.abs(mix).max()) if n else 0.0
    mix_gain = PEAK_LIMIT / peak if peak > PEAK_LIMIT else 1.0
    events.sort(key=lambda e: (e.onset, e.source))
    return (mix * mix_gain).astype(np.float32), events, mix_gain
