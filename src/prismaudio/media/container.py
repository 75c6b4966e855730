"""Opening media files with one-line errors for every way a file can be bad."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import av

from ..errors import MediaError


def check_readable(path: str | Path) -> Path:
    """Raise a one-line MediaError if `path` is not an existing, readable regular file."""
    path = Path(path)
    if not path.exists():
        raise MediaError(f"{path}: no such file")
    if path.is_dir():
        raise MediaError(f"{path}: is a directory, not a media file")
    if not os.access(path, os.R_OK):
        raise MediaError(f"{path}: permission denied (file is not readable)")
    if path.stat().st_size == 0:
        raise MediaError(f"{path}: empty file")
    return path


@contextmanager
def open_media(path: str | Path) -> Iterator[av.container.InputContainer]:
    path = check_readable(path)
    try:
        container = av.open(str(path), mode="r")
    except av.FFmpegError as e:
        raise MediaError(f"{path}: not a readable media file ({short_error(e)})") from None
    try:
        yield container
    except av.FFmpegError as e:
        raise MediaError(f"{path}: corrupt or truncated media ({short_error(e)})") from None
    finally:
        container.close()


def short_error(e: Exception) -> str:
    text = getattr(e, "strerror", None) or str(e)
    return str(text).split("\n")[0][:160]
