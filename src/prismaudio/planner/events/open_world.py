"""The open-world pass: sources and events for footage that is not SynthCanvas.

Per tracked object: a name from what the image encoder sees (`naming.py`), its contacts and
continuous motion (`motion.py`), footsteps from the gait for people (`gait.py`). Whether it
makes impacts or a sustained sound comes from the motion, its class's kind only tipping the
balance. A track becomes a source only when something on screen supports a sound: a contact,
continuous motion, a walker's steps; a named object that merely drifts makes none.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..tracks import Analysis, Track
from .merging import merge_namesakes, one_sound_per_collision
from .open_sources import OpenSource, PlannedEvent
from .visual import overlap_frames
from .bounce_train import BounceTrainConfig, continue_trains
from .picture_contacts import PictureContact, PictureContactConfig, fuse
from .gait import GaitConfig, step_times
from .settles import Changes, Move, SettleConfig, track_moves
from .motion import (
    Activity,
    Contact,
    MotionConfig,
    normalised_strengths,
    shown_times,
    source_kind,
    track_activities,
    track_contacts,
    velocities,
)
from ..identify.naming import UNKNOWN, Naming, NamingConfig, name_object, person_naming
from ..identify.object_names import ObjectNameConfig, named_by_itself
from ..identify.people import People, PeopleConfig, PersonPart, travels
from ..identify.shape_motion import bounce_stats, shape_stats


@dataclass
class OpenWorldConfig:
    motion: MotionConfig = field(default_factory=MotionConfig)
    bounce_train: BounceTrainConfig = field(default_factory=BounceTrainConfig)  # the unseen tail of a bounce train (bounce_train.py)
    naming: NamingConfig = field(default_factory=NamingConfig)
    names: ObjectNameConfig = field(default_factory=ObjectNameConfig)  # objects named by what they are (object_names.py)
    gait: GaitConfig = field(default_factory=GaitConfig)
    settles: SettleConfig = field(default_factory=SettleConfig)  # moves in place on a still camera (settles.py)
    people: PeopleConfig = field(default_factory=PeopleConfig)  # people seen by their faces and silhouettes (identify/people.py)
    picture: PictureContactConfig = field(default_factory=PictureContactConfig)  # contacts the network sees (picture_contacts.py)
    impact_length: float = 0.25  # seconds an impact event lasts in the plan
    min_event_strength: float = 0.05  # strengths below this (relative) are raised to it
    full_strength_change: float = 2.0  # frame heights/s: a source's strongest contact is full loudness only from this
    # velocity change up (PhysWorld train+val, 275 matched impacts: strength rank correlation 0.578 -> 0.686; 1.5-2.5 within 0.01)
    collision_window: float = 0.08  # seconds: two objects' collision contacts this close are one collision (a merge of two
    # blobs jolts both tracks up to ~45 ms off the true contact: 0.04 -> 0.08 on PhysWorld train+val P 0.493 -> 0.509, R 0.373 -> 0.370)
    verify: bool = True  # contacts pass the contact verifier (verify.py) where its weights are installed
    verify_still_camera: bool = False  # ... on a still camera too (else it only sets their confidence there:
    # the tracker's blobs are steady there, and on plain physics clips dropping cost more recall than it won precision)
    verifier_path: str = ""  # empty: the packaged one
    moving_camera_threshold: float = 0.0  # verifier probability a contact needs where the camera moves (0: the verifier's own)
    still_camera_threshold: float = 0.0  # ... where it is still, with `verify_still_camera` (0: the verifier's own)


def positions(track: Track, analysis: Analysis) -> np.ndarray:
    """[N, 2] track positions in frame heights (both axes in one unit)."""
    return np.stack([np.asarray(track.x) * analysis.width / analysis.height, np.asarray(track.y)], axis=1)


def box_aspect(track: Track) -> float:
    """Median height / width of the track's seen boxes (pixels)."""
    seen = np.flatnonzero(track.observed) if track.observed.any() else np.arange(len(track))
    b = np.asarray([track.boxes[i] for i in seen], float)
    return float(np.median((b[:, 2] - b[:, 0]) / np.maximum(b[:, 3] - b[:, 1], 1.0)))


