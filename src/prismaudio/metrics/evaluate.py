"""The evaluation driver: pair files by stem, load and check them, run YAMNet in batches, run every metric.

Bad input never stops the run: unpaired stems are listed and skipped, unreadable files are
skipped with their reason, NaN samples are zeroed and noted, mono files get spatial metrics
n/a, other sample rates are resampled to 16 kHz, a manifest that does not match the folders
is reported and used where it matches. Only "nothing to evaluate" is an error.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..audio_models.data import sample_class, video_motion
from ..audio_models.yamnet import YamNet, YamNetOutput, shared
from ..errors import CheckpointError, ConfigError, MediaError, PrismError
from ..fsutil import atomic_path, read_jsonl
from ..log import progress_enabled
from ..planner.plan import Plan, PlanError
from .aesthetic import AestheticMetrics
from .base import SAMPLE_RATE, EvalPair
from .fd import FrechetDistance
from .inception import InceptionScore
from .kl import PairedKL
from .semantic import SemanticMetrics
from .spatial import SpatialMetrics
from .temporal import TemporalMetrics

log = logging.getLogger(__name__)
AUDIO_EXTS = {".wav", ".flac", ".ogg", ".oga", ".mp3", ".m4a", ".aac", ".opus"}
VIDEO_EXTS = {".mp4", ".mov", ".mkv", ".webm", ".avi"}
METRICS = {"fd": FrechetDistance, "kl": PairedKL, "inception": InceptionScore, "semantic": SemanticMetrics,
           "temporal": TemporalMetrics, "aesthetic": AestheticMetrics, "spatial": SpatialMetrics}


@dataclass
class EvalResult:
    summary: dict
    per_sample: dict[str, dict]
    problems: list[str] = field(default_factory=list)
    pairs: list[EvalPair] = field(default_factory=list)
    failed: int = 0  # pairs that could not be evaluated (unreadable, NaN/inf), of `failed + len(pairs)`


def list_files(folder: str | Path, exts: set[str], what: str) -> dict[str, Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise PrismError(f"{folder}: {what} folder not found")
    files = {p.stem: p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in exts}
    return files


@dataclass
class ManifestRow:
    """What the metrics read from a manifest row: the plan, the class, the video."""

    plan: Plan | None
    sound_class: str | None
    video: Path | None
    notes: list[str] = field(default_factory=list)


def load_manifest(path: str | Path) -> dict[str, ManifestRow]:
    """Rows by id. A SynthCanvas manifest goes through its typed loader
    (prismaudio.canvas.manifest; class = the single-source sample's class); any other JSONL
    with an `id` per row may give `plan` (dict or path), `class` and `video` (path)."""
    path = Path(path)
    if not path.is_file():
        raise PrismError(f"{path}: manifest not found")
    try:
        lines = read_jsonl(path)
    except ConfigError as e:
        raise PrismError(str(e)) from None
    for n, row in lines:
        if "id" not in row:
            raise PrismError(f"{path}:{n}: row without an 'id'")
    raw = [row for _, row in lines]
    if raw and all("sources" in r and "group" in r for r in raw):
        from ..canvas.manifest import load_manifest as load_canvas

        return {s.id: ManifestRow(s.plan, sample_class(s), s.video_path if s.video_path.is_file() else None)
                for s in load_canvas(path)}
    root, rows = path.parent, {}
    for row in raw:
        notes: list[str] = []
        plan = _plan_of(row, root, notes)
        video = root / row["video"] if isinstance(row.get("video"), str) and (root / row["video"]).is_file() else None
        cls = row.get("class") if isinstance(row.get("class"), str) else None
        rows[str(row["id"])] = ManifestRow(plan, cls, video, notes)
    return rows


def _read(path: Path) -> np.ndarray:
    """[C, N] float32 at 16 kHz from any audio file."""
    from ..media import read_audio

    return read_audio(path, SAMPLE_RATE).numpy()


def _load_audio(path: Path, notes: list[str]) -> np.ndarray:
    wave = _read(path)
    if wave.shape[0] > 2:
        notes.append(f"{path.name}: {wave.shape[0]} channels, first two kept")
        wave = wave[:2]
    bad = ~np.isfinite(wave)
    if bad.any():  # zeroing them would give finite-looking metrics for broken audio
        raise MediaError(f"{path}: {int(bad.sum())} NaN/inf samples; refusing to evaluate it")
    if wave.shape[1] == 0 or not np.any(wave):
        notes.append(f"{path.name}: silent")
    return wave


def _plan_of(row: dict, root: Path, notes: list[str]) -> Plan | None:
    try:
        if isinstance(row.get("plan"), dict):
            return Plan.from_dict(row["plan"])
        if isinstance(row.get("plan"), str):
            return Plan.load(root / row["plan"])
    except PlanError as e:
        notes.append(f"manifest plan unusable: {e}")
    return None


def cached_analyze(yam: YamNet, waves: list[np.ndarray], cache: Path | None) -> list[YamNetOutput]:
    """YAMNet outputs, read from / written to an on-disk cache keyed by the audio's bytes."""
    if cache is None:
        return yam.analyze(waves)
    cache.mkdir(parents=True, exist_ok=True)
    monos = [np.ascontiguousarray(w.mean(0) if w.ndim == 2 else w, dtype=np.float32) for w in waves]
    keys = [hashlib.sha1(m.tobytes()).hexdigest() for m in monos]
    out: list[YamNetOutput | None] = [None] * len(monos)
    for i, k in enumerate(keys):
        f = cache / f"{k}.npz"
        if f.is_file():
            try:
                z = np.load(f)
                out[i] = YamNetOutput(z["embeddings"], z["logits"])
            except (OSError, ValueError, KeyError):
                pass
    todo = [i for i, o in enumerate(out) if o is None]
    for i, o in zip(todo, yam.analyze([monos[i] for i in todo]) if todo else []):
        out[i] = o
        with atomic_path(cache / f"{keys[i]}.npz") as tmp:
            np.savez(tmp, embeddings=o.embeddings, logits=o.logits)
    return out  # type: ignore[return-value]


def cached_motion(video: Path, cache: Path | None) -> np.ndarray:
    """Motion-energy curve of a video, cached on disk by path, size and modification time."""
    if cache is None:
        return video_motion(video)
    st = video.stat()
    key = hashlib.sha1(f"{video.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()
    f = cache / f"motion-{key}.npy"
    if f.is_file():
        try:
            return np.load(f)
        except (OSError, ValueError):
            pass
    motion = video_motion(video)
    cache.mkdir(parents=True, exist_ok=True)
    with atomic_path(f) as tmp:
        np.save(tmp, motion)
    return motion


def build_pairs(pred_dir, gt_dir, videos_dir=None, manifest=None,
                cache: Path | None = None) -> tuple[list[EvalPair], list[str], int]:
    problems: list[str] = []
    preds = list_files(pred_dir, AUDIO_EXTS, "--pred-audio")
    gts = list_files(gt_dir, AUDIO_EXTS, "--gt-audio")
    if not preds:
        raise PrismError(f"{pred_dir}: no audio files ({', '.join(sorted(AUDIO_EXTS))})")
    if not gts:
        raise PrismError(f"{gt_dir}: no audio files ({', '.join(sorted(AUDIO_EXTS))})")
    only_pred, only_gt = sorted(set(preds) - set(gts)), sorted(set(gts) - set(preds))
    if only_pred:
        problems.append(f"{len(only_pred)} prediction(s) without a reference, skipped: {', '.join(only_pred[:20])}")
    if only_gt:
        problems.append(f"{len(only_gt)} reference(s) without a prediction, skipped: {', '.join(only_gt[:20])}")
    stems = sorted(set(preds) & set(gts))
    if not stems:
        raise PrismError(f"no file stems in common between {pred_dir} and {gt_dir}")
    videos = list_files(videos_dir, VIDEO_EXTS, "--videos") if videos_dir else {}
    rows: dict[str, ManifestRow] = {}
    if manifest:
        rows = load_manifest(manifest)
        missing = [s for s in stems if s not in rows]
        if missing:
            problems.append(f"{len(missing)} stem(s) not in the manifest (no plan/class for them): {', '.join(missing[:20])}")
        extra = len(set(rows) - set(stems))
        if extra:
            problems.append(f"{extra} manifest row(s) have no paired files (ignored)")
    pairs, failed = [], 0
    for stem in tqdm(stems, desc="load", leave=False, disable=not progress_enabled()):
        notes: list[str] = []
        try:
            pred = _load_audio(preds[stem], notes)
            gt = _load_audio(gts[stem], notes)
        except PrismError as e:
            problems.append(f"{stem}: skipped ({e})")
            failed += 1
            continue
        if pred.shape[1] != gt.shape[1]:
            notes.append(f"length differs: prediction {pred.shape[1] / SAMPLE_RATE:.2f} s, reference {gt.shape[1] / SAMPLE_RATE:.2f} s")
        row = rows.get(stem)
        if row is not None:
            notes.extend(row.notes)
        motion = None
        video = videos.get(stem) or (row.video if row else None)
        if video is not None:
            try:
                motion = cached_motion(video, cache)
            except PrismError as e:
                notes.append(f"video unusable ({e}): DeSync n/a")
        pairs.append(EvalPair(stem, pred, gt, row.plan if row else None, row.sound_class if row else None, motion, notes=notes))
    if not pairs:
        raise PrismError(f"none of the {len(stems)} pair(s) could be read; nothing to evaluate")
    return pairs, problems, failed


def evaluate(pred_dir, gt_dir, videos_dir=None, manifest=None, cache: Path | None = None,
             metrics: tuple[str, ...] = tuple(METRICS)) -> EvalResult:
    pairs, problems, failed = build_pairs(pred_dir, gt_dir, videos_dir, manifest, cache)
    yam = shared()
    outs = cached_analyze(yam, [p.pred for p in pairs], None)
    gts = cached_analyze(yam, [p.gt for p in pairs], cache)
    for p, o, g in zip(pairs, outs, gts):
        p.pred_yamnet, p.gt_yamnet = o, g
    if not videos_dir and not any(p.motion is not None for p in pairs):
        problems.append("no videos (--videos or manifest 'video'): DeSync n/a")
    if not manifest:
        problems.append("no --manifest: onset F1 vs events, side accuracy, class metrics and CLAP n/a")
    result = run_metrics(pairs, metrics, problems)
    result.failed = failed
    return result


def run_metrics(pairs: list[EvalPair], metrics: tuple[str, ...], problems: list[str]) -> EvalResult:
    instances = []
    for name in metrics:
        try:
            instances.append(METRICS[name]())
        except CheckpointError as e:
            problems.append(f"{name} metrics n/a: {e}")
    for m in instances:
        if hasattr(m, "prepare"):
            m.prepare(pairs)
    per_sample: dict[str, dict] = {}
    for p in tqdm(pairs, desc="metrics", leave=False, disable=not progress_enabled()):
        row: dict = {}
        for m in instances:
            row.update(m.update(p))
        if p.notes:
            row["notes"] = list(p.notes)
        per_sample[p.id] = row
    summary: dict = {}
    for m in instances:
        summary.update(m.compute())
        if getattr(m, "reasons", None):
            problems.extend(f"{m.name}: {r}" for r in sorted(m.reasons))
    summary["num_samples"] = len(pairs)
    return EvalResult(summary, per_sample, problems, pairs)
