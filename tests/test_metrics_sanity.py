"""The whole suite on tiny SynthCanvas references against themselves and against broken copies."""

import pytest

from evalsets import make_items
from prismaudio.metrics.evaluate import evaluate
from prismaudio.metrics.sanity import BREAKS, write_predictions, write_reference_set


@pytest.fixture(scope="module")
def results(tmp_path_factory, canvas_root):
    root = tmp_path_factory.mktemp("evalset")
    items = make_items(canvas_root)
    paths = write_reference_set(items, root)
    out = {}
    for kind in (None,) + BREAKS:
        pred = write_predictions(items, root / f"pred_{kind or 'self'}", kind)
        out[kind or "self"] = evaluate(pred, paths["gt"], None, paths["manifest"]).summary
    return out


def test_reference_against_itself_is_perfect(results):
    s = results["self"]
    assert s["FD-YAMNET"] == pytest.approx(0.0, abs=1e-3)
    assert s["KL-YAMNET-softmax"] == pytest.approx(0.0, abs=1e-6)
    assert s["onset-F1-ref"] == 1.0
    assert s["ITD-error-ms"] == pytest.approx(0.0, abs=1e-9)
    assert s["ILD-error-dB"] == pytest.approx(0.0, abs=1e-9)
    assert s["class-accuracy"] >= 5 / 6
    assert s["side-accuracy"] > 0.8
    assert s["DeSync"] < 0.3


def test_shift_worsens_desync_and_onsets(results):
    assert results["shifted"]["DeSync"] > results["self"]["DeSync"] + 0.1
    assert results["shifted"]["onset-F1"] < results["self"]["onset-F1"] - 0.3
    assert results["shifted"]["onset-F1-ref"] < 0.5


def test_channel_swap_drops_side_accuracy(results):
    assert results["swapped"]["side-accuracy"] < results["self"]["side-accuracy"] - 0.3
    assert results["swapped"]["ITD-error-ms"] > 0.1


def test_noise_lowers_quality(results):
    assert results["noisy"]["PQ-quality"] < results["self"]["PQ-quality"] - 2
    assert results["noisy"]["noise-floor-dB"] > results["self"]["noise-floor-dB"] + 20
    assert results["noisy"]["FD-YAMNET"] > results["shifted"]["FD-YAMNET"]


def test_wrong_class_lowers_semantic_metrics(results):
    w, s = results["wrong_class"], results["self"]
    assert w["class-accuracy"] < s["class-accuracy"] - 0.5
    assert w["YAMNET-class-prob"] < s["YAMNET-class-prob"]
    assert w["CLAP"] < s["CLAP"] - 0.3
    assert w["KL-YAMNET-softmax"] > 0.5
