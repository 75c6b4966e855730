"""The one boundary for user input: checks that run where a file, option or path enters,
before any work starts, each raising a `ConfigError` (one line naming the file or option).

Numbers: `finite`, `bounded_int`, `seed` and argparse types built on them (`int_arg`,
`float_arg`, `SEED`, `THREADS`). Files: `read_text` (exists, size, UTF-8), `parse_json`
(no RecursionError / ValueError escapes). Paths: `output_file` / `output_dir` (writable,
not a folder where a file goes, never one of the inputs), `outside_package` (training never
writes into the installed package). `excerpt` keeps quoted input short in every message.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable

from .errors import ConfigError

SEED_MAX = 2**32 - 1  # numpy's legacy seeding (and torch's generators) accept 0 .. 2**32 - 1
MAX_THREADS = 1024
MAX_TEXT_BYTES = 32 * 1024 * 1024  # plans, manifests and configs are text; anything larger is not one
EXCERPT_CHARS = 60


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """repr(value), cut to about `limit` characters so an error line never quotes megabytes."""
    if isinstance(value, (list, tuple, dict)) and len(value) > 16:
        kind = type(value).__name__
        head = list(value)[:3] if not isinstance(value, dict) else list(value.items())[:2]
        text = f"{kind} of {len(value)} items starting {_short_repr(head, limit)}"
        return text if len(text) <= limit + 40 else text[: limit + 40] + "..."
    return _short_repr(value, limit)


def clip(text: str, limit: int = 200) -> str:
    """Plain text cut to about `limit` characters (for messages that embed other messages)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


def _short_repr(value: Any, limit: int) -> str:
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # huge ints (digit limit), self-referencing objects
        text = f"<{type(value).__name__}>"
    if len(text) > limit:
        text = f"{text[:limit]}... ({len(text)} chars)"
    return text


