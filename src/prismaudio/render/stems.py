"""Writing stems for an editor: `<stem>.stems/<source id>.wav`, one placed stereo file per
source, the folder appearing whole or not at all."""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np


def stem_file_name(source_id: str, fmt: str = "wav") -> str:
    """A safe file name for a source id ('s/1' -> 's_1.wav')."""
    return (re.sub(r"[^A-Za-z0-9._-]+", "_", source_id).strip("._") or "source") + f".{fmt}"


def write_stems(folder: str | Path, stems: dict[str, np.ndarray], sample_rate: int, fmt: str = "wav") -> Path:
    """Write each [2, N] stem as `folder/<source id>.<fmt>`; the folder is built beside its final
    place and renamed into it, so an interrupted run leaves no half folder (an old one is replaced)."""
    from ..media.audio import write_audio

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        names = set()
        for source_id, stereo in stems.items():
            name = stem_file_name(source_id, fmt)
            while name in names:  # two ids that sanitise alike
                name = name.replace(f".{fmt}", f"_.{fmt}")
            names.add(name)
            write_audio(tmp / name, np.asarray(stereo, dtype=np.float32), sample_rate)
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return folder


def stems_zip(folder: str | Path) -> bytes:
    """The stem files of a folder as one zip (the web page's download)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(Path(folder).iterdir()):
            if path.is_file():
                archive.write(path, path.name)
    return buf.getvalue()
