"""Codec evaluation: input vs reconstruction, next to a mel + Griffin-Lim round trip.

Figures per clip: log-mel L1 (prismaudio.dsp.spectral defaults), multi-resolution STFT
distance, onset precision/recall/F1 within +-20 ms. Spatial figures on off-centre material
(the reference louder on one side by more than 1 dB), pooled over clips:
- frames: 100 ms frames that are active in the reference (prismaudio.dsp.spatial.framewise);
- clips: whole-clip ILD/ITD of clips whose reference is off-centre.
Each gives the median ITD error (ms), median ILD error (dB) and louder-side agreement.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from ..dsp.onsets import detect_onsets, onset_prf
from ..errors import PrismError
from ..dsp.spatial import framewise, gcc_phat_itd, ild_db
from ..dsp.spectral import log_mel, log_mel_l1, multi_resolution_stft_distance
from ..log import progress_enabled
from .data import find_audio_files
from .griffinlim import mel_griffin_lim

log = logging.getLogger(__name__)

ONSET_TOLERANCE_S = 0.02
OFF_CENTRE_DB = 1.0


def clip_figures(ref: torch.Tensor, pred: torch.Tensor, sample_rate: int) -> dict:
    """Per-clip figures of a stereo prediction [2, N] against its reference [2, N]."""
    r, p = ref.numpy().astype(np.float64), pred.numpy().astype(np.float64)
    on_ref = detect_onsets(r.sum(0), sample_rate)
    on_pred = detect_onsets(p.sum(0), sample_rate)
    precision, recall, f1 = onset_prf(on_pred, on_ref, ONSET_TOLERANCE_S)
    fr, fp = framewise(r, sample_rate), framewise(p, sample_rate)
    off = fr["active"] & (np.abs(fr["ild"]) > OFF_CENTRE_DB)
    clip_ild_ref = ild_db(r[0], r[1])
    return {
        "log_mel_l1": float(log_mel_l1(pred, ref, sample_rate)),
        "mrstft": float(multi_resolution_stft_distance(pred, ref)),
        "onset_precision": precision, "onset_recall": recall, "onset_f1": f1,
        "onsets_ref": int(len(on_ref)), "onsets_pred": int(len(on_pred)),
        "frames": {
            "itd_err_ms": (np.abs(fr["itd"][off] - fp["itd"][off]) * 1e3).tolist(),
            "ild_err_db": np.abs(fr["ild"][off] - fp["ild"][off]).tolist(),
            "side_agree": (np.sign(fr["ild"][off]) == np.sign(fp["ild"][off])).tolist(),
        },
        "clip": {
            "off_centre": bool(abs(clip_ild_ref) > OFF_CENTRE_DB),
            "ild_ref_db": clip_ild_ref, "ild_pred_db": ild_db(p[0], p[1]),
            "itd_ref_ms": gcc_phat_itd(r[0], r[1], sample_rate) * 1e3,
            "itd_pred_ms": gcc_phat_itd(p[0], p[1], sample_rate) * 1e3,
        },
    }


def summarise(clips: list[dict]) -> dict:
    """Means of the per-clip figures and pooled spatial medians."""
    def mean(key: str) -> float:
        return float(np.mean([c[key] for c in clips])) if clips else float("nan")

    def pooled(key: str) -> np.ndarray:
        return np.asarray([v for c in clips for v in c["frames"][key]], dtype=np.float64)

    off = [c["clip"] for c in clips if c["clip"]["off_centre"]]
    med = lambda a: float(np.median(a)) if len(a) else float("nan")  # noqa: E731
    return {
        "clips": len(clips),
        "log_mel_l1": mean("log_mel_l1"),
        "mrstft": mean("mrstft"),
        "onset_precision": mean("onset_precision"), "onset_recall": mean("onset_recall"), "onset_f1": mean("onset_f1"),
        "offcentre_frames": int(len(pooled("ild_err_db"))),
        "frame_itd_err_ms_median": med(pooled("itd_err_ms")),
        "frame_ild_err_db_median": med(pooled("ild_err_db")),
        "frame_louder_side_agreement": float(np.mean(pooled("side_agree"))) if len(pooled("side_agree")) else float("nan"),
        "offcentre_clips": len(off),
        "clip_itd_err_ms_median": med([abs(c["itd_ref_ms"] - c["itd_pred_ms"]) for c in off]),
        "clip_ild_err_db_median": med([abs(c["ild_ref_db"] - c["ild_pred_db"]) for c in off]),
        "clip_louder_side_agreement": float(np.mean([np.sign(c["ild_ref_db"]) == np.sign(c["ild_pred_db"]) for c in off]))
        if off else float("nan"),
    }


def plot_pair(path: Path, ref: torch.Tensor, outputs: dict[str, torch.Tensor], sample_rate: int, title: str) -> None:
    """Left-channel log-mel spectrograms of the reference and each reconstruction, stacked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..fsutil import atomic_path

    rows = {"reference": ref, **outputs}
    fig, axes = plt.subplots(len(rows), 1, figsize=(10, 2.2 * len(rows)), sharex=True)
    for ax, (name, wave) in zip(axes, rows.items()):
        mel = log_mel(wave[0], sample_rate).numpy()
        top = max(float(mel.max()) if mel.size else 0.0, -10.5)  # silence: a range matplotlib accepts
        ax.imshow(mel, origin="lower", aspect="auto", vmin=-11.5, vmax=top,
                  extent=(0, wave.shape[-1] / sample_rate, 0, mel.shape[0]), cmap="magma")
        ax.set_ylabel(f"{name}\nmel band")
    axes[0].set_title(title)
    axes[-1].set_xlabel("time (s)")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)


