"""Optional LLM backend: any OpenAI-compatible chat endpoint writes the four modules.

The model cannot see the video; it gets what the default planner saw (objects, labels,
times, positions) and is asked to return the plan JSON in the schema. Its answer is
validated strictly (`Plan.from_dict` + fit to the video's duration); on any failure
(network, HTTP error, not JSON, invalid plan) the default plan is returned with a warning.
Only the standard library is used (urllib), so nothing extra is installed.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..errors import PrismError
from .plan import Plan, PlanError

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You are a sound designer. Given what a video analyser saw, write the soundtrack plan as ONE JSON "
    "object with exactly these keys: duration (number, seconds), semantic {sources: [{id, label, description}]}, "
    "temporal {events: [{source, onset, offset, kind: 'impact'|'sustained'}]}, aesthetic {quality: [str], "
    "style: [str], avoid: [str]}, spatial {tracks: [{source, times: [s], x: [-1 left..1 right], distance: [>0]}]}, "
    "notes: [str], version: 1. Times lie within 0..duration; every source id used must be defined. "
    "Answer with the JSON only."
)


@dataclass
class LLMConfig:
    url: str  # base URL, e.g. http://localhost:8000/v1 (".../chat/completions" is appended)
    model: str = ""
    key_env: str = "PRISMAUDIO_LLM_KEY"
    timeout: float = 60.0
    temperature: float = 0.2


def _endpoint(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/chat/completions") else url + "/chat/completions"


def ask(cfg: LLMConfig, messages: list[dict]) -> str:
    """POST a chat completion; return the assistant's text. Raises PrismError on any failure."""
    body = json.dumps({"model": cfg.model, "messages": messages, "temperature": cfg.temperature}).encode()
    headers = {"Content-Type": "application/json"}
    key = os.environ.get(cfg.key_env, "")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    req = urllib.request.Request(_endpoint(cfg.url), data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=cfg.timeout) as resp:
            data = json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        raise PrismError(f"LLM endpoint {cfg.url}: HTTP {e.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        raise PrismError(f"LLM endpoint {cfg.url}: unreachable ({getattr(e, 'reason', e)})") from None
    except json.JSONDecodeError:
        raise PrismError(f"LLM endpoint {cfg.url}: response is not JSON") from None
    try:
        return str(data["choices"][0]["message"]["content"])
    except (KeyError, IndexError, TypeError):
        raise PrismError(f"LLM endpoint {cfg.url}: response has no choices[0].message.content") from None


def parse_answer(text: str, duration: float) -> Plan:
    """The plan in an LLM answer (a ```json fence is tolerated), validated against the video."""
    text = text.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    plan = Plan.from_json(text, where="llm answer")
    return plan.validate(video_duration=duration)


def describe_observations(plan: Plan) -> str:
    """What the default planner saw, as the user message."""
    return "Video analysis (from the offline planner):\n" + plan.to_json(indent=None)


def plan_with_llm(video: str | Path, cfg: LLMConfig, fallback: Plan | None = None) -> Plan:
    """Plan with the LLM; on failure warn and return the default planner's plan."""
    from .planner import plan_video

    default = fallback if fallback is not None else plan_video(video)
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": describe_observations(default)}]
    try:
        plan = parse_answer(ask(cfg, messages), default.duration)
    except (PrismError, PlanError) as e:
        log.warning("LLM planner failed (%s); using the default planner's plan", e)
        default.notes.append(f"LLM planner failed ({e}); this is the default planner's plan")
        return default
    plan.notes.append(f"written by the LLM backend ({cfg.model or 'default model'})")
    return plan
