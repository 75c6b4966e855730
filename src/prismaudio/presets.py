"""Where the YAML presets live, in a checkout and in an installed wheel.

The repository keeps them in `configs/` (users read and copy them from there); building a
wheel copies them into the package as `prismaudio/presets/` (setup.py), so an installed
PrismAudio finds them without the checkout. `configs/NAME.yaml` given on the command line
and not found in the working folder means the shipped preset of that name.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def presets_dir() -> Path:
    """The installed copy (wheel) if there is one, else the checkout's configs/ (editable or PYTHONPATH=src)."""
    installed = _PACKAGE / "presets"
    return installed if installed.is_dir() else _PACKAGE.parents[1] / "configs"


def resolve_config(path: str | Path) -> Path:
    """`path` itself when it exists; `configs/NAME.yaml` (relative) falls back to the shipped preset NAME."""
    path = Path(path)
    if path.exists() or path.is_absolute():
        return path
    if len(path.parts) == 2 and path.parts[0] == "configs":
        shipped = presets_dir() / path.name
        if shipped.is_file():
            return shipped
    return path
