"""HTTP API over the real pipeline (tiny model with random weights): every route and limit."""

from __future__ import annotations

import json
import os
import time

import pytest

from media_factory import make_video
from prismaudio import media

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from prismaudio.server.app import build_app  # noqa: E402
from prismaudio.server.config import ServerConfig  # noqa: E402


@pytest.fixture(scope="module")
def pipeline():
    from prismaudio.pipeline import PrismAudio

    return PrismAudio.from_pretrained("tiny-random", device="cpu")


def make_client(tmp_path, pipeline, **limits):
    config = ServerConfig(work_dir=str(tmp_path / "work"), default_num_steps=2, **limits)
    return TestClient(build_app(config, load_pipeline=lambda name, device: pipeline, examples=[]))


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("v") / "clip.mp4", seconds=1.6, fps=25)


def post_video(client, route, path, name=None, **data):
    with open(path, "rb") as f:
        return client.post(route, files={"video": (name or path.name, f, "video/mp4")}, data=data)


def test_health_plan_generate_and_download(tmp_path, pipeline, video):
    with make_client(tmp_path, pipeline) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        planned = post_video(client, "/v1/plan", video)
        assert planned.status_code == 200
        plan = planned.json()["plan"]
        assert plan["duration"] == pytest.approx(1.6, abs=0.05) and set(planned.json()["text"]) == {
            "semantic", "temporal", "aesthetic", "spatial"}
        response = post_video(client, "/v1/generate", video, plan=json.dumps(plan), options=json.dumps({"seed": 3, "num_steps": 2}))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["duration"] == pytest.approx(1.6, abs=1e-3)
        downloaded = tmp_path / "out.mp4"
        downloaded.write_bytes(client.get(body["files"]["video"]).content)
        info = media.probe(downloaded)
        assert info.audio_streams and media.read_audio(downloaded, body["sample_rate"]).shape[1] == round(info.duration * body["sample_rate"])
        wav = client.get(body["files"]["audio"])
        assert wav.status_code == 200 and wav.content[:4] == b"RIFF"
        assert client.get(body["files"]["plan"]).json()["duration"] == plan["duration"]


def test_bad_uploads_are_json_errors(tmp_path, pipeline, video):
    with make_client(tmp_path, pipeline, max_upload_mb=0.5) as client:
        text = tmp_path / "notes.mp4"
        text.write_text("not a video " * 100)
        r = post_video(client, "/v1/generate", text)
        assert r.status_code == 400 and "not a readable media file" in r.json()["error"]
        corrupt = tmp_path / "corrupt.mp4"
        corrupt.write_bytes(video.read_bytes()[:1500])
        r = post_video(client, "/v1/generate", corrupt)
        assert r.status_code == 400 and "error" in r.json()
        big = tmp_path / "big.mp4"
        big.write_bytes(os.urandom(700 * 1024))
        r = post_video(client, "/v1/generate", big)
        assert r.status_code == 413 and "limit" in r.json()["error"]
        r = post_video(client, "/v1/generate", video, plan="{not json")
        assert r.status_code == 400 and "plan" in r.json()["error"]
        r = post_video(client, "/v1/generate", video, plan=json.dumps({"duration": 1.6, "bogus": 1}))
        assert r.status_code == 400 and "bogus" in r.json()["error"]
        r = post_video(client, "/v1/generate", video, options=json.dumps({"num_steps": 0}))
        assert r.status_code == 400 and "options.num_steps" in r.json()["error"]
        # nothing of the failed requests stays on disk
        assert client.get("/healthz").json()["jobs_on_disk"] == 0


def test_duration_limit(tmp_path, pipeline, video):
    with make_client(tmp_path, pipeline, max_video_seconds=1.0) as client:
        r = post_video(client, "/v1/generate", video)
        assert r.status_code == 400 and "at most 1 s" in r.json()["error"]


def test_busy_server_answers_429(tmp_path, pipeline, video):
    with make_client(tmp_path, pipeline, max_concurrent_jobs=1) as client:
        service = client.app.state.service
        assert service._slots.acquire(blocking=False)  # another job holds the only slot
        try:
            r = post_video(client, "/v1/generate", video)
            assert r.status_code == 429 and "busy" in r.json()["error"]
        finally:
            service._slots.release()
        assert post_video(client, "/v1/generate", video, options='{"num_steps": 1}').status_code == 200


def test_timeout_answers_504(tmp_path, pipeline, video):
    with make_client(tmp_path, pipeline, request_timeout_s=0.01) as client:
        r = post_video(client, "/v1/generate", video)
        assert r.status_code == 504 and "longer than" in r.json()["error"]


def test_names_never_become_paths(tmp_path, pipeline, video):
    with make_client(tmp_path, pipeline) as client:
        r = post_video(client, "/v1/generate", video, name="../../escape.mp4", options='{"num_steps": 1}')
        assert r.status_code == 200
        assert not (tmp_path / "escape.mp4").exists() and not (tmp_path / "work" / "escape.mp4").exists()
        job = r.json()["job"]
        for bad in [f"/v1/files/{job}/..%2F..%2Fconfig.py", f"/v1/files/{job}/.hidden", "/v1/files/notanid/audio.wav",
                    f"/v1/files/{job}/missing.wav"]:
            assert client.get(bad).status_code == 404, bad


def test_results_expire(tmp_path, pipeline, video):
    with make_client(tmp_path, pipeline, retention_s=60) as client:
        service = client.app.state.service
        job = post_video(client, "/v1/generate", video, options='{"num_steps": 1}').json()["job"]
        folder = service.jobs.root / job
        assert service.cleanup() == 0 and folder.exists()
        old = time.time() - 3600
        os.utime(folder, (old, old))
        assert service.cleanup() == 1 and not folder.exists()
        assert client.get(f"/v1/files/{job}/audio.wav").status_code == 404


def test_binds_to_loopback_by_default():
    assert ServerConfig().host == "127.0.0.1"
    with pytest.raises(ValueError):
        ServerConfig(max_concurrent_jobs=0)


def test_page_offers_unseen_synthcanvas_examples(tmp_path):
    from prismaudio.server.app import make_examples

    examples = make_examples(tmp_path / "examples", count=1)
    assert len(examples) == 1 and media.probe(examples[0]).duration == pytest.approx(6.0, abs=0.05)
