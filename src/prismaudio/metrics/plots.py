"""PNG plots per sample: spectrogram pair, onset timeline vs truth, stereo position over time vs truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..dsp.onsets import detect_onsets

from ..fsutil import atomic_path
from .base import SAMPLE_RATE, EvalPair
from ..dsp.spatial import framewise
from .spatial import x_from_ild


def _spec_db(mono: np.ndarray) -> np.ndarray:
    from ..dsp.spectral import log_mel
    import torch

    return log_mel(torch.from_numpy(np.ascontiguousarray(mono, dtype=np.float32)), SAMPLE_RATE, n_mels=64, n_fft=512, hop=160).numpy() * (20 / np.log(10))


def plot_pair(pair: EvalPair, out_dir: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(4, 1, figsize=(10, 10), constrained_layout=True)
    dur = pair.pred.shape[1] / SAMPLE_RATE
    for ax, wave, title in ((axes[0], pair.pred_mono, "prediction"), (axes[1], pair.gt_mono, "reference")):
        if wave is None or wave.size < 512:
            ax.set_title(f"{title}: n/a")
            continue
        s = _spec_db(wave)
        ax.imshow(s, origin="lower", aspect="auto", extent=(0, len(wave) / SAMPLE_RATE, 0, 64), vmin=s.max() - 80, vmax=s.max())
        ax.set_title(f"{pair.id}: {title} log-mel (dB)")
        ax.set_ylabel("mel band")
    ax = axes[2]
    for y, wave, label, colour in ((1.0, pair.pred_mono, "prediction", "C0"), (0.0, pair.gt_mono, "reference", "C1")):
        if wave is not None:
            ax.vlines(detect_onsets(wave, SAMPLE_RATE), y, y + 0.8, colour, label=f"{label} onsets")
    if pair.plan is not None:
        for e in pair.plan.temporal.events:
            ax.axvspan(e.onset, max(e.offset, e.onset + 0.02), color="C2" if e.kind == "impact" else "C3", alpha=0.2)
        ax.plot([], [], color="C2", alpha=0.4, lw=6, label="plan impact")
        ax.plot([], [], color="C3", alpha=0.4, lw=6, label="plan sustained")
    ax.set_xlim(0, dur)
    ax.set_yticks([])
    ax.set_title("onsets: prediction vs reference and plan events")
    ax.legend(loc="upper right", fontsize=7)
    ax = axes[3]
    for wave, label in ((pair.pred, "prediction"), (pair.gt, "reference")):
        if wave is not None and wave.shape[0] == 2:
            fw = framewise(wave, SAMPLE_RATE)
            x = np.where(fw["active"], x_from_ild(fw["ild"]), np.nan)
            ax.plot(fw["times"], x, label=f"{label} (from ILD)")
    if pair.plan is not None:
        t = np.linspace(0, dur, 200)
        for tr in pair.plan.spatial.tracks:
            ax.plot(t, tr.x_at(t), "k--", label=f"plan {tr.source}")
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlim(0, dur)
    ax.set_ylabel("x (left -1 .. right 1)")
    ax.set_xlabel("time (s)")
    ax.set_title("stereo position over time")
    ax.legend(loc="upper right", fontsize=7)
    path = Path(out_dir) / f"{pair.id}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)
    return path
