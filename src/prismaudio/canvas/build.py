"""Build a SynthCanvas dataset: plan every sample, render the missing ones on all workers,
append each manifest line only after that sample's files exist, and write the README.

Determinism: sample specs (classes, split) come from the build seed; each sample renders from
its own seed (derived from the build seed, its group and index), so the result does not
depend on the worker count or on the order samples finish in.

Resume: a rerun with the same options skips samples whose manifest line and files exist. A
torn last line (an interrupted write) and lines whose files are missing are dropped first,
so an interrupted build never leaves a half-written sample in the manifest.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


from ..config import to_dict
from ..errors import ConfigError
from ..media import atomic_path
from .classes import SoundClass, builtin_classes, check_distinct, select_classes
from .manifest import CLASSES_NAME, MANIFEST_NAME, read_lines
from .options import CanvasConfig
from .sampler import SampleSpec, plan_samples
from .soundbank import check_recordings, check_soundfont, default_soundfont
from .sprites import check_emoji_font, sprite_image

log = logging.getLogger(__name__)

BUILD_VERSION = 1
BUILD_INFO = "build.json"
SUBDIRS = ("video", "audio", "degraded")


@dataclass
class BuildResult:
    outdir: Path
    total: int
    rendered: int
    skipped: int
    seconds: float
    workers: int
    samples: list[dict] = field(default_factory=list, repr=False)

    @property
    def samples_per_second_per_core(self) -> float:
        return self.rendered / self.seconds / self.workers if self.seconds > 0 and self.rendered else 0.0


def resolve_classes(cfg: CanvasConfig) -> list[SoundClass]:
    """The classes of a build: built-ins (or a sound library's), a user's bank (replace /
    extend), then the subset."""
    if cfg.library:
        from .library_classes import library_sound_classes

        classes = library_sound_classes(cfg.library, cfg.emoji_font)
    else:
        classes = builtin_classes()
    if cfg.sound_bank:
        from .userbank import combine, load_user_bank

        keep = [] if cfg.sound_bank_mode == "replace" else classes
        user = load_user_bank(cfg.sound_bank, {c.sprite for c in keep})
        classes = combine(classes, user, cfg.sound_bank_mode)
    classes = select_classes(classes, cfg.classes)
    if not classes:
        where = f" in sound bank {cfg.sound_bank}" if cfg.sound_bank else ""
        raise ConfigError(f"no sound classes to build from{where} (need at least one <class>/*.wav folder)")
    check_distinct(classes)
    return classes


def check_environment(cfg: CanvasConfig, classes: list[SoundClass]) -> str | None:
    """Fail early, in one line, on a missing soundfont, emoji font, recording or sprite."""
    soundfont = cfg.soundfont or default_soundfont()
    check_soundfont(soundfont, classes)
    check_recordings(classes)
    check_emoji_font(cfg.emoji_font, [c.sprite for c in classes])
    for c in classes:
        try:
            sprite_image(c.sprite, cfg.emoji_font)
        except ConfigError as e:
            raise ConfigError(f"sound class '{c.name}': {e}") from None
    return soundfont


def prepare_outdir(outdir: Path) -> None:
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        for sub in SUBDIRS:
            (outdir / sub).mkdir(exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe.", dir=outdir)
        os.close(fd)
        os.unlink(probe)
    except (PermissionError, FileExistsError, NotADirectoryError, OSError) as e:
        raise ConfigError(f"output folder {outdir} is not writable ({getattr(e, 'strerror', None) or e})") from None


def _check_fingerprint(outdir: Path, info: dict) -> None:
    path = outdir / BUILD_INFO
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            old = None
        if old != info:
            diff = ""
            if isinstance(old, dict):
                for key in sorted(set(old.get("config", {})) | set(info["config"])):
                    a, b = old.get("config", {}).get(key), info["config"].get(key)
                    if a != b:
                        diff = f" ({key}: {a!r} -> {b!r})"
                        break
                else:
                    diff = " (classes, soundfont or builder version differ)"
            raise ConfigError(f"{outdir} holds a SynthCanvas build with other options{diff}; use another folder or rerun with the same options")
    else:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _files_of(line: dict) -> list[str]:
    return [line["video"], line["audio"]] + [d["path"] for d in line.get("degradations", [])]


def _resume(outdir: Path, specs: list[SampleSpec]) -> dict[str, dict]:
    """Finished samples (id -> line); rewrites the manifest without torn or orphan lines."""
    for sub in SUBDIRS:  # temporary files of an interrupted write
        for p in (outdir / sub).glob(".*"):
            p.unlink(missing_ok=True)
    path = outdir / MANIFEST_NAME
    raw = read_lines(path)
    wanted = {s.id for s in specs}
    done: dict[str, dict] = {}
    for line in raw:
        sid = line.get("id")
        if sid in wanted and sid not in done and all((outdir / f).is_file() for f in _files_of(line)):
            done[sid] = line
    text = "".join(json.dumps(v, ensure_ascii=False, separators=(",", ":")) + "\n" for v in done.values())
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
        if raw and len(done) != len(raw):
            log.info("resume: dropped %d incomplete or duplicate manifest line(s)", len(raw) - len(done))
    return done


# ---- worker side --------------------------------------------------------------------------
_WORKER = None


def _init_worker(cfg: dict, classes: list[dict], outdir: str, soundfont: str | None) -> None:
    global _WORKER
    from .render_sample import SampleRenderer

    _WORKER = SampleRenderer(cfg, classes, outdir, soundfont)


def _render(spec: SampleSpec) -> dict:
    return _WORKER.render(spec)


def run_specs(render, init_worker, specs: list, workers: int, initargs: tuple):
    """render(spec) for each spec, in this process or in `workers` spawned ones (each set up
    by init_worker(*initargs)), yielding results as they finish. Shared by both worlds'
    builds; `render` and `init_worker` must be module-level functions (they are pickled)."""
    if workers <= 1 or len(specs) <= 1:
        init_worker(*initargs)
        for spec in specs:
            yield render(spec)
        return
    ctx = mp.get_context("spawn")  # no fork of a parent that may hold threads (torch, BLAS)
    with ctx.Pool(workers, initializer=init_worker, initargs=initargs) as pool:
        try:
            yield from pool.imap_unordered(render, specs, chunksize=1)
        except BaseException:
            pool.terminate()
            raise


def build(outdir: str | Path, cfg: CanvasConfig, progress: bool = True) -> BuildResult:
    """Build (or finish) the dataset in `outdir`. Returns what was rendered and how fast.

    With `cfg.workers > 1` the workers are spawned processes: a script calling this must
    guard its entry point with `if __name__ == "__main__":`.
    """
    from tqdm import tqdm

    from .report import write_class_table, write_readme

    outdir = Path(outdir)
    classes = resolve_classes(cfg)
    soundfont = check_environment(cfg, classes)
    prepare_outdir(outdir)
    class_dicts = [c.to_dict() for c in classes]
    info = {"version": BUILD_VERSION, "config": cfg.fingerprint(), "soundfont": soundfont, "classes": [c["name"] for c in class_dicts]}
    _check_fingerprint(outdir, info)
    write_class_table(outdir / CLASSES_NAME, class_dicts)
    specs = plan_samples(cfg, classes)
    done = _resume(outdir, specs)
    todo = [s for s in specs if s.id not in done]
    workers = max(1, min(cfg.workers, len(todo)))
    log.info("SynthCanvas: %d classes, %d samples (%d done, %d to render) on %d worker(s) -> %s",
             len(classes), len(specs), len(done), len(todo), workers, outdir)
    start = time.perf_counter()
    initargs = (to_dict(cfg), class_dicts, str(outdir), soundfont)
    manifest = outdir / MANIFEST_NAME
    with open(manifest, "a", encoding="utf-8") as f, tqdm(total=len(todo), unit="sample", disable=not progress, desc="canvas") as bar:
        for line in run_specs(_render, _init_worker, todo, workers, initargs):
            f.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")  # one write: whole line or torn tail
            f.flush()
            os.fsync(f.fileno())
            done[line["id"]] = line
            bar.update(1)
    seconds = time.perf_counter() - start
    order = {s.id: i for i, s in enumerate(specs)}
    lines = sorted(done.values(), key=lambda d: order[d["id"]])
    with atomic_path(manifest) as tmp:
        tmp.write_text("".join(json.dumps(v, ensure_ascii=False, separators=(",", ":")) + "\n" for v in lines), encoding="utf-8")
    write_readme(outdir, cfg, class_dicts, lines, soundfont)
    result = BuildResult(outdir, len(specs), len(todo), len(specs) - len(todo), seconds, workers, lines)
    if todo:
        log.info("rendered %d samples in %.1f s: %.2f samples/s per core", len(todo), seconds, result.samples_per_second_per_core)
    return result
