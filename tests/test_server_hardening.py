"""The server's defects from issue 24, each one as a user of the HTTP API or the page meets it.

Real pipeline throughout (tiny model, random weights); the loaders below only count or delay
the loading of that real pipeline.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

from media_factory import make_video

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from prismaudio.errors import PrismError  # noqa: E402
from prismaudio.server.app import build_app  # noqa: E402
from prismaudio.server.config import ServerConfig  # noqa: E402

INTERNALS = ("__init__", "Traceback", "SpooledTemporaryFile", "UploadFile", "<class", "--num-steps", "--", "/tmp")


@pytest.fixture(scope="module")
def pipeline():
    from prismaudio.pipeline import PrismAudio

    return PrismAudio.tiny_random(device="cpu")


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("v") / "clip.mp4", seconds=1.6, fps=25)


class CountingLoader:
    """Loads the real pipeline; records each name it was asked to load."""

    def __init__(self, pipeline, delay_s: float = 0.0, fail: tuple[str, ...] = ()):
        self.pipeline, self.delay_s, self.fail, self.calls = pipeline, delay_s, fail, []

    def __call__(self, name: str, device: str):
        self.calls.append(name)
        time.sleep(self.delay_s)
        if name in self.fail:
            raise PrismError(f"model '{name}' is not built yet: no prismaudio.json in /srv/secret/models/{name}")
        return self.pipeline


def make_client(tmp_path, pipeline, loader=None, **settings):
    config = ServerConfig(work_dir=str(tmp_path / "work"), default_num_steps=2, **settings)
    return TestClient(build_app(config, load_pipeline=loader or (lambda name, device: pipeline), examples=[]))


def post_video(client, route, path, **data):
    with open(path, "rb") as f:
        return client.post(route, files={"video": (path.name, f, "video/mp4")}, data=data)


def assert_clean_error(response, status: int, *words: str):
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"] and isinstance(body["error"], str), body
    for word in words:
        assert word in body["error"], body
    for bad in INTERNALS:
        assert bad not in body["error"], body


# ---- models: an allow-list, one load each, nothing said about the server's files ----------------
def test_models_only_by_name_from_the_allow_list(tmp_path, pipeline, video):
    loader = CountingLoader(pipeline)
    with make_client(tmp_path, pipeline, loader, model="tiny", extra_models=["/srv/bundles/custom"]) as client:
        assert loader.calls == ["tiny"]  # the default is loaded before the first request
        assert client.get("/healthz").json()["models"] == ["tiny", "custom"]
        answers = set()
        for name in ["/etc", "/nonexistent/folder", "../tiny", "tiny-random", "/srv/bundles/custom", " tiny", "x" * 5000]:
            r = post_video(client, "/v1/plan", video, model=name)
            assert_clean_error(r, 400, "tiny, custom")
            answers.add(r.text)
        assert len(answers) == 1  # a path that exists is answered exactly like one that does not
        for _ in range(3):
            assert post_video(client, "/v1/plan", video, model="custom").status_code == 200
            assert post_video(client, "/v1/plan", video, model="tiny").status_code == 200
        r = post_video(client, "/v1/generate", video, options=json.dumps({"model": "/etc", "num_steps": 1}))
        assert_clean_error(r, 400, "options.model")
        assert loader.calls == ["tiny", "/srv/bundles/custom"]  # one load per model, nothing else


def test_a_model_that_fails_to_load_fails_once_without_paths(tmp_path, pipeline, video):
    loader = CountingLoader(pipeline, fail=("broken",))
    with make_client(tmp_path, pipeline, loader, extra_models=["broken"]) as client:
        for _ in range(2):
            r = post_video(client, "/v1/plan", video, model="broken")
            assert_clean_error(r, 503, "'broken' is not available")
            assert "/srv" not in r.text
        assert loader.calls.count("broken") == 1


def test_concurrent_first_requests_load_a_model_once(tmp_path, pipeline):
    loader = CountingLoader(pipeline, delay_s=0.5)
    app = build_app(ServerConfig(work_dir=str(tmp_path / "w"), extra_models=["other"]), load_pipeline=loader, examples=[])
    service = app.state.service
    threads = [threading.Thread(target=service.pipeline, args=("other",)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loader.calls == ["tiny", "other"]


def test_model_load_is_not_counted_against_the_request_timeout(tmp_path, pipeline, video):
    loader = CountingLoader(pipeline, delay_s=6.0)  # a slow disk: longer than the timeout below
    with make_client(tmp_path, pipeline, loader, request_timeout_s=5.0) as client:
        r = post_video(client, "/v1/plan", video)
        assert r.status_code == 200, r.text


def test_serve_with_a_model_that_cannot_load_stops_with_one_line(tmp_path, capsys):
    from prismaudio.cli import main

    code = main(["serve", "--model", str(tmp_path / "no-such-bundle"), "--port", "1", "--work-dir", str(tmp_path / "w")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error:")


def test_serve_with_a_default_engine_it_cannot_offer_stops_with_one_line(tmp_path, capsys):
    from prismaudio.cli import main

    # the library engine needs a library folder: without one the server does not start
    code = main(["serve", "--default-engine", "library", "--port", "1", "--work-dir", str(tmp_path / "w")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "default_engine" in err[0] and "library" in err[0]


# ---- options: typed and bounded, 400 in the API's words -----------------------------------------
@pytest.mark.parametrize("options, field", [
    ('{"num_steps": "x"}', "options.num_steps"),
    ('{"num_steps": 1e6}', "options.num_steps"),
    ('{"num_steps": 1000000}', "options.num_steps"),
    ('{"num_steps": true}', "options.num_steps"),
    ('{"num_steps": 2.5}', "options.num_steps"),
    ('{"cfg_strength": NaN}', "options.cfg_strength"),
    ('{"cfg_strength": "3"}', "options.cfg_strength"),
    ('{"seed": -1}', "options.seed"),
    ('{"seed": 18446744073709551616}', "options.seed"),
    ('{"duration": 0}', "options.duration"),
    ('{"duration": Infinity}', "options.duration"),
    ('{"prompt": 5}', "options.prompt"),
    ('{"bogus": 1}', "unknown option 'bogus'"),
    ('[1, 2]', "JSON object"),
    ('"num_steps"', "JSON object"),
    ("{num_steps: 3", "JSON object"),
    ('[' * 100000 + ']' * 100000, "JSON object"),
])
def test_wrong_or_huge_options_are_400_in_api_terms(tmp_path, pipeline, video, options, field):
    # a short timeout: a server that ran these would answer 504 instead of 400
    with make_client(tmp_path, pipeline, request_timeout_s=3.0) as client:
        r = post_video(client, "/v1/generate", video, options=options)
        assert_clean_error(r, 400, field)
        assert client.get("/healthz").json()["jobs_on_disk"] == 0


def test_parse_options_types_and_defaults():
    from prismaudio.server.options import GenerateOptions, OptionLimits, parse_options

    limits = OptionLimits(max_num_steps=8)
    assert parse_options(None, limits) == GenerateOptions() == parse_options("  ", limits)
    got = parse_options('{"num_steps": 8, "cfg_strength": 2, "seed": 0, "duration": 1.5, "model": null}', limits)
    assert got == GenerateOptions(num_steps=8, cfg_strength=2.0, seed=0, duration=1.5)
    assert got.pipeline_kwargs(4, 3.0)["num_steps"] == 8 and GenerateOptions().pipeline_kwargs(4, 3.0)["cfg_strength"] == 3.0
    with pytest.raises(PrismError, match="from 1 to 8"):
        parse_options('{"num_steps": 9}', limits)


# ---- uploads: a streaming size limit, also for chunked bodies -----------------------------------
def multipart(total: int, boundary: str = "B0undary") -> bytes:
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"video\"; filename=\"v.mp4\"\r\n"
            "Content-Type: video/mp4\r\n\r\n").encode()
    return head + b"\0" * total + f"\r\n--{boundary}--\r\n".encode()


def test_chunked_upload_stops_at_the_limit(tmp_path, pipeline):
    """A body without Content-Length is counted as it arrives: the server stops reading at the
    limit and answers 413, instead of spooling all of it."""
    app = build_app(ServerConfig(work_dir=str(tmp_path / "w"), max_upload_mb=1.0), load_pipeline=lambda n, d: pipeline,
                    examples=[])
    body, step = multipart(32 * 2**20), 64 * 1024
    pulled, sent = 0, []

    async def receive():
        nonlocal pulled
        if pulled >= len(body):
            await asyncio.sleep(3600)  # the client waits for the answer
        chunk = body[pulled:pulled + step]
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": pulled < len(body)}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/v1/generate", "raw_path": b"/v1/generate", "query_string": b"", "root_path": "",
             "headers": [(b"host", b"test"), (b"transfer-encoding", b"chunked"),
                         (b"content-type", b"multipart/form-data; boundary=B0undary")],
             "client": ("127.0.0.1", 1), "server": ("test", 80)}
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 60))
    start = next(m for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert start["status"] == 413 and "limit of 1 MB" in json.loads(payload)["error"]
    assert pulled <= 2**20 + 64 * 1024 + step  # read up to the limit, not the 32 MB sent
    assert app.state.service.jobs.job_count() == 0


def test_declared_oversize_is_refused_before_reading(tmp_path, pipeline):
    with make_client(tmp_path, pipeline, max_upload_mb=0.5) as client:
        r = client.post("/v1/generate", content=multipart(2**20), headers={
            "content-type": "multipart/form-data; boundary=B0undary"})
        assert_clean_error(r, 413, "limit of 0.5 MB")


# ---- jobs: timeouts free their slot, folders neither leak nor vanish under a worker -------------
def test_timed_out_job_stops_and_frees_its_slot(tmp_path, pipeline):
    video = make_video(tmp_path / "long.mp4", seconds=3.0, fps=25)
    steps = []
    hook = pipeline.generator.register_forward_hook(lambda *a: steps.append(time.monotonic()))
    try:
        with make_client(tmp_path, pipeline, request_timeout_s=2.0, max_concurrent_jobs=1) as client:
            service = client.app.state.service
            r = post_video(client, "/v1/generate", video, options='{"num_steps": 64}')
            assert_clean_error(r, 504, "longer than 2 s")
            at_timeout = len(steps)
            deadline = time.monotonic() + 120
            while service.active_jobs() and time.monotonic() < deadline:
                time.sleep(0.05)
            # the worker gave up within a step (64 steps with guidance would be >= 64 more calls)
            assert len(steps) - at_timeout <= 2
            health = client.get("/healthz").json()
            assert health["jobs_on_disk"] == 0 and health["jobs_running"] == 0  # its folder went with it
            assert service._slots.acquire(blocking=False)  # the slot is free: the next request is not a 429
            service._slots.release()
    finally:
        hook.remove()


def test_a_folder_is_removed_only_after_its_worker_ends(tmp_path, pipeline):
    with make_client(tmp_path, pipeline, request_timeout_s=0.3) as client:
        service = client.app.state.service
        job = service.save_upload(open(__file__, "rb"), "v.mp4")
        problems = []

        def slow_writer():  # a worker that keeps writing into its job folder after the timeout
            for i in range(15):
                try:
                    (job.folder / f"part{i}").write_bytes(b"x")
                except OSError as e:
                    problems.append(e)
                time.sleep(0.1)

        from prismaudio.server.service import JobTimeout

        with pytest.raises(JobTimeout):
            service._run(job, slow_writer, wait=False)
        service.give_up(job)  # what a failed request does
        assert job.folder.exists()
        deadline = time.monotonic() + 10
        while job.folder.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not problems and not job.folder.exists()


def test_plan_for_another_video_leaves_no_folder(tmp_path, pipeline, video):
    with make_client(tmp_path, pipeline) as client:
        plan = post_video(client, "/v1/plan", video).json()["plan"]
        plan["duration"] = 7.0
        r = post_video(client, "/v1/generate", video, plan=json.dumps(plan))
        assert_clean_error(r, 400, "does not match the video")
        r = post_video(client, "/v1/generate", video, options='{"duration": 9}')
        assert_clean_error(r, 400, "options.duration")
        assert client.get("/healthz").json()["jobs_on_disk"] == 0


# ---- one error shape, 404/405 on API paths, clean messages --------------------------------------
def test_every_error_has_one_shape(tmp_path, pipeline, video):
    with make_client(tmp_path, pipeline) as client:
        assert_clean_error(client.get("/v1/nothing-here"), 404)
        assert_clean_error(client.post("/v1/files/x/y"), 405)
        for method, path, allow in [("POST", "/healthz", "GET, HEAD"), ("GET", "/v1/generate", "POST"),
                                    ("DELETE", "/v1/plan", "POST"), ("PUT", "/v1/files/a/b", "GET, HEAD")]:
            r = client.request(method, path)
            assert_clean_error(r, 405, method)
            assert r.headers["allow"] == allow
        with open(video, "rb") as f:
            r = client.post("/v1/generate", files={"video": ("clip.mp4", f), "plan": ("plan.json", b"{}", "application/json")})
        assert_clean_error(r, 400, "plan: must be a text field")
        assert_clean_error(client.post("/v1/generate", data={"options": "{}"}), 400, "video: required")
        assert_clean_error(client.post("/v1/plan", json={"video": "x"}), 400, "multipart")
        assert_clean_error(client.post("/v1/plan", files={"video": ("v.mp4", b"")}), 400, "empty")
        text = tmp_path / "notes.mp4"
        text.write_text("not a video " * 100)
        r = post_video(client, "/v1/generate", text)
        assert_clean_error(r, 400, "not a readable media file")
        assert str(tmp_path) not in r.text and "input.mp4" not in r.text


def test_public_message_hides_paths():
    from prismaudio.server.limits import public_message

    msg = public_message("/srv/w/jobs/ab12/input.mp4: bad; see /opt/x/y.py and C:\\models\\x\\y; POST /v1/plan",
                         {"/srv/w/jobs/ab12/input.mp4": "the uploaded video"})
    assert msg == "the uploaded video: bad; see <path> and <path>; POST /v1/plan"
    assert len(public_message("x" * 10**6)) == 300


def test_plan_text_is_size_limited_in_the_api_and_the_editor(tmp_path, pipeline, video):
    big = json.dumps({"duration": 1.6, "semantic": {"sources": []}, "padding": "x" * 300_000})
    with make_client(tmp_path, pipeline) as client:
        r = post_video(client, "/v1/generate", video, plan=big)
        assert_clean_error(r, 400, "at most 256 KB")
        demo_fns = [f for f in client.app.state.service_ui.fns.values() if getattr(f, "name", "") == "generate"]
        import gradio as gr

        with pytest.raises(gr.Error, match="at most 256 KB"):
            demo_fns[0].fn(str(video), big, 2, 3.0, -1, 0, "", "tiny")


def test_page_functions_plan_and_generate(tmp_path, pipeline, video):
    """The page's own plan and generate functions (what its buttons call), without a browser."""
    with make_client(tmp_path, pipeline) as client:
        assert client.get("/").status_code == 200
        fns = {getattr(f, "name", ""): f.fn for f in client.app.state.service_ui.fns.values()}
        plan_json, text = fns["make_plan"](str(video), "tiny")
        assert json.loads(plan_json)["duration"] == pytest.approx(1.6, abs=0.05) and "Semantic" in text
        out = fns["generate"](str(video), plan_json, 2, 3.0, 5, 0, "hiss", "tiny")
        assert out[5].startswith("Generated 1.60 s of stereo audio")
        assert client.get("/healthz").json()["jobs_on_disk"] == 1  # the result, for download; no upload left


