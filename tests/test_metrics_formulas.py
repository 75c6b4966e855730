import numpy as np
import pytest

from prismaudio.metrics.fd import frechet_distance, statistics
from prismaudio.metrics.inception import inception_score
from prismaudio.metrics.kl import kl_sigmoid, kl_softmax
from prismaudio.metrics.spatial import x_from_ild
from prismaudio.metrics.temporal import event_f1
from prismaudio.planner.plan import Event


def test_frechet_distance_identical_is_zero_and_mean_shift_adds_its_square():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((400, 8))
    mu, s = statistics(a)
    assert frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-6)
    d = np.arange(8) * 0.1
    assert frechet_distance(mu + d, s, mu, s) == pytest.approx(float(d @ d), rel=1e-6)
    # Same mean, covariance scaled by 4: Tr(S + 4S - 2*2S) = Tr(S)
    assert frechet_distance(mu, 4 * s, mu, s) == pytest.approx(np.trace(s), rel=1e-4)


def test_kl_zero_for_same_logits_positive_otherwise():
    g = np.array([2.0, 0.0, -1.0])
    assert kl_softmax(g, g) == pytest.approx(0.0, abs=1e-9)
    assert kl_softmax(g, g[::-1]) > 0.5
    assert kl_sigmoid(g, g) == pytest.approx(0.0, abs=1e-9)
    assert kl_sigmoid(g, -g) > 0.1


def test_inception_score_counts_confident_distinct_classes():
    probs = np.eye(5)[np.arange(100) % 5] * 0.999 + 0.001 / 5
    mean, _ = inception_score(probs, splits=10)
    assert mean == pytest.approx(5.0, rel=0.02)
    same = np.tile(np.eye(5)[0], (100, 1))
    assert inception_score(same, splits=10)[0] == pytest.approx(1.0, abs=1e-6)


def test_x_from_ild_inverts_constant_power_pan():
    for x in (-0.8, -0.3, 0.0, 0.4, 0.9):
        angle = (x + 1) * np.pi / 4
        ild = 20 * np.log10(np.cos(angle) / np.sin(angle))
        assert float(x_from_ild(ild)) == pytest.approx(x, abs=1e-6)


def test_event_f1_scores_kinds_separately():
    events = [Event("s", 1.0, 1.3, "impact"), Event("s", 3.0, 5.0, "sustained")]
    assert event_f1(np.array([1.01, 3.02]), events, None) == 1.0
    # a detection at the sustained onset is neither a hit nor a false alarm for impacts
    assert event_f1(np.array([1.01, 3.02]), events, "impact") == 1.0
    assert event_f1(np.array([1.2, 3.02]), events, "impact") == 0.0
    assert event_f1(np.array([1.01]), events, "sustained") == 0.0
    assert event_f1(np.array([1.0]), [events[1]], "impact") is None


def test_sample_space_fd_equals_covariance_fd():
    from prismaudio.metrics.fd import frechet_distance_from_samples

    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((40, 64)), rng.standard_normal((30, 64)) * 1.5 + 0.2
    assert frechet_distance_from_samples(a, b) == pytest.approx(frechet_distance(*statistics(a), *statistics(b)), rel=1e-6)
    assert frechet_distance_from_samples(a, a) == pytest.approx(0.0, abs=1e-6)


def test_framewise_matches_per_frame_gcc_phat_and_ild(canvas_root):
    from evalsets import make_items
    from prismaudio.dsp.spatial import framewise, gcc_phat_itd, ild_db

    audio = make_items(canvas_root, ("cowbell",))[0].audio.astype(np.float64)
    fw = framewise(audio, 16000)
    win, hop = 1600, 800
    starts = np.arange(0, audio.shape[1] - win + 1, hop)
    np.testing.assert_allclose(fw["times"], (starts + win / 2) / 16000)
    ild = np.array([ild_db(audio[0, s:s + win], audio[1, s:s + win]) for s in starts])
    itd = np.array([gcc_phat_itd(audio[0, s:s + win], audio[1, s:s + win], 16000) for s in starts])
    np.testing.assert_allclose(fw["ild"], ild, atol=1e-6)
    use = fw["active"]
    assert use.sum() > 5 and np.max(np.abs(fw["itd"][use] - itd[use])) < 2e-5