# ---- numbers ------------------------------------------------------------------------------
def finite(value: Any, where: str, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False) -> float:
    """`value` as a finite float within [lo, hi] (or (lo, hi] with lo_open)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: expected a number, got {excerpt(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise ConfigError(f"{where}: number too large ({excerpt(value)})") from None
    if not math.isfinite(number):
        raise ConfigError(f"{where}: must be a finite number, got {number}")
    if lo is not None and (number < lo or (lo_open and number == lo)):
        raise ConfigError(f"{where}: must be {'greater than' if lo_open else 'at least'} {lo:g}, got {excerpt(value)}")
    if hi is not None and number > hi:
        raise ConfigError(f"{where}: must be at most {hi:g}, got {excerpt(value)}")
    return number


def bounded_int(value: Any, where: str, lo: int, hi: int) -> int:
    """`value` as an int in [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: expected an integer, got {excerpt(value)}")
    if not lo <= value <= hi:
        raise ConfigError(f"{where}: must be between {lo} and {hi}, got {excerpt(value)}")
    return value


def seed(value: Any, where: str = "--seed") -> int:
    return bounded_int(value, where, 0, SEED_MAX)


def _parse_int(text: str) -> int:
    text = text.strip()
    if len(text) > 40:
        raise ValueError("too long")
    return int(text)


def int_arg(lo: int, hi: int) -> Callable[[str], int]:
    """argparse type: an integer in [lo, hi]; anything else is a one-line usage error."""
    def parse(text: str) -> int:
        try:
            value = _parse_int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {excerpt(text)}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be between {lo} and {hi}, got {excerpt(value)}")
        return value
    parse.__name__ = "integer"
    return parse


def float_arg(lo: float | None = None, hi: float | None = None, lo_open: bool = False) -> Callable[[str], float]:
    """argparse type: a finite float in [lo, hi] (no nan, inf)."""
    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {excerpt(text)}") from None
        try:
            return finite(value, "value", lo, hi, lo_open)
        except ConfigError as e:
            raise argparse.ArgumentTypeError(str(e).removeprefix("value: ")) from None
    parse.__name__ = "number"
    return parse


SEED = int_arg(0, SEED_MAX)
THREADS = int_arg(1, MAX_THREADS)


# ---- text files ---------------------------------------------------------------------------
def read_text(path: str | Path, what: str = "file", max_bytes: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of `path`: a missing file, a folder, a file over `max_bytes` or bytes
    that are not UTF-8 (binary, Latin-1) give one line naming the file."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, expected a {what}")
    try:
        size = path.stat().st_size
    except OSError:
        raise ConfigError(f"{path}: {what} not found") from None
    if size > max_bytes:
        raise ConfigError(f"{path}: {size / 1e6:.1f} MB is too large for a {what} (limit {max_bytes / 1e6:.0f} MB)")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the {what} ({e.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not a UTF-8 text {what} (byte 0x{data[e.start]:02x} at offset {e.start})") from None
    if "\x00" in text:
        raise ConfigError(f"{path}: not a text {what} (contains NUL bytes)")
    return text


def parse_json(text: str, where: str) -> Any:
    """json.loads with every failure (syntax, nesting too deep, integers too long) as one line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{where}: not valid JSON ({e.msg} at line {e.lineno})") from None
    except RecursionError:
        raise ConfigError(f"{where}: not a usable JSON document (nested too deeply)") from None
    except ValueError as e:  # integers beyond Python's digit limit
        raise ConfigError(f"{where}: not a usable JSON document ({str(e)[:80]})") from None


# ---- paths --------------------------------------------------------------------------------
def same_path(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name the same file (resolved, so `./x` and `x` and links agree)."""
    try:
        if Path(a).exists() and Path(b).exists():
            return os.path.samefile(a, b)
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _writable_folder(folder: Path, what: str, named: Path | None = None) -> None:
    """`folder` exists as a writable folder, or can be created (its first existing ancestor is one)."""
    folder_named = named if named is not None else folder
    probe = folder
    while not probe.exists():
        if probe.is_symlink():
            raise ConfigError(f"{what} {folder_named}: {probe} is a broken link")
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(f"{what} {folder_named}: {probe} is a file, not a folder")
    # Try it (os.access says yes to root everywhere, /proc included): a file made and removed.
    try:
        fd, name = tempfile.mkstemp(prefix=".prismaudio-probe.", dir=probe)
        os.close(fd)
        os.unlink(name)
    except OSError as e:
        raise ConfigError(f"{what} {folder_named}: cannot write in {probe} ({e.strerror})") from None


def _name_lengths(path: Path, what: str) -> None:
    """Names past the file system's limits (255 bytes a name, 4096 a path) as one line, not an
    OSError from the first stat."""
    raw = os.fsencode(str(path))
    if len(raw) > 4095 or any(len(part) > 255 for part in raw.split(b"/")):
        raise ConfigError(f"{what} {excerpt(str(path))}: file name too long")


def _checked(check: Callable[..., Path]) -> Callable[..., Path]:
    """Any OSError from a path check (a loop of links, a name too long) becomes one line."""
    import functools

    @functools.wraps(check)
    def wrapper(path, what, *args, **kwargs):
        _name_lengths(Path(path), what)
        try:
            return check(path, what, *args, **kwargs)
        except OSError as e:
            raise ConfigError(f"{what} {excerpt(str(path))}: {e.strerror or e}") from None
    return wrapper


@_checked
def output_file(path: str | Path, what: str, inputs: Iterable[str | Path] = ()) -> Path:
    """A file the command will write: not a folder, inside a writable (or creatable) folder,
    and not one of `inputs`. An existing file is overwritten (atomically) as before."""
    path = Path(path)
    if str(path) == "" or path.name in ("", ".", ".."):
        raise ConfigError(f"{what} {str(path)!r}: expected a file name")
    if path.is_dir():
        raise ConfigError(f"{what} {path}: is a folder, expected a file")
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"{what} {path}: the file is not writable")
    _writable_folder(path.parent if str(path.parent) else Path("."), what, named=path)
    for source in inputs:
        if source and same_path(path, source):
            raise ConfigError(f"{what} {path}: is an input of this command; it would be overwritten")
    return path


@_checked
def output_dir(path: str | Path, what: str, inputs: Iterable[str | Path] = ()) -> Path:
    """A folder the command will write into: a folder or creatable, writable, and not an input."""
    path = Path(path)
    if str(path) == "":
        raise ConfigError(f"{what}: expected a folder name")
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{what} {path}: is a file, expected a folder")
    _writable_folder(path, what)
    for source in inputs:
        if source and same_path(path, source):
            raise ConfigError(f"{what} {path}: is an input of this command")
    return path


def package_root() -> Path:
    return Path(__file__).resolve().parent


@_checked
def outside_package(path: str | Path, what: str) -> Path:
    """Refuse a path inside the installed prismaudio package (its shipped models and assets)."""
    path = Path(path)
    resolved = path.resolve()
    root = package_root()
    if resolved == root or root in resolved.parents:
        raise ConfigError(f"{what} {path}: is inside the installed prismaudio package; training must not "
                          "overwrite the shipped models (choose a folder such as runs/...)")
    return path


def http_url(text: str, what: str) -> str:
    """An http(s) URL with a host (what urllib can ask), else one line naming the option."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port out of range or not a number
    except ValueError:
        raise ConfigError(f"{what}: not a URL ({excerpt(text)})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what}: expected an http:// or https:// URL, got {excerpt(text)}")
    return text