@pytest.mark.parametrize("text, words", [
    ('{"duration": NaN}', "NaN"), ('{"duration": 1e400}', "too large"), ('{"duration": Infinity}', "Infinity"),
    ('[' * 50000 + ']' * 50000, "plan"), ('{"duration": 1.6, "bogus": 1}', "bogus"), ("\udcff", "plan"),
])
def test_odd_plan_text_is_400(tmp_path, pipeline, video, text, words):
    from prismaudio.server.options import OptionLimits, parse_plan

    with pytest.raises(PrismError, match=words):
        parse_plan(text, OptionLimits())
    if "\udcff" not in text:
        with make_client(tmp_path, pipeline) as client:
            assert_clean_error(post_video(client, "/v1/generate", video, plan=text), 400, words)


def test_a_client_that_goes_away_cancels_its_job(tmp_path, pipeline):
    """Over real HTTP: the client gives up after 2 s; the server stops the job at the next step,
    frees the slot and keeps nothing (a finished job would leave its results on disk)."""
    import httpx
    import socket

    import uvicorn

    video = make_video(tmp_path / "long.mp4", seconds=3.0, fps=25)
    app = build_app(ServerConfig(work_dir=str(tmp_path / "work"), max_concurrent_jobs=1),
                    load_pipeline=lambda name, device: pipeline, examples=[])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    steps = []
    hook = pipeline.generator.register_forward_hook(lambda *a: steps.append(1))
    try:
        deadline = time.monotonic() + 60
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        with pytest.raises(httpx.TimeoutException):
            httpx.post(base + "/v1/generate", files={"video": ("v.mp4", video.read_bytes())},
                       data={"options": '{"num_steps": 64}'}, timeout=2.0)
        deadline = time.monotonic() + 120
        while httpx.get(base + "/healthz").json()["jobs_running"] and time.monotonic() < deadline:
            time.sleep(0.1)
        health = httpx.get(base + "/healthz").json()
        assert health["jobs_running"] == 0 and health["jobs_on_disk"] == 0, health
        assert len(steps) < 64  # it never finished sampling
    finally:
        hook.remove()
        server.should_exit = True
        thread.join(timeout=10)
