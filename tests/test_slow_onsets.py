"""The slow-attack onset detector finds bowed notes and fade-ins where they begin."""

from __future__ import annotations

import numpy as np

from prismaudio.dsp.onsets import band_energy_rise, detect_onsets, detect_slow_onsets

SR = 16000


def _swelling_tone(start_s: float, attack_s: float, hz: float, seconds: float = 3.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    envelope = np.clip((t - start_s) / attack_s, 0.0, 1.0)
    return 0.3 * envelope * np.sin(2 * np.pi * hz * t)


def test_a_slow_swell_is_found_where_it_begins():
    # 250 ms linear attacks: the flux detector finds at most one of them, the band-rise detector both.
    wave = _swelling_tone(0.8, 0.25, 440.0) + _swelling_tone(1.9, 0.25, 660.0)
    found = detect_slow_onsets(wave, SR)
    assert len(found) == 2
    assert abs(found[0] - 0.8) <= 0.06 and abs(found[1] - 1.9) <= 0.06
    assert sum(min(abs(detect_onsets(wave, SR) - t)) <= 0.05 for t in (0.8, 1.9) if detect_onsets(wave, SR).size) < 2


def test_a_sound_present_from_the_first_frame_starts_at_zero():
    found = detect_slow_onsets(_swelling_tone(0.0, 0.01, 300.0, 1.5), SR)
    assert found.size == 1 and found[0] <= 0.03


def test_a_steady_tone_and_silence_have_no_later_onsets():
    steady = _swelling_tone(0.0, 0.01, 300.0, 2.0)
    assert np.all(detect_slow_onsets(steady, SR) < 0.05)
    assert detect_slow_onsets(np.zeros(SR), SR).size == 0
    assert not band_energy_rise(np.zeros(100), SR)[0].any()  # shorter than one window: no rise


def test_vibrato_is_not_a_rise():
    t = np.arange(3 * SR) / SR
    vibrato = 0.3 * np.sin(2 * np.pi * (880.0 * t + 12.0 / (2 * np.pi * 5.0) * np.sin(2 * np.pi * 5.0 * t)))
    assert np.all(detect_slow_onsets(vibrato, SR) < 0.05)
