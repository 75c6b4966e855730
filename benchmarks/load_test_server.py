"""Bounded load test of `prismaudio serve` on loopback.

Starts the server in a subprocess (tiny model with random weights unless --model is given),
fires N concurrent POST /v1/generate requests, and checks that every request ends in 200 or
a clean 429/503, that the server still answers /healthz, and that no upload or temporary
file is left behind once results expire.

    .venv/bin/python benchmarks/load_test_server.py --requests 20 --max-jobs 2
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from media_factory import make_video  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tmp_files() -> set[str]:
    return {str(p) for p in Path(tempfile.gettempdir()).glob("*") if p.is_file()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--max-jobs", type=int, default=2)
    ap.add_argument("--model", default="tiny-random")
    ap.add_argument("--seconds", type=float, default=2.0, help="length of the uploaded test video")
    ap.add_argument("--retention", type=float, default=20.0)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="prismaudio-load-"))
    video = make_video(work / "clip.mp4", seconds=args.seconds, fps=25)
    port = free_port()
    before = tmp_files()
    server = subprocess.Popen(
        [sys.executable, "-m", "prismaudio", "serve", "--model", args.model, "--port", str(port),
         "--work-dir", str(work / "server"), "--max-jobs", str(args.max_jobs), "--retention", str(args.retention),
         "--timeout", "600"],
        stdout=subprocess.DEVNULL, stderr=open(work / "server.log", "w"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or server.poll() is not None:
                print("server did not start; see", work / "server.log")
                return 1
            time.sleep(0.5)
        # Warm the model once so the figures are about load, not start-up.
        with open(video, "rb") as f:
            httpx.post(base + "/v1/generate", files={"video": ("clip.mp4", f)}, data={"options": '{"num_steps": 4}'}, timeout=600)

        def one(i: int) -> tuple[int, float]:
            t0 = time.perf_counter()
            with open(video, "rb") as f:
                r = httpx.post(base + "/v1/generate", files={"video": (f"clip{i}.mp4", f)},
                               data={"options": json.dumps({"num_steps": 4, "seed": i})}, timeout=600)
            if r.status_code != 200:
                json.loads(r.text)["error"]  # an error must be JSON with a message
            return r.status_code, time.perf_counter() - t0

        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.requests) as pool:
            results = list(pool.map(one, range(args.requests)))
        wall = time.perf_counter() - t0
        codes = Counter(code for code, _ in results)
        ok_times = [t for code, t in results if code == 200]
        alive = httpx.get(base + "/healthz", timeout=5).status_code == 200
        leftovers = [p for p in (work / "server" / "jobs").rglob("input*")]
        print(f"requests: {args.requests} concurrent, max jobs {args.max_jobs}, wall {wall:.1f} s")
        print(f"status codes: {dict(sorted(codes.items()))}")
        if ok_times:
            print(f"successful latency: median {statistics.median(ok_times):.2f} s, max {max(ok_times):.2f} s")
        clean = set(codes) <= {200, 429, 503}
        print(f"every request ended in 200/429/503: {clean}; server alive afterwards: {alive}; uploads left: {len(leftovers)}")
        time.sleep(args.retention + 2)
        httpx.get(base + "/healthz", timeout=5)
        time.sleep(2)  # one cleanup round
        remaining = httpx.get(base + "/healthz", timeout=5).json()["jobs_on_disk"]
        new_tmp = tmp_files() - before
        print(f"after retention ({args.retention:g} s): job folders on disk {remaining}; new files in {tempfile.gettempdir()}: {len(new_tmp)}")
        return 0 if clean and alive and not leftovers and remaining == 0 and not new_tmp else 1
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
