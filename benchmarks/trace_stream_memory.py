"""Where a streamed generate's memory goes, window by window: a dev tool (glibc only).

    nice -n 10 .venv/bin/python benchmarks/trace_stream_memory.py OUT.npz -- -q generate VIDEO -o DIR --seed 0

Runs `prismaudio generate` in this process with a sampling thread that records, every 2 ms,
the resident size (/proc/self/statm), glibc's heap statistics (mallinfo2: the main arena's
extent, bytes in use, bytes free in it, bytes in mmapped blocks) and the stage each of the two
threads is in (the planner's passes; the stem engine's sketches, encode, flow, sketch detail
and decode; the heap trim after each window). It saves them to OUT.npz and prints, per window
(from one trim to the next), the heap's extent just after the trim and the highest resident
size, with the stages both threads were in at that moment. A long video's peak follows the
heap's extent (docs/long-videos.md, "What grew with the length").
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
import threading
import time

import numpy as np

FIELDS = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in FIELDS]


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    out_path, args = sys.argv[1], sys.argv[3:]
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    page = os.sysconf("SC_PAGE_SIZE")
    stage = {"main": "", "planner": ""}
    names: dict[str, int] = {}
    rows: list[tuple] = []
    stop = threading.Event()

    def sample() -> None:
        with open("/proc/self/statm") as statm:
            while not stop.is_set():
                statm.seek(0)
                rss = int(statm.read().split()[1]) * page
                info = libc.mallinfo2()
                rows.append((time.perf_counter(), rss, info.arena, info.uordblks, info.fordblks, info.hblkhd,
                             names.setdefault(stage["main"], len(names)), names.setdefault(stage["planner"], len(names))))
                time.sleep(0.002)

    def marked(fn, label):
        @functools.wraps(fn)
        def wrapped(*a, **k):
            who = "planner" if threading.current_thread().name == "prismaudio-prefetch" else "main"
            before, stage[who] = stage[who], label
            try:
                return fn(*a, **k)
            finally:
                stage[who] = before
        return wrapped

    from prismaudio.pipeline import stream
    from prismaudio.pipeline.heap import share_one_heap
    from prismaudio.planner import passes
    from prismaudio.stemgen import engine, latent, template

    share_one_heap()  # as the CLI does, before any thread
    order = [p.__name__ for p in passes.PASSES]
    for name in order:
        setattr(passes, name, marked(getattr(passes, name), name))
    passes.PASSES = tuple(getattr(passes, name) for name in order)
    engine.sample_latents = marked(engine.sample_latents, "flow")
    template.template_stems = marked(template.template_stems, "sketch")  # engine.templates imports it when called
    for method, label in (("encode", "encode"), ("sketch_detail", "detail"), ("decode", "decode")):
        setattr(latent.MonoLatent, method, marked(getattr(latent.MonoLatent, method), label))
    stream.release_free_memory = marked(stream.release_free_memory, "trim")

    sampler = threading.Thread(target=sample, name="memory-sampler", daemon=True)
    sampler.start()
    from prismaudio.cli import main as cli

    try:
        code = cli(args)
    finally:
        stop.set()
        sampler.join()
    data = np.array(rows, dtype=np.float64)
    labels = sorted(names, key=names.get)
    np.savez(out_path, data=data, labels=np.array(labels))
    report(data, labels)
    return code


def report(data: np.ndarray, labels: list[str]) -> None:
    t, rss, arena, used, free, mapped, main_stage, planner_stage = data.T
    mb = 2.0**20
    trim = labels.index("trim") if "trim" in labels else -1
    trimming = main_stage.astype(int) == trim
    starts = [i for i in range(1, len(t)) if trimming[i] and not trimming[i - 1]]
    print("window  heap extent after trim  |  peak RSS  heap extent  in use  free  mmapped  | stages at the peak")
    for k, (a, b) in enumerate(zip(starts, starts[1:])):
        j = a + int(np.argmax(rss[a:b]))
        after = min(a + 3, b - 1)
        print(f"{k:6d}  {arena[after] / mb:8.0f} MB               |  {rss[j] / mb:6.0f}  {arena[j] / mb:8.0f}  "
              f"{used[j] / mb:6.0f}  {free[j] / mb:4.0f}  {mapped[j] / mb:7.0f}  | main {labels[int(main_stage[j])] or '-'}, "
              f"planner {labels[int(planner_stage[j])] or '-'}")
    print(f"peak RSS {rss.max() / mb:.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