def box_side(track: Track) -> float:
    """Median shorter side of the track's seen boxes (pixels)."""
    seen = np.flatnonzero(track.observed) if track.observed.any() else np.arange(len(track))
    b = np.asarray([track.boxes[i] for i in seen], float)
    return float(np.median(np.minimum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])))


def contacts_of(track: Track, analysis: Analysis, cfg: MotionConfig, times: np.ndarray | None = None) -> list[Contact]:
    """`times`: of each analysis frame, the time of the source frame it shows (`shown_times`)."""
    touching = overlap_frames(track, analysis.tracks)
    t = times[track.frames] if times is not None else track.frames / analysis.fps
    found = track_contacts(track.id, t, positions(track, analysis), track.observed,
                           analysis.fps, touching, cfg)
    # a bridged or half-seen stretch at the clip's ends is no contact
    return [c for c in found if 0.0 < c.time < analysis.duration]


def steps_of(track: Track, analysis: Analysis, cfg: GaitConfig) -> tuple[list[float], float]:
    boxes = np.asarray(track.boxes, float)
    speed = np.linalg.norm(velocities(positions(track, analysis), analysis.fps), axis=1)
    return step_times(track.frames / analysis.fps, boxes[:, 3] - boxes[:, 1], boxes[:, 2] - boxes[:, 0], speed, analysis.fps, cfg)


def checked_contacts(track: Track, analysis: Analysis, cfg: OpenWorldConfig, times: np.ndarray | None,
                     camera_moves: bool) -> list[Contact]:
    """The track's contacts (`contacts_of`) that the contact verifier believes (`verify.py`):
    where the camera moves (or everywhere with `verify_still_camera`); elsewhere all of them,
    with the verifier's probability as their confidence."""
    from .verify import VERIFIER_PATH, contact_features, load_verifier, verified

    contacts = contacts_of(track, analysis, cfg.motion, times)
    verifier = load_verifier(cfg.verifier_path or str(VERIFIER_PATH)) if cfg.verify else None
    if verifier is None or not contacts:
        return contacts
    t = times if times is not None else np.arange(analysis.num_frames) / analysis.fps
    features = contact_features(track, analysis, contacts, t, camera_moves)
    if camera_moves or cfg.verify_still_camera:
        return verified(contacts, features, verifier, cfg.moving_camera_threshold if camera_moves else cfg.still_camera_threshold)
    for c, p in zip(contacts, verifier.probability(features)):
        c.confidence = round(float(p), 3)
    return contacts


def track_events(track: Track, naming: Naming, activities: list[Activity], analysis: Analysis, cfg: OpenWorldConfig,
                 times: np.ndarray | None = None, camera_moves: bool = False,
                 picture: list[PictureContact] | None = None) -> tuple[str, list[PlannedEvent]]:
    """(kind, events) of one object from its motion (`activities`: its spans of continuous
    motion, `track_activities`) and the contacts the network saw it make (`picture`; None:
    the network is not installed); the class kind is only a prior."""
    fps, end = analysis.fps, analysis.duration
    seen_seconds = float(track.observed.sum()) / fps
    if naming.person:
        steps, conf = steps_of(track, analysis, cfg.gait)
        return "impact", [PlannedEvent(t, min(t + cfg.impact_length, end), "impact", 1.0, conf, "step") for t in steps]
    contacts = checked_contacts(track, analysis, cfg, times, camera_moves)
    t = times[track.frames] if times is not None else track.frames / fps
    pos = positions(track, analysis)
    if picture is not None:
        contacts = fuse(contacts, picture, track.id, t, pos, track.observed, cfg.picture, cfg.motion.stop_share)
    contacts = continue_trains(contacts, t, pos, track.observed, cfg.bounce_train, end)
    kind = source_kind(contacts, activities, seen_seconds, naming.kind)
    events: list[PlannedEvent] = []
    strengths = normalised_strengths([c.strength for c in contacts], cfg.min_event_strength, cfg.full_strength_change)
    # the network's loudness where it gave one (already relative to the object's loudest)
    strengths = [max(c.loudness, cfg.min_event_strength) if c.loudness >= 0 else s for c, s in zip(contacts, strengths)]
    for c, s in zip(contacts, strengths):
        events.append(PlannedEvent(c.time, min(c.time + cfg.impact_length, end), "impact", s, c.confidence, c.kind))
    if kind == "sustained":
        spans = _sustained_spans(track, activities, naming, analysis)
        top = max((a.speed for a in activities), default=0.0)
        for a, b, speed, what in spans:
            events.append(PlannedEvent(a, b, "sustained", float(np.clip(speed / top, 0.05, 1.0)) if top > 0 else 1.0,
                                       0.8 if what != "on screen" else 0.6, what))
    return kind, sorted(events, key=lambda e: e.onset)


