"""Small promises a user relies on: a trimmed soundtrack fades out, keep_checkpoints means what it says."""

from __future__ import annotations

import numpy as np
import pytest

from prismaudio.errors import PrismError
from prismaudio.media.audio import fit_length
from prismaudio.train.checkpoint import prune_checkpoints


def test_fit_length_fades_where_it_trims():
    tone = np.full((2, 1000), 0.8, dtype=np.float32)
    cut = fit_length(tone, 600, fade=100)
    assert cut.shape == (2, 600)
    assert cut[0, -1] == pytest.approx(0.0, abs=1e-6)  # ends silent: no click
    assert np.all(np.diff(cut[0, -100:]) <= 1e-7)  # a monotonic ramp down
    assert cut[0, 499] == pytest.approx(0.8)  # the rest untouched
    assert np.max(np.abs(np.diff(cut[0]))) < 0.03  # no step anywhere


def test_fit_length_pads_and_keeps_exact_lengths_untouched():
    tone = np.full((1, 500), 0.5, dtype=np.float32)
    assert np.array_equal(fit_length(tone, 500), tone)
    padded = fit_length(tone, 700)
    assert padded.shape == (1, 700) and np.all(padded[0, 500:] == 0) and np.all(padded[0, :500] == 0.5)


@pytest.mark.parametrize("keep, left", [(0, 1), (1, 1), (3, 3), (10, 5)])
def test_prune_checkpoints_keeps_the_newest(tmp_path, keep, left):
    for step in range(5):
        (tmp_path / f"step_{step:08d}.safetensors").write_bytes(b"x")
    prune_checkpoints(tmp_path, keep)
    kept = sorted(p.name for p in tmp_path.glob("step_*.safetensors"))
    assert len(kept) == left and kept[-1] == "step_00000004.safetensors"


def test_prune_checkpoints_refuses_negative(tmp_path):
    with pytest.raises(PrismError, match="keep_checkpoints"):
        prune_checkpoints(tmp_path, -1)
