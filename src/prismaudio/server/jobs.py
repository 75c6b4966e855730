"""Job folders for uploads and results: random ids, names that never become paths, expiry."""

from __future__ import annotations

import logging
import re
import shutil
import time
import uuid
from pathlib import Path

from ..media import VIDEO_SUFFIXES

log = logging.getLogger(__name__)

_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class JobStore:
    """Each request gets `<root>/<32 hex>/`; user-supplied names are never used as paths."""

    def __init__(self, root: Path, retention_s: float):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.retention_s = retention_s

    def new_job(self) -> tuple[str, Path]:
        job_id = uuid.uuid4().hex
        folder = self.root / job_id
        folder.mkdir()
        return job_id, folder

    @staticmethod
    def upload_name(client_name: str | None) -> str:
        """Our name for an upload: 'input' plus the client's suffix when it is a known video suffix."""
        suffix = Path(client_name or "").suffix.lower()
        return "input" + (suffix if suffix in VIDEO_SUFFIXES else ".bin")

    def file_path(self, job_id: str, name: str) -> Path | None:
        """The path of a result file, or None when the id or name is malformed or absent."""
        if not _JOB_ID.match(job_id) or not _FILE_NAME.match(name):
            return None
        path = (self.root / job_id / name).resolve()
        if path.parent != (self.root / job_id).resolve() or not path.is_file():
            return None
        return path

    def remove(self, job_id: str) -> None:
        if _JOB_ID.match(job_id):
            shutil.rmtree(self.root / job_id, ignore_errors=True)

    def cleanup(self, now: float | None = None, keep: frozenset[str] = frozenset()) -> int:
        """Delete job folders older than the retention time, except those in `keep` (a worker
        still writes there); returns how many were removed."""
        now = time.time() if now is None else now
        removed = 0
        for folder in self.root.iterdir():
            if folder.name in keep:
                continue
            if folder.is_dir() and _JOB_ID.match(folder.name) and now - folder.stat().st_mtime > self.retention_s:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        if removed:
            log.info("removed %d expired job folder(s)", removed)
        return removed

    def job_count(self) -> int:
        return sum(1 for f in self.root.iterdir() if f.is_dir() and _JOB_ID.match(f.name))
