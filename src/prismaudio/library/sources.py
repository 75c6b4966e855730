"""Where the library's real recordings come from: the curated table (`recordings.yaml`), the
installed Debian packages it names, each file's licence, and a user's own folder.

Licences: the table's per-path `licences` (last match wins), else its package `licence`,
else the package's machine-readable copyright file (DEP-5: the last `Files:` stanza whose
pattern matches the installed path; a pattern's first directory may be the source tree's
top folder, which installs under another name, so it is also tried without it).
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

from ..config import from_dict, load_yaml
from ..errors import ConfigError
from .catalog import AUDIO_SUFFIXES

log = logging.getLogger(__name__)

Kind = Literal["impact", "sustained", "ambience"]
COPYRIGHT = "/usr/share/doc/{package}/copyright"


@dataclass
class PackageSpec:
    root: str
    licence: str | None = None
    licences: dict[str, str] = field(default_factory=dict)
    extract: bool = False            # a .deb extracted into the cache (not installed)


@dataclass
class RecordedClass:
    name: str
    kind: Kind
    files: dict[str, list[str]]
    audioset: list[str] = field(default_factory=list)
    visual: list[str] = field(default_factory=list)
    description: str = ""
    sprite: str = ""


@dataclass
class RecordingTable:
    packages: dict[str, PackageSpec]
    classes: list[RecordedClass]


@dataclass(frozen=True)
class SourceFile:
    """One file that a class draws from, with where it came from."""

    class_name: str
    path: Path
    package: str
    licence: str


def cache_root() -> Path:
    root = os.environ.get("PRISMAUDIO_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "prismaudio")
    return Path(root)


def load_recording_table(path: str | Path | None = None) -> RecordingTable:
    if path is None:
        path = resources.files("prismaudio.library") / "recordings.yaml"
    table = from_dict(RecordingTable, load_yaml(path), where=str(path))
    seen: set[str] = set()
    for c in table.classes:
        if c.name in seen:
            raise ConfigError(f"{path}: class '{c.name}' is defined twice")
        seen.add(c.name)
        for package in c.files:
            if package not in table.packages:
                raise ConfigError(f"{path}: class '{c.name}' names unknown package '{package}'")
    return table


def package_root(spec: PackageSpec) -> Path:
    return Path(spec.root.replace("{cache}", str(cache_root())))


# ---- licences --------------------------------------------------------------------------
def parse_dep5(text: str) -> list[tuple[list[str], str]]:
    """[(file patterns, licence)] of a machine-readable copyright file, in file order."""
    stanzas, files, licence, key = [], None, None, None
    for line in text.splitlines() + [""]:
        if not line.strip():
            if files is not None and licence:
                stanzas.append((files, licence))
            files, licence, key = None, None, None
            continue
        if line[0] in " \t":
            if key == "Files":
                files.extend(line.split())
            continue
        key, _, value = line.partition(":")
        if key == "Files":
            files = value.split()
        elif key == "License" and files is not None:
            licence = value.strip() or None
    return stanzas


def _pattern_matches(pattern: str, path: str) -> bool:
    candidates = [pattern]
    head, _, rest = pattern.partition("/")
    if rest and "/" in rest:
        candidates.append(rest)
    for p in candidates:
        if p == "*" or fnmatch.fnmatchcase(path, "*/" + p) or fnmatch.fnmatchcase(path, p):
            return True
        if "/" not in p and fnmatch.fnmatchcase(os.path.basename(path), p) and p != "*" and not p.startswith("debian"):
            return True
    return False


def licence_from_copyright(text: str, path: str) -> str | None:
    found = None
    for patterns, licence in parse_dep5(text):
        if any(_pattern_matches(p, path) for p in patterns if not p.startswith("debian/")):
            found = licence
    return found


class Licences:
    """Licence of each installed file, reading each package's copyright file once."""

    def __init__(self, table: RecordingTable):
        self.table = table
        self._texts: dict[str, str | None] = {}

    def _copyright(self, package: str) -> str | None:
        if package not in self._texts:
            path = Path(COPYRIGHT.format(package=package))
            self._texts[package] = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
        return self._texts[package]

    def of(self, package: str, path: Path) -> str:
        spec = self.table.packages[package]
        rel = str(path.relative_to(package_root(spec))) if path.is_relative_to(package_root(spec)) else path.name
        found = None
        for pattern, licence in spec.licences.items():
            if fnmatch.fnmatchcase(rel, pattern):
                found = licence
        if found:
            return found
        if spec.licence:
            return spec.licence
        text = self._copyright(package)
        return (licence_from_copyright(text, str(path)) if text else None) or f"see {COPYRIGHT.format(package=package)}"


