"""A real browser (Debian's chromium, headless, driven by Playwright) uses the web demo end to end.

Skipped only where chromium is not installed; `.ci/run` installs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from media_factory import make_video

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install chromium)")

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    import uvicorn

    from prismaudio.pipeline import PrismAudio
    from prismaudio.server.app import build_app
    from prismaudio.server.config import ServerConfig

    pipeline = PrismAudio.from_pretrained("tiny-random", device="cpu")
    config = ServerConfig(work_dir=str(tmp_path / "work"), default_num_steps=2)
    port = free_port()
    app = build_app(config, load_pipeline=lambda name, device: pipeline, examples=[])
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not srv.started and time.time() < deadline:
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_upload_generate_and_play_in_browser(server, tmp_path):
    from playwright.sync_api import sync_playwright

    video = make_video(tmp_path / "upload me.mp4", seconds=1.2, fps=25)
    shots = Path(os.environ.get("PRISMAUDIO_ARTIFACTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.goto(server + "/", wait_until="networkidle")
        page.locator("#input-video input[type=file]").set_input_files(str(video))
        page.locator("#input-video video").wait_for(state="attached", timeout=30000)
        page.click("#plan-button")
        page.wait_for_function("document.querySelector('#plan-json').innerText.includes('\"duration\"')", timeout=120000)
        page.click("#generate-button")
        link = page.locator("#output-audio a[download]").first
        link.wait_for(state="attached", timeout=180000)
        # The browser itself must be able to load and play what the page offers.
        duration = page.evaluate(
            """async (href) => {
                const audio = new Audio(href);
                await new Promise((ok, bad) => {
                    audio.addEventListener('loadedmetadata', ok, {once: true});
                    audio.addEventListener('error', () => bad(new Error('audio failed to load')), {once: true});
                });
                return audio.duration;
            }""",
            link.get_attribute("href"),
        )
        assert duration == pytest.approx(1.2, abs=0.05)
        assert "Generated 1.20 s of stereo audio" in page.inner_text("#result-info")
        page.screenshot(path=str(shots / "web_demo.png"), full_page=True)
        browser.close()
    assert (shots / "web_demo.png").stat().st_size > 10_000
