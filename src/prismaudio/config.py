"""One config system: typed dataclasses loaded strictly from YAML or dicts.

An unknown key is an error naming the key and the closest valid one; a value of the wrong
type is an error naming the field and the expected type. Presets are YAML files (data), not
code: `load_config(CodecConfig, "configs/codec_tiny.yaml")`.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any, TypeVar, Union

import yaml

from .errors import ConfigError
from .validate import clip, excerpt, finite, read_text

T = TypeVar("T")
# A number written as text: YAML 1.1 (PyYAML) reads `3e-4` (no dot) as a string, so float fields
# accept such strings; words like "nan" or "fast" stay errors.
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _closest(key: str, options: list[str]) -> str:
    match = difflib.get_close_matches(key, options, n=1, cutoff=0.5)
    if not match:  # 'lr_rate' -> 'lr': a valid key that starts the unknown one (or vice versa)
        match = sorted((o for o in options if key.startswith(o) or o.startswith(key)), key=len, reverse=True)[:1]
    return f" (did you mean '{match[0]}'?)" if match else f" (valid keys: {', '.join(options)})"


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _convert(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, where)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{where}: {excerpt(value)} matches none of {_type_name(tp)}")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{where}: {excerpt(value)} is not one of {', '.join(map(repr, args))}")
        return value
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {excerpt(value)}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise ConfigError(f"{where}: expected {len(args)} items, got {len(value)}")
            return tuple(_convert(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
        item = args[0] if args else Any
        out = [_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(out) if origin is tuple else out
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {excerpt(value)}")
        key_tp, val_tp = args if args else (Any, Any)
        return {_convert(k, key_tp, where): _convert(v, val_tp, f"{where}.{k}") for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true/false, got {excerpt(value)}")
        return value
    if tp is float:
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            value = float(value)  # PyYAML reads `lr: 3e-4` (no dot) as a string
        return finite(value, where)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {excerpt(value)}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {excerpt(value)}")
        return value
    if isinstance(tp, type) and not isinstance(value, tp):
        raise ConfigError(f"{where}: expected {_type_name(tp)}, got {excerpt(value)}")
    return value


def from_dict(cls: type[T], data: Any, where: str = "config") -> T:
    """Build dataclass `cls` from a mapping, strictly (unknown keys and wrong types are errors)."""
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping for {cls.__name__}, got {excerpt(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs = {}
    for key, value in data.items():
        if key not in fields:
            raise ConfigError(f"{where}: unknown key '{clip(str(key), 40)}'{_closest(str(key)[:100], list(fields))}")
        kwargs[key] = _convert(value, hints[key], f"{where}.{key}")
    missing = [
        name for name, f in fields.items()
        if name not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{where}: missing required key(s): {', '.join(missing)}")
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as e:  # __post_init__ validation
        raise ConfigError(f"{where}: {clip(str(e), 200)}") from None


def to_dict(obj: Any) -> dict:
    """A plain, YAML/JSON-serialisable dict of a dataclass (tuples become lists)."""
    def plain(v: Any) -> Any:
        if dataclasses.is_dataclass(v):
            return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v
    return plain(obj)


def load_yaml(path: str | Path) -> dict:
    from .presets import resolve_config  # `configs/NAME.yaml` from any folder: the shipped preset

    path = resolve_config(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    text = read_text(path, "YAML config")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({clip(str(e).splitlines()[0], 120)})") from None
    except RecursionError:
        raise ConfigError(f"{path}: not a usable YAML config (nested too deeply)") from None
    except (ValueError, OverflowError) as e:  # an integer of thousands of digits
        raise ConfigError(f"{path}: not a usable YAML config ({clip(str(e), 80)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def load_config(cls: type[T], path: str | Path, overrides: dict | None = None) -> T:
    """Load dataclass `cls` from a YAML file; `overrides` (a nested dict) wins over the file."""
    data = load_yaml(path)
    if overrides:
        data = merge(data, overrides)
    return from_dict(cls, data, where=str(path))


def merge(base: dict, update: dict) -> dict:
    """Recursive dict merge (update wins)."""
    out = dict(base)
    for k, v in update.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def dump_yaml(obj: Any) -> str:
    return yaml.safe_dump(to_dict(obj) if dataclasses.is_dataclass(obj) else obj, sort_keys=False)
