"""`prismaudio generate VIDEO_OR_DIR... -o OUTDIR`: soundtracks for videos.

Writes <stem>.wav|flac, <stem>.mp4 (video stream copied, generated audio exactly as long as
the video), <stem>.plan.json (with how it was made) and, with --stems, <stem>.stems/<source
id>.wav per video, each atomically, so an interrupted run resumes with --skip-existing.
Under torchrun each process takes every WORLD_SIZE-th video.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from .. import media
from ..errors import ConfigError, PrismError

log = logging.getLogger(__name__)


def register(sub, common) -> None:
    p = sub.add_parser("generate", parents=[common], help="generate synchronized stereo soundtracks for videos")
    p.add_argument("inputs", nargs="+", metavar="VIDEO_OR_DIR", help="video files or folders of videos")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--plan", help="plan JSON to use instead of the planner (one video only)")
    p.add_argument("--prompt", help="text that leads the semantic plan module")
    p.add_argument("--negative-prompt", help="text to steer away from (replaces the empty text in guidance)")
    p.add_argument("--duration", type=float, help="seconds to generate from the start (default: the whole video)")
    p.add_argument("--num-steps", type=int, default=None, help="sampler steps (default: the model's)")
    p.add_argument("--cfg-strength", type=float, default=None, help="classifier-free guidance strength (default: the model's)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same audio)")
    p.add_argument("--format", choices=["wav", "flac"], default="wav", help="audio file format")
    p.add_argument("--no-mux", action="store_true", help="do not write the .mp4 with the audio muxed in")
    p.add_argument("--skip-existing", action="store_true", help="skip videos whose outputs all exist")
    p.add_argument("--batch-size", type=int, default=1, help="videos sampled together (GPU memory permitting)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--model", default="tiny", help="model name (tiny, tiny-random) or bundle folder (engine model)")
    p.add_argument("--engine", choices=["model", "library"], default="model",
                   help="model: the joint-stereo generator; library: each source from a sound library's recordings "
                        "(or its exemplar), placed by the plan")
    p.add_argument("--library", metavar="DIR", help="sound library folder for --engine library "
                                                     "(built by `prismaudio library build`, or <class>/*.wav folders)")
    p.add_argument("--stems", action="store_true",
                   help="also write <stem>.stems/<source id>.wav, each source placed in the stereo image (stem engines)")
    p.add_argument("--exemplar", action="append", metavar="SOURCE_ID=FILE",
                   help="a recording of the sound a planned source should make (repeatable)")
    p.add_argument("--loudness", type=float, default=-23.0, metavar="LUFS",
                   help="integrated loudness target of the output (BS.1770; default -23); true peak stays <= -1 dBTP")
    p.set_defaults(func=run)


def collect_videos(inputs: list[str]) -> list[Path]:
    """Files as given; folders expanded to their videos (sorted). Missing paths are kept so
    that each fails with its own line."""
    out: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            out.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in media.VIDEO_SUFFIXES and p.is_file()))
        else:
            out.append(path)
    return out


def outputs_for(video: Path, outdir: Path, fmt: str, mux: bool, stems: bool = False) -> dict[str, Path]:
    paths = {"audio": outdir / f"{video.stem}.{fmt}", "plan": outdir / f"{video.stem}.plan.json"}
    if mux:
        paths["video"] = outdir / f"{video.stem}.mp4"
    if stems:
        paths["stems"] = outdir / f"{video.stem}.stems"
    return paths


def make_pipeline(args, device: str):
    """The model's pipeline, or a stem engine's (which loads no model)."""
    from ..pipeline import PrismAudio

    if args.engine == "library":
        from ..engines.library import LibraryEngine
        from ..library import SoundLibrary

        library = SoundLibrary.load(args.library) if args.library else None
        return PrismAudio.for_stems(LibraryEngine(library))
    pipe = PrismAudio.from_pretrained(args.model, device="cpu" if device.startswith("cuda:") else device)
    return _move(pipe, device) if device.startswith("cuda:") else pipe


def run(args) -> int:
    if args.num_steps is not None and args.num_steps < 1:
        raise ConfigError(f"--num-steps must be at least 1, got {args.num_steps}")
    if args.duration is not None and not args.duration > 0:
        raise ConfigError(f"--duration must be positive, got {args.duration}")
    if args.batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.library and args.engine != "library":
        raise ConfigError("--library is for --engine library")
    if args.engine == "library" and not args.library and not args.exemplar:
        raise ConfigError("--engine library needs --library DIR (a sound library) or --exemplar SOURCE_ID=FILE")
    if args.stems and args.engine == "model":
        raise ConfigError("--stems needs a stem engine (--engine library): the model engine makes the stereo mix at once")
    if not -70.0 <= args.loudness <= 0.0:
        raise ConfigError(f"--loudness must lie in -70..0 LUFS, got {args.loudness:g}")
    from ..pipeline.exemplars import parse_exemplar_options

    exemplars = parse_exemplar_options(args.exemplar)
    from tqdm.auto import tqdm

    from ..log import progress_enabled
    from ..planner.plan import Plan
    from ..render.stems import write_stems

    outdir = Path(args.output)
    videos = collect_videos(args.inputs)
    if not videos:
        raise ConfigError("no videos found in the given inputs")
    plan = None
    if args.plan:
        if len(videos) > 1:
            raise ConfigError("--plan applies to one video; got several")
        Plan.load(args.plan)  # a bad plan fails before any model loads
        plan = Path(args.plan)  # as a path: its exemplar paths are relative to it
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    videos = videos[rank::world]
    mux = not args.no_mux
    todo = []
    for video in videos:
        if args.skip_existing and all(p.exists() for p in outputs_for(video, outdir, args.format, mux, args.stems).values()):
            log.info("skip %s (outputs exist)", video)
            continue
        todo.append(video)
    if not todo:
        return 0
    device = args.device
    if world > 1 and device in ("auto", "cuda"):
        import torch

        if torch.cuda.is_available():
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    pipe = make_pipeline(args, device)
    failed = 0
    bar = tqdm(total=len(todo), desc="videos", unit="video", disable=not progress_enabled())
    for start in range(0, len(todo), args.batch_size):
        batch = todo[start:start + args.batch_size]
        results = pipe.generate_batch(batch, [plan] * len(batch), args.prompt, args.negative_prompt, args.duration,
                                      args.seed, args.num_steps, args.cfg_strength, progress=progress_enabled(),
                                      engine=args.engine, loudness=args.loudness, exemplars=exemplars)
        for video, result in zip(batch, results):
            try:
                if isinstance(result, PrismError):
                    raise result
                paths = outputs_for(video, outdir, args.format, mux, args.stems)
                if args.stems:
                    write_stems(paths["stems"], result.stems, result.sample_rate)
                media.write_audio(paths["audio"], result.waveform, result.sample_rate)
                result.plan.save(paths["plan"])
                if mux:
                    media.mux(video, result.waveform, result.sample_rate, paths["video"])
                log.info("%s -> %s (%.2f s of audio)", video, paths["audio"], result.duration)
            except PrismError as e:
                failed += 1
                # tqdm.write: the line is printed above the progress bar, never inside it
                tqdm.write(f"error: {video}: {e}" if str(video) not in str(e) else f"error: {e}", file=sys.stderr)
            bar.update(1)
    bar.close()
    if failed:
        print(f"error: {failed} of {len(todo)} video(s) failed", file=sys.stderr)
        return 2
    return 0


def _move(pipe, device: str):
    import torch

    pipe.device = torch.device(device)
    pipe.generator.to(device)
    pipe.codec.to(device)
    return pipe
