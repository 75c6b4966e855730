"""The optional LLM backend against a local fake OpenAI-compatible server."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from prismaudio.planner.llm import LLMConfig, parse_answer, plan_with_llm
from prismaudio.planner.plan import Event, Plan, PlanError, Semantic, Source, Temporal

GOOD = {
    "duration": 2.0,
    "semantic": {"sources": [{"id": "a", "label": "door knock", "description": "knuckles on wood"}]},
    "temporal": {"events": [{"source": "a", "onset": 0.4, "offset": 0.6, "kind": "impact"}]},
    "aesthetic": {"quality": ["clean"], "style": ["foley"], "avoid": ["music"]},
    "spatial": {"tracks": [{"source": "a", "times": [0.0, 2.0], "x": [0.5, 0.5], "distance": [1.0, 1.0]}]},
    "notes": [],
    "version": 1,
}


class _Fake(BaseHTTPRequestHandler):
    answer = ""
    status = 200
    seen: list = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((self.path, self.headers.get("Authorization"), body))
        if self.status != 200:
            self.send_response(self.status)
            self.end_headers()
            return
        data = json.dumps({"choices": [{"message": {"role": "assistant", "content": self.answer}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Fake.seen = []
    _Fake.status = 200
    httpd = HTTPServer(("127.0.0.1", 0), _Fake)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def _fallback():
    return Plan(duration=2.0, semantic=Semantic([Source("s1", "moving object")]), temporal=Temporal([Event("s1", 1.0, 1.2)]))


def test_valid_answer_is_used(server, monkeypatch):
    monkeypatch.setenv("MY_KEY", "secret")
    _Fake.answer = "```json\n" + json.dumps(GOOD) + "\n```"
    plan = plan_with_llm("unused.mp4", LLMConfig(url=server, model="tiny", key_env="MY_KEY"), fallback=_fallback())
    assert plan.semantic.sources[0].label == "door knock"
    path, auth, body = _Fake.seen[0]
    assert path == "/v1/chat/completions" and auth == "Bearer secret" and body["model"] == "tiny"
    assert "moving object" in body["messages"][1]["content"]  # the analyser's observations are sent


@pytest.mark.parametrize("answer", [
    "sorry, I cannot help",
    json.dumps({**GOOD, "mood": "happy"}),
    json.dumps({**GOOD, "temporal": {"events": [{"source": "zz", "onset": 0.1, "offset": 0.2, "kind": "impact"}]}}),
    json.dumps({**GOOD, "temporal": {"events": [{"source": "a", "onset": 0.1, "offset": 7.0, "kind": "impact"}]}}),
    json.dumps({**GOOD, "duration": 9.0}),
])
def test_invalid_answer_falls_back_with_warning(server, caplog, answer):
    _Fake.answer = answer
    with caplog.at_level(logging.WARNING):
        plan = plan_with_llm("unused.mp4", LLMConfig(url=server), fallback=_fallback())
    assert plan.semantic.sources[0].label == "moving object"
    assert any("LLM planner failed" in r.message for r in caplog.records)
    assert any("default planner" in n for n in plan.notes)


def test_http_error_and_unreachable_fall_back(server, caplog):
    _Fake.status = 500
    with caplog.at_level(logging.WARNING):
        plan = plan_with_llm("x.mp4", LLMConfig(url=server), fallback=_fallback())
    assert "HTTP 500" in plan.notes[-1]
    plan = plan_with_llm("x.mp4", LLMConfig(url="http://127.0.0.1:9", timeout=2), fallback=_fallback())
    assert "unreachable" in plan.notes[-1]


def test_parse_answer_is_strict():
    with pytest.raises(PlanError, match="not valid JSON"):
        parse_answer("{", 2.0)
    assert parse_answer(json.dumps(GOOD), 2.0).temporal.events[0].onset == 0.4