def person_walking(track: Track, analysis: Analysis, part: PersonPart, probs: np.ndarray, cfg: OpenWorldConfig,
                   moves_on: bool) -> OpenSource | None:
    """The footsteps of a part of a person (`people.py`), or None where the person does not walk:
    seen by their face, the face stays about one place (swaying, talking, gesturing); seen by
    their silhouette, the track's own path does not travel or does not keep moving (`moves_on`:
    continuous motion for 0.3 of its time; standing, chatting, or an upright block that
    topples once)."""
    walks = part.walks if part.by == "face" else moves_on and \
        travels(positions(track, analysis), np.asarray(track.h), track.observed, cfg.people.silhouettes.min_travel)
    if not walks:
        return None
    steps, confidence = steps_of(track, analysis, cfg.gait)
    if not steps:
        return None
    end = analysis.duration
    events = [PlannedEvent(t, min(t + cfg.impact_length, end), "impact", 1.0, confidence, "step") for t in steps]
    naming = person_naming(part.share, probs)
    return OpenSource([track.id], naming, "impact", events, round(float(min(naming.confidence, confidence)), 3))


def moved_in_place(track: Track, analysis: Analysis, changes: Changes, cfg: OpenWorldConfig,
                   times: np.ndarray) -> tuple[str, list[PlannedEvent]]:
    """(kind, events) of an object on a still camera whose motion found nothing, from the
    bursts of change in the place it holds (`settles.py`): a short one is a topple or a knock,
    a contact where the change stops; a longer one a shove, sounding while it lasts. Strength:
    the object's size over the burst's time (the speed it fell or was struck at), relative to
    the source's fastest: its fall is what an object that only toppled is heard by (no
    `full_strength_change` floor: that is for one gentle contact among harder unseen ones)."""
    found: list[Move] = track_moves(track, changes, cfg.settles, analysis.fps)
    if not found:
        return "impact", []
    fps, end, half = analysis.fps, analysis.duration, 0.5 / analysis.fps
    size = float(np.median(np.asarray(track.h)[track.observed])) if track.observed.any() else float(np.median(track.h))
    short = [m for m in found if m.last - m.first + 1 <= cfg.settles.impact_frames]
    strengths = normalised_strengths([size * fps / (m.last - m.first + 1) for m in short], cfg.min_event_strength)
    events = [PlannedEvent(max(0.0, float(times[m.last]) - half), min(float(times[m.last]) - half + cfg.impact_length, end), "impact",
                           s, 0.5, "topple or knock") for m, s in zip(short, strengths)]
    events += [PlannedEvent(max(0.0, float(times[m.first]) - half), min(float(times[m.last]) + half, end), "sustained", 0.5, 0.5,
                            "moved") for m in found if m not in short]
    return ("impact" if short else "sustained"), sorted(events, key=lambda e: e.onset)


