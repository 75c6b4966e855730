"""The models a server offers: an allow-list fixed at start, each loaded once.

Clients pick a model by its public name only. Names given to `serve` may be bundle folders;
their public name is the folder's name, so no server path is ever shown or accepted.
A model that fails to load fails once: the failure is remembered, logged in full, and told
to clients as one line without paths.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable

from ..errors import ConfigError, PrismError

log = logging.getLogger(__name__)

SHIPPED = "tiny"


class ModelUnavailable(PrismError):
    """An allowed model that cannot be loaded on this server (HTTP 503)."""


def public_name(spec: str) -> str:
    """What clients call a model given to `serve`: a bundle folder is known by its own name."""
    return Path(spec).name if ("/" in spec or "\\" in spec) else spec


def allow_list(default: str, extra: list[str] | tuple[str, ...] = ()) -> dict[str, str]:
    """Public name -> what the loader is given, default first; the shipped model is always offered."""
    specs: dict[str, str] = {}
    for spec in [default, *extra, SHIPPED]:
        name = public_name(spec)
        if not name:
            raise ConfigError(f"serve: model name {spec!r} is empty")
        if name in specs and specs[name] != spec:
            raise ConfigError(f"serve: two models are both called '{name}' ({specs[name]} and {spec}); rename one folder")
        specs.setdefault(name, spec)
    return specs


class ModelRegistry:
    def __init__(self, specs: dict[str, str], load: Callable[[str, str], object], device: str):
        self.specs = dict(specs)
        self.default = next(iter(self.specs))
        self._load = load
        self._device = device
        self._loaded: dict[str, object] = {}
        self._failed: dict[str, str] = {}
        self._locks = {name: threading.Lock() for name in self.specs}
        self.load_count = 0  # loads actually started (one per model, ever)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.specs)

    def get(self, name: str | None = None):
        """The loaded pipeline of an allowed model; loads it on first use (once, even when asked
        concurrently). Unknown names never reach the loader."""
        name = name or self.default
        if name not in self.specs:
            raise ConfigError(f"model must be one of the models this server offers: {', '.join(self.specs)}")
        with self._locks[name]:
            if name in self._loaded:
                return self._loaded[name]
            if name in self._failed:
                raise ModelUnavailable(self._failed[name])
            self.load_count += 1
            try:
                pipeline = self._load(self.specs[name], self._device)
            except Exception as e:  # noqa: BLE001 - any load failure is the operator's to read in the log
                log.error("model '%s' (%s) failed to load: %s", name, self.specs[name], e)
                self._failed[name] = f"model '{name}' is not available on this server"
                raise ModelUnavailable(self._failed[name]) from None
            self._loaded[name] = pipeline
            return pipeline

    def warm_up(self) -> None:
        """Load the default model now (before serving), so no request pays for it. A failure here
        is the operator's: say what failed, in full."""
        name = self.default
        with self._locks[name]:
            if name not in self._loaded:
                self.load_count += 1
                self._loaded[name] = self._load(self.specs[name], self._device)
            return self._loaded[name]
