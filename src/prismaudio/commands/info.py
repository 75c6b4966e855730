"""`prismaudio info VIDEO...`: probe videos and print a table or JSON."""

from __future__ import annotations

import json
import sys

from .. import media
from ..cli import run_each


def register(sub, common) -> None:
    p = sub.add_parser("info", parents=[common], help="show duration, fps, size, rotation and audio streams of videos")
    p.add_argument("videos", nargs="+", help="video files")
    p.add_argument("--json", action="store_true", help="print one JSON object per line")
    p.set_defaults(func=run)


def _row(info: media.VideoInfo) -> str:
    audio = ", ".join(f"{a.codec} {a.sample_rate} Hz {a.channels}ch" for a in info.audio_streams) or "none"
    width, height = info.display_size
    vfr = " (variable)" if info.variable_fps else ""
    rot = f" rot {info.rotation}" if info.rotation else ""
    return f"{info.path}\t{info.duration:.3f} s\t{info.fps:.3f} fps{vfr}\t{width}x{height}{rot}\t{info.video_codec}\taudio: {audio}"


def run(args) -> int:
    if not args.json:
        print("file\tduration\tfps\tsize\tcodec\taudio")

    def show(path: str) -> None:
        info = media.probe(path)
        print(json.dumps(info.to_dict()) if args.json else _row(info))
        sys.stdout.flush()

    return run_each(args.videos, show, what="file")