def _sustained_spans(track: Track, activities: list[Activity], naming: Naming, analysis: Analysis):
    """(start, end, speed, what): the continuous-motion spans; a source whose class sounds all the
    time (an engine) sounds for as long as it is on screen."""
    fps, end = analysis.fps, analysis.duration
    if naming.kind == "sustained" and naming.label != UNKNOWN:
        start = 0.0 if track.start == 0 else track.start / fps
        stop = end if track.end >= analysis.num_frames - 1 else min((track.end + 1) / fps, end)
        speed = float(np.median([a.speed for a in activities])) if activities else 0.0
        return [(start, stop, speed, "on screen")]
    return [(a.start, min(a.end + 1.0 / fps, end), a.speed, a.kind) for a in activities]


def own_motion(track: Track, analysis: Analysis, homographies: np.ndarray | None) -> Track:
    """The track with the camera's motion taken out of its positions (`camera.own_path`, with
    `camera.frame_homographies`): what is left is the object's own motion, where its contacts
    are. The same track without them."""
    if homographies is None:
        return track
    from dataclasses import replace

    from ..detect.camera import own_path

    xy = np.stack([np.asarray(track.x) * analysis.width, np.asarray(track.y) * analysis.height], 1)
    held = own_path(xy, track.frames, homographies)
    return replace(track, x=held[:, 0] / analysis.width, y=held[:, 1] / analysis.height)


def plan_open_world(analysis: Analysis, probs: list[np.ndarray], cfg: OpenWorldConfig, times: np.ndarray | None = None,
                    homographies: np.ndarray | None = None, kinds: list | None = None,
                    in_place: set[int] | frozenset[int] = frozenset(),
                    changes: Changes | None = None, people: People | None = None,
                    picture: dict[int, list[PictureContact]] | None = None) -> tuple[list[OpenSource], list[str]]:
    """Sources of the tracks (`probs`: each track's mean ImageNet probabilities) and notes on
    what was left out and why. `times`: each analysis frame's shown time (`shown_times` of the
    video's own frame rate; None: the analysis frames' own), so contacts are timed on the frames
    it really showed; `homographies`: the camera's motion
    ([T, 3, 3] frame to frame, `camera.frame_homographies`), taken out of the objects' motion
    (None: a still camera); `kinds`: each track's object kind (`identify.object_kinds`; None: unknown);
    `changes`: the picture's frame-to-frame changes on a still camera (`settles.Changes`;
    None: the camera moves), where an object whose motion found nothing may have moved in place;
    `in_place`: ids of tracks whose picture never moved but whose place shows such a move
    (their boxes' jitter is no motion: their events come from the move alone, `moved_in_place`);
    `people`: the tracks that are parts of people seen by their faces or silhouettes
    (`identify/people.py`): they are heard by their footsteps where the person walks, and not at
    all where they only stand, sway, talk or gesture (a gesture is no knock); and the tall tracks
    the people detector searched and never saw as a person, which are no walkers; `picture`: the
    contact network's contacts under the ids of the tracks that made them (None: no network)."""
    times = times if times is not None else shown_times(analysis.num_frames, analysis.fps, 0.0)
    notes: list[str] = []
    sources: list[OpenSource] = []
    dropped = gesturing = 0
    people = people or People()
    kinds = kinds if kinds is not None else [None] * len(probs)
    for screen_track, p, looks in zip(analysis.tracks, probs, kinds):
        track = own_motion(screen_track, analysis, homographies)
        activities = track_activities(track.id, track.frames / analysis.fps, positions(track, analysis), analysis.fps,
                                      cfg.motion, track.observed)
        walks = sum(a.end - a.start for a in activities) >= 0.3 * len(track) / analysis.fps
        if track.id in people.parts:
            walker = person_walking(track, analysis, people.parts[track.id], p, cfg, walks)
            if walker is None:
                gesturing += 1
            else:
                sources.append(walker)
            continue
        shape = shape_stats(screen_track, analysis.width, analysis.height)
        bounce = bounce_stats(track.frames / analysis.fps, track.y, track.observed, cfg.names.shape.min_bounce_speed)
        naming = name_object(p, box_aspect(track), cfg.naming, walks=walks, side=box_side(track),
                             may_be_person=track.id not in people.not_people)
        # a track kept only for its move in place: its box's jitter is no motion, its contacts are not looked for
        kind, events = ("impact", []) if track.id in in_place else \
            track_events(track, naming, activities, analysis, cfg, times, homographies is not None,
                         None if picture is None else picture.get(track.id, []))
        if not events and changes is not None:
            kind, events = moved_in_place(screen_track, analysis, changes, cfg, times)
        naming = named_by_itself(naming, p, [e.what for e in events], cfg.naming, shape, bounce, cfg.names, looks)
        if not events:
            dropped += 1
            continue
        support = float(np.mean([e.confidence for e in events]))
        confidence = round(float(np.clip(0.5 * support + 0.5 * naming.confidence if naming.label != UNKNOWN else support, 0.0, 1.0)), 3)
        sources.append(OpenSource([track.id], naming, kind, events, confidence))
    if dropped:
        notes.append(f"{dropped} moving object(s) made no contact and no continuous motion, so no sound is planned for them")
    if gesturing:
        notes.append(f"{gesturing} moving region(s) are people who do not walk (standing, talking, gesturing): "
                     "that motion makes no Foley sound, so none is planned for them")
    return merge_namesakes(one_sound_per_collision(sources, cfg.collision_window), analysis), notes


