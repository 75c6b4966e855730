"""The generator's DiT: shapes, presets, conditioning semantics, plan tracks."""

import dataclasses

import pytest
import torch

from prismaudio.models import (
    FlowDiT,
    GeneratorConfig,
    load_model_config,
    plan_tracks,
)
from prismaudio.models.conditioning import (
    STREAMS,
    TRACK_FEATURES,
    label_bucket,
    random_conditions,
    resample_time,
)
from prismaudio.planner.plan import (
    Event,
    Plan,
    Semantic,
    Source,
    Spatial,
    SpatialTrack,
    Temporal,
)


def small_config(**kw) -> GeneratorConfig:
    base = dataclasses.asdict(load_model_config("tiny"))
    base.update(width=64, depth=2, heads=2, semantic_dim=24, sync_dim=12, text_dim=16, text_tokens=6, label_buckets=32)
    base.update(kw)
    return GeneratorConfig(**base)


def perturb(model: torch.nn.Module, seed: int = 0) -> None:
    """Zero-initialised outputs make a fresh model constant; give every weight some value."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)


def test_tiny_preset_size_and_shapes():
    cfg = load_model_config("tiny")
    model = FlowDiT(cfg)
    assert 8e6 < model.num_params() < 10e6  # feasibility.md: 9.1M
    length = cfg.sequence().latent_len + 1  # odd: the last token is padded
    x = torch.randn(2, cfg.latent_channels, length)
    v = model(x, torch.rand(2), random_conditions(cfg, 2, length))
    assert v.shape == x.shape
    assert torch.count_nonzero(v) == 0  # zero-initialised output: a fresh model predicts no motion


def test_paper_preset_is_about_518m_parameters_without_allocating():
    cfg = load_model_config("paper")
    assert (cfg.width, cfg.depth, cfg.heads, cfg.latent_channels, cfg.sample_rate, cfg.hop) == (1024, 24, 16, 64, 44100, 2048)
    with torch.device("meta"):
        model = FlowDiT(cfg)
    assert abs(model.num_params() - 518e6) / 518e6 < 0.03


def test_output_depends_on_every_stream_and_time():
    cfg = small_config()
    model = FlowDiT(cfg)
    perturb(model)
    with torch.no_grad():
        model.conditions.sync_gate.fill_(1.0)
    length = 40
    x = torch.randn(1, cfg.latent_channels, length)
    cond = random_conditions(cfg, 1, length)
    base = model(x, torch.tensor([0.5]), cond)
    assert not torch.allclose(base, model(x, torch.tensor([0.2]), cond))
    for name in ("semantic", "sync", "text", "track_features"):
        other = dataclasses.replace(cond, **{name: getattr(cond, name) + 1.0})
        assert not torch.allclose(base, model(x, torch.tensor([0.5]), other), atol=1e-6), name


def test_dropped_stream_equals_missing_stream():
    """CFG dropout (per-sample drop mask) and an absent stream both mean the empty embedding."""
    cfg = small_config()
    model = FlowDiT(cfg)
    perturb(model)
    length = 30
    x = torch.randn(2, cfg.latent_channels, length)
    sigma = torch.rand(2)
    cond = random_conditions(cfg, 2, length)
    for stream, fields in [("semantic", ["semantic"]), ("sync", ["sync"]), ("text", ["text", "text_mask"]),
                           ("tracks", ["track_features", "track_labels"])]:
        dropped = dataclasses.replace(cond, drop={stream: torch.tensor([True, False])})
        missing = dataclasses.replace(cond, **{f: None for f in fields})
        a = model(x, sigma, dropped)
        torch.testing.assert_close(a[0], model(x, sigma, missing)[0], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(a[1], model(x, sigma, cond)[1], atol=1e-5, rtol=1e-5)
    assert set(STREAMS) == {"semantic", "sync", "text", "tracks"}


def test_sequence_lengths_derive_from_duration():
    seq = load_model_config("tiny").sequence(8.0)
    assert seq.num_samples == 128000 and seq.latent_len == 400 and seq.token_len == 200 and seq.semantic_len == 32  # 4 semantic frames per second
    paper = load_model_config("paper").sequence()
    assert paper.latent_len == 194  # 9 s at 44.1 kHz / 2048, derived not hard-coded


def two_source_plan() -> Plan:
    return Plan(
        duration=4.0,
        semantic=Semantic([Source("a", "dog bark"), Source("b", "snare drum")]),
        temporal=Temporal([Event("b", 0.5, 0.5, "impact"), Event("a", 1.0, 2.0, "sustained"), Event("b", 3.0, 3.0)]),
        spatial=Spatial([SpatialTrack("a", [0.0, 4.0], [-1.0, 1.0], [1.0, 2.0])]),
    ).validate()


def test_plan_tracks_mark_onsets_positions_and_labels():
    cfg = load_model_config("tiny")
    seq = cfg.sequence(4.0)
    feats, labels = plan_tracks(two_source_plan(), seq, max_sources=4, label_buckets=cfg.label_buckets)
    assert feats.shape == (seq.latent_len, 4, len(TRACK_FEATURES))
    # slot 0 = first onset (snare at 0.5 s), slot 1 = dog; empty slots stay empty
    assert labels.tolist()[:2] == [label_bucket("snare drum", 1024), label_bucket("dog bark", 1024)]
    assert labels[2:].tolist() == [0, 0] and feats[:, 2:].abs().sum() == 0
    onset = TRACK_FEATURES.index("onset")
    assert torch.nonzero(feats[:, 0, onset]).flatten().tolist() == [25, 150]  # 0.5 s and 3.0 s at 50 Hz
    assert torch.nonzero(feats[:, 1, onset]).flatten().tolist() == [50]
    active = feats[:, 1, TRACK_FEATURES.index("active")]
    assert active[49] == 0 and active[50:101].min() == 1 and active[101] == 0
    decay = feats[:, 0, TRACK_FEATURES.index("onset_decay")]
    assert decay[25] == pytest.approx(1.0, abs=0.05) and decay[24] == 0 and decay[25 + 25] == 0  # gone after 0.5 s
    x = feats[:, 1, TRACK_FEATURES.index("x")]
    assert x[0] < -0.95 and x[-1] > 0.95 and abs(float(x[100])) < 0.02  # moves left to right
    assert feats[-1, 1, TRACK_FEATURES.index("log2_distance")] == pytest.approx(1.0, abs=0.02)
    # a window later in the plan sees the same events shifted
    later, _ = plan_tracks(two_source_plan(), cfg.sequence(2.0), 4, 1024, start=2.0)
    assert torch.nonzero(later[:, 0, onset]).flatten().tolist() == [50]


def test_resample_time_matches_frame_centres():
    x = torch.arange(24.0)[None, :, None]  # 24 frames at 24 Hz: value = frame index
    y = resample_time(x, 24.0, 12, 12.0)  # centres at 1/24, 3/24, ... -> source positions 0.5, 2.5, ...
    torch.testing.assert_close(y.flatten(), torch.arange(12.0) * 2 + 0.5)


def test_every_synthcanvas_class_has_its_own_label_bucket():
    from prismaudio.canvas.classes import builtin_classes

    names = [c.name for c in builtin_classes()]
    buckets = {label_bucket(n, 1024) for n in names}
    assert len(buckets) == len(names) and min(buckets) >= 1 and max(buckets) <= 1024
    other = label_bucket("a barking dog", 1024)  # not a canvas class: hashed past the known ones
    assert len(names) < other <= 1024 and other == label_bucket("A barking dog ", 1024)


def test_sampling_with_the_condition_cache_equals_sampling_without():
    from prismaudio.flow.samplers import GuidedVelocity, sample_euler
    from prismaudio.flow.schedules import uniform_sigmas

    cfg = small_config()
    model = FlowDiT(cfg).eval()
    perturb(model)
    cond = random_conditions(cfg, 2, 24)
    noise = torch.randn(2, cfg.latent_channels, 24, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        cached = GuidedVelocity(model, cond, 3.0)
        plain = GuidedVelocity(lambda x, s, c: model(x, s, c), cond, 3.0)  # no cache argument: recomputed each step
        assert cached._cache is not None and plain._cache is None
        out_cached = sample_euler(cached, noise, uniform_sigmas(4), disable=True)
        out_plain = sample_euler(plain, noise, uniform_sigmas(4), disable=True)
    assert cached._cache  # filled on the first step
    torch.testing.assert_close(out_cached, out_plain, rtol=1e-5, atol=1e-6)
    # with autograd on (training), a stale cache is never used
    x, sigma = noise, torch.full((2,), 0.5)
    stale = {"shape": (2, 24, x.device), "streams": None}
    torch.testing.assert_close(model(x, sigma, cond, cache=stale), model(x, sigma, cond))
