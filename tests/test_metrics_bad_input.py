"""Bad input: the CLI says what is wrong and still evaluates the rest."""

import json

import numpy as np
import pytest

from evalsets import make_items
from prismaudio.cli import main
from prismaudio.media import write_audio
from prismaudio.metrics.sanity import write_reference_set


@pytest.fixture(scope="module")
def refset(tmp_path_factory, canvas_root):
    root = tmp_path_factory.mktemp("bad")
    items = make_items(canvas_root, ("grand piano", "trumpet", "snare drum", "cowbell"))
    paths = write_reference_set(items, root)
    return root, items, paths


def _eval(tmp_path, pred, gt, *extra):
    out = tmp_path / "out"
    code = main(["eval", "--pred-audio", str(pred), "--gt-audio", str(gt), "-o", str(out), "--plots", "2", *extra])
    return code, out


def test_mixed_bad_files_are_reported_and_the_rest_evaluated(refset, tmp_path, capsys):
    root, items, paths = refset
    pred = tmp_path / "pred"
    pred.mkdir()
    a, b, c, d = items
    write_audio(pred / f"{a.id}.wav", a.audio.mean(0), 16000)                       # mono
    import soundfile as sf
    sf.write(str(pred / f"{b.id}.wav"), b.audio.T, 44100)                             # wrong rate (content stretched, still read)
    write_audio(pred / f"{c.id}.wav", np.zeros_like(c.audio), 16000)                  # silent
    (pred / f"{d.id}.wav").write_bytes(b"RIFF not really a wave file")                  # unreadable
    write_audio(pred / "stray_clip.wav", a.audio, 16000)                              # unpaired
    code, out = _eval(tmp_path, pred, paths["gt"], "--manifest", str(paths["manifest"]))
    assert code == 2  # the batch finishes, and says that one pair failed
    err = capsys.readouterr().err
    assert "without a reference" in err and "stray_clip" in err
    assert f"{d.id}: skipped" in err and "error: 1 of 4 pair(s) failed" in err
    data = json.loads((out / "metrics.json").read_text())
    per = data["per_sample"]
    assert set(per) == {a.id, b.id, c.id}
    assert per[a.id]["side-accuracy"] is None and "mono" in " ".join(per[a.id]["notes"])
    assert "silent" in " ".join(per[c.id]["notes"])
    assert per[c.id]["PQ-quality"] is not None
    assert (out / "report.md").read_text().count("|") > 20
    assert len(list((out / "plots").glob("*.png"))) == 2


def test_nan_samples_are_refused(refset, tmp_path):
    """Zeroing NaN/inf would give finite-looking metrics for broken audio: the pair is refused."""
    from prismaudio.errors import MediaError
    from prismaudio.metrics.evaluate import _load_audio
    import soundfile as sf

    wave = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 16000)).astype(np.float32)
    wave[0, 100:110] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(str(path), wave.T, 16000, subtype="FLOAT")
    with pytest.raises(MediaError, match="10 NaN/inf samples"):
        _load_audio(path, [])


def test_resampled_rates_give_the_same_metrics(refset, tmp_path):
    root, items, paths = refset
    import soundfile as sf
    from scipy.signal import resample_poly

    pred = tmp_path / "pred44"
    pred.mkdir()
    for it in items:
        sf.write(str(pred / f"{it.id}.wav"), resample_poly(it.audio, 441, 160, axis=1).T, 44100, subtype="FLOAT")
    code, out = _eval(tmp_path, pred, paths["gt"], "--manifest", str(paths["manifest"]))
    s = json.loads((out / "metrics.json").read_text())["summary"]
    assert code == 0 and s["num_samples"] == 4
    assert s["ITD-error-ms"] < 0.05 and s["KL-YAMNET-softmax"] < 0.1


def test_empty_folder_and_no_common_stems_are_one_line_errors(refset, tmp_path, capsys):
    root, items, paths = refset
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _ = _eval(tmp_path, empty, paths["gt"])
    assert code == 2 and "no audio files" in capsys.readouterr().err
    other = tmp_path / "other"
    other.mkdir()
    write_audio(other / "x.wav", items[0].audio, 16000)
    code, _ = _eval(tmp_path, other, paths["gt"])
    assert code == 2 and "no file stems in common" in capsys.readouterr().err


def test_manifest_that_does_not_match(refset, tmp_path, capsys):
    root, items, paths = refset
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"id": "somebody_else", "class": "grand piano"}) + "\n")
    code, out = _eval(tmp_path, paths["gt"], paths["gt"], "--manifest", str(manifest))
    err = capsys.readouterr().err
    assert code == 0 and "not in the manifest" in err and "no paired files" in err
    s = json.loads((out / "metrics.json").read_text())["summary"]
    assert s["FD-YAMNET"] == pytest.approx(0, abs=1e-3) and s["side-accuracy"] is None
