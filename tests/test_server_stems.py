"""The server's library engine: per-source stems offered as one zip download."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
import soundfile as sf

from media_factory import make_video
from prismaudio.planner.plan import Event, Plan, Semantic, Source, Temporal

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from prismaudio.server.app import build_app  # noqa: E402
from prismaudio.server.config import ServerConfig  # noqa: E402


def test_library_engine_offers_the_stems_as_a_zip(tmp_path):
    (tmp_path / "lib" / "knock").mkdir(parents=True)
    t = np.arange(4000) / 16000
    sf.write(tmp_path / "lib" / "knock" / "0.wav", (np.sin(2 * np.pi * 400 * t) * np.exp(-t * 20)).astype(np.float32), 16000)
    video = make_video(tmp_path / "clip.mp4", seconds=1.6, fps=25)
    plan = Plan(duration=1.6, semantic=Semantic([Source("a", "knock"), Source("b", "knock")]),
                temporal=Temporal([Event("a", 0.2, 0.3), Event("b", 0.9, 1.0)]))
    config = ServerConfig(work_dir=str(tmp_path / "work"), library=str(tmp_path / "lib"))

    def no_model(name, device):
        raise AssertionError("the library engine must not load a model")

    with TestClient(build_app(config, load_pipeline=no_model, examples=[], warm_up=False)) as client:
        with open(video, "rb") as f:
            response = client.post("/v1/generate", files={"video": ("clip.mp4", f, "video/mp4")},
                                   data={"plan": plan.to_json(), "options": json.dumps({"engine": "library", "seed": 1})})
        assert response.status_code == 200, response.text
        body = response.json()
        archive = zipfile.ZipFile(io.BytesIO(client.get(body["files"]["stems"]).content))
        assert sorted(archive.namelist()) == ["a.wav", "b.wav"]
        assert body["plan"]["run"]["engine"] == "library"
        with open(video, "rb") as f:
            bad = client.post("/v1/generate", files={"video": ("clip.mp4", f, "video/mp4")},
                              data={"plan": plan.to_json(), "options": json.dumps({"engine": "magic"})})
        assert bad.status_code == 400 and "options.engine must be one of" in bad.json()["error"]