def evaluate_folder(codec, audio: str | Path, split: str | None = "test", plot_dir: str | Path | None = None,
                    limit: int | None = None, plots: int = 6, class_check: bool = False) -> dict:
    """Evaluate `codec` on every audio file of a folder or manifest split; returns the report."""
    from tqdm import tqdm

    from ..media import read_audio

    files = find_audio_files(audio, split)[: limit or None]
    if not files:
        from ..errors import ConfigError

        raise ConfigError(f"{audio}: no audio files to evaluate (split {split!r})")
    sr = codec.sample_rate
    rows: dict[str, list[dict]] = {"codec": [], "mel_griffin_lim": []}
    recon_waves: dict[str, torch.Tensor] = {}
    failed: list[str] = []
    for path in tqdm(files, desc="codec eval", disable=not progress_enabled()):
        try:  # one unreadable or unusable file is reported and skipped, the rest evaluated
            ref = read_audio(path, sr)
            if ref.shape[0] == 1:
                ref = ref.expand(2, -1).contiguous()
            ref = ref[:2]
            recon = codec.decode(codec.encode(ref[None]), ref.shape[-1])[0]
        except PrismError as e:
            failed.append(f"{path}: {e}" if str(path) not in str(e) else str(e))
            continue
        baseline = mel_griffin_lim(ref, sr, codec.hop)
        rows["codec"].append(clip_figures(ref, recon, sr) | {"file": str(path)})
        rows["mel_griffin_lim"].append(clip_figures(ref, baseline, sr) | {"file": str(path)})
        if class_check:
            recon_waves[str(path)] = recon
        if plot_dir is not None and len(rows["codec"]) <= plots:
            plot_pair(Path(plot_dir) / f"{Path(path).stem}.png", ref, {"codec": recon, "mel + Griffin-Lim": baseline},
                      sr, f"{Path(path).name}: reference vs reconstructions")
    report = {
        "checkpoint_step": getattr(codec, "checkpoint_step", None),
        "codec": {"preset": codec.config.name, "sample_rate": sr, "hop": codec.hop, "latent_rate": codec.latent_rate,
                  "latent_channels": codec.latent_channels},
        "summary": {name: summarise(r) for name, r in rows.items()},
        "clips": rows,
        "failed": failed,
    }
    if not rows["codec"]:
        raise PrismError(f"{audio}: none of the {len(files)} file(s) could be evaluated (first: {failed[0]})")
    if class_check:
        from .class_check import class_preservation

        report["summary"]["class_check"] = class_preservation(audio, recon_waves, sr)
    return report
