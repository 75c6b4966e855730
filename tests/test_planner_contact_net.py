"""The packaged contact network on a PhysWorld scene it never saw: two balls dropped from
different heights, rendered by pybullet. It finds their bounces on time, says nothing while
nothing moves, and the planner's contacts are timed by it."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pybullet")

from prismaudio.canvas.physics.camera import CameraPath  # noqa: E402
from prismaudio.canvas.physics.scene import ObjectSpec  # noqa: E402
from prismaudio.planner.events.contact_net import CONTACT_NET_PATH, contact_times, frame_contacts, load_contact_net  # noqa: E402
from prismaudio.planner.events.motion import shown_times  # noqa: E402

FPS = 25.0
pytestmark = pytest.mark.skipif(not CONTACT_NET_PATH.is_file(), reason="contact network weights not installed")


def _ball(x: float, height: float, release: float) -> ObjectSpec:
    return ObjectSpec("red rubber ball", 0.14, 0.1, (x, 0.0, height + 0.07), 0.0, (0.0, 0.0), (0, 0, 0), (0, 0, 0),
                      release, "drop")


@pytest.fixture(scope="module")
def two_balls(tmp_path_factory):
    """(video path, true impact times, each ball's first landing) of a 4 s clip at 224 x 224."""
    from prismaudio.canvas.physics.options import PhysWorldConfig
    from prismaudio.canvas.physics.render_clip import ClipRenderer, ClipSpec
    from prismaudio.config import to_dict

    out = tmp_path_factory.mktemp("contactnet")
    cfg = PhysWorldConfig(duration=4.0, sizes=[[224, 224]], fps=[FPS], train=1, val=0, test=0, max_objects=2)
    renderer = ClipRenderer(to_dict(cfg), str(out), None)
    spec = ClipSpec("clip", "train", 0, 11, 2, False)
    scene, _, _ = renderer.scene(spec)
    scene.objects = [_ball(-0.3, 0.7, 0.5), _ball(0.3, 0.5, 1.6)]
    scene.camera = CameraPath(((0, 0, 0.2), (0, 0, 0.2)), (0.0, 0.0), (20.0, 20.0), (1.8, 1.8), 50.0)  # still
    line = renderer.render(spec, scene)
    events = sorted((e["onset"], e["source"]) for e in line["events"] if e["kind"] == "impact")
    landings = [min(t for t, s in events if s == ball) for ball in ("s0", "s1")]
    return out / line["video"], [t for t, _ in events], landings


def test_the_bounces_are_found_on_time_and_nothing_before_the_first_drop(two_balls):
    from prismaudio.planner.planner import PlannerConfig, decode_for_analysis

    video, impacts, landings = two_balls
    frames, _ = decode_for_analysis(video, PlannerConfig())
    found = frame_contacts(load_contact_net(), frames)
    times = [t for t, _ in contact_times(found, shown_times(len(frames), FPS))]
    assert all(min(abs(t - c) for t in times) <= 0.04 for c in landings), (times, impacts)  # the hardest contacts
    hits = sum(min(abs(t - c) for t in times) <= 0.04 for c in impacts)
    assert hits >= len(impacts) / 3, (times, impacts)
    assert all(t > 0.5 for t in times)  # nothing moves before the first release: no contact
    assert sum(min(abs(t - c) for c in impacts) > 0.08 for t in times) <= 1  # at most one invented


def test_the_planner_times_the_contacts_by_the_network(two_balls):
    from prismaudio.planner.config import PlannerConfig
    from prismaudio.planner.planner import plan_video

    video, impacts, _ = two_balls
    with_net = [e.onset for e in plan_video(video).temporal.events if e.kind == "impact"]
    cfg = PlannerConfig()
    cfg.open_world.picture.enabled = False
    without = [e.onset for e in plan_video(video, cfg).temporal.events if e.kind == "impact"]

    def hits(planned):
        return sum(any(abs(p - c) <= 0.04 for p in planned) for c in impacts)

    assert hits(with_net) >= hits(without)
    assert hits(with_net) >= len(impacts) / 3, (with_net, impacts)
