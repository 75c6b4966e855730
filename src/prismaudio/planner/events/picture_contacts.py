"""The contact network's contacts given to the objects that made them, and fused with theirs.

The network (`contact_net.py`) says when something hit somewhere in the picture; the tracks
say who was where. A picture contact goes to the track with the most change of the picture
in its box around that moment (the object that jolted), among the tracks seen then. On that
track it then meets the contacts of the track's own motion (`motion.track_contacts`):

- a picture contact with a motion contact within `snap` (closest pairs first): one contact,
  timed by the one `timing` names, its strength the motion's velocity change (or the network's
  loudness, `strength`), its confidence the larger;
- a motion contact alone: kept where its velocity change is `keep_margin` times the motion's
  detection floor or more (a clean bounce); otherwise the network's silence drops it;
- a picture contact alone, where the network's probability reaches `lone_threshold` (an
  absolute probability, chosen for the packaged network on the development build) and no kept
  contact lies within `snap` (a second peak of the same contact): a new contact, its strength the
  velocity change of the track around it (what the motion measured under its floor) or the
  network's loudness, its kind from the velocities.

How each rule was chosen (PhysWorld val and a development build, the plain physics clips):
docs/motion-events.md, "Seventh round".

Pure functions of arrays and tracks; each tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...dsp.onsets import closest_pairs
from ..tracks import Analysis, Track, box_at
from .impacts import box_energy, grey_change
from .motion import Contact, classify_contact
from .object_tubes import grey_analysis, track_tube


@dataclass
class PictureContactConfig:
    enabled: bool = True  # use the contact network where its weights are installed
    threshold: float = 0.0  # network probability of a contact (0: the network's own, set on PhysWorld val)
    lone_threshold: float = 0.55  # ... of one the track's motion did not find too (a new contact on the network's word alone)
    snap: float = 0.06  # seconds: a picture contact and a motion contact of one track this close are one
    timing: str = "clean"  # whose time a contact both found keeps: picture, motion, or clean (the motion's where its
    # velocity change is `keep_margin` times its floor: a clean bounce's fitted curves meet on time; else the network's)
    keep_margin: float = 5.0  # motion contacts the network did not see are kept where their velocity change is at least
    # this many times the motion's detection floor (`Contact.margin`; 0: none kept, 1: all)
    min_rate: float = 10.0  # pictures per second: footage that shows fewer new ones than this (a slideshow, a
    # variable-rate screen capture: each new picture is a jump, then a standstill) is not judged by the network
    box_growth: float = 0.5  # a box grown by this share of its size when measuring its change
    reach: int = 3  # frames each side measured for a lone picture contact's velocity change
    strength: str = "picture"  # a contact's strength from: motion (its velocity change; the network's only where
    # the motion has none), picture (the network's wherever it saw the contact)
    networks: list[str] = field(default_factory=list)  # contact network files (empty: the packaged ones); each
    # file's view says how it looks (whole pictures or tubes around the tracks); their contacts are pooled per track

    def __post_init__(self):
        if self.timing not in ("picture", "motion", "clean"):
            raise ValueError(f"timing must be picture, motion or clean, got '{self.timing}'")
        if self.strength not in ("picture", "motion"):
            raise ValueError(f"strength must be picture or motion, got '{self.strength}'")


@dataclass
class PictureContact:
    time: float  # seconds
    probability: float
    frame: int  # the analysis frame that first shows it
    strength: float = -1.0  # the network's strength: loudness relative to the object's loudest (< 0: none)


def owner(frame: int, tracks: list[Track], frames: np.ndarray, growth: float) -> int | None:
    """The id of the track seen at `frame` whose (grown) box holds the most change of the
    picture from the frame before to the frame after; None where no track is seen there."""
    on = [(t, b) for t in tracks if (b := box_at(t, frame, seen_only=True)) is not None]
    if not on:
        return None
    if len(on) == 1:
        return on[0][0].id
    change = grey_change(frames, max(0, frame - 1), min(len(frames) - 1, frame + 1))
    score = [box_energy(change, box, growth) for _, box in on]
    return on[int(np.argmax(score))][0].id


def assign(contacts: list[PictureContact], tracks: list[Track], frames: np.ndarray,
           growth: float) -> dict[int, list[PictureContact]]:
    """Each picture contact under the id of the track that made it (contacts no track was seen at are dropped)."""
    out: dict[int, list[PictureContact]] = {}
    for c in contacts:
        who = owner(c.frame, tracks, frames, growth)
        if who is not None:
            out.setdefault(who, []).append(c)
    return out


def velocity_change(t: np.ndarray, pos: np.ndarray, seen: np.ndarray, at: float, reach: int
                    ) -> tuple[float, np.ndarray, np.ndarray]:
    """(|v_after - v_before|, v_before, v_after) of a track around time `at`: straight-line
    velocities over the `reach` seen samples each side (units of `pos` per second)."""
    idx = np.flatnonzero(np.asarray(seen, bool))
    zero = np.zeros(pos.shape[1])
    if len(idx) < 4:
        return 0.0, zero, zero
    ts, ps = np.asarray(t, float)[idx], np.asarray(pos, float)[idx]
    k = int(np.searchsorted(ts, at))
    before, after = slice(max(0, k - reach), k), slice(k, min(len(ts), k + reach))

    def slope(part: slice) -> np.ndarray | None:
        if part.stop - part.start < 2 or ts[part.stop - 1] - ts[part.start] <= 1e-9:
            return None
        return np.polyfit(ts[part], ps[part], 1)[0]

    vb, va = slope(before), slope(after)
    if vb is None or va is None:
        return 0.0, zero if vb is None else vb, zero if va is None else va
    return float(np.linalg.norm(va - vb)), vb, va


def fuse(motion: list[Contact], picture: list[PictureContact], track_id: int, t: np.ndarray, pos: np.ndarray,
         seen: np.ndarray, cfg: PictureContactConfig, stop_share: float = 0.3) -> list[Contact]:
    """One track's contacts from its motion and from the picture (module docstring)."""
    # picture contact -> its motion contact (closest pairs first, one to one)
    partner = dict(closest_pairs([p.time for p in picture], [c.time for c in motion], cfg.snap))
    out: list[Contact] = []
    for j, i in partner.items():
        p, c = picture[j], motion[i]
        clean = c.margin >= cfg.keep_margin > 0  # a clean contact of the motion: its fitted curves time it best
        when = c.time if cfg.timing == "motion" or (cfg.timing == "clean" and clean) else p.time
        out.append(Contact(c.track, when, c.kind, c.strength, round(max(c.confidence, p.probability), 3), c.other,
                           c.speed_before, c.speed_after, c.margin, c.noise, p.strength if cfg.strength == "picture" else -1.0))
    if cfg.keep_margin > 0:
        out += [c for i, c in enumerate(motion) if i not in partner.values() and c.margin >= cfg.keep_margin]
    for j, p in enumerate(picture):
        if j in partner or p.probability < cfg.lone_threshold or any(abs(c.time - p.time) <= cfg.snap for c in out):
            continue  # (not sure enough on its own, or a second peak of a contact already heard)
        change, vb, va = velocity_change(t, pos, seen, p.time, cfg.reach)
        out.append(Contact(track_id, p.time, classify_contact(vb, va, False, stop_share), change, round(p.probability, 3),
                           speed_before=float(np.linalg.norm(vb)), speed_after=float(np.linalg.norm(va)),
                           loudness=p.strength))
    return sorted(out, key=lambda c: c.time)


