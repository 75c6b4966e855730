"""Codec speed: encode and decode, times faster than real time, and peak memory, for 8 s and
60 s stereo inputs. Each case runs in a fresh process so its memory peak is its own.

    .venv/bin/python benchmarks/bench_codec.py [--checkpoint PATH | --config configs/codec_tiny.yaml]
        [--threads 2] [--repeats 3]

Prints one line per case and the machine load (these machines are shared: the load says how
much of the 2 cores the benchmark really had). Target for tiny: decode >= 50x real time.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import time


def _case(args: dict, queue) -> None:
    import torch

    torch.set_num_threads(args["threads"])
    from prismaudio.codec import StereoCodec
    from prismaudio.codec.config import CodecConfig
    from prismaudio.config import load_config

    if args["checkpoint"] and os.path.exists(args["checkpoint"]):
        codec = StereoCodec.load(args["checkpoint"])
    else:  # speed does not depend on the weights
        codec = StereoCodec(load_config(CodecConfig, args["config"])).eval()
    if args["phase_iterations"] is not None:  # decode-time knob: Griffin-Lim iterations
        codec.config.phase_iterations = args["phase_iterations"]
    n = int(args["seconds"] * codec.sample_rate)
    t = torch.arange(n) / codec.sample_rate
    tone = 0.2 * torch.sin(2 * torch.pi * 440 * t) * (1 + torch.sin(2 * torch.pi * 0.5 * t))
    wave = torch.stack([tone, 0.5 * tone])[None] + 0.01 * torch.randn(1, 2, n)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    latent = codec.encode(wave)
    codec.decode(latent, n)  # warm-up
    enc, dec = [], []
    for _ in range(args["repeats"]):
        t0 = time.perf_counter()
        latent = codec.encode(wave)
        t1 = time.perf_counter()
        codec.decode(latent, n)
        t2 = time.perf_counter()
        enc.append(t1 - t0)
        dec.append(t2 - t1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put({
        "preset": codec.config.name, "seconds": args["seconds"], "threads": args["threads"],
        "phase_iterations": codec.config.phase_iterations,
        "encode_x_realtime": args["seconds"] / min(enc), "decode_x_realtime": args["seconds"] / min(dec),
        "encode_s": min(enc), "decode_s": min(dec), "latent_shape": list(latent.shape),
        "peak_rss_mb": peak / 1024, "peak_rss_increase_mb": (peak - base_rss) / 1024,
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="runs/codec/codec_tiny.safetensors")
    parser.add_argument("--config", default="configs/codec_tiny.yaml")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, nargs="+", default=[8.0, 60.0])
    parser.add_argument("--phase-iterations", type=int, help="override the preset's Griffin-Lim iterations")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    results = []
    for seconds in args.seconds:
        queue = ctx.Queue()
        proc = ctx.Process(target=_case, args=(dict(vars(args), seconds=seconds), queue))
        proc.start()
        result = queue.get()
        proc.join()
        results.append(result)
        print(f"{result['preset']} {seconds:5.1f} s: encode {result['encode_x_realtime']:7.1f}x real time "
              f"({result['encode_s']:.3f} s), decode {result['decode_x_realtime']:7.1f}x real time "
              f"({result['decode_s']:.3f} s), peak RSS {result['peak_rss_mb']:.0f} MB "
              f"(+{result['peak_rss_increase_mb']:.0f} MB for the run), {args.threads} threads, "
              f"{result['phase_iterations']} phase iterations", flush=True)
    load = os.getloadavg()
    print(f"machine load average (1/5/15 min): {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
