"""The work folder of a streamed generate: per-window results saved atomically, so that an
interrupted run resumes where it stopped when the same command is given again.

    <output folder>/<name>.work/
        manifest.json        what the windows are made from (video, options, windows)
        w00000.plan.json     window 0's plan (times from the window's start)
        w00000.npy           window 0's stereo audio, float32 [2, n], before mastering
        ...
        joined.w64           the windows crossfaded, before mastering (rebuilt on resume)

A window counts as done when its audio file exists (written after its plan). A work folder
whose manifest differs (another video, seed, model, plan...) is cleared rather than mixed in.
The folder is removed once the outputs are written.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np

from ..fsutil import atomic_path
from ..planner.plan import Plan

log = logging.getLogger(__name__)


class WorkDir:
    def __init__(self, folder: str | Path, manifest: dict):
        self.folder = Path(folder)
        self.manifest = manifest

    def open(self) -> int:
        """Prepare the folder; returns how many windows are already done (a prefix: windows are
        made in order, so one missing window means the ones after it are redone)."""
        index = self.folder / "manifest.json"
        if index.is_file():
            try:
                old = json.loads(index.read_text())
            except (OSError, json.JSONDecodeError):
                old = None
            if old != self.manifest:
                log.warning("%s: left by a run with other inputs or options; starting over", self.folder)
                shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        if not index.is_file():
            with atomic_path(index) as tmp:
                tmp.write_text(json.dumps(self.manifest, indent=1) + "\n")
        done = 0
        while self.audio_path(done).is_file() and self.plan_path(done).is_file():
            done += 1
        return done

    def audio_path(self, k: int) -> Path:
        return self.folder / f"w{k:05d}.npy"

    def plan_path(self, k: int) -> Path:
        return self.folder / f"w{k:05d}.plan.json"

    @property
    def joined_path(self) -> Path:
        return self.folder / "joined.w64"

    def save(self, k: int, plan: Plan, audio: np.ndarray) -> None:
        plan.save(self.plan_path(k))
        with atomic_path(self.audio_path(k)) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, np.ascontiguousarray(audio, dtype=np.float32))

    def load_audio(self, k: int) -> np.ndarray:
        return np.load(self.audio_path(k))

    def load_plan(self, k: int) -> Plan:
        """As saved, unchecked: a planner's plan may mark an instant (offset == onset), which a
        user's plan file may not."""
        from ..config import from_dict

        return from_dict(Plan, json.loads(self.plan_path(k).read_text()), where=str(self.plan_path(k)))

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
