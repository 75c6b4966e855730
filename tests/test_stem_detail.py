"""The sketch's detail that the codec cannot carry is added back after decoding (stemgen/detail.py)."""

import numpy as np
import torch

from prismaudio.engines.base import StemRequest
from prismaudio.engines.library import LibraryEngine
from prismaudio.planner.plan import Event, Plan, Semantic, Source, Temporal
from prismaudio.stemgen.config import StemModelConfig
from prismaudio.stemgen.detail import RESIDUAL_LIMIT, apply_residual, codec_residual, magnitude_floor
from prismaudio.stemgen.engine import StemGeneratorEngine
from prismaudio.stemgen.latent import MonoLatent
from prismaudio.stemgen.model import StemDiT
from prismaudio.stemgen.template import template_stems

SR = 16000


def test_the_residual_gives_the_sketch_back_from_its_decoding():
    rng = np.random.default_rng(0)
    sketch = torch.from_numpy(rng.uniform(0.01, 1.0, (2, 5, 7)))
    decoded = sketch * torch.from_numpy(rng.uniform(0.3, 3.0, (2, 5, 7)))  # the codec's error, per bin
    residual = codec_residual(sketch, decoded)
    assert torch.allclose(apply_residual(decoded, residual, magnitude_floor(sketch)), sketch, rtol=1e-6, atol=1e-9)


def test_the_residual_is_clipped_and_silence_carries_none():
    sketch = torch.zeros(1, 4, 4)
    sketch[0, 0, 0] = 1.0
    decoded = torch.full((1, 4, 4), 1e-12)
    decoded[0, 0, 0] = 1e-6  # the codec nearly lost the one loud bin: its detail comes back whole
    decoded[0, 3, 3] = 1e3  # the codec made a bin 60 dB louder than the sketch's peak
    residual = codec_residual(sketch, decoded)
    assert abs(float(residual[0, 0, 0]) - np.log(1.001 / 1.001e-3)) < 1e-6  # +6.9 nepers: not clipped
    assert residual[0, 3, 3] == -RESIDUAL_LIMIT  # at most +-RESIDUAL_LIMIT nepers
    assert torch.allclose(residual[0].flatten()[1:-1], torch.zeros(14), atol=1e-3)  # silence against silence: 0
    assert magnitude_floor(sketch).shape == (1, 1, 1) and abs(float(magnitude_floor(sketch)) - 1e-3) < 1e-9  # -60 dB


def log_spectral_distance(a: np.ndarray, b: np.ndarray) -> float:
    """RMS dB difference of two sounds' smoothed long-term spectra, 100 Hz - 6 kHz."""
    n = min(len(a), len(b))
    kernel = np.ones(41) / 41
    spec_a, spec_b = (np.convolve(np.abs(np.fft.rfft(w[:n])), kernel, "same") for w in (a, b))
    freqs = np.fft.rfftfreq(n, 1 / SR)
    band = (freqs > 100) & (freqs < 6000)
    return float(np.sqrt(np.mean((20 * np.log10(spec_a[band] + 1e-9) - 20 * np.log10(spec_b[band] + 1e-9)) ** 2)))


def test_a_stem_from_its_sketch_keeps_the_sketch_timbre():
    """A bell of three inharmonic partials as the exemplar, struck three times: from its sketch
    (start level 0) the stem with the detail added back has the sketch's spectrum within a few
    dB; through the 24-channel latent alone it is 12 dB off (the partials smeared)."""
    t = np.arange(int(0.6 * SR)) / SR
    bell = (sum(a * np.sin(2 * np.pi * f * t) for a, f in ((1.0, 400), (0.5, 1300), (0.3, 2900))) * np.exp(-t * 6))
    plan = Plan(duration=2.5, semantic=Semantic([Source("a", "my bell")]),
                temporal=Temporal([Event("a", x, x + 0.1) for x in (0.2, 1.0, 1.8)]))
    request = StemRequest(plan, SR, 0, 2.5, {"a": (bell * 0.5).astype(np.float32)})
    sketch = template_stems(request, LibraryEngine(None))["a"]
    latent = MonoLatent.load(phase_iterations=8)
    model = StemDiT(StemModelConfig(width=32, depth=1, heads=2, patch=2, duration=2.5))
    distance = {}
    for keep in (True, False):
        engine = StemGeneratorEngine(model, latent, None, num_steps=2, template_engine=LibraryEngine(None),
                                     template_sigma=0.0, keep_detail=keep)
        distance[keep] = log_spectral_distance(engine.render_stems(request)["a"], sketch)
    assert distance[True] < 3.0 and distance[False] > 3 * distance[True]


def test_sketches_sit_at_the_levels_the_generator_was_trained_on():
    """Impacts peak at 0.5, a sustained bed at the sound bank's RMS 0.1 over where it sounds
    (not at peak 0.5 too: 10 dB over the impacts, its level changes heard as onsets)."""
    from prismaudio.canvas.soundbank import IMPACT_PEAK, SUSTAINED_RMS
    from prismaudio.stemgen.template import template_gain

    t = np.arange(SR) / SR
    hit = np.sin(2 * np.pi * 300 * t) * np.exp(-t * 20)
    assert np.isclose(np.abs(hit * template_gain(hit, False)).max(), IMPACT_PEAK)
    bed = np.concatenate([np.zeros(SR), 0.7 * np.sin(2 * np.pi * 300 * t)])  # silent first second
    level = bed * template_gain(bed, True)
    assert np.isclose(np.sqrt(np.mean(level[SR:] ** 2)), SUSTAINED_RMS, rtol=0.01)
    spiky = np.zeros(SR)
    spiky[100] = 1.0
    spiky[200:] = 0.002  # RMS far under its peak: the gain stops at peak 0.9
    assert np.isclose(np.abs(spiky * template_gain(spiky, True)).max(), 0.9)


def test_each_source_is_decoded_on_its_own_whatever_shares_its_window():
    """The stem engine decodes a window's sources one by one (memory of one source, not of the
    busiest window): a source's audio is the same bit for bit alone or beside others, with and
    without its sketch's detail, and it is the batched decoding's up to float rounding (from
    the phase-vocoder start, a rounding can move a bin to the next spectral peak: 49-56 dB under
    the signal on these tones; from the sketch's phase, 130 dB and more)."""
    latent = MonoLatent.load(phase_iterations=4)
    rng = np.random.default_rng(1)
    t = np.arange(int(1.5 * SR)) / SR
    sketches = np.stack([0.3 * np.sin(2 * np.pi * f * t) * np.exp(-t * d) for f, d in ((330, 3), (870, 8), (150, 1))])
    sketches = (sketches + 0.01 * rng.standard_normal(sketches.shape)).astype(np.float32)
    lat = latent.encode_each(sketches)
    assert torch.equal(lat[1:2], latent.encode(sketches[1:2]))
    n = sketches.shape[1]
    for extra in ((), (sketches, lat)):
        together = latent.decode_each(lat, n, *extra)
        alone = latent.decode_each(lat[1:2], n, *(x[1:2] for x in extra))
        assert together.dtype == np.float32 and together.shape == (3, n)
        assert np.array_equal(together[1], alone[0])
        detail = latent.sketch_detail(*extra) if extra else None
        batched = latent.decode(lat, n, detail=detail).numpy()
        error_db = 10 * np.log10(((together - batched) ** 2).sum(1) / (batched ** 2).sum(1))
        assert error_db.max() < (-100 if extra else -40)
