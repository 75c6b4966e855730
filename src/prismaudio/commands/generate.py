"""`prismaudio generate VIDEO_OR_DIR... -o OUTDIR`: soundtracks for videos.

Writes <stem>.wav|flac, <stem>.mp4 (video stream copied, generated audio exactly as long as
the video), <stem>.plan.json (with how it was made) and, with --stems, <stem>.stems/<source
id>.wav per video, each atomically, so an interrupted run resumes with --skip-existing.
A video longer than one model window streams window by window in constant memory and keeps
its finished windows in <stem>.work/, so the same command resumes it (docs/long-videos.md).
Under torchrun each process takes every WORLD_SIZE-th video.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import numpy as np

from .. import media
from ..errors import ConfigError, PrismError
from ..validate import SEED, float_arg, int_arg

log = logging.getLogger(__name__)
MAX_STEPS = 1000  # a flow sampler gains nothing past a few hundred steps; 100000 is hours of work
SILENT_PEAK = 1e-5


def register(sub, common) -> None:
    p = sub.add_parser("generate", parents=[common], help="generate synchronized stereo soundtracks for videos")
    p.add_argument("inputs", nargs="+", metavar="VIDEO_OR_DIR", help="video files or folders of videos")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--plan", help="plan JSON to use instead of the planner (one video only)")
    p.add_argument("--prompt", help="text that leads the semantic plan module")
    p.add_argument("--negative-prompt", help="text to steer away from (replaces the empty text in guidance)")
    p.add_argument("--duration", type=float_arg(0, 24 * 3600, lo_open=True), help="seconds to generate from the start (default: the whole video)")
    p.add_argument("--num-steps", type=int_arg(1, MAX_STEPS), default=None, help="sampler steps (default: the model's)")
    p.add_argument("--cfg-strength", type=float_arg(0, 100), default=None, help="classifier-free guidance strength (default: the model's)")
    p.add_argument("--seed", type=SEED, default=0, help="random seed (same seed, same audio)")
    p.add_argument("--format", choices=["wav", "flac"], default="wav", help="audio file format")
    p.add_argument("--no-mux", action="store_true", help="do not write the .mp4 with the audio muxed in")
    p.add_argument("--skip-existing", action="store_true", help="skip videos whose outputs all exist")
    p.add_argument("--batch-size", type=int_arg(1, 256), default=1, help="videos sampled together (GPU memory permitting)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--model", default=None, help="joint model name (tiny, tiny-random) or bundle folder (engine model; "
                                                  "default tiny)")
    p.add_argument("--engine", choices=["model", "library", "stem"], default=None,
                   help="model: the joint-stereo generator; library: each source from a sound library's recordings "
                        "(or its exemplar), placed by the plan; stem: the stem generator, one source at a time, "
                        "started from a sketch of each source (its exemplar, the library or the sound bank). Default: "
                        "stem when the installed model ships a stem generator and no --model is given, else model")
    p.add_argument("--library", metavar="DIR", help="sound library folder for --engine library|stem "
                                                     "(built by `prismaudio library build`, or <class>/*.wav folders)")
    p.add_argument("--stem-model", metavar="FILE", help="stem generator weights for --engine stem (default: the shipped one)")
    p.add_argument("--variation", type=float_arg(0.0, 1.0), default=None, metavar="V",
                   help="--engine stem: how far each stem may depart from its sketch (0: the sketch itself, "
                        "1: generated from noise; default 0.15)")
    p.add_argument("--stems", action="store_true",
                   help="also write <stem>.stems/<source id>.wav, each source placed in the stereo image (stem engines)")
    p.add_argument("--exemplar", action="append", metavar="SOURCE_ID=FILE",
                   help="a recording of the sound a planned source should make (repeatable)")
    p.add_argument("--loudness", type=float_arg(-70.0, 0.0), default=-23.0, metavar="LUFS",
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


def outputs_for(video: Path, outdir: Path, fmt: str, mux: bool, stem: str | None = None,
                stems: bool = False) -> dict[str, Path]:
    stem = stem or video.stem
    paths = {"audio": outdir / f"{stem}.{fmt}", "plan": outdir / f"{stem}.plan.json"}
    if mux:
        paths["video"] = outdir / f"{stem}.mp4"
    if stems:
        paths["stems"] = outdir / f"{stem}.stems"
    return paths


def output_stems(videos: list[Path]) -> dict[Path, str]:
    """The output name of each video: its stem, or `<folder>-<stem>` where two videos from
    different folders share a stem (a/good.mp4, b/good.mp4 -> a-good, b-good), so that no
    video's outputs replace another's. Still ambiguous (the same file twice): ConfigError."""
    counts: dict[str, int] = {}
    for v in videos:
        counts[v.stem] = counts.get(v.stem, 0) + 1
    names = {v: v.stem if counts[v.stem] == 1 else f"{v.resolve().parent.name}-{v.stem}" for v in videos}
    seen: dict[str, Path] = {}
    for v, name in names.items():
        if name in seen:
            raise ConfigError(f"{seen[name]} and {v} would write the same outputs ({name}.*); "
                              "give them different names or generate them into separate folders")
        seen[name] = v
    if len(names) != len(videos):
        raise ConfigError(f"a video is given twice: {next(v for v in videos if videos.count(v) > 1)}")
    return names


def check_outputs(videos: list[Path], stems: dict[Path, str], outdir: Path, fmt: str, mux: bool,
                  plan: str | None) -> None:
    """Refuse, before any work, outputs that would overwrite an input (generate v.mp4 -o <its folder>)."""
    from ..validate import output_file, same_path

    inputs = [*videos, *([plan] if plan else [])]
    for video in videos:
        for path in outputs_for(video, outdir, fmt, mux, stems[video], True).values():
            if any(same_path(path, other) for other in inputs):
                raise ConfigError(f"-o {outdir}: {path} would overwrite an input; choose another output folder")
            if path.suffix != ".stems":
                output_file(path, "-o")


def make_pipeline(args, device: str):
    """The model's pipeline, or a stem engine's (which loads no model)."""
    from ..pipeline import PrismAudio

    if args.engine in ("library", "stem"):
        from ..library import SoundLibrary

        library = SoundLibrary.load(args.library) if args.library else None
        if args.engine == "stem":
            from ..stemgen.engine import DEFAULT_TEMPLATE_SIGMA, StemGeneratorEngine

            variation = DEFAULT_TEMPLATE_SIGMA if args.variation is None else args.variation
            return PrismAudio.for_stems(StemGeneratorEngine.load(args.stem_model, library=library,
                                                                 template_sigma=variation))
        from ..engines.library import LibraryEngine

        return PrismAudio.for_stems(LibraryEngine(library))
    pipe = PrismAudio.from_pretrained(args.model, device="cpu" if device.startswith("cuda:") else device)
    return _move(pipe, device) if device.startswith("cuda:") else pipe


def default_engine(args) -> str:
    """The engine a plain `generate` uses: the stem engine, which wins the generator benchmark
    (benchmarks/results/generator.md), when it is installed; the joint model when --model names
    one or no stem generator ships."""
    from ..stemgen.engine import default_model_path

    if args.model is not None or not default_model_path().is_file():
        return "model"
    return "stem"


def run(args) -> int:
    from ..pipeline.heap import share_one_heap

    share_one_heap()  # before any thread exists: a long video's memory stays flat (pipeline/heap.py)
    args.engine = args.engine or default_engine(args)
    args.model = args.model or "tiny"
    if args.library and args.engine == "model":
        raise ConfigError("--library is for --engine library or stem")
    if (args.stem_model or args.variation is not None) and args.engine != "stem":
        raise ConfigError("--stem-model and --variation are for --engine stem")
    if args.engine == "library" and not args.library and not args.exemplar:
        raise ConfigError("--engine library needs --library DIR (a sound library) or --exemplar SOURCE_ID=FILE")
    if args.stems and args.engine == "model":
        raise ConfigError("--stems needs a stem engine (--engine library or stem): the model engine makes the stereo mix at once")
    from ..pipeline.exemplars import parse_exemplar_options

    exemplars = parse_exemplar_options(args.exemplar)
    from tqdm.auto import tqdm

    from ..log import progress_enabled
    from ..planner.plan import Plan
    from ..render.stems import write_stems
    from ..validate import output_dir

    videos = collect_videos(args.inputs)
    if not videos:
        raise ConfigError("no videos found in the given inputs")
    outdir = output_dir(args.output, "-o", videos)
    names = output_stems(videos)
    check_outputs(videos, names, outdir, args.format, not args.no_mux, args.plan)
    plan = None
    if args.plan:
        if len(videos) > 1:
            raise ConfigError("--plan applies to one video; got several")
        if not Plan.load(args.plan).temporal.events:  # a bad plan fails before any model loads
            print(f"warning: {args.plan}: the plan has no events; the soundtrack will be ambience at most",
                  file=sys.stderr)
        plan = Path(args.plan)  # as a path: its exemplar paths are relative to it
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    videos = videos[rank::world]
    mux = not args.no_mux
    todo = []
    for video in videos:
        if args.skip_existing and all(p.exists() for p in outputs_for(video, outdir, args.format, mux, names[video],
                                                                      args.stems).values()):
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
    long = [] if args.stems else [v for v in todo if _is_long(pipe, v, args)]
    for video in long:  # window by window, in constant memory, resumable (pipeline/stream.py)
        try:
            _generate_long(pipe, video, outputs_for(video, outdir, args.format, mux, names[video]), plan, args,
                           exemplars)
        except PrismError as e:
            failed += 1
            tqdm.write(f"error: {video}: {e}" if str(video) not in str(e) else f"error: {e}", file=sys.stderr)
        bar.update(1)
    short = [v for v in todo if v not in long]
    for start in range(0, len(short), args.batch_size):
        batch = short[start:start + args.batch_size]
        results = pipe.generate_batch(batch, [plan] * len(batch), args.prompt, args.negative_prompt, args.duration,
                                      args.seed, args.num_steps, args.cfg_strength, progress=progress_enabled(),
                                      engine=args.engine, loudness=args.loudness, exemplars=exemplars)
        for video, result in zip(batch, results):
            try:
                if isinstance(result, PrismError):
                    raise result
                paths = outputs_for(video, outdir, args.format, mux, names[video], args.stems)
                if args.stems:
                    write_stems(paths["stems"], result.stems, result.sample_rate)
                media.write_audio(paths["audio"], result.waveform, result.sample_rate)
                _warn_if_silent(video, result)
                result.plan.save(paths["plan"])
                if mux:  # cut to the generated duration: the output is what was made
                    media.mux(video, result.waveform, result.sample_rate, paths["video"], args.duration)
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


def _is_long(pipe, video: Path, args) -> bool:
    """More than one window of audio to make (an unreadable video stays on the common path,
    which reports it)."""
    from ..pipeline.stream import needs_streaming

    try:
        length = args.duration or media.probe(video).duration
    except PrismError:
        return False
    return needs_streaming(pipe, length, args.engine)


def _generate_long(pipe, video: Path, paths: dict[str, Path], plan, args, exemplars) -> None:
    from ..log import progress_enabled

    result = pipe.generate_to_files(video, paths["audio"], paths.get("video"), plan, args.prompt, args.negative_prompt,
                                    args.duration, args.seed, args.num_steps, args.cfg_strength,
                                    progress=progress_enabled(), engine=args.engine, loudness=args.loudness,
                                    exemplars=exemplars)
    result.plan.save(paths["plan"])
    if result.mastering is not None and not np.isfinite(result.mastering.loudness_in):
        why = "its plan has no sound events" if not result.plan.temporal.events else "its plan's events made no sound"
        print(f"warning: {video}: the soundtrack is silent ({why})", file=sys.stderr)
    log.info("%s -> %s (%.2f s of audio, %d windows)", video, paths["audio"], result.duration, result.windows)


def _warn_if_silent(video: Path, result) -> None:
    """Say so when the soundtrack written is silent (a plan or a video without sound events)."""
    import numpy as np

    wave = result.waveform.detach().cpu().numpy() if hasattr(result.waveform, "detach") else np.asarray(result.waveform)
    if wave.size == 0 or float(np.abs(wave).max()) < SILENT_PEAK:
        why = "its plan has no sound events" if not result.plan.temporal.events else "its plan's events made no sound"
        print(f"warning: {video}: the soundtrack is silent ({why})", file=sys.stderr)
    elif not result.plan.temporal.events:
        print(f"warning: {video}: its plan has no sound events; the soundtrack is ambience only", file=sys.stderr)


def _move(pipe, device: str):
    import torch

    pipe.device = torch.device(device)
    pipe.generator.to(device)
    pipe.codec.to(device)
    return pipe
