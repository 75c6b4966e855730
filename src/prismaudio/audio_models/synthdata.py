"""Small rendered scenes for training and testing the evaluators when SynthCanvas is absent.

A scene is one sound class (a General MIDI instrument or sound effect rendered by
tinysoundfont from the TimGM6mb soundfont in the pretty_midi wheel) playing a few events,
placed in stereo by a spatial track (ITD by a time-varying fractional delay, ILD by
equal-power gains, with the conventions of prismaudio.dsp.spatial), together with the Plan
that describes it and a tiny 25 fps "video": a square at the source's position that jumps at
each impact and shakes during sustained events. Everything is deterministic in the seed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import PrismError
from ..planner.plan import Event, Plan, Semantic, Source, Spatial, SpatialTrack, Temporal

VIDEO_FPS = 25
FRAME_SIZE = 32
HEAD_ITD_S = 0.0006  # ITD at x = +-1


@dataclass(frozen=True)
class SoundClass:
    name: str
    audioset: tuple[str, ...]  # YAMNet display names that count as this class
    description: str
    program: int  # GM program (0-based); with drum_note set, bank 128 on channel 9
    kind: str  # "impact" or "sustained"
    drum_note: int | None = None
    pitch: int = 60


CLASSES: tuple[SoundClass, ...] = (
    SoundClass("piano", ("Piano", "Keyboard (musical)"), "struck piano keys", 0, "impact", pitch=60),
    SoundClass("guitar", ("Guitar", "Acoustic guitar", "Plucked string instrument"), "plucked acoustic guitar strings", 24, "impact", pitch=52),
    SoundClass("snare drum", ("Snare drum", "Drum", "Drum kit"), "a snare drum being hit", 0, "impact", drum_note=38),
    SoundClass("cowbell", ("Cowbell", "Percussion"), "a cowbell struck with a stick", 0, "impact", drum_note=56),
    SoundClass("gunshot", ("Gunshot, gunfire", "Explosion"), "sharp gunshots", 127, "impact", pitch=60),
    SoundClass("violin", ("Violin, fiddle", "Bowed string instrument"), "a bowed violin", 40, "sustained", pitch=69),
    SoundClass("trumpet", ("Trumpet", "Brass instrument"), "a trumpet playing long notes", 56, "sustained", pitch=65),
    SoundClass("flute", ("Flute", "Wind instrument, woodwind instrument"), "a flute playing", 73, "sustained", pitch=72),
    SoundClass("helicopter", ("Helicopter", "Aircraft"), "a helicopter's rotor", 125, "sustained", pitch=60),
    SoundClass("telephone", ("Telephone bell ringing", "Telephone", "Ringtone"), "a ringing telephone", 124, "sustained", pitch=60),
    SoundClass("bird", ("Bird", "Bird vocalization, bird call, bird song", "Chirp, tweet"), "birds chirping", 123, "sustained", pitch=72),
    SoundClass("applause", ("Applause", "Clapping"), "an audience applauding", 126, "sustained", pitch=60),
)


def class_by_name(name: str) -> SoundClass:
    for c in CLASSES:
        if c.name == name:
            return c
    raise PrismError(f"unknown sound class '{name}' (known: {', '.join(c.name for c in CLASSES)})")


@dataclass
class Scene:
    """One rendered clip: stereo audio [2, N] at `sample_rate`, its plan, class and 25 fps frames [T, H, W]."""

    id: str
    sound_class: str
    audio: np.ndarray
    sample_rate: int
    plan: Plan
    frames: np.ndarray


@lru_cache(maxsize=4)
def _synth(sample_rate: int):
    try:
        import pretty_midi
        import tinysoundfont
    except ImportError as e:  # pragma: no cover - install problem
        raise PrismError(f"rendering needs tinysoundfont and pretty_midi ({e})") from None
    synth = tinysoundfont.Synth(samplerate=sample_rate)
    sfid = synth.sfload(os.path.join(os.path.dirname(pretty_midi.__file__), "TimGM6mb.sf2"))
    return synth, sfid


def render_notes(cls: SoundClass, events: list[tuple[float, float]], duration: float, sample_rate: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Mono rendering of `events` (onset, offset) of one class; release tails faded at the end."""
    synth, sfid = _synth(sample_rate)
    chan = 9 if cls.drum_note is not None else 0
    synth.notes_off()
    synth.sounds_off()
    synth.program_select(chan, sfid, 128 if cls.drum_note is not None else 0, 0 if cls.drum_note is not None else cls.program)
    n_total = int(round(duration * sample_rate))
    out = np.zeros(n_total, np.float32)
    # Walk a timeline of note-on/off messages, generating audio between them.
    messages = []
    for on, off in events:
        key = cls.drum_note if cls.drum_note is not None else int(cls.pitch + rng.integers(-5, 6))
        messages.append((on, 1, key))
        messages.append((off, 0, key))
    messages.sort()
    pos = 0
    for t, is_on, key in messages + [(duration, -1, 0)]:
        target = min(n_total, int(round(t * sample_rate)))
        if target > pos:
            block = np.frombuffer(synth.generate(target - pos), dtype=np.float32).reshape(-1, 2).mean(1)
            out[pos:target] = block[: target - pos]
            pos = target
        if is_on == 1:
            synth.noteon(chan, key, int(rng.integers(80, 120)))
        elif is_on == 0:
            synth.noteoff(chan, key)
    synth.notes_off()
    synth.sounds_off()
    fade = min(n_total, int(0.05 * sample_rate))
    out[n_total - fade :] *= np.linspace(1, 0, fade, dtype=np.float32)
    return out


