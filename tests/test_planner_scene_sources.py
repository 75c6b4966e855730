"""Traffic seen as a whole: which steps show moving road vehicles, joined into engine spans."""

import numpy as np

from prismaudio.planner.identify.naming import imagenet_labels
from prismaudio.planner.identify.scene_sources import (
    SceneSourceConfig,
    square_views,
    traffic_spans,
    traffic_steps,
    vehicle_classes,
    vehicle_naming,
)


def label_index(name):
    return imagenet_labels().index(name)


def test_vehicle_classes_are_road_vehicles_and_their_parts():
    idx = set(vehicle_classes().tolist())
    for name in ("minivan", "taxicab", "sports car", "school bus", "moped", "car wheel", "grille", "tram"):
        assert label_index(name) in idx, name
    for name in ("tabby cat", "lighthouse", "switch", "jeans"):
        assert label_index(name) not in idx, name


def test_square_views_keep_shapes_undistorted():
    wide = np.zeros((96, 224, 3), np.uint8)
    assert square_views(wide).shape == (3, 96, 96, 3)
    assert square_views(np.zeros((100, 110, 3), np.uint8)).shape == (1, 100, 100, 3)
    assert square_views(np.zeros((200, 90, 3), np.uint8)).shape == (3, 90, 90, 3)


def test_steps_join_into_spans_and_short_ones_are_dropped():
    p = np.zeros(1000)
    steps = [(1.0, 2.0, 0.5, p), (2.0, 3.0, 0.7, p), (5.0, 6.0, 0.4, p)]
    spans = traffic_spans(steps, min_span=1.5)
    assert [(s.start, s.end) for s in spans] == [(1.0, 3.0)]
    assert abs(spans[0].mass - 0.6) < 1e-9


def test_only_changing_pictures_of_vehicles_make_traffic():
    cab = np.zeros(1000)
    cab[label_index("taxicab")] = 0.8
    cat = np.zeros(1000)
    cat[label_index("tabby cat")] = 0.9
    rng = np.random.default_rng(0)
    moving = rng.integers(0, 255, (50, 32, 32, 3), dtype=np.uint8)
    still = np.repeat(moving[:1], 50, 0)
    cfg = SceneSourceConfig()
    assert len(traffic_steps(moving, 25.0, lambda v: np.repeat(cab[None], len(v), 0), cfg)) == 2
    assert traffic_steps(still, 25.0, lambda v: np.repeat(cab[None], len(v), 0), cfg) == []  # a parked car is silent
    assert traffic_steps(moving, 25.0, lambda v: np.repeat(cat[None], len(v), 0), cfg) == []
    naming = vehicle_naming(cab)
    assert naming.kind == "sustained" and "engine" in naming.description
