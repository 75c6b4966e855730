"""Plan edits: the user's control over what the generator makes, one module at a time.

    spatial   `move_to_other_side`  mirror a source's horizontal track (x -> -x)
    temporal  `shift_event`, `add_event`, `remove_event`
    semantic  `change_class`        a source becomes another sound class

Each function is pure: it returns an edited deep copy, validated against the video's
duration, and never mutates its input. Bad arguments raise a one-line PlanError. The
generator sees an edit through `models.conditioning`: `plan_tracks` (onsets, activity and x
per latent frame, the source's label bucket) and the four module texts.
"""

from __future__ import annotations

import copy
import math

from .plan import SIDE_THRESHOLD, Event, Plan, PlanError

DEFAULT_IMPACT_LENGTH = 0.5  # seconds an added impact event lasts (SynthCanvas impacts ring 0.3-0.8 s)
DEFAULT_SUSTAINED_LENGTH = 2.0


def _finish(plan: Plan, video_duration: float | None) -> Plan:
    return plan.validate(plan.duration if video_duration is None else video_duration)


def _event_index(plan: Plan, index: int) -> int:
    n = len(plan.temporal.events)
    if isinstance(index, bool) or not isinstance(index, int):
        raise PlanError(f"event index must be an integer, got {index!r}")
    if not -n <= index < n:
        raise PlanError(f"event index {index} out of range: the plan has {n} event(s)")
    return index % n


def _finite(name: str, value: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise PlanError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(value):
        raise PlanError(f"{name} must be finite, got {value}")
    return value


def move_to_other_side(plan: Plan, source_id: str, video_duration: float | None = None) -> Plan:
    """The plan with `source_id`'s spatial track mirrored (x -> -x): left becomes right.

    A source that stays centred (|x| < SIDE_THRESHOLD everywhere) or has no track has no
    side to flip: PlanError.
    """
    plan.source(source_id)  # unknown id -> PlanError
    track = plan.track(source_id)
    if track is None:
        raise PlanError(f"source '{source_id}' has no spatial track: it has no side to flip")
    if max(abs(x) for x in track.x) < SIDE_THRESHOLD:
        raise PlanError(f"source '{source_id}' stays centred (|x| < {SIDE_THRESHOLD}): it has no side to flip")
    out = copy.deepcopy(plan)
    mirrored = out.track(source_id)
    mirrored.x = [-x + 0.0 for x in mirrored.x]  # + 0.0: no "-0.0" in the JSON
    return _finish(out, video_duration)


def shift_event(plan: Plan, index: int, seconds: float, duration: float | None = None) -> Plan:
    """The plan with event `index` moved by `seconds` (onset and offset together).

    `duration` is the video's (default: the plan's). The moved event must stay inside
    [0, duration]: nothing is clamped, an event that would leave the video is a PlanError.
    """
    i = _event_index(plan, index)
    seconds = _finite("shift", seconds)
    limit = plan.duration if duration is None else _finite("duration", duration)
    event = plan.temporal.events[i]
    onset, offset = event.onset + seconds, event.offset + seconds
    if onset < 0:
        raise PlanError(f"shifting event {i} by {seconds:+.2f} s puts its onset at {onset:.2f} s, before the start of the video")
    if offset > limit + 1e-6:
        raise PlanError(f"shifting event {i} by {seconds:+.2f} s puts its end at {offset:.2f} s, "
                        f"past the end of the video ({limit:.2f} s)")
    out = copy.deepcopy(plan)
    moved = out.temporal.events[i]
    moved.onset, moved.offset = round(onset, 4), round(min(offset, limit), 4)
    return _finish(out, duration)


def add_event(plan: Plan, source_id: str, onset: float, kind: str = "impact", length: float | None = None,
              video_duration: float | None = None) -> tuple[Plan, int]:
    """The plan with a new event of `source_id` at `onset`, and the new event's index.

    It lasts `length` seconds (default 0.5 s for an impact, 2 s for a sustained sound), cut
    at the end of the video as SynthCanvas trims its sounds. Events stay in onset order.
    """
    plan.source(source_id)
    if kind not in ("impact", "sustained"):
        raise PlanError(f"event kind must be 'impact' or 'sustained', got {kind!r}")
    onset = _finite("onset", onset)
    limit = plan.duration if video_duration is None else _finite("video_duration", video_duration)
    if not 0 <= onset < limit:
        raise PlanError(f"onset {onset:.2f} s is outside the video (0 .. {limit:.2f} s)")
    length = (DEFAULT_IMPACT_LENGTH if kind == "impact" else DEFAULT_SUSTAINED_LENGTH) if length is None else _finite("length", length)
    if length <= 0:
        raise PlanError(f"event length must be positive, got {length}")
    out = copy.deepcopy(plan)
    events = out.temporal.events
    index = sum(1 for e in events if e.onset <= onset)
    events.insert(index, Event(source_id, round(onset, 4), round(min(onset + length, limit), 4), kind))
    return _finish(out, video_duration), index


def remove_event(plan: Plan, index: int, video_duration: float | None = None) -> Plan:
    """The plan without event `index` (the source stays: it may still be heard elsewhere)."""
    i = _event_index(plan, index)
    out = copy.deepcopy(plan)
    del out.temporal.events[i]
    return _finish(out, video_duration)


def change_class(plan: Plan, source_id: str, new_label: str, description: str | None = None,
                 video_duration: float | None = None) -> Plan:
    """The plan with `source_id` relabelled as `new_label`.

    The description becomes `description` (e.g. the class table's) or, without one, the new
    class name, so no words of the old class are left in the semantic text.
    """
    plan.source(source_id)
    if not isinstance(new_label, str) or not new_label.strip():
        raise PlanError(f"new class name must be a non-empty string, got {new_label!r}")
    new_label = new_label.strip()
    out = copy.deepcopy(plan)
    source = out.source(source_id)
    if source.label.strip().lower() == new_label.lower():
        raise PlanError(f"source '{source_id}' is already a '{source.label}'")
    source.label = new_label
    source.description = (description or new_label).strip()
    return _finish(out, video_duration)

