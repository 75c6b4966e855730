"""The demo's report: for each clip, what was planned against what is heard, as one HTML page.

Per clip: the muxed video, the spectrograms of the generated and the reference audio, the
onset timeline (planned onsets, onsets detected in the generated audio and in the reference),
the left/right position heard over time (inverse constant-power pan of the ILD) against the
planned x, and figures for the generated audio next to the reference's. The figures here are
signal measurements that need nothing but numpy; the learned metrics (class, CLAP, quality)
are added by the caller when YAMNet is installed. `engine` names what produced the audio
(the generator model, or another engine), so the same report serves every engine.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .dsp.onsets import detect_onsets, onset_prf
from .dsp.spatial import framewise
from .planner.plan import Plan

ONSET_TOLERANCE_S = 0.05  # as the evaluation suite's onset F1


@dataclass
class HeardAudio:
    """Signal facts of one stereo waveform [2, N]."""

    onsets: np.ndarray  # detected onset times, s
    times: np.ndarray  # frame centres of the position track, s
    x: np.ndarray  # heard position per frame in [-1, 1] (nan where too quiet to tell)
    peak: float
    rms_db: float


@dataclass
class ClipReport:
    """One clip of the report: its files (relative to the report) and its measurements."""

    name: str
    video: str  # the muxed mp4
    spectrogram: str  # PNG
    plan: Plan
    generated: HeardAudio
    reference: HeardAudio | None
    figures: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)  # name -> (generated, reference)
    timings: dict[str, float] = field(default_factory=dict)
    truth: str = ""


def x_from_ild(ild_db: np.ndarray) -> np.ndarray:
    """Horizontal position in [-1, 1] whose constant-power pan gives this ILD (left louder = negative)."""
    angle = np.arctan2(1.0, 10 ** (np.asarray(ild_db, np.float64) / 20))
    return np.clip(angle * 4 / np.pi - 1, -1, 1)


def hear(wave: np.ndarray, sample_rate: int) -> HeardAudio:
    wave = np.asarray(wave, np.float64)
    track = framewise(wave, sample_rate)
    x = np.where(track["active"], x_from_ild(track["ild"]), np.nan)
    return HeardAudio(onsets=detect_onsets(wave.mean(0), sample_rate), times=track["times"], x=x,
                      peak=float(np.abs(wave).max()), rms_db=float(10 * np.log10(np.mean(wave**2) + 1e-12)))


def planned_x(plan: Plan, times: np.ndarray) -> np.ndarray:
    """The planned position of whatever sounds at each time: the track of the source with the
    most recent onset (nan before the first onset or with no track)."""
    out = np.full(len(times), np.nan)
    events = sorted(plan.temporal.events, key=lambda e: e.onset)
    for e in events:
        track = plan.track(e.source)
        if track is not None:
            mask = times >= e.onset
            out[mask] = track.x_at(times[mask])
    return out


def signal_figures(plan: Plan, heard: HeardAudio) -> dict[str, float | None]:
    """Onset F1 against the plan's impacts, side agreement and position error against its x."""
    impacts = np.array([e.onset for e in plan.temporal.events if e.kind == "impact"])
    target = planned_x(plan, heard.times)
    both = ~np.isnan(target) & ~np.isnan(heard.x)
    off_centre = both & (np.abs(target) > 0.2)
    return {
        "onset F1 vs planned impacts": onset_prf(heard.onsets, impacts, ONSET_TOLERANCE_S)[2] if impacts.size else None,
        "side agreement (off-centre frames)": float(np.mean(np.sign(heard.x[off_centre]) == np.sign(target[off_centre])))
        if off_centre.any() else None,
        "position error |x heard - x planned|": float(np.median(np.abs(heard.x[both] - target[both]))) if both.any() else None,
        "peak level": heard.peak,
        "RMS level dB": heard.rms_db,
    }


# ---- pictures ----------------------------------------------------------------------------------
_COLOURS = np.array([[13, 8, 135], [126, 3, 168], [204, 71, 120], [248, 149, 64], [240, 249, 33]], np.float64)


def colour_map(values: np.ndarray) -> np.ndarray:
    """[H, W] in 0..1 -> [H, W, 3] uint8 on a plasma-like ramp."""
    pos = np.clip(values, 0, 1) * (len(_COLOURS) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(_COLOURS) - 2)
    frac = (pos - lo)[..., None]
    return (_COLOURS[lo] * (1 - frac) + _COLOURS[lo + 1] * frac).astype(np.uint8)


def write_spectrogram(path: Path, waves: dict[str, np.ndarray], sample_rate: int, height: int = 128) -> Path:
    """Log-mel spectrograms (mid channel, 80 dB range) of each wave, stacked top to bottom, as PNG."""
    import torch
    from PIL import Image, ImageDraw

    from .dsp.spectral import log_mel

    rows = []
    for label, wave in waves.items():
        mid = torch.from_numpy(np.ascontiguousarray(np.asarray(wave, np.float32).mean(0)))
        db = log_mel(mid, sample_rate, n_mels=height, n_fft=1024, hop=160).numpy() * (20 / np.log(10))
        img = colour_map((db - (db.max() - 80)) / 80)[::-1]  # low frequencies at the bottom
        strip = Image.fromarray(np.ascontiguousarray(img)).resize((800, height))
        ImageDraw.Draw(strip).text((6, 4), label, fill=(255, 255, 255))
        rows.append(strip)
    sheet = Image.new("RGB", (800, sum(r.height + 4 for r in rows)), (255, 255, 255))
    y = 0
    for r in rows:
        sheet.paste(r, (0, y))
        y += r.height + 4
    sheet.save(path)
    return path


