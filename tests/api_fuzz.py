"""API fuzzing from the server's own OpenAPI schema (schemathesis + hypothesis).

Shared by tests/test_server_fuzz.py (in-process, a few hundred requests) and
benchmarks/fuzz_api.py (a live server on loopback, >= 1000 requests). Every operation is
fuzzed with schema-valid and schema-violating requests; some requests carry a real video and a
generated `options` object, so the pipeline itself is reached, not only the input checks.

Each response must: not be a 5xx, conform to the schema (status, content type, body), and, when
it is an error, be exactly `{"error": "<one line>"}` without server paths or Python internals.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

import hypothesis.errors
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st

INTERNALS = re.compile(r"Traceback|__init__|SpooledTemporaryFile|UploadFile|<class |object at 0x|File \"|"
                       r"(?<![\w.:/])/(?:tmp|root|home|work|srv|usr|etc|var)/")
OPTION_KEYS = ["num_steps", "cfg_strength", "seed", "duration", "prompt", "negative_prompt", "model"]


@dataclass
class FuzzReport:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    by_operation: Counter = field(default_factory=Counter)
    with_real_video: int = 0
    failures: list[str] = field(default_factory=list)

    def fail(self, what: str) -> None:
        if len(self.failures) < 50 and what not in self.failures:
            self.failures.append(what)

    @property
    def server_errors(self) -> int:
        return sum(n for code, n in self.statuses.items() if code >= 500)

    def to_dict(self) -> dict:
        return {"requests": self.requests, "server_errors": self.server_errors, "with_real_video": self.with_real_video,
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "by_operation": dict(self.by_operation), "failures": self.failures}


def error_body_problem(status: int, text: str) -> str | None:
    """Why an error response is not the one shape `{"error": "..."}` with a clean message, or None."""
    if status < 400:
        return None
    try:
        body = json.loads(text)
    except ValueError:
        return f"{status}: body is not JSON: {text[:80]!r}"
    if not isinstance(body, dict) or list(body) != ["error"] or not isinstance(body["error"], str):
        return f"{status}: body is not {{'error': str}}: {text[:80]!r}"
    message = body["error"]
    if "\n" in message or not message.strip():
        return f"{status}: message is not one line: {message[:80]!r}"
    if INTERNALS.search(message):
        return f"{status}: message shows internals: {message[:120]!r}"
    return None


def option_objects() -> st.SearchStrategy[str]:
    """`options` JSON: known and unknown keys, values of every JSON type, in and out of range."""
    values = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.integers(0, 80),
                       st.floats(allow_nan=True, allow_infinity=True), st.floats(0, 70), st.text(max_size=30),
                       st.sampled_from(["tiny", "tiny-random", "/etc", "../tiny"]))
    keys = st.one_of(st.sampled_from(OPTION_KEYS), st.text(max_size=8))
    return st.dictionaries(keys, values, max_size=4).map(json.dumps)


def fuzz_schema(schema, examples: int, video: bytes | None = None, base_url: str | None = None,
                seed: int = 0, report: FuzzReport | None = None, request_timeout: float = 300.0) -> FuzzReport:
    """Fuzz every operation of `schema` with `examples` positive and `examples` negative cases."""
    from schemathesis.generation.modes import GenerationMode
    from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                                   status_code_conformance)
    from schemathesis.checks import not_a_server_error

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    report = report or FuzzReport()
    for result in schema.get_all_operations():
        operation = result.ok()
        takes_video = operation.method.upper() == "POST"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=examples, deadline=None, database=None, derandomize=False, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
            def one(case, data):
                real = bool(video and takes_video and isinstance(case.body, dict) and data.draw(st.integers(0, 2)) == 0)
                if real:  # reach the pipeline: a real video, options that are often valid
                    case.body["video"] = video
                    if "options" in case.body or data.draw(st.booleans()):
                        case.body["options"] = data.draw(option_objects())
                    if operation.path.endswith("/plan") and data.draw(st.booleans()):
                        case.body["model"] = data.draw(st.sampled_from(["", "tiny", "tiny-random", "/etc", "x" * 300]))
                    if data.draw(st.booleans()):
                        case.body.pop("plan", None)
                report.requests += 1
                try:
                    response = case.call(base_url=base_url, timeout=request_timeout)
                except Exception as e:  # noqa: BLE001 - no answer at all is a failure, recorded
                    report.fail(f"{operation.label}: no answer: {type(e).__name__}")
                    return
                report.with_real_video += real
                report.statuses[response.status_code] += 1
                report.by_operation[operation.label] += 1
                problem = error_body_problem(response.status_code, response.text)
                if problem:
                    report.fail(f"{operation.label}: {problem}")
                try:
                    case.validate_response(response, checks=checks)
                except Exception as e:  # noqa: BLE001 - a check failure is recorded, the run goes on
                    report.fail(f"{operation.label}: {type(e).__name__}: {str(e).splitlines()[0][:200]}")

            try:
                fixed_seed(seed)(one)()
            except hypothesis.errors.Unsatisfiable:  # e.g. no way to violate a schema without parameters
                pass
    return report
