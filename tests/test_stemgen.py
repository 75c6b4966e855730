"""The stem generator: shapes, conditioning, data determinism, held-out classes, checkpoints,
exemplars and their bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from prismaudio.stemgen.config import EXEMPLAR_DIM, StemDataConfig, StemModelConfig
from prismaudio.stemgen.data import StemBatches, compose, impact_times, sustained_spans
from prismaudio.stemgen.exemplar import ExemplarBank, ExemplarError, check_exemplar, pool_embedding
from prismaudio.stemgen.model import StemConditions, StemDiT
from prismaudio.stemgen.pool import PoolClass
from prismaudio.stemgen.tracks import TrackEvent, event_track

SR = 16000


def small_config(**kw) -> StemModelConfig:
    base = dict(width=32, depth=1, heads=2, patch=2, duration=1.0)
    return StemModelConfig(**{**base, **kw})


def conditions(b: int, length: int, cfg: StemModelConfig, seed: int = 0) -> StemConditions:
    g = torch.Generator().manual_seed(seed)
    return StemConditions(torch.randn(b, cfg.text_dim, generator=g), torch.randn(b, cfg.exemplar_dim, generator=g),
                          torch.rand(b, cfg.track_channels, length, generator=g), torch.zeros(b, dtype=torch.bool),
                          torch.zeros(b, dtype=torch.bool))


def fake_pool() -> dict[str, PoolClass]:
    """Three synthetic classes (decaying sines / a held tone): no soundfont needed."""
    t = np.arange(int(0.3 * SR)) / SR
    pool = {}
    for name, f in (("low", 200.0), ("high", 2000.0)):
        notes = [(np.sin(2 * np.pi * f * (1 + 0.05 * k) * t) * np.exp(-t / 0.05) * 0.5).astype(np.float32) for k in range(4)]
        pool[name] = PoolClass(name, "impact", f"{name}: a {name} ping", notes,
                               np.random.default_rng(len(name)).normal(size=(4, EXEMPLAR_DIM)).astype(np.float32))
    tone = np.arange(int(2.0 * SR)) / SR
    pool["hum"] = PoolClass("hum", "sustained", "hum: a held hum", [(0.1 * np.sin(2 * np.pi * 110 * tone)).astype(np.float32)] * 2,
                            np.zeros((2, EXEMPLAR_DIM), np.float32))
    return pool


# ---- model -------------------------------------------------------------------------------

def test_model_shapes_any_length():
    cfg = small_config()
    model = StemDiT(cfg)
    for length in (50, 51):
        x = torch.randn(3, cfg.latent_channels, length)
        v = model(x, torch.rand(3), conditions(3, length, cfg))
        assert v.shape == x.shape
    assert torch.count_nonzero(v) == 0  # zero-initialised output: a fresh model predicts zero velocity


def test_track_and_exemplar_steer_a_trained_model():
    """A micro model trained for a few seconds on "energy where the track says, timbre from the
    exemplar" follows both: the event track moves the energy in time, the exemplar changes it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is several times faster than two
    try:
        _train_and_probe_micro_model()
    finally:
        torch.set_num_threads(threads)