def _svg(width: int, height: int, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">' + "".join(body) + "</svg>")


def onset_timeline_svg(clip: ClipReport, duration: float, width: int = 800) -> str:
    """Three rows of ticks: planned onsets, onsets in the generated audio, onsets in the reference."""
    rows = [("planned", [e.onset for e in clip.plan.temporal.events], "#555")]
    rows.append(("generated", list(clip.generated.onsets), "#d62728"))
    if clip.reference is not None:
        rows.append(("reference", list(clip.reference.onsets), "#1f77b4"))
    left, row_h = 80, 24
    scale = (width - left - 10) / max(duration, 1e-6)
    body = []
    for i, (label, times, colour) in enumerate(rows):
        y = 10 + i * row_h
        body.append(f'<text x="4" y="{y + 14}">{label}</text>')
        body.append(f'<line x1="{left}" x2="{width - 10}" y1="{y + 10}" y2="{y + 10}" stroke="#ddd"/>')
        for t in times:
            x = left + t * scale
            body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y}" y2="{y + 20}" stroke="{colour}" stroke-width="2">'
                        f"<title>{label} {t:.3f} s</title></line>")
    axis_y = 10 + len(rows) * row_h
    for s in range(int(duration) + 1):
        x = left + s * scale
        body.append(f'<text x="{x:.1f}" y="{axis_y + 10}" text-anchor="middle">{s} s</text>')
    return _svg(width, axis_y + 16, body)


def position_svg(clip: ClipReport, duration: float, width: int = 800, height: int = 160) -> str:
    """Heard x over time (generated, reference) against the planned x; left is up."""
    left, top, bottom = 80, 10, height - 20
    sx = (width - left - 10) / max(duration, 1e-6)

    def y_of(x: float) -> float:
        return top + (x + 1) / 2 * (bottom - top)

    def path(times: np.ndarray, xs: np.ndarray, colour: str, dash: str = "") -> str:
        pts, parts = [], []
        for t, x in zip(times, xs):
            if np.isnan(x):
                if len(pts) > 1:
                    parts.append(" ".join(pts))
                pts = []
                continue
            pts.append(f"{left + t * sx:.1f},{y_of(x):.1f}")
        if len(pts) > 1:
            parts.append(" ".join(pts))
        return "".join(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" {dash} points="{p}"/>' for p in parts)

    body = [f'<text x="4" y="{y_of(-1) + 4}">left</text>', f'<text x="4" y="{y_of(0) + 4}">centre</text>',
            f'<text x="4" y="{y_of(1) + 4}">right</text>',
            f'<line x1="{left}" x2="{width - 10}" y1="{y_of(0)}" y2="{y_of(0)}" stroke="#ddd"/>']
    times = clip.generated.times
    body.append(path(times, planned_x(clip.plan, times), "#555", 'stroke-dasharray="5,3"'))
    if clip.reference is not None:
        body.append(path(clip.reference.times, clip.reference.x, "#1f77b4"))
    body.append(path(times, clip.generated.x, "#d62728"))
    for s in range(int(duration) + 1):
        body.append(f'<text x="{left + s * sx:.1f}" y="{height - 4}" text-anchor="middle">{s} s</text>')
    return _svg(width, height, body)


# ---- the page ----------------------------------------------------------------------------------
def _fmt(v: float | None) -> str:
    return "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}" if isinstance(v, float) else str(v)


def render_html(clips: list[ClipReport], engine: str, notes: list[str], weak: list[str]) -> str:
    e = html.escape
    out = ["<!doctype html><html><head><meta charset='utf-8'><title>PrismAudio demo</title><style>",
           "body{font-family:sans-serif;max-width:860px;margin:2em auto;color:#222}"
           "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
           "td:first-child,th:first-child{text-align:left}.legend span{margin-right:1em}"
           ".gen{color:#d62728}.ref{color:#1f77b4}.plan{color:#555}</style></head><body>",
           f"<h1>PrismAudio demo</h1><p>Soundtracks planned and generated from the video alone by "
           f"<b>{e(engine)}</b>, next to each clip's true soundtrack (the reference).</p>"]
    out += [f"<p>{e(n)}</p>" for n in notes]
    legend = ("<p class='legend'><span class='plan'>&#9644; planned</span><span class='gen'>&#9644; generated</span>"
              "<span class='ref'>&#9644; reference</span></p>")
    for c in clips:
        duration = c.plan.duration
        out.append(f"<h2>{e(c.name)}</h2>")
        if c.truth:
            out.append(f"<p>On screen: {e(c.truth)}.</p>")
        out.append(f"<video controls width='384' src='{e(c.video)}'></video>")
        out.append("<h3>The plan</h3><ul>" + "".join(f"<li>{e(t)}</li>" for t in c.plan.module_texts().values()) + "</ul>")
        out.append(f"<h3>Spectrograms</h3><img src='{e(c.spectrogram)}' width='800' alt='log-mel spectrograms'>")
        out.append("<h3>Onsets</h3>" + legend + onset_timeline_svg(c, duration))
        out.append("<h3>Left/right position heard</h3>" + legend + position_svg(c, duration))
        out.append("<h3>Figures</h3><table><tr><th>measure</th><th>generated</th><th>reference</th></tr>")
        out += [f"<tr><td>{e(k)}</td><td>{_fmt(g)}</td><td>{_fmt(r)}</td></tr>" for k, (g, r) in c.figures.items()]
        out.append("</table>")
        if c.timings:
            out.append("<p>Time per stage: " + ", ".join(f"{e(k)} {v:.2f} s" for k, v in c.timings.items()) + "</p>")
    if weak:
        out.append("<h2>Where it is weak</h2><ul>" + "".join(f"<li>{e(w)}</li>" for w in weak) + "</ul>")
    out.append("</body></html>")
    return "\n".join(out)
