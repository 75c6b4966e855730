"""The video stream of a muxed output: copied packet for packet, or cut to a duration.

Without a cut (or when the cut falls after the last frame) every packet is copied: no
re-encode, no quality loss, any length in constant memory. With a cut (`generate --duration`),
the packets showing frames before the end are copied when they are a prefix of the decoding
order (then no kept frame refers to a dropped one); otherwise (B-frames that refer to a frame
after the cut) the kept frames are decoded and re-encoded as H.264, frame by frame.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from typing import Callable

log = logging.getLogger(__name__)
EPS = 1e-6
CUT_CRF = 18  # a re-encoded cut is visually lossless next to the source


def _relative_times(source, stream) -> tuple[list[float], float]:
    """Per packet in demux order: presentation time relative to the first frame (None pts: inf)."""
    pts = []
    for packet in source.demux(stream):
        if packet.dts is None and packet.pts is None:
            continue
        pts.append(float(packet.pts * stream.time_base) if packet.pts is not None else float("inf"))
    source.seek(0, stream=stream)
    first = min(pts) if pts else 0.0
    return [p - first for p in pts], first


def add_video(source, target, end: float | None) -> Callable[[], None]:
    """Add source's first video stream to `target` (an open output container), up to `end`
    seconds (None: all of it). Returns the function that writes its packets, to be called
    once every stream has been added (a container's header is written with the first packet)."""
    vin = source.streams.video[0]
    if end is None:
        return _copy(source, target, vin, None)
    times, _ = _relative_times(source, vin)
    keep = [t < end - EPS for t in times]
    if all(keep):
        return _copy(source, target, vin, None)
    if not any(keep[keep.index(False):]):  # the kept packets are a prefix of the decoding order
        return _copy(source, target, vin, keep.index(False))
    log.info("cutting the video at %.3f s needs a re-encode (frames before it refer to later ones)", end)
    return _reencode(source, target, vin, end)


def _copy(source, target, vin, count: int | None) -> Callable[[], None]:
    vout = target.add_stream_from_template(vin)
    vout.metadata.update(vin.metadata)
    return lambda: _copy_packets(source, target, vin, vout, count)


def _copy_packets(source, target, vin, vout, count: int | None) -> None:
    written = 0
    for packet in source.demux(vin):
        if packet.dts is None and packet.pts is None:
            continue
        if count is not None and written >= count:
            break
        written += 1
        if packet.dts is None:
            continue
        packet.stream = vout
        target.mux(packet)


def _reencode(source, target, vin, end: float) -> Callable[[], None]:
    rate = vin.average_rate or Fraction(25)
    vout = target.add_stream("libx264", rate=rate)
    vout.width, vout.height, vout.pix_fmt = vin.codec_context.width, vin.codec_context.height, "yuv420p"
    vout.options = {"crf": str(CUT_CRF), "preset": "medium"}
    vout.metadata.update(vin.metadata)
    vout.codec_context.time_base = vin.time_base
    return lambda: _reencode_frames(source, target, vin, vout, end)


def _reencode_frames(source, target, vin, vout, end: float) -> None:
    first = None
    for frame in source.decode(vin):
        if frame.pts is None:
            continue
        first = frame.pts if first is None else first
        if float((frame.pts - first) * vin.time_base) >= end - EPS:
            break
        out = frame.reformat(format="yuv420p")
        out.pts, out.time_base = frame.pts - first, vin.time_base
        for packet in vout.encode(out):
            target.mux(packet)
    for packet in vout.encode():
        target.mux(packet)
