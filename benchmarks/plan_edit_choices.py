"""Which edit to make on a clip's plan, for `bench_plan_edit.py`: pure choices from the plan
and a per-clip random generator (a side to flip, an impact to shift or remove, a clear time
to add one, another class of the same kind), and the edited plans made from them."""

from __future__ import annotations

import zlib

import numpy as np

EDITS = ("spatial", "shift", "add", "remove", "semantic")
IMPACT_SPAN_S = 0.3  # an impact is heard at least this long (as metrics/spatial.py)
SHIFT_S = 1.0
CLEAR_S = 0.25  # a shifted onset with no other planned onset this close is attributable
ADD_CLEAR_S = 0.5
REMOVE_CLEAR_S = 0.3
MIN_WINDOW_S = 0.2


def event_window(e) -> tuple[float, float]:
    return (e.onset, max(e.offset, e.onset + IMPACT_SPAN_S)) if e.kind == "impact" else (e.onset, e.offset)


def source_mask(plan, source_id: str, times: np.ndarray) -> np.ndarray:
    """Where `source_id` sounds, without the times another source sounds too (unless nothing is left)."""
    own, other = np.zeros(len(times), bool), np.zeros(len(times), bool)
    for e in plan.temporal.events:
        a, b = event_window(e)
        inside = (times >= a) & (times < b)
        if e.source == source_id:
            own |= inside
        else:
            other |= inside
    alone = own & ~other
    rate = 1 / (times[1] - times[0]) if len(times) > 1 else 1.0
    return alone if alone.sum() >= MIN_WINDOW_S * rate else own


def flip_mask(plan, source_id: str, side: int, times: np.ndarray) -> np.ndarray:
    """Where `source_id` sounds (alone when possible) on `side` of the frame (|x| >= SIDE_THRESHOLD)."""
    from prismaudio.planner.plan import SIDE_THRESHOLD

    mask = source_mask(plan, source_id, times)
    xs = np.asarray(plan.track(source_id).x_at(times[mask]))
    mask[mask] = (xs * side) > SIDE_THRESHOLD  # side_of(x) == side, vectorised
    return mask


def choose_flip(plan):
    """(source id, side -1/+1): the source heard longest on one side (at least 0.2 s there)."""
    times = np.arange(0, plan.duration, 0.05)
    best = None
    for s in plan.semantic.sources:
        if plan.track(s.id) is None:
            continue
        for side in (-1, 1):
            heard = flip_mask(plan, s.id, side, times).sum() * 0.05
            if heard >= MIN_WINDOW_S and (best is None or heard > best[2]):
                best = (s.id, side, heard)
    return (best[0], best[1]) if best else "no source is heard off-centre"


def is_clear(plan, t: float, radius: float, skip: int | None = None) -> bool:
    return all(abs(e.onset - t) >= radius for i, e in enumerate(plan.temporal.events) if i != skip)


def choose_shift(plan, rng):
    """(event index, seconds): an impact that fits +1 s (else -1 s), preferring a clear new time."""
    fits = []
    for i in rng.permutation(len(plan.temporal.events)):
        e = plan.temporal.events[i]
        if e.kind != "impact":
            continue
        step = SHIFT_S if e.offset + SHIFT_S <= plan.duration else -SHIFT_S if e.onset - SHIFT_S >= 0 else None
        if step is not None:
            fits.append((int(i), step, is_clear(plan, e.onset + step, CLEAR_S, skip=int(i))))
    if not fits:
        return "no impact event can move by 1 s inside the video"
    i, step, _ = max(fits, key=lambda f: f[2])  # the first clear one in the seeded order
    return i, step


def choose_add(plan, rng):
    """(source id, onset): an impact source and a time with no planned onset within 0.5 s."""
    impact_sources = [s.id for s in plan.semantic.sources
                      if plan.events_of(s.id) and all(e.kind == "impact" for e in plan.events_of(s.id))]
    if not impact_sources:
        return "no impact source to add an event to"
    times = [t for t in np.arange(0.3, plan.duration - 0.6, 0.04) if is_clear(plan, t, ADD_CLEAR_S)]
    if not times:
        return "no free time for a new event"
    return str(rng.choice(impact_sources)), round(float(rng.choice(times)), 2)


def choose_remove(plan, rng):
    isolated = [i for i, e in enumerate(plan.temporal.events) if e.kind == "impact" and is_clear(plan, e.onset, REMOVE_CLEAR_S, skip=i)]
    return int(rng.choice(isolated)) if isolated else "no isolated impact event to remove"


def choose_class(sample, classes, known: set[str], rng):
    if sample.group != "single" or len(sample.sources) != 1:
        return "not a single-source clip"
    own = sample.sources[0]
    options = [c for c in classes if c.kind == own.kind and c.name != own.class_name and c.name in known]
    return options[int(rng.integers(len(options)))] if options else "no other class of this kind"


CHOOSERS = {"shift": choose_shift, "add": choose_add, "remove": choose_remove}


def plan_edits(sample, edits, classes, known, seed: int):
    """{name: (edited plan, what was chosen)} and {name: skip reason} for one clip."""
    from prismaudio.planner import edit
    from prismaudio.planner.plan import PlanError

    plan, jobs, skipped = sample.plan, {}, {}
    for name in edits:
        rng = np.random.default_rng([seed, zlib.crc32(sample.id.encode()), EDITS.index(name)])  # choices do not depend on --edits
        if name == "semantic":
            choice = choose_class(sample, classes, known, rng)
        else:
            choice = choose_flip(plan) if name == "spatial" else CHOOSERS[name](plan, rng)
        if isinstance(choice, str):
            skipped[name] = choice
            continue
        try:
            if name == "spatial":
                jobs[name] = (edit.move_to_other_side(plan, choice[0], sample.duration), {"source": choice[0], "old_side": choice[1]})
            elif name == "shift":
                i, step = choice
                jobs[name] = (edit.shift_event(plan, i, step, sample.duration),
                              {"event": i, "old": plan.temporal.events[i].onset, "new": round(plan.temporal.events[i].onset + step, 4)})
            elif name == "add":
                edited, i = edit.add_event(plan, choice[0], choice[1], video_duration=sample.duration)
                jobs[name] = (edited, {"source": choice[0], "time": choice[1]})
            elif name == "remove":
                jobs[name] = (edit.remove_event(plan, choice, sample.duration), {"event": choice, "time": plan.temporal.events[choice].onset})
            else:
                src = plan.semantic.sources[0]
                jobs[name] = (edit.change_class(plan, src.id, choice.name, choice.description, sample.duration),
                              {"old": sample.sources[0].class_name, "new": choice.name})
        except PlanError as e:
            skipped[name] = f"edit failed: {e}"
    return jobs, skipped
