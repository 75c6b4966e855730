"""Checkpoints as safetensors with the config inside; nothing is ever unpickled.

One file holds groups of tensors under prefixes ("model/", "ema/", "optim/", "rng/") and a
JSON header in the safetensors metadata: the component kind ("codec", "generator", ...),
its format version, its config (a dataclass as a dict), the training step, the optimizer's
param groups and the Python/NumPy RNG states. `save_training_state` / `restore_training_state`
give exact resume after a kill; `export_weights` writes the model (or EMA) weights alone for
shipping.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..config import to_dict
from ..errors import CheckpointError
from ..fsutil import atomic_path

HEADER_KEY = "prismaudio"


@dataclass
class Checkpoint:
    kind: str
    version: int
    config: dict
    step: int = 0
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def group(self, prefix: str) -> dict[str, torch.Tensor]:
        """Tensors under `prefix/` with the prefix removed."""
        p = prefix.rstrip("/") + "/"
        return {k[len(p):]: v for k, v in self.tensors.items() if k.startswith(p)}


def save_checkpoint(path: str | Path, ckpt: Checkpoint) -> Path:
    header = {"kind": ckpt.kind, "version": ckpt.version, "config": ckpt.config, "step": ckpt.step, "extra": ckpt.extra}
    tensors = {k: v.detach().contiguous().cpu() for k, v in ckpt.tensors.items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={HEADER_KEY: json.dumps(header)})
    return Path(path)


def read_header(path: str | Path) -> dict:
    """The PrismAudio header of a checkpoint (kind, version, config, step, extra) without
    reading its tensors; a missing, corrupt or foreign file is a one-line CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: not a valid safetensors checkpoint ({str(e).splitlines()[0][:120]})") from None
    if HEADER_KEY not in metadata:
        raise CheckpointError(f"{path}: safetensors file without a PrismAudio header (not a PrismAudio checkpoint)")
    try:
        return json.loads(metadata[HEADER_KEY])
    except json.JSONDecodeError:
        raise CheckpointError(f"{path}: damaged PrismAudio header") from None


def load_checkpoint(path: str | Path, kind: str | None = None, map_location: str = "cpu") -> Checkpoint:
    """Read a checkpoint; a missing, corrupt or foreign file is a one-line CheckpointError."""
    header = read_header(path)
    try:
        tensors = load_file(str(path), device=map_location)
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: not a valid safetensors checkpoint ({str(e).splitlines()[0][:120]})") from None
    if kind is not None and header.get("kind") != kind:
        raise CheckpointError(f"{path}: is a '{header.get('kind')}' checkpoint, expected '{kind}'")
    return Checkpoint(
        kind=header["kind"], version=int(header.get("version", 0)), config=header.get("config", {}),
        step=int(header.get("step", 0)), tensors=tensors, extra=header.get("extra", {}),
    )


def check_config_matches(path: str | Path, saved: dict, expected: Any, keys: tuple[str, ...]) -> None:
    """Raise if the checkpoint's config differs from `expected` on shape-defining `keys`."""
    expected_dict = to_dict(expected) if not isinstance(expected, dict) else expected
    for key in keys:
        if saved.get(key) != expected_dict.get(key):
            raise CheckpointError(
                f"{path}: checkpoint has {key}={saved.get(key)!r} but the model expects {expected_dict.get(key)!r} "
                "(a checkpoint of another preset?)"
            )


# ---- optimizer and RNG state as tensors + JSON ---------------------------------------------

def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for pid, pstate in state["state"].items():
        for name, value in pstate.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim/{pid}/{name}"] = value
            else:
                scalars[f"{pid}/{name}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _load_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], info: dict) -> None:
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        pid, name = key.split("/", 1)
        state.setdefault(int(pid), {})[name] = value
    for key, value in info.get("scalars", {}).items():
        pid, name = key.split("/", 1)
        state.setdefault(int(pid), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": info["param_groups"]})


def rng_state() -> tuple[dict[str, torch.Tensor], dict]:
    py = random.getstate()
    np_state = np.random.get_state()
    tensors = {"rng/torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda{i}"] = s
    info = {
        "python": [py[0], list(py[1]), py[2]],
        "numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
    }
    return tensors, info


def set_rng_state(tensors: dict[str, torch.Tensor], info: dict) -> None:
    if "rng/torch" in tensors:
        torch.set_rng_state(tensors["rng/torch"].to(torch.uint8))
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("rng/cuda")]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([c.to(torch.uint8) for c in cuda])
    if "python" in info:
        v, st, gauss = info["python"]
        random.setstate((v, tuple(st), gauss))
    if "numpy" in info:
        name, keys, pos, has_gauss, cached = info["numpy"]
        np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))


