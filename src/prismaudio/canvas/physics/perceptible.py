"""Which of the simulator's contacts a Foley planner can be asked for: heard and seen.

The simulator reports every impact (`contacts.find_impacts`), including some that no viewer
of the clip can place: contacts of an object that is out of frame or hidden behind another,
and a quick rattle of one object (a box landing on an edge, then slapping flat 25 ms later)
that is one sound at the benchmark's 40 ms tolerance. The benchmark reports the planner
against both the full list (the "simulator" definition) and the contacts that are

- **audible**: the contact's onset in the clip's own reference audio (loudest 10 ms RMS in
  the 40 ms from its onset) is within `min_level_db` (30 dB) of the clip's loudest contact
  onset. (PhysWorld's loudness floor, gain 0.04 = -28 dB, keeps nearly every contact above
  it: the test split has none below; the rule is there so a build with another gain law
  is judged the same way.)
- **seen**: the object shows (at least 6 pixels of it in the renderer's segmentation mask,
  occlusion counted) on one of the video frames within one frame of the contact.
- **one per sound**: contacts of one object within `merge_s` (40 ms, the tolerance) of the
  first of a run are one sound, at the first one's onset and with the strongest one's
  strength.

Masking is not used to drop contacts: a contact whose onset hardly raises the reference's
level over the ring of an earlier, louder one is still a new transient a listener hears as
a flam or a double hit, and a broadband level cannot tell that apart from inaudibility.

Pure functions of arrays; `benchmarks/bench_planner.py` applies them (`heard_and_seen`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_LEVEL_DB = -30.0  # a contact this far below the clip's loudest contact is inaudible
MERGE_S = 0.04        # one object's contacts closer than this to the first of a run are one sound
SEEN_REACH = 1        # frames either side of the contact where the object must show
ONSET_WINDOW = (0.0, 0.04)  # seconds after the onset where its level is measured
RMS_WINDOW = 0.010


@dataclass
class TrueContact:
    source: str
    onset: float      # seconds
    strength: float   # the reference plan's strength (relative loudness within its object)


def onset_levels(mono: np.ndarray, sample_rate: int, onsets: list[float]) -> np.ndarray:
    """Each onset's level (dB): the loudest RMS over RMS_WINDOW in ONSET_WINDOW after it."""
    x = np.asarray(mono, np.float64)
    win = max(1, int(round(RMS_WINDOW * sample_rate)))
    if len(x) < win:
        return np.full(len(onsets), -120.0)
    power = np.convolve(x * x, np.ones(win) / win, mode="valid")  # power[i]: samples i .. i+win-1
    out = []
    for t in onsets:
        a = int(round((t + ONSET_WINDOW[0]) * sample_rate))
        b = int(round((t + ONSET_WINDOW[1]) * sample_rate)) - win + 1
        a, b = max(0, a), min(len(power), max(b, a + 1))
        out.append(10 * np.log10(power[a:b].max() + 1e-12) if b > a else -120.0)
    return np.asarray(out, float)


def seen_near(visible: np.ndarray, fps: float, onset: float, reach: int = SEEN_REACH) -> bool:
    """Whether the object shows on a frame within `reach` frames of the onset."""
    v = np.asarray(visible, bool)
    if not len(v):
        return False
    k = int(round(onset * fps))
    return bool(v[max(0, k - reach) : min(len(v), k + reach + 1)].any())


def one_per_sound(contacts: list[TrueContact], merge_s: float = MERGE_S) -> list[TrueContact]:
    """Contacts of one object within `merge_s` of the first of a run are one: the first's
    onset (where the sound starts), the strongest's strength. Sorted by onset."""
    out: list[TrueContact] = []
    first: dict[str, TrueContact] = {}
    for c in sorted(contacts, key=lambda c: c.onset):
        run = first.get(c.source)
        if run is not None and c.onset - run.onset < merge_s - 1e-9:
            run.strength = max(run.strength, c.strength)
            continue
        kept = TrueContact(c.source, c.onset, c.strength)
        out.append(kept)
        first[c.source] = kept
    return out


@dataclass
class Perceptible:
    contacts: list[TrueContact]  # heard and seen, one per sound
    inaudible: int               # dropped: more than -min_level_db below the clip's loudest
    unseen: int                  # dropped: the object did not show
    merged: int                  # folded into an earlier contact of the same object


def heard_and_seen(contacts: list[TrueContact], levels_db: np.ndarray, visible: dict[str, np.ndarray], fps: float,
                   min_level_db: float = MIN_LEVEL_DB, merge_s: float = MERGE_S) -> Perceptible:
    """The contacts a viewer can hear and see (`levels_db`: each contact's onset level in the
    reference, `onset_levels`; `visible`: per object, per video frame)."""
    levels = np.asarray(levels_db, float)
    top = float(levels.max()) if len(levels) else 0.0
    audible = [c for c, lv in zip(contacts, levels) if lv >= top + min_level_db]
    seen = [c for c in audible if seen_near(visible.get(c.source, np.zeros(0, bool)), fps, c.onset)]
    kept = one_per_sound(seen, merge_s)
    return Perceptible(kept, len(contacts) - len(audible), len(audible) - len(seen), len(seen) - len(kept))
