"""Wall time, real-time factor and peak memory of `prismaudio generate` on long videos.

    nice -n 10 .venv/bin/python benchmarks/bench_long_video.py [--minutes 1 10 60] [--engine model|library]
        [--baseline] [--work /work/runs/stream/bench]

Test videos (256x256, 25 fps) are made from SynthCanvas clips: one minute of their frames is
encoded with x264 (as the canvas was), and longer videos repeat that minute by copying its
packets with shifted timestamps (no re-encode, so a 60-minute video takes seconds to make).
Each generate runs in its own process under /usr/bin/time -v, whose "Maximum resident set
size" is the peak memory. `--baseline` also times the in-memory path (the Python API's
`generate`, all audio in memory, then written and muxed) on the 1-minute video, under the same
machine load, for a like-for-like real-time factor. Targets (issue 26): peak memory at 60
minutes within 1.2x of that at 1 minute; real-time factor (wall s / video s) <= 0.32.
Results: benchmarks/results/long_video.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "long_video.json"
CANVAS = Path("/work/data/canvas")
SIZE, FPS = 256, 25
MEMORY_RATIO_TARGET, RTF_TARGET = 1.2, 0.32


def make_minute(path: Path) -> Path:
    """One minute of SynthCanvas frames, stretched to 256x256, encoded as the canvas is (x264 medium, crf 23)."""
    from PIL import Image

    from prismaudio import media

    clips = sorted((CANVAS / "video").glob("*.mp4"))[:8]
    frames = []
    for clip in clips:
        for image in media.decode_frames(clip, FPS).numpy():
            frames.append(np.asarray(Image.fromarray(image).resize((SIZE, SIZE), Image.BILINEAR)))
    need = 60 * FPS
    frames = (frames * (need // len(frames) + 1))[:need]
    return media.write_video(path, np.stack(frames), FPS)


def repeat_video(minute: Path, minutes: int, path: Path) -> Path:
    """`minutes` copies of the 1-minute video, back to back, by packet copy."""
    import av

    with av.open(str(minute)) as src, av.open(str(path), "w", format="mp4") as dst:
        vin = src.streams.video[0]
        vout = dst.add_stream_from_template(vin)
        packets = [p for p in src.demux(vin) if p.dts is not None]
        span = int(round(Fraction(60) / vin.time_base))
        for m in range(minutes):
            for p in packets:
                q = av.Packet(bytes(p))
                q.pts, q.dts, q.duration = p.pts + m * span, p.dts + m * span, p.duration
                q.is_keyframe = p.is_keyframe
                q.time_base = vin.time_base
                q.stream = vout
                dst.mux(q)
    return path


def video_for(minutes: int, work: Path) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    minute = work / "long_1min.mp4"
    if not minute.exists():
        make_minute(minute)
    if minutes == 1:
        return minute
    path = work / f"long_{minutes}min.mp4"
    if not path.exists():
        repeat_video(minute, minutes, path)
    return path


def timed(cmd: list[str], env: dict) -> dict:
    """Run under /usr/bin/time -v: wall seconds, peak RSS (MB), exit code, last stderr lines, and
    the machine's 1-minute load average sampled every 10 s while it ran (on a shared machine the
    wall time says as much about the load as about the program)."""
    import tempfile

    t0 = time.perf_counter()
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(["/usr/bin/time", "-v", *cmd], env=env, stdout=subprocess.DEVNULL, stderr=err, text=True)
        while True:
            try:
                proc.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                loads.append(os.getloadavg()[0])
        err.seek(0)
        stderr = err.read()
    wall = time.perf_counter() - t0
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    cpu = sum(float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", stderr))
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "peak_rss_mb": round(int(rss.group(1)) / 1024, 1) if rss else None,
            "returncode": proc.returncode, "stderr_tail": stderr.strip().splitlines()[-25:-23] if proc.returncode else [],
            "load_avg_1min_mean": round(float(np.mean(loads)), 1), "load_avg_1min_max": round(float(max(loads)), 1)}


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=int, nargs="+", default=[1, 10, 60])
    ap.add_argument("--engine", choices=["model", "library", "stem"], default="model")
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--library", default="/work/data/library")
    ap.add_argument("--baseline", action="store_true", help="also time the in-memory path on the 1-minute video")
    ap.add_argument("--work", type=Path, default=Path("/work/runs/stream/bench"))
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    exe = Path(sys.executable).parent / "prismaudio"
    engine = ["--engine", args.engine] + {"library": ["--library", args.library], "stem": [],
                                          "model": ["--model", args.model]}[args.engine]
    old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    runs = {(r["engine"], r["minutes"]): r for r in old.get("runs", [])}  # other engines' runs are kept
    for minutes in args.minutes:
        video = video_for(minutes, args.work)
        out = args.work / f"out_{args.engine}_{minutes}"
        cmd = [str(exe), "-q", "generate", str(video), "-o", str(out), "--seed", "0", *engine]
        load = os.getloadavg()[0]
        result = timed(cmd, env)
        seconds = minutes * 60.0
        runs[(args.engine, minutes)] = {"minutes": minutes, "engine": args.engine, "video_s": seconds, **result,
                         "rtf": round(result["wall_s"] / seconds, 3), "cpu_s_per_video_s": round(result["cpu_s"] / seconds, 3),
                         "load_avg_1min_at_start": round(load, 1), "commit": _git_commit(),
                         "command": " ".join(cmd)}
        print(json.dumps(runs[(args.engine, minutes)]), flush=True)
    baselines = {b["engine"]: b for b in old.get("baselines", [])}
    if args.baseline:
        video = video_for(1, args.work)
        out = args.work / f"baseline_{args.engine}"
        code = ("import sys; from prismaudio.commands.generate import make_pipeline; from prismaudio import media; "
                "import argparse; a = argparse.Namespace(engine=sys.argv[1], library=sys.argv[2] if sys.argv[1] == 'library' "
                "else None, model=sys.argv[3]); p = make_pipeline(a, 'auto'); "
                "r = p.generate(sys.argv[4], seed=0, engine=sys.argv[1]); media.write_audio(sys.argv[5] + '.wav', r.waveform, "
                "r.sample_rate); media.mux(sys.argv[4], r.waveform, r.sample_rate, sys.argv[5] + '.mp4')")
        load = os.getloadavg()[0]
        result = timed([sys.executable, "-c", code, args.engine, args.library, args.model, str(video), str(out)], env)
        baselines[args.engine] = {"minutes": 1, "engine": args.engine, "path": "in-memory (PrismAudio.generate)", **result,
                    "rtf": round(result["wall_s"] / 60.0, 3), "cpu_s_per_video_s": round(result["cpu_s"] / 60.0, 3),
                    "load_avg_1min_at_start": round(load, 1)}
        print(json.dumps(baselines[args.engine]), flush=True)
    if RESULTS.exists():  # another run of this script may have written meanwhile: keep its results
        latest = json.loads(RESULTS.read_text())
        runs = {**{(r["engine"], r["minutes"]): r for r in latest.get("runs", [])},
                **{(args.engine, m): runs[(args.engine, m)] for m in args.minutes}}
        baselines = {**{b["engine"]: b for b in latest.get("baselines", [])},
                     **({args.engine: baselines[args.engine]} if args.baseline else {})}
    summary = {"runs": [runs[key] for key in sorted(runs)], "baselines": list(baselines.values()),
               "targets": {"memory_ratio_60_to_1": MEMORY_RATIO_TARGET, "rtf": RTF_TARGET}, "memory_ratio_to_1min": {}}
    for engine in sorted({e for e, _ in runs}):
        mine = {m: r for (e, m), r in runs.items() if e == engine and r["peak_rss_mb"]}
        if 1 in mine and len(mine) > 1:
            longest = max(mine)
            summary["memory_ratio_to_1min"][engine] = {
                "minutes": longest, "ratio": round(mine[longest]["peak_rss_mb"] / mine[1]["peak_rss_mb"], 3)}
    summary["machine"] = {"cpus": os.cpu_count(), "note": "shared machine: wall-clock RTF depends on the load; "
                          "cpu_s_per_video_s (user + system CPU seconds per video second) much less, and the "
                          "baseline (in-memory path) is timed under the same load"}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
