"""Atomic file writing: a result appears whole under its final name or not at all."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it into place only if the block succeeds."""
    from .errors import PrismError

    path = Path(path)
    if path.is_dir():
        raise PrismError(f"{path}: is a folder, cannot write a file there")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.stem[:100]}.", suffix=path.suffix, dir=path.parent)
    except OSError as e:  # a file where a folder should be, no permission, a read-only place
        raise PrismError(f"{path}: cannot write here ({e.strerror or e})") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        try:
            # mkstemp makes the file 0600; a result should have the mode any new file gets
            # (0644 under the usual umask), or keep the one of the file it replaces
            os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
            os.replace(tmp, path)
        except OSError as e:
            raise PrismError(f"{path}: cannot write here ({e.strerror or e})") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def read_jsonl(path: Path) -> list[tuple[int, dict]]:
    """(line number, object) for each JSON line of `path`; a torn last line (an interrupted
    append, no trailing newline) is skipped with a warning; any other bad line is a ConfigError."""
    import json
    import logging

    from .errors import ConfigError
    from .validate import read_text

    lines = read_text(path, "JSON lines file").split("\n")
    out = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            if i == len(lines) - 1:
                logging.getLogger(__name__).warning("%s: ignoring an incomplete last line", path)
                continue
            raise ConfigError(f"{path}:{i + 1}: not valid JSON ({e.msg})") from None
        except (RecursionError, ValueError) as e:  # nested too deeply; an integer too long
            what = "nested too deeply" if isinstance(e, RecursionError) else str(e)[:80]
            raise ConfigError(f"{path}:{i + 1}: not a usable JSON object ({what})") from None
        if not isinstance(value, dict):
            raise ConfigError(f"{path}:{i + 1}: expected a JSON object")
        out.append((i + 1, value))
    return out