def place_stereo(mono: np.ndarray, x_of_t: np.ndarray, sample_rate: int) -> np.ndarray:
    """Stereo [2, N] of a mono source at per-sample position x (-1 left .. 1 right).

    The far ear gets a fractional delay of |x| * 0.6 ms and equal-power gain, so a source on
    the left has ITD > 0 and ILD > 0 (dsp.spatial conventions).
    """
    t = np.arange(len(mono), dtype=np.float64)
    delay = HEAD_ITD_S * sample_rate * np.asarray(x_of_t, np.float64)
    left = np.interp(t - np.maximum(delay, 0), t, mono, left=0.0)  # x > 0: left ear is far
    right = np.interp(t - np.maximum(-delay, 0), t, mono, left=0.0)
    angle = (np.asarray(x_of_t) + 1) * np.pi / 4
    return np.stack([left * np.cos(angle), right * np.sin(angle)]).astype(np.float32) * np.sqrt(2)


def render_frames(plan: Plan, duration: float) -> np.ndarray:
    """A square at the source's x that jumps at impacts and shakes during sustained events [T, 32, 32]."""
    n = int(round(duration * VIDEO_FPS))
    times = np.arange(n) / VIDEO_FPS
    frames = np.zeros((n, FRAME_SIZE, FRAME_SIZE), np.float32)
    track = plan.spatial.tracks[0] if plan.spatial.tracks else None
    xs = track.x_at(times) if track else np.zeros(n)
    lift = np.zeros(n)
    for e in plan.temporal.events:
        if e.kind == "impact":
            dt = times - e.onset
            lift += np.where(dt >= 0, 8.0 * np.exp(-np.maximum(dt, 0) / 0.08), 0.0)
        else:
            inside = (times >= e.onset) & (times < e.offset)
            lift += inside * 3.0 * np.sign(np.sin(2 * np.pi * 6 * times))
    for i in range(n):
        cx = int(round((xs[i] + 1) / 2 * (FRAME_SIZE - 8))) + 4
        cy = int(np.clip(20 - lift[i], 4, FRAME_SIZE - 4))
        frames[i, cy - 3 : cy + 3, cx - 3 : cx + 3] = 1.0
    return frames


def random_plan(cls: SoundClass, duration: float, rng: np.random.Generator) -> Plan:
    events: list[Event] = []
    if cls.kind == "impact":
        t = float(rng.uniform(0.2, 0.8))
        while t < duration - 0.5:
            events.append(Event("s1", round(t, 3), round(t + 0.3, 3), "impact"))
            t += float(rng.uniform(0.35, 1.4))
    else:
        t = float(rng.uniform(0.2, 1.0))
        while t < duration - 1.0:
            length = float(rng.uniform(0.8, 2.5))
            end = min(duration - 0.3, t + length)
            events.append(Event("s1", round(t, 3), round(end, 3), "sustained"))
            t = end + float(rng.uniform(0.4, 1.5))
    start_x, end_x = rng.uniform(-0.9, 0.9, size=2)
    if rng.random() < 0.5:
        end_x = start_x
    track = SpatialTrack("s1", [0.0, duration], [float(start_x), float(end_x)], [1.0, 1.0])
    return Plan(duration=duration, semantic=Semantic([Source("s1", cls.name, cls.description)]),
                temporal=Temporal(events), spatial=Spatial([track])).validate()


def render_scene(cls: SoundClass | str, seed: int, duration: float = 8.0, sample_rate: int = 16000,
                 plan: Plan | None = None) -> Scene:
    """Render one scene (audio peak-normalised to -3 dBFS)."""
    cls = class_by_name(cls) if isinstance(cls, str) else cls
    rng = np.random.default_rng(seed)
    plan = plan or random_plan(cls, duration, rng)
    mono = render_notes(cls, [(e.onset, e.offset) for e in plan.temporal.events], duration, sample_rate, rng)
    t = np.arange(len(mono)) / sample_rate
    x = plan.spatial.tracks[0].x_at(t) if plan.spatial.tracks else np.zeros_like(t)
    stereo = place_stereo(mono, x, sample_rate)
    peak = float(np.abs(stereo).max())
    if peak > 0:
        stereo *= 0.7 / peak
    return Scene(f"{cls.name.replace(' ', '_')}_{seed}", cls.name, stereo, sample_rate, plan, render_frames(plan, duration))