def picture_rate(frames: np.ndarray, fps: float) -> float:
    """New pictures per second in frames decoded at `fps` (a frame identical to the one before
    it shows nothing new: the source's rate is lower than the decoding's)."""
    if len(frames) < 2:
        return 0.0
    sample = frames[:, ::4, ::4]
    new = np.any(sample[1:] != sample[:-1], axis=tuple(range(1, sample.ndim)))
    return float(new.mean()) * fps


def find_picture_contacts(frames: np.ndarray, work: np.ndarray, analysis: Analysis, times: np.ndarray,
                          cfg: PictureContactConfig) -> dict[int, list[PictureContact]] | None:
    """The networks' contacts in `frames` (as on screen) under the ids of the tracks that made
    them (their boxes measured on `work`, the frames the boxes refer to), pooled over the networks
    (`pool`); None without a network or where they do not apply (fewer than `min_rate` new pictures
    a second). A network of the picture view judges whole frames and its contacts go to the track
    that jolted (`assign`); one of the object view judges each track's tube in `work`."""
    from .contact_net import contact_times, frame_contacts, load_contact_net, packaged_networks

    nets = [n for path in (cfg.networks or packaged_networks()) if (n := load_contact_net(path)) is not None] \
        if cfg.enabled else []
    if not nets:
        return None
    if len(frames) < 2 or not analysis.tracks or picture_rate(frames, analysis.fps) < cfg.min_rate:
        return None  # nothing to judge, or footage the networks never saw: the motion's contacts as they are
    views = []
    grey = None  # the grey analysis frames, made once for every network of the object view
    for net in nets:
        if net.cfg.view == "object":
            grey = grey_analysis(work) if grey is None else grey
            views.append(tube_contacts(net, grey, analysis.tracks, times, cfg))
            continue
        found = frame_contacts(net, frames, cfg.threshold)
        contacts = [PictureContact(t, p, k, float(found.strength[k])) for k, (t, p) in zip(found.peaks, contact_times(found, times))]
        views.append(assign(contacts, analysis.tracks, work, cfg.box_growth))
    return pool(views, cfg.snap)


def pool(views: list[dict[int, list[PictureContact]]], snap: float) -> dict[int, list[PictureContact]]:
    """Each track's contacts from several networks as one list: the surest first, and one within
    `snap` seconds of a contact already kept is the same contact seen again (dropped). One
    network's contacts are left as they are (`fuse` sorts out its second peaks)."""
    if len(views) == 1:
        return views[0]
    out: dict[int, list[PictureContact]] = {}
    for track_id in sorted({i for view in views for i in view}):
        kept: list[PictureContact] = []
        for c in sorted((c for view in views for c in view.get(track_id, [])), key=lambda c: -c.probability):
            if all(abs(c.time - k.time) > snap for k in kept):
                kept.append(c)
        out[track_id] = sorted(kept, key=lambda c: c.time)
    return out


def tube_contacts(net, grey: np.ndarray, tracks: list[Track], times: np.ndarray, cfg: PictureContactConfig
                  ) -> dict[int, list[PictureContact]]:
    """Each track's contacts from the network's judgement of its own tube in `grey` (uint8 [T, H, W],
    `object_tubes.grey_analysis` of the frames the boxes refer to): peaks while the track is seen,
    give or take a frame (the window rests elsewhere before and after)."""
    from .contact_net import contact_times, grey_contacts

    out: dict[int, list[PictureContact]] = {}
    for track in tracks:
        found = grey_contacts(net, track_tube(track, grey, net.cfg.tube, net.cfg.size), cfg.threshold)
        out[track.id] = [PictureContact(t, p, k, float(found.strength[k]))
                         for k, (t, p) in zip(found.peaks, contact_times(found, times))
                         if track.start - 1 <= k <= track.end + 1]
    return out
