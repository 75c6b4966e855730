"""The library engine renders each planned source from a folder library or its exemplar: takes
at the onsets, scaled by strength, varied, sustained spans looped, ambience beds, seeded."""

import logging

import numpy as np
import pytest
import soundfile as sf

from prismaudio.engines import StemEngine, StemRequest
from prismaudio.engines.library import LibraryEngine
from prismaudio.engines.matching import ClassMatcher, exact_class, word_class
from prismaudio.engines.voicing import change_rate, loop_to_length, rms_normalise, trim_to_attack
from prismaudio.library import SoundLibrary
from prismaudio.planner.plan import Event, Plan, Semantic, Source, Temporal

SR = 16000


def _decay(freq, seconds=0.3, delay=0.0, seed=0):
    t = np.arange(int(seconds * SR)) / SR
    hit = np.sin(2 * np.pi * freq * t) * np.exp(-t * 20) + 0.01 * np.random.default_rng(seed).standard_normal(len(t))
    return np.concatenate([np.zeros(int(delay * SR)), hit]).astype(np.float32)


@pytest.fixture
def library(tmp_path):
    for name, freqs in {"snare_drum": (200, 230, 260), "cowbell": (800,), "rain": (None,)}.items():
        (tmp_path / name).mkdir()
        for i, f in enumerate(freqs):
            wave = _decay(f, delay=0.05, seed=i) if f else np.random.default_rng(9).standard_normal(SR).astype(np.float32) * 0.1
            sf.write(tmp_path / name / f"take{i}.wav", wave, SR)
    return SoundLibrary.load(tmp_path)


def _plan(**source_kw):
    return Plan(duration=2.0, semantic=Semantic([Source("s1", "Snare Drum"), Source("c", "cowbell"),
                                                 Source("amb", "rain", diffuse=True)]),
                temporal=Temporal([Event("s1", 0.2, 0.3, strength=1.0), Event("s1", 0.7, 0.8, strength=0.25),
                                   Event("s1", 1.2, 1.3), Event("c", 0.5, 1.5, "sustained")]))


def _onset(stem, threshold=0.05):
    return int(np.argmax(np.abs(stem) > threshold * np.abs(stem).max()))


def test_takes_at_onsets_scaled_by_strength_and_varied(library):
    engine = LibraryEngine(library)
    assert isinstance(engine, StemEngine)
    stems = engine.render_stems(StemRequest(_plan(), SR, seed=3, duration=2.0))
    assert set(stems) == {"s1", "c", "amb"} and all(s.shape == (2 * SR,) and s.dtype == np.float32 for s in stems.values())
    s1 = stems["s1"]
    assert abs(_onset(s1) - int(0.2 * SR)) <= int(0.002 * SR)  # leading silence trimmed: heard at the onset
    first, second = np.abs(s1[int(0.2 * SR):int(0.5 * SR)]).max(), np.abs(s1[int(0.7 * SR):int(1.0 * SR)]).max()
    assert second / first == pytest.approx(0.25, rel=0.35)  # strength, within the gain jitter
    a, b = s1[int(0.2 * SR):int(0.45 * SR)], s1[int(1.2 * SR):int(1.45 * SR)]
    assert not np.allclose(a, b, atol=1e-3)  # repeats differ
    assert engine.matches["s1"].how == "exact" and engine.matches["s1"].class_name == "snare_drum"
    c = stems["c"]
    assert np.abs(c[:int(0.49 * SR)]).max() == 0 and np.abs(c[int(1.51 * SR):]).max() == 0
    assert np.abs(c[int(1.3 * SR):int(1.45 * SR)]).max() > 0.1  # the 0.3 s take is looped over the 1 s span
    assert np.abs(stems["amb"][int(0.1 * SR):]).min() >= 0 and np.std(stems["amb"][SR // 2:]) > 0.01  # a bed throughout


def test_same_seed_same_stems_other_seed_other_takes(library):
    request = StemRequest(_plan(), SR, seed=1, duration=2.0)
    a = LibraryEngine(library).render_stems(request)
    b = LibraryEngine(library).render_stems(request)
    c = LibraryEngine(library).render_stems(StemRequest(_plan(), SR, seed=2, duration=2.0))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.allclose(a["s1"], c["s1"])


def test_exemplar_replaces_the_library(library):
    tone = _decay(3000, seconds=0.2)
    stems = LibraryEngine(library).render_stems(StemRequest(_plan(), SR, 0, 2.0, exemplars={"s1": tone}))
    seg = stems["s1"][int(0.2 * SR):int(0.4 * SR)]
    spectrum = np.abs(np.fft.rfft(seg))
    assert np.fft.rfftfreq(len(seg), 1 / SR)[np.argmax(spectrum)] == pytest.approx(3000, rel=0.05)


def test_exemplars_without_a_library():
    plan = Plan(duration=1.0, semantic=Semantic([Source("x", "thing")]), temporal=Temporal([Event("x", 0.5, 0.6)]))
    stems = LibraryEngine(None).render_stems(StemRequest(plan, SR, 0, 1.0, exemplars={"x": _decay(500)}))
    assert abs(_onset(stems["x"]) - SR // 2) <= 20


def test_unknown_label_is_silent_with_a_warning(library, caplog):
    plan = Plan(duration=1.0, semantic=Semantic([Source("x", "helicopter", "rotor blades overhead")]),
                temporal=Temporal([Event("x", 0.5, 0.6)]))
    with caplog.at_level(logging.WARNING):
        stems = LibraryEngine(library).render_stems(StemRequest(plan, SR, 0, 1.0))
    assert not np.any(stems["x"]) and "no class of the sound library" in caplog.text


def test_text_match_finds_a_class_by_meaning(library):
    match = ClassMatcher(library.classes).match("percussion", "a snare struck with a stick")
    assert match.class_name == "snare_drum" and match.how == "text"


def test_pure_helpers():
    assert exact_class("Floor-Tom", ["floor_tom", "bell"]) == "floor_tom"
    assert word_class("dog", ["dog barking", "cat"]) == "dog barking" and word_class("drum", ["snare drum", "bass drum"]) is None
    x = np.concatenate([np.zeros(100), np.ones(10)])
    assert len(trim_to_attack(x, SR)) == 10 + 16
    assert len(change_rate(np.ones(1000), 1.25)) == 800
    quiet_tail = np.concatenate([np.full(100, 0.5), np.zeros(900)])
    assert np.sqrt(np.mean(rms_normalise(quiet_tail, 0.2)[:100] ** 2)) == pytest.approx(0.2)  # silence not counted
    assert np.abs(rms_normalise(np.r_[1.0, np.full(99, 0.01)], 0.5)).max() == pytest.approx(1.0)  # peak capped
    loop = loop_to_length(np.random.default_rng(0).standard_normal(1000), 3500, SR)
    assert len(loop) == 3500 and np.abs(loop[3000:]).max() > 0
