"""Render one sound of a class as mono float32 audio, from a soundfont or recordings.

One `SoundBank` per process: the soundfont is loaded once (FluidR3 ~0.7 s) and recordings
are decoded once. Rendering is deterministic: the same class, key, velocity and length give
the same samples whatever was rendered before (every note starts from a silent synth).

Levels are calibrated per class (impact: peak of the loudest reference note 0.5; sustained:
RMS of a reference note 0.1) so classes mix at comparable loudness while velocity still
varies the level within a class.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, PrismError
from .classes import SoundClass, SoundRecipe

log = logging.getLogger(__name__)

SOUNDFONT_CANDIDATES = ("/usr/share/sounds/sf2/FluidR3_GM.sf2",)
IMPACT_PEAK = 0.5
SUSTAINED_RMS = 0.1
FADE_IN_S = 0.01
FADE_OUT_S = 0.03
ATTACK_LEVEL = 0.3


def default_soundfont() -> str | None:
    """FluidR3 when installed, else TimGM6mb inside the pretty_midi wheel, else None."""
    for path in SOUNDFONT_CANDIDATES:
        if Path(path).is_file():
            return path
    try:
        import pretty_midi

        path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
        return str(path) if path.is_file() else None
    except ImportError:  # pragma: no cover - pretty-midi is a dependency
        return None


def check_soundfont(path: str | None, classes: list[SoundClass]) -> None:
    """One-line error when some class needs a soundfont and it is missing."""
    needs = [c.name for c in classes if c.recipe.source in ("gm", "drum")]
    if not needs:
        return
    if path is None:
        raise ConfigError(f"no General MIDI soundfont found (needed by '{needs[0]}'); install fluid-soundfont-gm or pass --soundfont")
    if not Path(path).is_file():
        raise ConfigError(f"soundfont not found: {path} (needed by '{needs[0]}')")


def check_recordings(classes: list[SoundClass]) -> None:
    for c in classes:
        for f in c.recipe.files:
            if not Path(f).is_file():
                raise ConfigError(f"sound class '{c.name}': recording not found: {f}")


@dataclass
class Note:
    """A rendered sound and what was drawn to make it."""

    audio: np.ndarray  # mono float32
    key: int
    velocity: int
    file: str = ""


def _fade(x: np.ndarray, sr: int, fade_in: float, fade_out: float) -> np.ndarray:
    x = x.copy()
    n_in, n_out = min(len(x), int(fade_in * sr)), min(len(x), int(fade_out * sr))
    if n_in > 1:
        x[:n_in] *= np.sin(np.linspace(0, np.pi / 2, n_in)) ** 2
    if n_out > 1:
        x[-n_out:] *= np.cos(np.linspace(0, np.pi / 2, n_out)) ** 2
    return x


def trim_leading(x: np.ndarray, rel: float = 0.01) -> np.ndarray:
    """Drop the silence before the first sample above `rel` x peak."""
    peak = float(np.abs(x).max()) if len(x) else 0.0
    if peak <= 0:
        return x
    start = int(np.argmax(np.abs(x) > rel * peak))
    return x[start:]


def trim_to_attack(x: np.ndarray, sr: int, rel: float = ATTACK_LEVEL) -> np.ndarray:
    """Start an impact sound at its attack: the first moment its peak envelope (2 ms) reaches
    `rel` x its maximum, less 1 ms, with a 1 ms fade-in. Soft pre-noise (a bell's pre-click, a
    tine's slow rise) is cut, so the audible onset is the sample the sound is placed at."""
    from scipy.ndimage import maximum_filter1d

    if not len(x):
        return x
    env = maximum_filter1d(np.abs(x), size=max(1, int(0.002 * sr)), mode="constant")
    if env.max() <= 0:
        return x
    start = max(0, int(np.argmax(env >= rel * env.max())) - int(0.001 * sr))
    return _fade(x[start:], sr, 0.001, 0.0)


def trim_trailing(x: np.ndarray, rel: float = 1e-3) -> np.ndarray:
    peak = float(np.abs(x).max()) if len(x) else 0.0
    if peak <= 0:
        return x
    above = np.flatnonzero(np.abs(x) > rel * peak)
    return x[: above[-1] + 1]


def loop_to_length(x: np.ndarray, n: int, sr: int, crossfade_s: float = 0.05) -> np.ndarray:
    """Repeat `x` with short crossfades until it is `n` samples long."""
    if len(x) >= n:
        return x[:n].copy()
    xf = min(int(crossfade_s * sr), len(x) // 4)
    out = np.zeros(n + len(x), dtype=np.float32)
    pos = 0
    ramp_in = np.linspace(0, 1, xf, dtype=np.float32) if xf > 0 else None
    while pos < n:
        seg = x.astype(np.float32).copy()
        if ramp_in is not None and pos > 0:
            seg[:xf] *= ramp_in
            out[pos : pos + xf] *= ramp_in[::-1]
        out[pos : pos + len(seg)] += seg
        pos += len(seg) - xf
    return out[:n]


class SoundBank:
    """Per-process renderer for a set of classes at one sample rate."""

    def __init__(self, sample_rate: int, soundfont: str | None):
        self.sr = sample_rate
        self.soundfont = soundfont
        self._synth = None
        self._sfid = None
        self._recordings: dict[str, np.ndarray] = {}
        self._gain: dict[str, float] = {}

    # ---- soundfont ------------------------------------------------------------------------
    def _load_synth(self):
        if self._synth is None:
            import tinysoundfont

            if not self.soundfont or not Path(self.soundfont).is_file():
                raise ConfigError(f"soundfont not found: {self.soundfont}")
            synth = tinysoundfont.Synth(samplerate=self.sr)
            try:
                self._sfid = synth.sfload(self.soundfont)
            except Exception as e:  # tinysoundfont raises a plain Exception on a bad file
                raise ConfigError(f"{self.soundfont}: not a readable soundfont ({e})") from None
            self._synth = synth
        return self._synth

    def _generate(self, seconds: float) -> np.ndarray:
        n = max(0, int(round(seconds * self.sr)))
        if n == 0:
            return np.zeros(0, dtype=np.float32)
        buf = np.frombuffer(self._synth.generate(n), dtype=np.float32).reshape(-1, 2)
        return buf.mean(axis=1)  # mono: we place the source ourselves

    def _strikes(self, recipe: SoundRecipe, keys: list[int], velocity: int, hold: float, seconds: float) -> np.ndarray:
        """Play `keys` one after another, each held `hold` s, and render `seconds` in total."""
        synth = self._load_synth()
        drums = recipe.source == "drum"
        ch = 9 if drums else 0
        synth.program_select(ch, self._sfid, 128 if drums else 0, 0 if drums else recipe.program, is_drums=drums)
        synth.control_change(ch, 10, 64)  # centre pan
        parts, done = [], 0.0
        for key in keys:
            synth.noteon(ch, key, velocity)
            step = min(hold, seconds - done)
            parts.append(self._generate(step))
            synth.noteoff(ch, key)
            done += step
        if seconds > done:
            parts.append(self._generate(seconds - done))
        synth.sounds_off()
        self._generate(0.05)  # let the fast release of sounds_off finish: next note starts silent
        return np.concatenate(parts).astype(np.float32)

    # ---- recordings -----------------------------------------------------------------------
    def _recording(self, path: str) -> np.ndarray:
        if path not in self._recordings:
            from ..media import read_audio

            wave = read_audio(path, self.sr, channels=1).numpy()[0]
            wave = trim_trailing(trim_leading(wave, rel=0.02))
            if len(wave) < int(0.01 * self.sr) or not np.abs(wave).max() > 0:
                raise PrismError(f"{path}: recording is silent or too short")
            self._recordings[path] = (wave / np.abs(wave).max()).astype(np.float32)
        return self._recordings[path]

    # ---- public ---------------------------------------------------------------------------
    def _raw(self, cls: SoundClass, key: int, velocity: int, file: str, seconds: float | None) -> np.ndarray:
        r = cls.recipe
        if r.source in ("gm", "drum"):
            if cls.kind == "impact":
                x = self._strikes(r, [key], velocity, r.hold + r.tail, r.hold + r.tail)  # no note-off: no second onset
                x = trim_to_attack(x, self.sr)
                n = int((r.hold + r.tail) * self.sr)
                return _fade(x[:n], self.sr, 0.0, min(0.15, 0.3 * (r.hold + r.tail)))
            seconds = float(seconds or 1.0)
            if r.retrigger > 0:
                count = int(np.ceil(seconds / r.retrigger))
                span = r.keys[1] - r.keys[0] + 1
                keys = [r.keys[0] + (key - r.keys[0] + 5 * i) % span for i in range(count)]  # a little melody
                x = self._strikes(r, keys, velocity, r.retrigger, seconds)
            else:
                x = self._strikes(r, [key], velocity, seconds, seconds)
            return x
        wave = self._recording(file) * (velocity / 127.0) ** 1.5
        if cls.kind == "impact":
            wave = trim_to_attack(wave, self.sr)
            n = int(min(len(wave), (r.hold + r.tail) * self.sr))
            return _fade(wave[:n], self.sr, 0.0, min(0.1, 0.3 * n / self.sr))
        return loop_to_length(wave, int(round(float(seconds or 1.0) * self.sr)), self.sr)

    def _class_gain(self, cls: SoundClass) -> float:
        if cls.name not in self._gain:
            r = cls.recipe
            key = (r.keys[0] + r.keys[1]) // 2
            if cls.kind == "impact":
                peak = max(float(np.abs(self._raw(cls, key, r.velocity[1], f, None)).max()) for f in (r.files or ("",)))
                gain = IMPACT_PEAK / peak if peak > 1e-5 else 0.0
            else:
                x = self._raw(cls, key, r.velocity[1], r.files[0] if r.files else "", 2.0)
                rms = float(np.sqrt(np.mean(x**2)))
                gain = SUSTAINED_RMS / rms if rms > 1e-6 else 0.0
                gain = min(gain, 0.9 / max(float(np.abs(x).max()), 1e-6))
            if gain == 0.0:
                where = f"program {r.program}" if r.source == "gm" else f"drum key {r.keys[0]}" if r.source == "drum" else "its recordings"
                raise PrismError(f"sound class '{cls.name}': {where} is silent in {self.soundfont or 'the sound bank'}")
            self._gain[cls.name] = gain
        return self._gain[cls.name]

    def render(self, cls: SoundClass, rng: np.random.Generator, seconds: float | None = None) -> Note:
        """One sound of `cls`: an impact (natural length) or `seconds` of a sustained sound."""
        r = cls.recipe
        key = int(rng.integers(r.keys[0], r.keys[1] + 1))
        velocity = int(rng.integers(r.velocity[0], r.velocity[1] + 1))
        file = r.files[int(rng.integers(len(r.files)))] if r.files else ""
        return self.note(cls, key, velocity, file, seconds)

    def note(self, cls: SoundClass, key: int, velocity: int, file: str = "", seconds: float | None = None) -> Note:
        """The sound of `cls` at a chosen key, velocity and file (what `render` draws at random)."""
        x = self._raw(cls, key, velocity, file, seconds) * self._class_gain(cls)
        if cls.kind == "sustained":
            n = int(round(float(seconds or 1.0) * self.sr))
            x = np.pad(x, (0, max(0, n - len(x))))[:n]
            x = _fade(x, self.sr, FADE_IN_S, FADE_OUT_S)
        return Note(x.astype(np.float32), key, velocity, file)