def save_training_state(
    path: str | Path, kind: str, version: int, config: Any, step: int, model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None, ema: torch.nn.Module | None = None,
    extra: dict | None = None, modules: dict[str, torch.nn.Module] | None = None,
) -> Path:
    """Everything needed to continue training exactly: weights, EMA, optimizer, RNG, step.

    `modules` holds further trainable parts (e.g. a discriminator) saved under their own prefix.
    """
    tensors = {f"model/{k}": v for k, v in _unwrap(model).state_dict().items()}
    if ema is not None:
        tensors.update({f"ema/{k}": v for k, v in _unwrap(ema).state_dict().items()})
    for name, module in (modules or {}).items():
        tensors.update({f"{name}/{k}": v for k, v in _unwrap(module).state_dict().items()})
    info: dict[str, Any] = dict(extra or {})
    if optimizer is not None:
        opt_tensors, info["optimizer"] = _optimizer_tensors(optimizer)
        tensors.update(opt_tensors)
    rng_tensors, info["rng"] = rng_state()
    tensors.update(rng_tensors)
    config_dict = config if isinstance(config, dict) else to_dict(config)
    return save_checkpoint(path, Checkpoint(kind, version, config_dict, step, tensors, info))


def restore_training_state(
    ckpt: Checkpoint, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None = None,
    ema: torch.nn.Module | None = None, modules: dict[str, torch.nn.Module] | None = None,
) -> int:
    """Load what `save_training_state` wrote; returns the step to continue from."""
    _unwrap(model).load_state_dict(ckpt.group("model"))
    if ema is not None:
        ema_state = ckpt.group("ema")
        _unwrap(ema).load_state_dict(ema_state or ckpt.group("model"))
    for name, module in (modules or {}).items():
        _unwrap(module).load_state_dict(ckpt.group(name))
    if optimizer is not None and "optimizer" in ckpt.extra:
        _load_optimizer(optimizer, ckpt.group("optim"), ckpt.extra["optimizer"])
    set_rng_state(ckpt.group("rng") and {f"rng/{k}": v for k, v in ckpt.group("rng").items()}, ckpt.extra.get("rng", {}))
    return ckpt.step


def export_weights(path: str | Path, kind: str, version: int, config: Any, module: torch.nn.Module,
                   extra: dict | None = None) -> Path:
    """Weights only (for shipping): "model/..." tensors plus the config header."""
    tensors = {f"model/{k}": v for k, v in _unwrap(module).state_dict().items()}
    config_dict = config if isinstance(config, dict) else to_dict(config)
    return save_checkpoint(path, Checkpoint(kind, version, config_dict, 0, tensors, dict(extra or {})))


def prune_checkpoints(folder: str | Path, keep: int, pattern: str = "step_*.safetensors") -> list[Path]:
    """Delete all but the newest `keep` checkpoints in `folder` and return the deleted paths.

    `keep` 0 keeps the newest one anyway (a run must be able to resume); negative is refused.
    (Slicing `[:-keep]` with keep 0 deleted nothing, which kept every checkpoint.)
    """
    if keep < 0:
        raise CheckpointError(f"keep_checkpoints must be 0 or more, got {keep}")
    found = sorted(Path(folder).glob(pattern))
    stale = found[: max(0, len(found) - max(1, keep))]
    for old in stale:
        old.unlink(missing_ok=True)
    return stale


def latest_checkpoint(folder: str | Path, pattern: str = "step_*.safetensors") -> Path | None:
    """The newest training checkpoint in `folder` by step number, or None."""
    files = sorted(Path(folder).glob(pattern))
    return files[-1] if files else None


def _unwrap(module: torch.nn.Module) -> torch.nn.Module:
    return getattr(module, "module", module)  # DistributedDataParallel wraps the model
