"""The unseen tail of a bounce train, planned from the bounces that were seen.

A ball dropped on a floor bounces ever lower: each approach speed is the one before times
the restitution e, and so is each flight time (a flight up and down at speed v lasts 2 v / g).
After a few bounces the hops are millimetres high and a few frames apart: the contact finder
(`motion.py`) cannot see them (sub-pixel, too short for a parabola per hop), yet each one is
heard. A Foley artist would carry the rhythm on: from the flight times seen, T_{k+1} = e T_k,
the rest of the train follows, its loudness falling with e too. This module does that:

- a train is a run of at least `min_contacts` bounces (velocity reversals) whose successive
  flight times shrink by a steady ratio (each in [min_ratio, max_ratio], agreeing within
  `agreement`);
- its tail is continued while a flight lasts at least `min_flight` seconds: the approach speed
  at the end of a flight of T seconds is g T / 2 whatever the camera, so 0.06 s is a hop that
  lands at 0.3 m/s (a clink at the edge of hearing);
- it stops where the object is seen lying still (its track stays within its noise) or where the
  next contact seen on it begins.

Pure functions; each planned contact carries the kind `bounce`, a strength e^k times the last
seen bounce's, and a lower confidence than a seen one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .motion import Contact


@dataclass
class BounceTrainConfig:
    enabled: bool = False  # off: on PhysWorld train+val the planned tails were 80-85% false (pybullet ends a train near 0.4 m/s; docs/motion-events.md)
    min_contacts: int = 3  # bounces seen in a train before its tail is planned (two flight times: one ratio)
    min_ratio: float = 0.3  # a flight time over the one before: steady bounces lose energy ...
    max_ratio: float = 0.9  # ... but not all of it, and not none
    agreement: float = 0.2  # successive ratios of one train differ by at most this
    min_flight: float = 0.06  # seconds: shorter hops land under 0.3 m/s (g T / 2) and are not planned
    max_tail: int = 8  # at most this many contacts planned after the last one seen
    confidence: float = 0.5  # of a planned contact (a seen one's is its verifier's or margin's)
    rest_seconds: float = 0.12  # a track still this long (within its noise) is at rest: the train is over
    end_on_stop: bool = True  # a train may end on a contact read as a stop (the last landing seen, before the hops too small to see)


def restitution(times: list[float], cfg: BounceTrainConfig) -> float | None:
    """The ratio of successive flight times of a run of contact times (the restitution e), or
    None where they do not shrink steadily: each ratio in [min_ratio, max_ratio] and no two
    more than `agreement` apart. The last two ratios weigh most (geometric mean of them)."""
    t = np.asarray(times, float)
    if len(t) < 3 or np.any(np.diff(t) <= 0):
        return None
    flights = np.diff(t)
    ratios = flights[1:] / flights[:-1]
    if np.any(ratios < cfg.min_ratio) or np.any(ratios > cfg.max_ratio):
        return None
    if ratios.max() - ratios.min() > cfg.agreement:
        return None
    return float(np.exp(np.mean(np.log(ratios[-2:]))))


def tail_times(last_time: float, last_flight: float, e: float, cfg: BounceTrainConfig,
               until: float = np.inf) -> list[float]:
    """Times of the bounces after the last one seen at `last_time`, the flight before it
    `last_flight` seconds: each flight e times the one before, while it lasts at least
    `min_flight`, at most `max_tail` of them, all before `until`."""
    out: list[float] = []
    t, flight = last_time, last_flight
    while len(out) < cfg.max_tail:
        flight *= e
        t += flight
        if flight < cfg.min_flight or t >= until:
            break
        out.append(t)
    return out


def final_train(contacts: list[Contact], cfg: BounceTrainConfig) -> list[Contact]:
    """The longest run of bounces ending at the last contact whose flight times shrink steadily
    (`restitution` holds for it), or [] where fewer than `min_contacts` do."""
    run: list[Contact] = []
    for c in reversed(contacts):
        if c.kind not in ("bounce", "stop") and run:
            break  # a collision or a kick ends the train (a first landing may read as a stop)
        if not run and not (c.kind == "bounce" or (c.kind == "stop" and cfg.end_on_stop)):
            return []  # the last contact is no bounce: the object was hit, or came to rest
        candidate = [c, *run]
        if len(candidate) >= 3 and restitution([x.time for x in candidate], cfg) is None:
            break
        run = candidate
    return run if len(run) >= cfg.min_contacts else []


def at_rest_from(t: np.ndarray, pos: np.ndarray, seen: np.ndarray, after: float, noise: float,
                 seconds: float) -> float:
    """The first time after `after` from which the object stays still (every seen position
    within 3 noise of the first) for `seconds`; inf when it never does on the track."""
    idx = np.flatnonzero(np.asarray(seen, bool) & (np.asarray(t) > after))
    tol = 3.0 * max(noise, 1e-9)
    for a, i in enumerate(idx):
        if t[idx[-1]] < t[i] + seconds - 1e-9:
            break  # the track ends before the stillness could be confirmed
        later = idx[a:][t[idx[a:]] <= t[i] + seconds + 1e-9]
        if np.all(np.linalg.norm(pos[later] - pos[i], axis=1) <= tol):
            return float(t[i])
    return float("inf")


def continue_trains(contacts: list[Contact], t: np.ndarray, pos: np.ndarray, seen: np.ndarray,
                    cfg: BounceTrainConfig, end: float = np.inf) -> list[Contact]:
    """The contacts of one track with the tail of its last bounce train planned after them
    (until the object is seen at rest, `end`, or hops too short to hear). `t`, `pos` [N, 2],
    `seen`: the track's times, positions and which were observed; the track's noise is the
    one its contacts were found with."""
    if not cfg.enabled or not contacts:
        return contacts
    run = final_train(sorted(contacts, key=lambda c: c.time), cfg)
    if not run:
        return contacts
    times = [c.time for c in run]
    e = restitution(times, cfg)
    if e is None:
        return contacts
    last = run[-1]
    rest = at_rest_from(np.asarray(t, float), np.asarray(pos, float), seen, last.time, last.noise, cfg.rest_seconds)
    tail = tail_times(last.time, times[-1] - times[-2], e, cfg, min(rest, end))
    planned = [replace(last, time=tt, strength=last.strength * e ** (k + 1), confidence=cfg.confidence,
                       speed_before=last.speed_before * e ** (k + 1), speed_after=last.speed_after * e ** (k + 1),
                       margin=0.0) for k, tt in enumerate(tail)]
    return sorted(contacts + planned, key=lambda c: c.time)