def _train_and_probe_micro_model():
    torch.manual_seed(0)
    cfg = small_config(width=32, depth=1, heads=2, latent_channels=4, exemplar_dim=EXEMPLAR_DIM)
    model = StemDiT(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    L = 32
    basis = torch.randn(EXEMPLAR_DIM, 4)

    def batch(n, g):
        onset = torch.randint(0, L - 8, (n,), generator=g)
        tracks = torch.stack([torch.from_numpy(event_track([TrackEvent(float(o) / 50, float(o) / 50 + 0.1)], L, 50.0)) for o in onset])
        ex = torch.randn(n, EXEMPLAR_DIM, generator=g)
        x0 = torch.einsum("bc,bl->bcl", torch.tanh(ex @ basis), tracks[:, 4])  # timbre x slow decay envelope
        cond = StemConditions(torch.zeros(n, cfg.text_dim), ex, tracks, torch.ones(n, dtype=torch.bool), torch.zeros(n, dtype=torch.bool))
        return x0, cond

    from prismaudio.flow.path import flow_matching_loss
    g = torch.Generator().manual_seed(1)
    for _ in range(200):
        x0, cond = batch(16, g)
        t = torch.rand(16, generator=g)
        loss = flow_matching_loss(lambda x, s: model(x, s, cond), x0, t, torch.randn(x0.shape, generator=g)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    from prismaudio.stemgen.sampling import sample_latents

    model.eval()
    x0, cond = batch(2, torch.Generator().manual_seed(7))
    # the same exemplar, onsets at frames 3 and 20
    tracks = torch.stack([torch.from_numpy(event_track([TrackEvent(f / 50, f / 50 + 0.1)], L, 50.0)) for f in (3, 20)])
    same_ex = StemConditions(cond.text, cond.exemplar[:1].repeat(2, 1), tracks, cond.drop_text, cond.drop_exemplar)
    out = sample_latents(model, same_ex, L, steps=8, cfg_strength=1.0, seed=0)
    energy = out.pow(2).sum(1)
    assert energy[0, :10].sum() > energy[0, 20:].sum() and energy[1, 20:].sum() > energy[1, :10].sum()
    # the same track, two exemplars: each output leans towards its own exemplar's timbre
    two_ex = StemConditions(cond.text, cond.exemplar, tracks[:1].repeat(2, 1, 1), cond.drop_text, cond.drop_exemplar)
    out = sample_latents(model, two_ex, L, steps=8, cfg_strength=1.0, seed=0)
    timbre = torch.tanh(cond.exemplar @ basis)
    profile = out.mean(-1)
    cos = torch.nn.functional.cosine_similarity(profile[:, None], timbre[None], dim=-1)
    assert cos[0, 0] > cos[0, 1] and cos[1, 1] > cos[1, 0]


# ---- tracks and data -----------------------------------------------------------------------

def test_event_track_marks_onsets_gates_and_decay():
    track = event_track([TrackEvent(0.10, 0.3, "impact", 0.5), TrackEvent(0.5, 0.8, "sustained", 1.0)], 50, 50.0)
    assert track[0, 5] == 0.5 and track[0, 25] == 1.0 and track[0].sum() == 1.5
    assert track[1, 25:40].min() == 1.0 and track[1, :25].max() == 0.0 and track[1, 40:].max() == 0.0
    assert track[3, 5] > 0.5 and track[3, 20] < 0.01 and track[4, :5].max() == 0.0


def test_choreographies_stay_inside_the_clip():
    rng = np.random.default_rng(0)
    for _ in range(50):
        times = impact_times(rng, 8.0, 8, 0.15)
        assert 1 <= len(times) <= 8 and all(b - a >= 0.15 for a, b in zip(times, times[1:])) and times[-1] < 7.9
        spans = sustained_spans(rng, 8.0)
        assert all(0 <= a < b <= 8.0 for a, b in spans) and all(s[1] <= n[0] for s, n in zip(spans, spans[1:]))
    pool = fake_pool()
    wave, events, used = compose(pool["low"], np.random.default_rng(3), 2.0, SR, StemDataConfig())
    for e in events:  # every planned impact is heard right at its onset
        i = int(round(e.onset * SR))
        assert np.abs(wave[i : i + 160]).max() > 0.05


def batches(classes, seed=0):
    return StemBatches(fake_pool(), classes, {n: np.ones(384, np.float32) for n in fake_pool()},
                       small_config(duration=2.0), StemDataConfig(), batch_size=4, seed=seed)


def test_batches_are_deterministic_by_seed_and_step():
    a, b = batches(["low", "high", "hum"]), batches(["low", "high", "hum"])
    first, again, other = a[5], b[5], a[6]
    assert torch.equal(first["latent"], again["latent"]) and torch.equal(first["track"], again["track"])
    assert first["classes"] == again["classes"] and torch.equal(first["drop_exemplar"], again["drop_exemplar"])
    assert not torch.equal(first["latent"], other["latent"])
    assert first["latent"].shape == (4, 24, 100) and first["track"].shape == (4, 5, 100)


def test_held_out_classes_never_reach_training_batches(tmp_path):
    from prismaudio.stemgen.config import StemRunConfig, StemTrainConfig
    from prismaudio.stemgen.trainer import StemTrainer

    pool = fake_pool()
    run = StemRunConfig(small_config(duration=1.0), StemTrainConfig(batch_size=2, out_dir=str(tmp_path), max_steps=4),
                        StemDataConfig(held_out=["high"], val_clips=1, workers=0))
    trainer = StemTrainer(run, pool=pool, text_vectors={n: np.ones(384, np.float32) for n in pool}, progress=False)
    rng = np.random.default_rng(0)
    seen = {trainer.train_data.sample(rng)["class"] for _ in range(60)}  # the rows every training batch is made of
    assert seen == {"low", "hum"}
    assert set(trainer.val_batches["held_out"]["classes"]) == {"high"}
    trainer.fit(2)  # the flow trainer's loop runs on these batches and checkpoints
    assert (tmp_path / "checkpoints" / "step_00000002.safetensors").is_file()


# ---- checkpoints ---------------------------------------------------------------------------

def test_export_and_load_round_trip(tmp_path):
    from prismaudio.stemgen.engine import load_stem_model
    from prismaudio.stemgen.trainer import CHECKPOINT_KIND, CHECKPOINT_VERSION, export_model
    from prismaudio.train.checkpoint import read_header, save_training_state

    cfg = small_config()
    model = StemDiT(cfg)
    torch.nn.init.normal_(model.patch_out.weight)
    import copy

    ckpt = save_training_state(tmp_path / "step.safetensors", CHECKPOINT_KIND, CHECKPOINT_VERSION, cfg, 7, model,
                               ema=copy.deepcopy(model))
    shipped = export_model(ckpt, tmp_path / "stem.safetensors")
    assert read_header(shipped)["config"]["width"] == 32
    loaded = load_stem_model(shipped)
    x, cond = torch.randn(2, 24, 20), conditions(2, 20, cfg)
    model.eval()
    s = torch.full((2,), 0.5)
    assert torch.allclose(loaded(x, s, cond), model(x, s, cond))


def test_corrupt_stem_model_is_one_clear_error(tmp_path):
    from prismaudio.errors import CheckpointError
    from prismaudio.stemgen.engine import load_stem_model

    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.safetensors"):
        load_stem_model(bad)


# ---- exemplars -----------------------------------------------------------------------------

def test_pool_embedding_ignores_silence_and_sees_decay():
    latent = np.zeros((24, 40), np.float32)
    latent[:, 5:10] = 1.0
    level = np.full(40, -100.0)
    level[5:10] = [-6, -10, -20, -30, -40]
    level[5] = 0.0
    emb = pool_embedding(latent, level)
    assert emb.shape == (EXEMPLAR_DIM,) and np.allclose(emb[:24], 1.0) and np.allclose(emb[24:48], 0.0)
    assert emb[48] == 0.0 and 0 < emb[49] < emb[50] and emb[-1] == 1.0


@pytest.mark.parametrize("wave,match", [(np.zeros(0), "empty"), (np.zeros(SR), "silent"), (np.ones(40 * SR) * 0.1, "too long"),
                                        (np.array([np.nan] * SR), "NaN"), (np.ones(100) * 0.1, "too short")])
def test_bad_exemplars_are_one_line(wave, match):
    with pytest.raises(ExemplarError, match=match):
        check_exemplar(wave, SR, "exemplar of source 's0'")


def test_bank_round_trip_and_bad_file(tmp_path):
    from prismaudio.errors import ConfigError

    bank = ExemplarBank(["Kick Drum", "cello"], np.arange(2 * EXEMPLAR_DIM, dtype=np.float32).reshape(2, -1))
    loaded = ExemplarBank.load(bank.save(tmp_path / "bank.safetensors"))
    assert np.array_equal(loaded.get("kick drum"), bank.vectors[0]) and loaded.get("tuba") is None
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    with pytest.raises(ConfigError, match="junk.safetensors"):
        ExemplarBank.load(tmp_path / "junk.safetensors")


def test_class_weights_give_library_classes_their_share_of_rows():
    import numpy as np

    from prismaudio.stemgen.data import class_weights

    classes = ["dog barking", "floor tom", "rain", "snare drum", "wind", "kick drum"]
    library_only = {"dog barking", "rain", "wind"}
    w = class_weights(classes, library_only, 0.25)
    assert np.isclose(w.sum(), 1.0)
    assert np.isclose(sum(x for c, x in zip(classes, w) if c in library_only), 0.25)
    assert class_weights(classes, set(), 0.5) is None  # no library: uniform, as before


def test_half_precision_export_loads_as_float32_and_predicts_alike(tmp_path):
    import copy

    from prismaudio.stemgen.engine import load_stem_model
    from prismaudio.stemgen.trainer import CHECKPOINT_KIND, CHECKPOINT_VERSION, export_model
    from prismaudio.train.checkpoint import save_training_state

    cfg = small_config()
    model = StemDiT(cfg)
    torch.nn.init.normal_(model.patch_out.weight, std=0.02)
    ckpt = save_training_state(tmp_path / "step.safetensors", CHECKPOINT_KIND, CHECKPOINT_VERSION, cfg, 3, model,
                               ema=copy.deepcopy(model))
    full, half = export_model(ckpt, tmp_path / "full.safetensors"), export_model(ckpt, tmp_path / "half.safetensors", half=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded = load_stem_model(half)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    x, cond, s = torch.randn(2, 24, 20), conditions(2, 20, cfg), torch.full((2,), 0.5)
    model.eval()
    with torch.no_grad():
        ref, got = model(x, s, cond), loaded(x, s, cond)
    assert torch.allclose(got, ref, atol=5e-3 * float(ref.abs().max()) + 1e-6)


def test_a_pipeline_with_the_shipped_codec_lends_it_to_the_stem_engine(tmp_path):
    """The demo loads the model bundle, then the stem engine: the codec weights are loaded once.
    A codec from another file is not taken for the shipped one."""
    import shutil

    from prismaudio.codec.stereo_codec import StereoCodec
    from prismaudio.stemgen.engine import StemGeneratorEngine, default_model_path
    from prismaudio.stemgen.latent import default_codec_path

    if not default_model_path().is_file():
        pytest.skip("no stem generator ships in this install")
    shipped = StereoCodec.load(default_codec_path())
    assert StemGeneratorEngine.load(codec=shipped).latent.codec is shipped
    copy = shutil.copy(default_codec_path(), tmp_path / "other.safetensors")
    other = StereoCodec.load(copy)
    engine = StemGeneratorEngine.load(codec=other)
    assert engine.latent.codec is not other and engine.latent.codec is not shipped
