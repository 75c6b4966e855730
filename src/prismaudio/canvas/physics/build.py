"""Build a PhysWorld dataset: plan every clip, render the missing ones on all workers,
append each manifest line only after that clip's files exist (SynthCanvas's builder rules:
deterministic by seed, independent of the worker count, resumable, nothing half-written).

Splits: train / val / test with `cfg.train`, `cfg.val`, `cfg.test` clips. The test split's
scenes use object models and floor / backdrop photos that train and val never contain
(objects.py). Per clip: 1..max_objects objects; a `still_fraction` of clips where nothing moves.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import time
from pathlib import Path

import numpy as np

from ...config import to_dict
from ...fsutil import atomic_path
from ..build import BuildResult, _check_fingerprint, _resume, prepare_outdir, run_specs
from ..manifest import CLASSES_NAME, MANIFEST_NAME
from ..report import write_class_table
from ..soundbank import check_recordings, check_soundfont, default_soundfont
from .objects import BACKDROPS, FLOORS, HELD_OUT_BACKDROPS, HELD_OUT_FLOORS
from .options import PhysWorldConfig
from .render_clip import ClipSpec
from .sounds import choose_sounds

log = logging.getLogger(__name__)

BUILD_VERSION = 1
SPLIT_CODE = {"train": 11, "val": 12, "test": 13}


def clip_seed(build_seed: int, split: str, index: int) -> int:
    return int(np.random.SeedSequence([build_seed, SPLIT_CODE[split], index]).generate_state(1)[0])


def plan_clips(cfg: PhysWorldConfig) -> list[ClipSpec]:
    """Ids, splits, object counts and which clips are still: from the build seed alone."""
    specs = []
    for split in ("train", "val", "test"):
        rng = np.random.default_rng([cfg.seed, SPLIT_CODE[split]])
        for k in range(getattr(cfg, split)):
            still = bool(rng.random() < cfg.still_fraction)
            n = int(rng.integers(1, cfg.max_objects + 1))
            specs.append(ClipSpec(f"physics_{split}_{k:05d}", split, k, clip_seed(cfg.seed, split, k), n, still))
    return specs


def check_environment(cfg: PhysWorldConfig) -> str | None:
    """pybullet, the soundfont and the recordings present, in one line each if not."""
    from ...errors import ConfigError

    try:
        quiet_import_pybullet()
    except ImportError:
        raise ConfigError("PhysWorld needs pybullet: pip install 'prismaudio[physics]'") from None
    import skimage.data

    for name in set(FLOORS + HELD_OUT_FLOORS + BACKDROPS + HELD_OUT_BACKDROPS):
        if not callable(getattr(skimage.data, name, None)):
            raise ConfigError(f"PhysWorld: scikit-image has no bundled photo '{name}'")
    sounds = choose_sounds(cfg.library)
    soundfont = cfg.soundfont or default_soundfont()
    classes = list(sounds.classes.values())
    check_soundfont(soundfont, classes)
    check_recordings(classes)
    return soundfont


def quiet_import_pybullet() -> None:
    """Import pybullet without its build-time banner (written from C to stderr, so the fd is muted)."""
    import sys

    if "pybullet" in sys.modules:
        return
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        import pybullet  # noqa: F401
        import pybullet_data  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


_WORKER = None


def _init_worker(cfg: dict, outdir: str, soundfont: str | None) -> None:
    global _WORKER
    from .render_clip import ClipRenderer

    quiet_import_pybullet()
    _WORKER = ClipRenderer(cfg, outdir, soundfont)


def _render(spec: ClipSpec) -> dict | str:
    try:
        return _WORKER.render(spec)
    except Exception as e:  # one bad clip is skipped and counted, the build goes on
        log.warning("%s failed: %s: %s", spec.id, type(e).__name__, e)
        return f"{spec.id}: {type(e).__name__}: {e}"


def build(outdir: str | Path, cfg: PhysWorldConfig, progress: bool = True) -> BuildResult:
    """Build (or finish) the PhysWorld dataset in `outdir`. A script calling this with
    workers > 1 must guard its entry point with `if __name__ == "__main__":`."""
    from tqdm import tqdm

    from .report import write_readme

    outdir = Path(outdir)
    soundfont = check_environment(cfg)
    prepare_outdir(outdir)
    (outdir / "physics").mkdir(exist_ok=True)
    sounds = choose_sounds(cfg.library)
    class_dicts = [sounds.classes[n].to_dict() for n in sorted(sounds.classes)]
    info = {"version": BUILD_VERSION, "world": "physics", "config": cfg.fingerprint(), "soundfont": soundfont,
            "classes": [c["name"] for c in class_dicts]}
    _check_fingerprint(outdir, info)
    write_class_table(outdir / CLASSES_NAME, class_dicts)
    specs = plan_clips(cfg)
    done = _resume(outdir, specs)
    priority = {"test": 0, "val": 1, "train": 2}  # the held-out split first: usable while train still renders
    todo = sorted((s for s in specs if s.id not in done), key=lambda s: (priority[s.split], s.index))
    workers = max(1, min(cfg.workers, len(todo)))
    log.info("PhysWorld: %d clips (%d done, %d to render) on %d worker(s) -> %s", len(specs), len(done), len(todo), workers, outdir)
    start = time.perf_counter()
    failed: list[str] = []
    manifest = outdir / MANIFEST_NAME
    initargs = (to_dict(cfg), str(outdir), soundfont)
    with open(manifest, "a", encoding="utf-8") as f, tqdm(total=len(todo), unit="clip", disable=not progress, desc="physworld") as bar:
        for line in run_specs(_render, _init_worker, todo, workers, initargs):
            bar.update(1)
            if isinstance(line, str):
                failed.append(line)
                continue
            f.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
            f.flush()
            os.fsync(f.fileno())
            done[line["id"]] = line
    seconds = time.perf_counter() - start
    order = {s.id: i for i, s in enumerate(specs)}
    lines = sorted(done.values(), key=lambda d: order[d["id"]])
    with atomic_path(manifest) as tmp:
        tmp.write_text("".join(json.dumps(v, ensure_ascii=False, separators=(",", ":")) + "\n" for v in lines), encoding="utf-8")
    write_readme(outdir, cfg, lines, sounds)
    rendered = len(todo) - len(failed)
    result = BuildResult(outdir, len(specs), rendered, len(specs) - len(todo), seconds, workers, lines)
    result.failed = failed
    if failed:
        log.warning("%d of %d clips failed (rerun to retry them): %s", len(failed), len(todo), failed[0])
    return result
