"""The library build's pure maths and tables: loudness, trimming, licences, note plans."""

from pathlib import Path

import numpy as np
import pytest

from prismaudio.library.process import PEAK_CEILING, loudness_lufs, normalise_loudness, trim_silence
from prismaudio.library.sources import licence_from_copyright, parse_dep5


def test_loudness_of_a_full_scale_sine_is_the_bs1770_reference():
    sr = 48000
    t = np.arange(2 * sr) / sr
    # BS.1770: a 0 dBFS 997 Hz sine reads -3.01 LUFS
    assert loudness_lufs(np.sin(2 * np.pi * 997 * t), sr) == pytest.approx(-3.01, abs=0.05)
    assert loudness_lufs(0.5 * np.sin(2 * np.pi * 997 * t), sr) == pytest.approx(-3.01 - 6.02, abs=0.05)
    assert loudness_lufs(np.zeros(sr), sr) == float("-inf")


def test_normalising_reaches_the_target_without_clipping():
    rng = np.random.default_rng(0)
    sr = 16000
    quiet = 0.01 * rng.standard_normal(2 * sr)
    out, gain = normalise_loudness(quiet, sr, target=-23.0)
    assert gain > 1 and loudness_lufs(out, sr) == pytest.approx(-23.0, abs=0.1)
    click = np.zeros(sr, dtype=np.float32)
    click[100] = 0.9  # a lone click: reaching -23 LUFS would need a peak far above full scale
    out, _ = normalise_loudness(click, sr, target=-23.0)
    assert np.abs(out).max() == pytest.approx(PEAK_CEILING, rel=1e-4)
    short = 0.1 * np.sin(2 * np.pi * 440 * np.arange(800) / sr)  # 50 ms: shorter than one 400 ms block
    out, _ = normalise_loudness(short, sr, target=-23.0)
    assert loudness_lufs(out, sr) == pytest.approx(-23.0, abs=0.1)


def test_trim_silence_keeps_the_sound_and_a_short_pad():
    sr = 16000
    x = np.zeros(sr, dtype=np.float32)
    x[4000:6000] = np.sin(2 * np.pi * 300 * np.arange(2000) / sr)
    out = trim_silence(x, sr)
    pad = int(0.005 * sr)
    assert abs(len(out) - (2000 + 2 * pad)) <= 2 * int(0.005 * sr)
    assert np.abs(out).max() == pytest.approx(1.0, abs=1e-3)
    assert abs(out[0]) < 1e-3 and abs(out[-1]) < 1e-3  # faded, no click
    assert len(trim_silence(np.zeros(sr), sr)) == 0


DEP5 = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
License: LGPL-2.1+

Files: *.ogg
License: CC-BY-SA-3.0

Files: mtg/mods/doors/sounds/*
License: CC-BY-3.0

Files: debian/*
License: GPL-2+
"""


def test_licence_is_the_last_matching_stanza_of_the_copyright_file():
    assert [lic for _, lic in parse_dep5(DEP5)] == ["LGPL-2.1+", "CC-BY-SA-3.0", "CC-BY-3.0", "GPL-2+"]
    root = "/usr/share/games/minetest/games/minetest_game/mods"
    assert licence_from_copyright(DEP5, f"{root}/default/sounds/default_grass_footstep.1.ogg") == "CC-BY-SA-3.0"
    assert licence_from_copyright(DEP5, f"{root}/doors/sounds/doors_door_open.ogg") == "CC-BY-3.0"
    assert licence_from_copyright(DEP5, f"{root}/default/textures/x.png") == "LGPL-2.1+"  # debian/* never matches installed files


def test_note_plan_varies_key_and_velocity():
    from prismaudio.canvas.classes import SoundRecipe
    from prismaudio.library.soundfont import note_plan

    plan = note_plan(SoundRecipe("gm", 0, (55, 67), (85, 120)))
    assert [k for k, _ in plan] == [55, 59, 63, 67] and {v for _, v in plan} == {120, 102}
    drum = note_plan(SoundRecipe("drum", 0, (38, 38), (80, 120)))
    assert len(drum) == 4 and {k for k, _ in drum} == {38} and len({v for _, v in drum}) == 4


def test_every_table_label_is_a_yamnet_class_and_every_class_has_visual_words():
    from prismaudio.audio_models.yamnet import class_names
    from prismaudio.library.soundfont import soundfont_classes
    from prismaudio.library.sources import load_recording_table

    names = set(class_names())
    table = load_recording_table()
    for c in table.classes:
        assert c.visual, c.name
        assert set(c.audioset) <= names, (c.name, set(c.audioset) - names)
    sf = soundfont_classes()
    assert len(sf) >= 180
    for c in sf:
        assert c.visual_words, c.sound.name
        assert set(c.sound.audioset) <= names, (c.sound.name, set(c.sound.audioset) - names)
    assert len(table.classes) + len(sf) >= 300
    assert not {c.name for c in table.classes} & {c.sound.name for c in sf}


def test_no_recording_ships_in_the_package():
    import tomllib

    root = Path(__file__).resolve().parents[1]
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = data["tool"]["setuptools"]["package-data"]["prismaudio"]
    assert "library/*.yaml" in patterns and not any(p.startswith("library/") and not p.endswith(".yaml") for p in patterns)
    audio = [p for p in (root / "src" / "prismaudio").rglob("*") if p.suffix.lower() in (".wav", ".flac", ".ogg", ".oga", ".mp3")]
    assert audio == []
