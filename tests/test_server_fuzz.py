"""The HTTP API fuzzed from its own OpenAPI schema (schemathesis), in-process, tiny random model.

`make test` runs a few hundred requests; the `slow` run a few thousand. benchmarks/fuzz_api.py
does the >= 1000-request run against a live server and adds the load test.
"""

from __future__ import annotations

import pytest

from api_fuzz import error_body_problem, fuzz_schema
from media_factory import make_video

schemathesis = pytest.importorskip("schemathesis")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from prismaudio.pipeline import PrismAudio
    from prismaudio.server.app import build_app
    from prismaudio.server.config import ServerConfig

    pipeline = PrismAudio.tiny_random(device="cpu")
    config = ServerConfig(work_dir=str(tmp_path_factory.mktemp("fuzz") / "work"), default_num_steps=1, max_num_steps=3,
                          max_video_seconds=2.0, max_upload_mb=1.0, request_timeout_s=60)
    return build_app(config, load_pipeline=lambda name, device: pipeline, examples=[])


@pytest.fixture(scope="module")
def video_bytes(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("v") / "clip.mp4", seconds=0.6, fps=25, size=(32, 48)).read_bytes()


def run_fuzz(app, video_bytes, examples):
    from fastapi.testclient import TestClient

    with TestClient(app):  # runs the app's start-up and shut-down
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        report = fuzz_schema(schema, examples, video=video_bytes)
        service = app.state.service
        assert service.active_jobs() == 0
        left = [p for p in service.jobs.root.rglob("input*")]  # uploads never stay behind
    assert report.server_errors == 0, report.to_dict()
    assert not report.failures, report.failures
    assert not left, left
    return report


def test_api_fuzz_fast(app, video_bytes):
    report = run_fuzz(app, video_bytes, examples=25)
    assert report.requests >= 100 and report.with_real_video >= 10, report.to_dict()


@pytest.mark.slow
def test_api_fuzz_long(app, video_bytes):
    report = run_fuzz(app, video_bytes, examples=400)
    assert report.requests >= 1000, report.to_dict()


def test_error_body_check_catches_each_bad_shape():
    assert error_body_problem(200, "anything") is None
    assert error_body_problem(400, '{"error": "options.num_steps must be an integer"}') is None
    assert "not JSON" in error_body_problem(500, "Internal Server Error")
    assert "not {'error'" in error_body_problem(422, '{"detail": [{"loc": ["body", "video"]}]}')
    assert "internals" in error_body_problem(400, '{"error": "__init__() got an unexpected keyword argument"}')
    assert "internals" in error_body_problem(400, '{"error": "/tmp/prismaudio-serve-x/jobs/ab/input.mp4: bad"}')
    assert error_body_problem(404, '{"error": "not found"}') is None
