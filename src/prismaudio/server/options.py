"""What a client may ask for: generation options and plan text, typed and bounded at the door.

Every rule lives in one table (OPTION_RULES), so a new pipeline argument is one line here plus
its use in `GenerateOptions.pipeline_kwargs`. Messages speak the API's terms (`options.num_steps`),
never CLI flags or Python internals, and quote at most a short excerpt of what was sent.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from typing import Any

from ..errors import ConfigError, PrismError
from ..planner.plan import Plan

MAX_OPTIONS_CHARS = 4096
MAX_TEXT_CHARS = 1000  # prompt and negative prompt
MAX_SEED = 2**32 - 1


class BadRequest(ConfigError):
    """A request field that is missing, mistyped or out of range (HTTP 400)."""


@dataclass(frozen=True)
class OptionLimits:
    max_num_steps: int = 64
    max_cfg_strength: float = 20.0
    max_duration: float = 60.0
    max_plan_bytes: int = 256 * 1024
    models: tuple[str, ...] = ("tiny",)
    engines: tuple[str, ...] = ("model",)


@dataclass
class GenerateOptions:
    num_steps: int | None = None
    cfg_strength: float | None = None
    seed: int | None = None
    duration: float | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    model: str | None = None
    engine: str | None = None  # "model" (default) or "library" (when the server has a sound library)

    def pipeline_kwargs(self, default_num_steps: int, default_cfg_strength: float) -> dict[str, Any]:
        """The keyword arguments of `PrismAudio.generate` (besides video and plan): the one
        place that maps API options onto the pipeline's signature."""
        return dict(
            prompt=self.prompt, negative_prompt=self.negative_prompt, duration=self.duration, seed=self.seed,
            num_steps=default_num_steps if self.num_steps is None else self.num_steps,
            cfg_strength=default_cfg_strength if self.cfg_strength is None else self.cfg_strength,
            **({"engine": self.engine} if self.engine and self.engine != "model" else {}),
        )


def excerpt(value: Any, limit: int = 40) -> str:
    """A short, printable quote of a client's value for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _integer(name: str, value: Any, low: int, high: int) -> int:
    # bool is an int in Python but never a step count; 4.0 is a float in JSON terms.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"{name} must be an integer from {low} to {high}, got {excerpt(value)}")
    return value


def _number(name: str, value: Any, low: float, high: float, low_open: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value > high or value < low or (low_open and value == low):
        bound = f"greater than {low:g}" if low_open else f"from {low:g}"
        raise BadRequest(f"{name} must be a number {bound} up to {high:g}, got {excerpt(value)}")
    return float(value)


def _text(name: str, value: Any, limit: int = MAX_TEXT_CHARS) -> str:
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise BadRequest(f"{name} must be text of at most {limit} characters, got {excerpt(value)}")
    return value


def check_model(name: Any, limits: OptionLimits, field: str = "model") -> str | None:
    """A model name from the server's allow-list (None: the default). The answer is the same
    for every other value, so it tells nothing about the server's files."""
    if name is None or name == "":
        return None
    if not isinstance(name, str) or name not in limits.models:
        raise BadRequest(f"{field} must be one of the models this server offers: {', '.join(limits.models)}")
    return name


def _engine(value: Any, limits: OptionLimits) -> str:
    if not isinstance(value, str) or value not in limits.engines:
        raise BadRequest(f"options.engine must be one of the engines this server offers: {', '.join(limits.engines)}")
    return value


# option name -> check(value, limits) returning the typed value; null always means the default.
OPTION_RULES = {
    "num_steps": lambda v, lim: _integer("options.num_steps", v, 1, lim.max_num_steps),
    "cfg_strength": lambda v, lim: _number("options.cfg_strength", v, 0.0, lim.max_cfg_strength),
    "seed": lambda v, lim: _integer("options.seed", v, 0, MAX_SEED),
    "duration": lambda v, lim: _number("options.duration", v, 0.0, lim.max_duration, low_open=True),
    "prompt": lambda v, lim: _text("options.prompt", v),
    "negative_prompt": lambda v, lim: _text("options.negative_prompt", v),
    "model": lambda v, lim: check_model(v, lim, "options.model"),
    "engine": lambda v, lim: _engine(v, lim),
}
assert set(OPTION_RULES) == {f.name for f in fields(GenerateOptions)}


def parse_options(text: str | None, limits: OptionLimits) -> GenerateOptions:
    """The `options` form field: a JSON object of OPTION_RULES keys (or nothing for defaults)."""
    if text is None or not text.strip():
        return GenerateOptions()
    if len(text) > MAX_OPTIONS_CHARS:
        raise BadRequest(f"options must be a JSON object of at most {MAX_OPTIONS_CHARS} characters")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise BadRequest("options must be a JSON object, e.g. {\"num_steps\": 16, \"seed\": 3}") from None
    if not isinstance(data, dict):
        raise BadRequest(f"options must be a JSON object, got {type(data).__name__ if data is not None else 'null'}")
    unknown = [k for k in data if k not in OPTION_RULES]
    if unknown:
        raise BadRequest(f"options: unknown option {excerpt(unknown[0])} (known: {', '.join(OPTION_RULES)})")
    return GenerateOptions(**{k: None if v is None else OPTION_RULES[k](v, limits) for k, v in data.items()})


def _no_constant(name: str):
    raise BadRequest(f"plan: {name} is not a number a plan may hold (times, positions and distances are finite)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadRequest(f"plan: {excerpt(text, 30)} is too large a number")
    return value


def parse_plan(text: str | None, limits: OptionLimits) -> Plan | None:
    """The `plan` form field: plan JSON as `prismaudio plan` writes it (or nothing: the server plans)."""
    if text is None or not text.strip():
        return None
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.max_plan_bytes:
        raise BadRequest(f"plan is {size / 1024:.0f} KB; this server accepts plans of at most "
                         f"{limits.max_plan_bytes / 1024:.0f} KB")
    try:
        data = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except BadRequest:
        raise
    except (ValueError, RecursionError) as e:
        where = f" at line {e.lineno}" if isinstance(e, json.JSONDecodeError) else ""
        raise BadRequest(f"plan: not valid JSON{where}") from None
    try:
        return Plan.from_dict(data, where="plan")
    except PrismError:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError, AttributeError):  # odd JSON the plan reader chokes on
        raise BadRequest("plan is not a valid plan: send the JSON that POST /v1/plan returns under 'plan'") from None
