"""`prismaudio library build`: plan every recording, process the missing ones on all workers,
curate recorded classes with YAMNet, then write library.json, ATTRIBUTION.md and
build-report.json (class counts, dropped files and why, YAMNet agreement, timings).

Resume: `.build-state.json` remembers, per output file, the fingerprint of what made it
(source path, size and mtime, or soundfont note; the sample rate; the processing version),
its duration and its YAMNet tags. A rerun reuses every file whose fingerprint is unchanged
and whose output exists, and only processes the rest. The state is saved as work goes, so
an interrupted build loses at most the files in flight.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import re
import time
from dataclasses import dataclass, field
from dataclasses import replace as replace_dc
from pathlib import Path
from typing import Literal

from ..errors import ConfigError
from ..fsutil import atomic_path
from .catalog import LibraryClass
from .jobs import Job, content_hash, file_fingerprint, init_worker, run_job
from .report import BuildResult, finish_build

log = logging.getLogger(__name__)

STATE_NAME = ".build-state.json"
REPORT_NAME = "build-report.json"
ATTRIBUTION_NAME = "ATTRIBUTION.md"
SAMPLE_RATES = (16000, 22050, 32000, 44100, 48000)


@dataclass
class LibraryBuildConfig:
    out: str = "data/library"
    sample_rate: int = 44100
    user: str | None = None                       # a folder of <class>/*.wav (+ classes.yaml)
    mode: Literal["extend", "replace"] = "extend"
    soundfont: str | None = None                  # None: FluidR3 when installed, else TimGM6mb
    recordings: bool = True                       # the Debian packages' recordings
    soundfont_classes: bool = True
    curate: bool = True                           # YAMNet curation and agreement
    workers: int = 2
    table: str | None = None                      # another recordings.yaml (tests)

    def __post_init__(self) -> None:
        if self.sample_rate not in SAMPLE_RATES:
            raise ValueError(f"sample_rate {self.sample_rate} is not supported (use one of {SAMPLE_RATES})")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")


def slug(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return s or "class"


def _stem(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.")[:80] or "sound"


def _load_state(root: Path) -> dict:
    path = root / STATE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_state(root: Path, state: dict) -> None:
    with atomic_path(root / STATE_NAME) as tmp:
        tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")


# ---- planning --------------------------------------------------------------------------
@dataclass
class Plan:
    classes: dict[str, LibraryClass] = field(default_factory=dict)
    jobs: list[Job] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)
    labels: dict[str, int] | None = None


def _add_class(plan: Plan, cls: LibraryClass, slugs: dict[str, str], replace: bool = False) -> bool:
    if plan.labels is not None:
        unknown = [a for a in cls.audioset if a not in plan.labels]
        if unknown:
            plan.problems.append(f"class '{cls.name}': '{unknown[0]}' is not an AudioSet label YAMNet knows; label dropped")
            cls = replace_dc(cls, audioset=tuple(a for a in cls.audioset if a in plan.labels))
    if cls.name in plan.classes and not replace:
        plan.problems.append(f"class '{cls.name}' ({cls.origin}) clashes with the {plan.classes[cls.name].origin} class of that name; skipped")
        return False
    s = slug(cls.name)
    if slugs.get(s, cls.name) != cls.name:
        plan.problems.append(f"class '{cls.name}' clashes with class '{slugs[s]}' (both would be folder '{s}'); skipped")
        return False
    if cls.name in plan.classes:
        plan.problems.append(f"class '{cls.name}': the user's recordings replace the built-in ones")
        plan.jobs = [j for j in plan.jobs if j.class_name != cls.name]
    slugs[s] = cls.name
    plan.classes[cls.name] = cls
    return True


def _soundfont_part(plan: Plan, cfg: LibraryBuildConfig, slugs: dict[str, str]) -> None:
    from ..canvas.soundbank import check_soundfont, default_soundfont
    from .soundfont import DESKTOP_LICENCE, DESKTOP_PACKAGE, desktop_licence, note_plan, soundfont_classes, soundfont_licence

    classes = soundfont_classes()
    soundfont = cfg.soundfont or default_soundfont()
    check_soundfont(soundfont, [c.sound for c in classes])
    st = Path(soundfont).stat()
    for c in classes:
        s = c.sound
        lib = LibraryClass(s.name, s.kind, s.description, s.audioset, c.visual_words, c.origin, sprite=s.sprite)
        if not _add_class(plan, lib, slugs):
            continue
        if c.origin == "desktop":
            for f in s.recipe.files:
                path = Path(f)
                if not path.is_file():
                    plan.problems.append(f"{path}: desktop sound not found (class '{s.name}'); skipped")
                    continue
                plan.jobs.append(Job(s.name, s.kind, f"{slug(s.name)}/{_stem(path.stem)}.flac", DESKTOP_PACKAGE,
                                     desktop_licence(path) or DESKTOP_LICENCE, str(path), file_fingerprint(path, cfg.sample_rate)))
            continue
        r = s.recipe
        for key, velocity in note_plan(r):
            what = f"{'drum key' if r.source == 'drum' else 'program ' + str(r.program)} key {key} velocity {velocity}"
            fp = f"note:{soundfont}:{st.st_size}:{st.st_mtime_ns}:{r}:{s.kind}:{key}:{velocity}:{cfg.sample_rate}"
            plan.jobs.append(Job(s.name, s.kind, f"{slug(s.name)}/k{key:03d}-v{velocity:03d}.flac",
                                 f"soundfont {Path(soundfont).name}", soundfont_licence(soundfont),
                                 f"soundfont:{Path(soundfont).name}:{what}", fp, note=(key, velocity)))


def _recorded_part(plan: Plan, classes, files, cfg: LibraryBuildConfig, slugs: dict[str, str],
                   state: dict, replace: bool) -> None:
    """Classes and their files; identical files (same bytes) are one recording, kept once."""
    hashes = state.setdefault("hashes", {})
    seen: dict[str, str] = state.setdefault("_seen", {})
    by_class: dict[str, list] = {}
    for f in files:
        by_class.setdefault(f.class_name, []).append(f)
    for c in classes:
        if not by_class.get(c.name):
            continue
        origin = "user" if c.files.keys() == {"user"} else "recording"
        lib = LibraryClass(c.name, c.kind, c.description or c.name, tuple(c.audioset), tuple(c.visual or [c.name]),
                           origin, sprite=c.sprite)
        if not _add_class(plan, lib, slugs, replace=replace):
            continue
        used: set[str] = set()
        for f in by_class[c.name]:
            try:
                fp = file_fingerprint(f.path, cfg.sample_rate)
                digest = hashes.get(fp) or content_hash(f.path)
            except OSError as e:
                plan.dropped.append({"file": str(f.path), "class": c.name, "reason": f"unreadable ({e.strerror or e})"})
                continue
            hashes[fp] = digest
            if digest in seen:
                plan.dropped.append({"file": str(f.path), "class": c.name, "reason": f"same audio as {seen[digest]}"})
                continue
            seen[digest] = str(f.path)
            stem = _stem(f"{f.package.split('-')[0]}-{f.path.stem}" if f.package != "user" else f.path.stem)
            rel, i = f"{slug(c.name)}/{stem}.flac", 1
            while rel in used:
                i += 1
                rel = f"{slug(c.name)}/{stem}-{i}.flac"
            used.add(rel)
            plan.jobs.append(Job(c.name, c.kind, rel, f.package, f.licence, str(f.path), fp))


def make_plan(cfg: LibraryBuildConfig, state: dict) -> Plan:
    from .sources import load_recording_table, resolve_sources, user_classes

    from .curate import known_labels

    plan = Plan(labels=known_labels())
    slugs: dict[str, str] = {}
    state["_seen"] = {}
    if cfg.mode == "extend":
        if cfg.soundfont_classes:
            _soundfont_part(plan, cfg, slugs)
        if cfg.recordings:
            table = load_recording_table(cfg.table)
            files, _ = resolve_sources(table, plan.problems)
            _recorded_part(plan, table.classes, files, cfg, slugs, state, replace=False)
    if cfg.user:
        classes, files = user_classes(cfg.user, plan.problems)
        _recorded_part(plan, classes, files, cfg, slugs, state, replace=True)
    state.pop("_seen", None)
    if not plan.classes:
        raise ConfigError("nothing to build: no soundfont classes, no installed package and no user folder gave a class")
    return plan


# ---- running ---------------------------------------------------------------------------
def _run(jobs: list[Job], cfg: LibraryBuildConfig, root: Path, soundfont: str | None):
    initargs = (str(root), cfg.sample_rate, soundfont)
    if cfg.workers <= 1 or len(jobs) <= 1:
        init_worker(*initargs)
        for job in jobs:
            yield job, run_job(job)
        return
    ctx = mp.get_context("spawn")  # no fork of a parent that may hold threads (torch, onnx)
    by_rel = {j.rel: j for j in jobs}
    with ctx.Pool(cfg.workers, initializer=init_worker, initargs=initargs) as pool:
        for outcome in pool.imap_unordered(run_job, jobs, chunksize=4):
            yield by_rel[outcome.rel], outcome


def build_library(cfg: LibraryBuildConfig, progress: bool = True) -> BuildResult:
    """Build (or finish) the library in cfg.out. Scripts calling this with workers > 1 must
    guard their entry point with `if __name__ == "__main__":` (spawned workers)."""
    from tqdm import tqdm

    from ..canvas.soundbank import default_soundfont

    start = time.perf_counter()
    root = Path(cfg.out)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"library folder {root} is not writable ({e.strerror or e})") from None
    state = _load_state(root)
    done: dict = state.setdefault("files", {})
    plan = make_plan(cfg, state)
    current = {j.fingerprint for j in plan.jobs}
    state["hashes"] = {fp: h for fp, h in state.get("hashes", {}).items() if fp in current}
    def reusable(job: Job) -> bool:  # same source, same settings: its file, or the reason it has none
        entry = done.get(job.rel, {})
        return entry.get("fingerprint") == job.fingerprint and (bool(entry.get("reason")) or (root / job.rel).is_file())

    todo = [j for j in plan.jobs if not reusable(j)]
    log.info("sound library: %d classes, %d recordings (%d to process, %d reused) -> %s",
             len(plan.classes), len(plan.jobs), len(todo), len(plan.jobs) - len(todo), root)
    soundfont = cfg.soundfont or default_soundfont()
    last_save = time.monotonic()
    with tqdm(total=len(todo), unit="file", disable=not progress, desc="library") as bar:
        for job, outcome in _run(todo, cfg, root, soundfont):
            done[job.rel] = {"fingerprint": job.fingerprint, "duration": outcome.duration, "reason": outcome.reason}
            bar.update(1)
            if time.monotonic() - last_save > 10:
                _save_state(root, state)
                last_save = time.monotonic()
    _save_state(root, state)
    result = finish_build(root, cfg, plan, state, progress)
    _save_state(root, state)
    result.processed, result.reused = len(todo), len(plan.jobs) - len(todo)
    result.seconds = time.perf_counter() - start
    result.report["build_seconds"] = round(result.seconds, 1)
    with atomic_path(root / REPORT_NAME) as tmp:
        tmp.write_text(json.dumps(result.report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return result

