"""Stem generator templates: each source sketched by the library engine (exemplar, library or
sound bank), the flow started from the sketch; sources without material from noise."""

import numpy as np
import torch

from prismaudio.engines.base import StemRequest
from prismaudio.engines.library import LibraryEngine
from prismaudio.planner.plan import Event, Plan, Semantic, Source, Spatial, SpatialTrack, Temporal
from prismaudio.stemgen.engine import StemGeneratorEngine
from prismaudio.stemgen.latent import MonoLatent
from prismaudio.stemgen.model import StemDiT
from prismaudio.stemgen.sampling import partial_sigmas
from prismaudio.stemgen.template import TEMPLATE_PEAK, template_stems
from prismaudio.stemgen.config import StemModelConfig

SR = 16000
ONSETS = (0.5, 1.5, 2.5)


def ping(freq=900.0, seconds=0.2):
    t = np.arange(int(seconds * SR)) / SR
    return (np.sin(2 * np.pi * freq * t) * np.exp(-t * 30)).astype(np.float32)


def plan(label="my gadget"):
    return Plan(duration=3.0, semantic=Semantic([Source("a", label), Source("b", "an unheard-of thing")]),
                temporal=Temporal([Event("a", t, t + 0.1) for t in ONSETS] + [Event("b", 1.0, 1.1)]),
                spatial=Spatial([SpatialTrack("a", [0.0, 3.0], [-0.5, -0.5]), SpatialTrack("b", [0.0, 3.0], [0.5, 0.5])]))


def energy_at(wave, times, width=0.08):
    return [float(np.abs(wave[int(t * SR): int((t + width) * SR)]).max()) for t in times]


def test_partial_sigmas_run_from_the_start_level_to_zero():
    s = partial_sigmas(4, 0.6)
    assert torch.allclose(s, torch.tensor([0.6, 0.45, 0.3, 0.15, 0.0]))
    assert torch.allclose(partial_sigmas(8, 1.0), torch.linspace(1, 0, 9))


def test_a_source_with_an_exemplar_is_sketched_at_its_events_and_others_are_not():
    request = StemRequest(plan(), SR, 0, 3.0, {"a": ping()})
    sketches = template_stems(request, LibraryEngine(None))
    assert set(sketches) == {"a"}  # "b": no exemplar, no library, not a sound-bank class
    wave = sketches["a"]
    assert np.isclose(np.abs(wave).max(), TEMPLATE_PEAK, atol=1e-3)
    hits, gaps = energy_at(wave, ONSETS), energy_at(wave, (1.0, 2.0))
    assert min(hits) > 0.2 and max(gaps) < 0.02


def test_a_sound_bank_class_is_sketched_without_any_library():
    request = StemRequest(plan("snare drum"), SR, 0, 3.0)
    sketches = template_stems(request, LibraryEngine(None))
    assert set(sketches) == {"a"} and min(energy_at(sketches["a"], ONSETS)) > 0.05


def test_the_generator_starts_from_the_sketch():
    """At start level 0 the stem is the sketch through the codec, whatever the (random) model
    says: the impacts are where the plan puts them. The source with nothing to sketch is drawn
    from noise by the model as before."""
    latent = MonoLatent.load(phase_iterations=4)
    model = StemDiT(StemModelConfig(width=32, depth=1, heads=2, patch=2, duration=3.0))
    request = StemRequest(plan(), SR, 0, 3.0, {"a": ping()})
    engine = StemGeneratorEngine(model, latent, None, num_steps=2, template_engine=LibraryEngine(None), template_sigma=0.0)
    stems = engine.render_stems(request)
    assert set(stems) == {"a", "b"} and all(len(w) == 3 * SR for w in stems.values())
    hits, gaps = energy_at(stems["a"], ONSETS), energy_at(stems["a"], (1.0, 2.0))
    assert min(hits) > 4 * max(gaps)
    no_templates = StemGeneratorEngine(model, latent, None, num_steps=2).render_stems(request)
    assert np.allclose(no_templates["b"], stems["b"], atol=1e-5)  # "b"'s noise is its own: (seed, its row)


def test_without_the_soundfont_synthesiser_sources_are_generated_from_noise(monkeypatch):
    """A plain `pip install` has no tinysoundfont: no sketch from the sound bank, no error."""
    from prismaudio.errors import PrismError
    from prismaudio.stemgen import template

    def missing(sample_rate):
        raise PrismError("SynthCanvas's instrument and drum classes needs the `tinysoundfont` package")

    monkeypatch.setattr(template, "_sound_bank", missing)
    request = StemRequest(plan("snare drum"), SR, 0, 3.0)
    assert template_stems(request, LibraryEngine(None)) == {}
    with_exemplar = StemRequest(plan("snare drum"), SR, 0, 3.0, {"b": ping()})
    assert set(template_stems(with_exemplar, LibraryEngine(None))) == {"b"}  # exemplars still sketch


def test_a_source_with_no_event_and_no_sketch_is_silent_without_running_the_model():
    """On a long video a window often lists a source that makes no sound in it (a fifth of
    them): its stem is silence, as the trained generator makes it, with no flow and no decode
    for it, and the other sources' stems do not change."""
    latent = MonoLatent.load(phase_iterations=4)
    model = StemDiT(StemModelConfig(width=32, depth=1, heads=2, patch=2, duration=3.0))
    rows = []
    model.register_forward_hook(lambda module, args, out: rows.append(out.shape[0]))
    with_quiet = plan()
    with_quiet.semantic.sources.append(Source("q", "a parked car"))  # listed, no event in the clip
    engine = StemGeneratorEngine(model, latent, None, num_steps=2)
    stems = engine.render_stems(StemRequest(with_quiet, SR, 0, 3.0))
    assert set(stems) == {"a", "b", "q"} and len(stems["q"]) == 3 * SR and not np.any(stems["q"])
    assert rows and max(rows) == 2 * 2  # two sounding sources, conditional and unconditional branches
    alone = engine.render_stems(StemRequest(plan(), SR, 0, 3.0))
    for k in ("a", "b"):
        assert np.allclose(stems[k], alone[k], atol=1e-5) and np.abs(stems[k]).max() > 0
    sketched = StemGeneratorEngine(model, latent, None, num_steps=2, template_engine=LibraryEngine(None))
    diffuse_bed = plan()  # a sketch makes a source sound even with no event (an ambience bed from an exemplar)
    diffuse_bed.semantic.sources.append(Source("q", "rain", diffuse=True))
    bed = sketched.render_stems(StemRequest(diffuse_bed, SR, 0, 3.0, {"q": ping(300.0, 3.0)}))
    assert np.abs(bed["q"]).max() > 1e-3
