"""The server offers the stem engine (generate's default): per-source stems as a zip download,
an exemplar upload per source, and one clear error for a bad exemplar."""

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

from prismaudio.server.api import exemplar_source  # noqa: E402
from prismaudio.server.app import build_app  # noqa: E402
from prismaudio.server.config import ServerConfig  # noqa: E402
from prismaudio.server.options import BadRequest  # noqa: E402
from prismaudio.server.ui import exemplar_choices, source_ids  # noqa: E402

PLAN = Plan(duration=1.6, semantic=Semantic([Source("a", "floor tom"), Source("b", "cowbell")]),
            temporal=Temporal([Event("a", 0.2, 0.5), Event("b", 0.9, 1.2)]))


def no_model(name, device):
    raise AssertionError("a stem engine must not load the joint model")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    work = tmp_path_factory.mktemp("work")
    with TestClient(build_app(ServerConfig(work_dir=str(work)), load_pipeline=no_model, examples=[],
                              warm_up=False)) as c:
        c.work = work
        yield c


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("v") / "clip.mp4", seconds=1.6, fps=25)


def knock_wav() -> bytes:
    t = np.arange(6000) / 16000
    buf = io.BytesIO()
    sf.write(buf, (np.sin(2 * np.pi * 700 * t) * np.exp(-t * 15)).astype(np.float32), 16000, format="WAV")
    return buf.getvalue()


def post(client, video, options: dict, exemplars: list[tuple[str, bytes]] = ()):
    with open(video, "rb") as f:
        files = [("video", ("clip.mp4", f, "video/mp4"))] + [("exemplar", (name, data, "audio/wav")) for name, data in exemplars]
        return client.post("/v1/generate", files=files, data={"plan": PLAN.to_json(), "options": json.dumps(options)})


def jobs_left(client) -> int:
    return sum(1 for p in (client.work / "jobs").iterdir() if p.is_dir()) if (client.work / "jobs").is_dir() else 0


def test_stem_engine_with_an_exemplar_gives_stems_to_download(client, video):
    response = post(client, video, {"engine": "stem", "seed": 2}, [("b=my knock.wav", knock_wav())])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["plan"]["run"]["engine"] == "stem"
    assert body["plan"]["semantic"]["sources"][1]["exemplar"]  # the saved plan names the exemplar it used
    archive = zipfile.ZipFile(io.BytesIO(client.get(body["files"]["stems"]).content))
    assert sorted(archive.namelist()) == ["a.wav", "b.wav"]
    stem, rate = sf.read(io.BytesIO(archive.read("b.wav")))
    # the stem of b sounds at its planned event, not before it
    assert stem.shape[1] == 2 and np.abs(stem[int(0.95 * rate):int(1.3 * rate)]).max() > 10 * np.abs(stem[:int(0.8 * rate)]).max()


@pytest.mark.parametrize("options, exemplars, message", [
    ({"engine": "stem"}, [("b=bad.wav", b"RIFF this is no audio")], "exemplar for source 'b' (the uploaded exemplar): not readable audio"),
    ({"engine": "stem"}, [("zz=knock.wav", knock_wav())], "exemplar for unknown source id 'zz'"),
    ({"engine": "stem"}, [("b=quiet.wav", b"")], "exemplar for source 'b' (the uploaded exemplar): not readable audio"),
    ({"engine": "model"}, [("b=knock.wav", knock_wav())], "exemplars need a stem engine"),
    ({"engine": "stem"}, [("knock.wav", knock_wav())], "exemplar: name the file part SOURCE_ID=FILE"),
])
def test_a_bad_exemplar_is_one_clear_400_and_leaves_nothing(client, video, options, exemplars, message):
    before = jobs_left(client)
    response = post(client, video, options, exemplars)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert message in error and "\n" not in error and str(client.work) not in error
    assert jobs_left(client) == before


def test_the_page_maps_its_exemplar_slots_to_sources():
    assert source_ids(PLAN.to_json()) == ["a", "b"] and source_ids("{not json") == []
    assert exemplar_choices([("a", "/tmp/x.wav"), (None, None), ("b", None)]) == {"a": "/tmp/x.wav"}
    with pytest.raises(BadRequest, match="exemplar 2: pick the plan source"):
        exemplar_choices([("a", "/tmp/x.wav"), (None, "/tmp/y.wav")])
    with pytest.raises(BadRequest, match="source 'a' already has an exemplar"):
        exemplar_choices([("a", "/tmp/x.wav"), ("a", "/tmp/y.wav")])
    assert exemplar_source("s0=knock.wav") == "s0"


def test_offered_engines_follow_the_config(tmp_path):
    from prismaudio.errors import ConfigError
    from prismaudio.server.service import offered_engines

    assert offered_engines(ServerConfig()) == ("model", "stem")
    assert offered_engines(ServerConfig(stem_engine=False, library=str(tmp_path))) == ("model", "library")
    with pytest.raises(ConfigError, match="default_engine 'library' is not offered"):
        build_app(ServerConfig(work_dir=str(tmp_path), default_engine="library"), load_pipeline=no_model, examples=[],
                  warm_up=False)


def test_the_page_generates_with_the_stem_engine_and_an_exemplar_slot(client, video, tmp_path):
    """The page's generate (what its button calls): engine menu 'stem', exemplar slot 2 for
    source 'b'; the downloads hold the stems zip. A slot with a file and no source: one error."""
    import gradio as gr

    knock = tmp_path / "knock.wav"
    knock.write_bytes(knock_wav())
    fns = {getattr(f, "name", ""): f.fn for f in client.app.state.service_ui.fns.values()}
    slots = [None, None, "b", str(knock), None, None, None, None]
    out = fns["generate"](str(video), PLAN.to_json(), 2, 3.0, 5, 0, "", "tiny", "stem", *slots)
    assert out[5].startswith("Generated 1.60 s of stereo audio")
    assert any(f.endswith("stems.zip") for f in out[2])
    assert json.loads(out[3])["run"]["engine"] == "stem"
    with pytest.raises(gr.Error, match="exemplar 1: pick the plan source"):
        fns["generate"](str(video), PLAN.to_json(), 2, 3.0, 5, 0, "", "tiny", "stem", None, str(knock))
