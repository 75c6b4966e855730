"""Which simulator contacts the benchmark asks the planner for: heard, seen, one per sound."""

import numpy as np

from prismaudio.canvas.physics.perceptible import TrueContact, heard_and_seen, one_per_sound, onset_levels, seen_near


def _clicks(sr: int, at: list[tuple[float, float]], seconds: float = 2.0) -> np.ndarray:
    x = np.zeros(int(sr * seconds))
    for t, amp in at:
        k = int(t * sr)
        x[k : k + int(0.02 * sr)] += amp * np.hanning(int(0.02 * sr))
    return x


def test_onset_levels_follow_the_reference_audio():
    sr = 16000
    levels = onset_levels(_clicks(sr, [(0.5, 1.0), (1.0, 0.1), (1.5, 0.001)]), sr, [0.5, 1.0, 1.5])
    assert abs((levels[0] - levels[1]) - 20.0) < 0.5  # a tenth of the amplitude: 20 dB down
    assert abs((levels[0] - levels[2]) - 60.0) < 0.5


def test_a_contact_30_db_under_the_loudest_is_not_asked_for():
    sr = 16000
    audio = _clicks(sr, [(0.5, 1.0), (1.0, 0.1), (1.5, 0.001)])
    contacts = [TrueContact("s0", 0.5, 1.0), TrueContact("s0", 1.0, 0.1), TrueContact("s0", 1.5, 0.001)]
    out = heard_and_seen(contacts, onset_levels(audio, sr, [c.onset for c in contacts]), {"s0": np.ones(50, bool)}, 25.0)
    assert [c.onset for c in out.contacts] == [0.5, 1.0]
    assert (out.inaudible, out.unseen, out.merged) == (1, 0, 0)


def test_a_contact_out_of_sight_is_not_asked_for():
    visible = np.zeros(50, bool)
    visible[:20] = True  # seen up to frame 19, then out of frame
    assert seen_near(visible, 25.0, 0.80)  # frame 20: frame 19 is next to it
    assert not seen_near(visible, 25.0, 1.2)
    contacts = [TrueContact("s0", 0.4, 1.0), TrueContact("s0", 1.2, 0.8)]
    out = heard_and_seen(contacts, np.array([0.0, -3.0]), {"s0": visible}, 25.0)
    assert [c.onset for c in out.contacts] == [0.4] and out.unseen == 1


def test_one_object_rattling_within_40_ms_is_one_sound_two_objects_are_two():
    contacts = [TrueContact("s0", 1.000, 0.4), TrueContact("s0", 1.025, 1.0), TrueContact("s0", 1.035, 0.2),
                TrueContact("s1", 1.010, 0.5), TrueContact("s0", 1.300, 0.3)]
    out = one_per_sound(contacts)
    assert [(c.source, c.onset, c.strength) for c in out] == [("s0", 1.0, 1.0), ("s1", 1.01, 0.5), ("s0", 1.3, 0.3)]
    # the run is measured from its first contact: 1.045 is past 40 ms of 1.000, so a sound of its own
    assert [c.onset for c in one_per_sound(contacts[:3] + [TrueContact("s0", 1.045, 0.1)])] == [1.0, 1.045]