# ---- resolving files -------------------------------------------------------------------
def _glob(root: Path, pattern: str) -> list[Path]:
    if re.search(r"[\[*?]", pattern):
        return sorted(p for p in root.glob(pattern) if p.is_file())
    p = root / pattern
    return [p] if p.exists() else []


def resolve_sources(table: RecordingTable, problems: list[str]) -> tuple[list[SourceFile], dict[str, list[str]]]:
    """Every file of every class from the installed packages; a missing package or a pattern
    matching nothing is one line in `problems` (that part is skipped, the rest goes on).
    Returns (files, classes per missing package)."""
    licences = Licences(table)
    missing: dict[str, list[str]] = {}
    out: list[SourceFile] = []
    for c in table.classes:
        for package, patterns in c.files.items():
            root = package_root(table.packages[package])
            if not root.is_dir():
                missing.setdefault(package, []).append(c.name)
                continue
            for pattern in patterns:
                files = [p for p in _glob(root, pattern) if p.suffix.lower() in AUDIO_SUFFIXES]
                if not files:
                    problems.append(f"{root / pattern}: no audio file matches (class '{c.name}'); skipped")
                out.extend(SourceFile(c.name, p, package, licences.of(package, p)) for p in files)
    for package, names in missing.items():
        root = package_root(table.packages[package])
        how = "run scripts/install-library-packages.sh" if not table.packages[package].extract else "extract it with scripts/install-library-packages.sh"
        problems.append(f"{root}: package {package} is not installed ({len(names)} classes lose its recordings; {how})")
    return out, missing


# ---- a user's folder --------------------------------------------------------------------
def user_classes(folder: str | Path, problems: list[str]) -> tuple[list[RecordedClass], list[SourceFile]]:
    """Classes of a user's folder (`<folder>/<class>/*.wav` + optional classes.yaml, as the
    SynthCanvas user bank); a sub-folder without audio is one line in `problems`."""
    from ..canvas.userbank import UserClassSpec

    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"user sound folder not found or not a folder: {folder}")
    specs: dict[str, UserClassSpec] = {}
    yaml_path = folder / "classes.yaml"
    if yaml_path.exists():
        for name, entry in load_yaml(yaml_path).items():
            if not isinstance(name, str) or not name.strip():
                raise ConfigError(f"{yaml_path}: class names must be non-empty strings, got {name!r}")
            specs[name] = from_dict(UserClassSpec, entry if entry is not None else {}, where=f"{yaml_path}: {name}")
    classes, files = [], []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        audio = sorted(p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
        if not audio:
            problems.append(f"{sub}: folder has no audio files; skipped")
            continue
        spec = specs.get(sub.name, UserClassSpec())
        sprite = spec.sprite or ""
        classes.append(RecordedClass(sub.name, spec.kind, {"user": [p.name for p in audio]}, list(spec.audioset),
                                     [sub.name], spec.description or f"{sub.name} sound", sprite))
        files.extend(SourceFile(sub.name, p, "user", "user-supplied") for p in audio)
    if not classes:
        raise ConfigError(f"{folder}: no audio found (expected <class>/*.wav folders)")
    return classes, files
