"""Logging set-up: one logger per module (`logging.getLogger(__name__)`), configured once by the CLI."""

from __future__ import annotations

import logging
import sys


def setup_logging(verbose: bool = False, quiet: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("prismaudio")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def progress_enabled() -> bool:
    """Progress bars are shown when the package logger would show INFO lines."""
    return logging.getLogger("prismaudio").getEffectiveLevel() <= logging.INFO
