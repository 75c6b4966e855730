"""How closely does the stereo position heard in generated audio follow the plan's x?

    .venv/bin/python benchmarks/bench_spatial_follow.py runs/bench_steps/steps_8 runs/bench_steps/reference \
        [--canvas data/canvas]

Each folder holds `<sample id>.wav` files (as `benchmarks/bench_steps.py` writes them). For
every 100 ms frame where one planned source sounds alone and the audio is active, the heard
position is the inverse of the renderer's pan law at the frame's ILD
(`metrics.spatial.x_from_rendered_ild`) and the planned one the source's spatial track
(`--all-frames`: every sounding frame and `x_from_ild`, the figure before). Prints, per folder, the
least-squares slope and the correlation of heard against planned x: a slope near 1 pans as
planned, near 0 puts everything in the centre whatever the plan says.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from prismaudio.canvas.manifest import load_manifest
from prismaudio.dsp.spatial import framewise
from prismaudio.metrics.spatial import sounding_positions, x_from_ild, x_from_rendered_ild


def planned_and_heard(wav: Path, plan, alone: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(planned x, heard x) per active frame. `alone`: only frames where one planned event
    sounds, heard x by the renderer's own pan law (x_from_rendered_ild). A frame where two
    sources sound has one ILD between their positions, so it cannot follow either: over all
    frames with x_from_ild (alone=False, the figure before) the SynthCanvas reference renders
    themselves score a slope of 0.61 (canvas_v2 test mixes), one source at a time 0.84 with
    x_from_ild and about 1 with the renderer's law."""
    audio, sample_rate = sf.read(wav, dtype="float32", always_2d=True)
    fw = framewise(audio.T, sample_rate)
    planned = np.full(len(fw["times"]), np.nan)
    sounding = np.zeros(len(fw["times"]), int)
    for inside, xs in sounding_positions(plan, fw["times"]):
        planned[inside] = xs
        sounding[inside] += 1
    use = fw["active"] & ~np.isnan(planned)
    if not alone:
        return planned[use], x_from_ild(fw["ild"][use])
    use &= sounding == 1
    return planned[use], x_from_rendered_ild(fw["ild"][use])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="+", help="folders of <sample id>.wav")
    ap.add_argument("--canvas", default="data/canvas")
    ap.add_argument("--all-frames", action="store_true", help="also frames where several sources sound, x_from_ild")
    args = ap.parse_args()
    plans = {s.id: s.plan for s in load_manifest(args.canvas)}
    for folder in args.folders:
        wavs = sorted(p for p in Path(folder).glob("*.wav") if p.stem in plans)
        if not wavs:
            print(f"{folder}: no <sample id>.wav of this SynthCanvas", file=sys.stderr)
            return 2
        pairs = [planned_and_heard(p, plans[p.stem], alone=not args.all_frames) for p in wavs]
        planned = np.concatenate([a for a, _ in pairs])
        heard = np.concatenate([b for _, b in pairs])
        slope, intercept = np.polyfit(planned, heard, 1)
        corr = float(np.corrcoef(planned, heard)[0, 1])
        print(f"{folder}: {len(wavs)} clips, {len(planned)} frames: heard x = {slope:.2f} planned x {intercept:+.2f}, "
              f"correlation {corr:.2f}, mean |heard x| {np.abs(heard).mean():.2f} (planned {np.abs(planned).mean():.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
