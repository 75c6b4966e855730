"""Which device runs the networks, and what running out of its memory looks like."""

from __future__ import annotations

import torch

from ..errors import ConfigError, PrismError


class OutOfMemory(PrismError):
    """Generation ran out of (GPU or CPU) memory."""


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA GPU is available (use --device cpu or auto)")
    if device == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("--device mps: Apple MPS is not available (use --device cpu or auto)")
    if device not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"unknown device '{device}' (auto, cpu, cuda or mps)")
    return torch.device(device)


def is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, torch.OutOfMemoryError) or (
        isinstance(error, RuntimeError) and ("out of memory" in str(error).lower() or "can't allocate memory" in str(error).lower()))