def build_open_plan(analysis: Analysis, sources: list[OpenSource], duration: float, notes: list[str],
                    tolerance: float = 0.2, smooth: int = 3, rate: float = 5.0):
    """The plan of the open-world sources (labels made unique: "footsteps 1", "footsteps 2")."""
    from ..plan import Aesthetic, Event, Plan, Semantic, Source, Spatial, Temporal
    from ..compose.spatial import spatial_track

    by_id = {tr.id: tr for tr in analysis.tracks}
    counts: dict[str, int] = {}
    for s in sources:
        counts[s.naming.label] = counts.get(s.naming.label, 0) + 1
    seen: dict[str, int] = {}
    out_sources, events, tracks = [], [], []
    for k, s in enumerate(sorted(sources, key=lambda s: min(by_id[i].start for i in s.tracks))):
        sid = f"s{k + 1}"
        label = s.naming.label
        if counts[label] > 1:
            seen[label] = seen.get(label, 0) + 1
            label = f"{label} {seen[label]}"
        out_sources.append(Source(sid, label, s.naming.description, confidence=s.confidence))
        for e in s.events:
            onset = round(float(np.clip(e.onset, 0.0, duration)), 3)
            offset = round(float(np.clip(e.offset, 0.0, duration)), 3)
            if offset > onset:
                events.append(Event(sid, onset, offset, e.kind, strength=round(float(np.clip(e.strength, 0.01, 1.0)), 3),
                                    confidence=round(float(np.clip(e.confidence, 0.0, 1.0)), 3)))
        members = sorted((by_id[i] for i in s.tracks), key=lambda t: t.start)
        tracks.append(spatial_track(sid, members, analysis, duration, tolerance, smooth, rate))
    events.sort(key=lambda e: (e.onset, e.source))
    notes = list(analysis.notes) + notes
    if not events:
        reason = "nothing moves" if analysis.static else "no contacts or continuous motion were seen"
        notes.append(f"no visual events: {reason}, so the plan has no sound onsets")
    style = ["realistic foley", "percussive, sharp attacks" if any(e.kind == "impact" for e in events) else "smooth, continuous"]
    return Plan(duration=round(float(duration), 3), semantic=Semantic(out_sources), temporal=Temporal(events),
                aesthetic=Aesthetic(quality=["clean", "well balanced", "natural dynamics"], style=style),
                spatial=Spatial(tracks), notes=notes)
