"""Batch operations on conditioning objects of any shape: tensors, dataclasses, dicts, lists.

The RL loop and the sampler's guidance must repeat, select and concatenate conditionings (a tree's M branches share one;
CFG runs conditional and unconditional rows together). The generator's `Conditions`, a plain
tensor in tests, and the rewards' samples all go through these three functions. A list is
taken as one item per batch row; any other value (a string, a number) is shared by the batch.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch


def batch_index(obj: Any, idx: torch.Tensor) -> Any:
    """Rows `idx` (a LongTensor) of every batched part of `obj`."""
    if obj is None:
        return None
    if isinstance(obj, torch.Tensor):
        return obj[idx.to(obj.device)]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: batch_index(getattr(obj, f.name), idx) for f in dataclasses.fields(obj) if f.init}
        return dataclasses.replace(obj, **changes)
    if isinstance(obj, dict):
        return {k: batch_index(v, idx) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(obj[int(i)] for i in idx)
    return obj


def batch_repeat(obj: Any, n: int) -> Any:
    """Each row repeated n times in place (row r becomes rows r*n .. r*n+n-1)."""
    size = batch_size(obj)
    if size is None:
        return obj
    return batch_index(obj, torch.arange(size).repeat_interleave(n))


def batch_cat(items: list[Any]) -> Any:
    """Concatenate along the batch. A type with a `cat` staticmethod (Conditions) uses its own."""
    first = items[0]
    if first is None:
        return None
    if isinstance(first, torch.Tensor):
        return torch.cat(items, dim=0)
    if hasattr(type(first), "cat") and callable(getattr(type(first), "cat")):
        return type(first).cat(list(items))
    if dataclasses.is_dataclass(first):
        changes = {f.name: batch_cat([getattr(x, f.name) for x in items]) for f in dataclasses.fields(first) if f.init}
        return dataclasses.replace(first, **changes)
    if isinstance(first, dict):
        return {k: batch_cat([x[k] for x in items]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(v for x in items for v in x)
    return first


def batch_size(obj: Any) -> int | None:
    """The batch size of the first batched part found, or None."""
    if isinstance(obj, torch.Tensor):
        return obj.shape[0]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            n = batch_size(getattr(obj, f.name))
            if n is not None:
                return n
        return None
    if isinstance(obj, dict):
        for v in obj.values():
            n = batch_size(v)
            if n is not None:
                return n
        return None
    if isinstance(obj, (list, tuple)):
        return len(obj)
    return None


def unconditional(cond: Any) -> Any:
    """The CFG null conditioning: the object's own `unconditional()`, else zeros of each tensor."""
    if hasattr(cond, "unconditional"):
        return cond.unconditional()
    if isinstance(cond, torch.Tensor):
        return torch.zeros_like(cond)
    if isinstance(cond, dict):
        return {k: unconditional(v) for k, v in cond.items()}
    raise TypeError(f"no unconditional form for a {type(cond).__name__} conditioning")
