"""CLI: `prismaudio train codec ...` and `prismaudio codec eval|encode|decode ...`.

Heavy imports stay inside the handlers so `prismaudio --help` stays fast.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..validate import THREADS, int_arg

log = logging.getLogger(__name__)
MAX_PHASE_ITERATIONS = 1000  # Griffin-Lim converges in tens; 100000 is hours of work

DEFAULT_CHECKPOINT = "tiny"  # the shipped model's codec, from any folder
CHECKPOINT_HELP = "codec weights (.safetensors), a model bundle folder, or a model name (default: tiny, the shipped codec)"


def codec_checkpoint(name_or_path: str) -> Path:
    """A codec .safetensors file from a path, a bundle folder or a model name ('tiny')."""
    import os

    from ..errors import ConfigError

    path = Path(name_or_path)
    if path.is_file():
        return path
    folders = [path] if path.is_dir() else [
        Path(os.environ.get("PRISMAUDIO_MODELS", Path.home() / ".cache" / "prismaudio" / "models")) / name_or_path,
        Path(__file__).resolve().parents[1] / "assets" / "models" / name_or_path,
    ] if len(path.parts) == 1 else []
    for folder in folders:
        index = folder / "prismaudio.json"
        if index.is_file():
            try:
                return folder / json.loads(index.read_text())["codec"]
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise ConfigError(f"{index}: damaged bundle index ({e})") from None
    raise ConfigError(f"{name_or_path}: no such codec checkpoint, bundle folder or model name (try --checkpoint tiny)")


def register_train(train_sub, common) -> None:
    p = train_sub.add_parser("codec", parents=[common], help="train the stereo audio codec (resumable; torchrun for DDP)")
    p.add_argument("--config", default="configs/codec_tiny.yaml", help="codec preset YAML")
    p.add_argument("--data", nargs="+", help="folders of audio, manifest.jsonl files or sound libraries (their train "
                   "part), one or more (default: render tinysoundfont clips)")
    p.add_argument("--split", default="train", help="manifest split to train on")
    p.add_argument("--out", default="runs/codec", help="run folder (checkpoints, TensorBoard)")
    p.add_argument("--max-steps", type=int, help="stop at this step (default: the config's max_steps)")
    p.add_argument("--resume", help="training checkpoint to continue from (default: newest in --out)")
    p.add_argument("--threads", type=THREADS, help="torch CPU threads (default: the config's)")
    p.set_defaults(func=run_train)


def run_train(args) -> int:
    import torch

    from ..config import load_config
    from .config import CodecConfig
    from .data import find_audio_files, load_clips, synth_clips
    from .trainer import CodecTrainer

    from ..validate import outside_package, output_dir

    output_dir(outside_package(args.out, "--out"), "--out")
    cfg = load_config(CodecConfig, args.config)
    torch.set_num_threads(args.threads or cfg.train.threads)
    if args.data:
        clips = load_clips([f for source in args.data for f in find_audio_files(source, args.split)], cfg.sample_rate)
    else:
        log.info("no --data: rendering %d tinysoundfont clips", cfg.train.synth_clips)
        clips = synth_clips(cfg.train.synth_clips, cfg.sample_rate, seed=cfg.train.seed)
    log.info("training on %d clips (%.1f min of audio)", len(clips), sum(c.shape[-1] for c in clips) / cfg.sample_rate / 60)
    trainer = CodecTrainer(cfg, clips, args.out)
    trainer.resume(args.resume)
    from ..train.distributed import cleanup

    parts = trainer.fit(args.max_steps)
    if trainer.dist.is_main:
        log.info("finished at step %d: %s", trainer.step, {k: round(v, 4) for k, v in parts.items()})
    cleanup(trainer.dist)
    return 0


def register(sub, common) -> None:
    p = sub.add_parser("codec", parents=[common], help="stereo codec: evaluate, encode, decode")
    cmds = p.add_subparsers(dest="codec_command", metavar="ACTION")

    e = cmds.add_parser("eval", parents=[common], help="reconstruction figures vs mel + Griffin-Lim on a folder")
    e.add_argument("--audio", required=True, help="folder of audio, or a SynthCanvas folder / manifest.jsonl")
    e.add_argument("--split", default="test", help="manifest split (when --audio is a manifest); for a sound "
                   "library, test = its held-out real recordings")
    e.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT, help=CHECKPOINT_HELP)
    e.add_argument("-o", "--output", default="codec_eval.json", help="report JSON")
    e.add_argument("--plots", help="folder for spectrogram-pair PNGs (default: beside the report)")
    e.add_argument("--limit", type=int_arg(1, 10**9), help="evaluate at most this many files")
    e.add_argument("--phase", choices=("griffin_lim", "learned"),
                   help="how to get the mid phase (default: the checkpoint's; learned needs a phase head)")
    e.add_argument("--phase-iterations", type=int_arg(0, MAX_PHASE_ITERATIONS), help="Griffin-Lim iterations at decode (default: the checkpoint's)")
    e.add_argument("--class-check", action="store_true",
                   help="train a log-mel classifier on the manifest's train split and compare accuracies")
    e.set_defaults(func=run_eval)

    enc = cmds.add_parser("encode", parents=[common], help="audio file -> latent (.safetensors)")
    enc.add_argument("audio")
    enc.add_argument("-o", "--output", required=True)
    enc.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT, help=CHECKPOINT_HELP)
    enc.set_defaults(func=run_encode)

    dec = cmds.add_parser("decode", parents=[common], help="latent (.safetensors) -> audio file")
    dec.add_argument("latent")
    dec.add_argument("-o", "--output", required=True)
    dec.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT, help=CHECKPOINT_HELP)
    dec.set_defaults(func=run_decode)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run_eval(args) -> int:
    import torch

    from ..fsutil import atomic_path
    from ..validate import output_dir, output_file
    from .evaluate import evaluate_folder
    from .stereo_codec import StereoCodec

    out = output_file(args.output, "-o", [args.audio, args.checkpoint])
    plots = Path(args.plots) if args.plots else out.with_suffix("").parent / (out.stem + "_plots")
    output_dir(plots, "--plots", [args.audio])
    torch.set_num_threads(2)
    codec = StereoCodec.load(codec_checkpoint(args.checkpoint))
    if args.phase_iterations is not None:  # a decode-time knob: the latents do not change
        codec.config.phase_iterations = args.phase_iterations
    if args.phase is not None:
        if args.phase == "learned" and codec.decoder.phase is None:
            from ..errors import ConfigError

            raise ConfigError(f"--phase learned: {args.checkpoint} has no phase head (train one: configs/codec_tiny_phase.yaml)")
        codec.config.phase_decoder = args.phase
    from ..optional import available

    if not available("matplotlib"):
        log.warning("matplotlib is not installed: no plots (pip install 'prismaudio[plots]')")
        plots = None
    report = evaluate_folder(codec, args.audio, split=args.split, plot_dir=plots, limit=args.limit,
                             class_check=args.class_check)
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(report, indent=2))
    print(json.dumps(report["summary"], indent=2))
    log.info("report written to %s, plots in %s", out, plots)
    if report["failed"]:
        import sys

        for line in report["failed"]:
            print(f"error: {line}", file=sys.stderr)
        total = len(report["failed"]) + report["summary"]["codec"]["clips"]
        print(f"error: {len(report['failed'])} of {total} file(s) failed", file=sys.stderr)
        return 2
    return 0


def run_encode(args) -> int:
    from safetensors.torch import save_file

    from ..fsutil import atomic_path
    from ..media import read_audio
    from .stereo_codec import StereoCodec

    codec = StereoCodec.load(codec_checkpoint(args.checkpoint))
    wave = read_audio(args.audio, codec.sample_rate)
    latent = codec.encode(wave[None])
    with atomic_path(args.output) as tmp:
        save_file({"latent": latent[0].contiguous()}, str(tmp), metadata={"num_samples": str(wave.shape[-1]),
                                                                          "sample_rate": str(codec.sample_rate)})
    print(f"{args.output}: latent {tuple(latent.shape[1:])} at {codec.latent_rate:g} frames/s")
    return 0


def run_decode(args) -> int:
    from safetensors import SafetensorError, safe_open

    from ..errors import MediaError
    from ..media import write_audio
    from .stereo_codec import StereoCodec

    codec = StereoCodec.load(codec_checkpoint(args.checkpoint))
    try:
        with safe_open(args.latent, framework="pt") as f:
            meta = f.metadata() or {}
            latent = f.get_tensor("latent")
    except (SafetensorError, OSError, KeyError) as e:
        raise MediaError(f"{args.latent}: not a latent file written by `codec encode` ({str(e)[:100]})") from None
    length = int(meta["num_samples"]) if "num_samples" in meta else None
    wave = codec.decode(latent[None], length)[0]
    write_audio(args.output, wave, codec.sample_rate)
    print(f"{args.output}: {wave.shape[-1] / codec.sample_rate:.3f} s stereo at {codec.sample_rate} Hz")
    return 0
