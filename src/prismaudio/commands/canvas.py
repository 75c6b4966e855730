"""`prismaudio canvas build OUTDIR` (SynthCanvas benchmark world) and `prismaudio canvas classes`."""

from __future__ import annotations

import argparse
import json

from ..validate import SEED, excerpt, int_arg


def _size(text: str) -> tuple[int, int]:
    """'224' or 'WxH' -> (width, height)."""
    try:
        if "x" in text.lower():
            w, h = text.lower().split("x", 1)
            return int(w), int(h)
        return int(text), int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or WxH, got {excerpt(text)}") from None


def _class_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sound-bank", metavar="DIR", help="folder of <class>/*.wav (+ optional classes.yaml)")
    p.add_argument("--sound-bank-mode", choices=["replace", "extend"], help="use only the bank's classes, or add them (default extend)")
    p.add_argument("--classes", metavar="A,B,...", help="comma-separated subset of class names")
    p.add_argument("--library", metavar="DIR", help="a built sound library (`prismaudio library build`): its classes and recordings "
                                                    "replace the built-in ones (physics world: the objects' sounds)")


def register(sub, common) -> None:
    canvas = sub.add_parser("canvas", parents=[common], help="SynthCanvas: build the synthetic benchmark world")
    csub = canvas.add_subparsers(dest="canvas_command", metavar="ACTION")
    canvas.set_defaults(func=lambda args: canvas.print_help() or 2)

    b = csub.add_parser("build", parents=[common], help="render videos, stereo references, degraded copies and manifest.jsonl",
                        description="Build (or resume) a SynthCanvas dataset in OUTDIR. Options not given come from --config "
                                    "(a configs/canvas_*.yaml preset) or the defaults.")
    b.add_argument("outdir", metavar="OUTDIR")
    b.add_argument("--world", choices=["canvas", "physics"], default="canvas",
                   help="canvas: SynthCanvas sprites (default); physics: PhysWorld, rendered 3D physics scenes "
                        "(configs/physworld_default.yaml; see docs/physworld.md)")
    b.add_argument("--train", type=int, help="physics world: train clips")
    b.add_argument("--val", type=int, help="physics world: val clips")
    b.add_argument("--test", type=int, help="physics world: test clips (held-out objects, floors, backdrops)")
    b.add_argument("--config", metavar="YAML", help="build options preset (e.g. configs/canvas_paper.yaml)")
    b.add_argument("--sample-rate", type=int_arg(1, 10**6), help="16000 (default) or 44100")
    b.add_argument("--duration", type=float, help="seconds per sample (default 8)")
    b.add_argument("--size", type=_size, metavar="N|WxH", help="video resolution (default 224)")
    b.add_argument("--fps", type=float, help="video frame rate (default 25)")
    b.add_argument("--single-per-class", type=int_arg(0, 10**6), help="single-source samples per class (default 3)")
    b.add_argument("--multi", type=int_arg(0, 10**7), help="multi-source samples (default 50)")
    b.add_argument("--ood", type=int_arg(0, 10**7), help="out-of-distribution samples (default 20)")
    b.add_argument("--degraded-fraction", type=float, help="fraction of samples with a degraded copy (default 0.2)")
    b.add_argument("--seed", type=SEED, help="build seed (default 0)")
    b.add_argument("--workers", type=int_arg(1, 256), help="processes (default 2)")
    b.add_argument("--soundfont", metavar="SF2", help="General MIDI soundfont (default FluidR3 if installed, else TimGM6mb)")
    b.add_argument("--emoji-font", metavar="TTF", help="colour emoji font (default Noto Color Emoji)")
    _class_options(b)
    b.set_defaults(func=run_build)

    c = csub.add_parser("classes", parents=[common], help="list the sound classes (built-in or with a sound bank)")
    _class_options(c)
    c.add_argument("--json", action="store_true", help="print the class table as JSON")
    c.set_defaults(func=run_classes)


def _config(args):
    from ..canvas.options import CanvasConfig
    from ..config import from_dict, load_yaml

    data = load_yaml(args.config) if getattr(args, "config", None) else {}
    flags = {
        "sample_rate": getattr(args, "sample_rate", None),
        "duration": getattr(args, "duration", None),
        "fps": getattr(args, "fps", None),
        "single_per_class": getattr(args, "single_per_class", None),
        "multi": getattr(args, "multi", None),
        "ood": getattr(args, "ood", None),
        "degraded_fraction": getattr(args, "degraded_fraction", None),
        "seed": getattr(args, "seed", None),
        "workers": getattr(args, "workers", None),
        "soundfont": getattr(args, "soundfont", None),
        "emoji_font": getattr(args, "emoji_font", None),
        "sound_bank": args.sound_bank,
        "sound_bank_mode": args.sound_bank_mode,
        "library": getattr(args, "library", None),
    }
    if getattr(args, "size", None):
        flags["width"], flags["height"] = args.size
    if args.classes is not None:
        flags["classes"] = [n.strip() for n in args.classes.split(",") if n.strip()]
        if not flags["classes"]:  # "" would otherwise mean "all classes"
            from ..errors import ConfigError

            raise ConfigError(f"--classes: no class names in {excerpt(args.classes)} (leave the option out for all classes)")
    data.update({k: v for k, v in flags.items() if v is not None})
    return from_dict(CanvasConfig, data, where=getattr(args, "config", None) or "options")


CANVAS_ONLY = ("single_per_class", "multi", "ood", "degraded_fraction", "emoji_font", "sound_bank", "sound_bank_mode", "classes")
PHYSICS_ONLY = ("train", "val", "test")  # (--library serves both worlds)


def _physics_config(args):
    from ..canvas.physics.options import PhysWorldConfig
    from ..config import from_dict, load_yaml
    from ..errors import ConfigError

    for name in CANVAS_ONLY:
        if getattr(args, name, None) is not None:
            raise ConfigError(f"--{name.replace('_', '-')} is a SynthCanvas option; the physics world does not take it")
    data = load_yaml(args.config) if args.config else {}
    flags = {k: getattr(args, k, None) for k in ("sample_rate", "duration", "seed", "workers", "soundfont", "library", "train", "val", "test")}
    if args.size:
        flags["sizes"] = [list(args.size)]
    if args.fps is not None:
        flags["fps"] = [args.fps]
    data.update({k: v for k, v in flags.items() if v is not None})
    return from_dict(PhysWorldConfig, data, where=args.config or "options")


def run_build(args) -> int:
    from ..canvas.build import build
    from ..log import progress_enabled

    if args.world == "physics":
        return run_physics_build(args)
    for name in PHYSICS_ONLY:
        if getattr(args, name, None) is not None:
            from ..errors import ConfigError

            raise ConfigError(f"--{name} is a physics-world option (add --world physics)")
    cfg = _config(args)
    result = build(args.outdir, cfg, progress=progress_enabled())
    rate = result.samples_per_second_per_core
    print(f"{result.outdir}: {result.total} samples ({result.rendered} rendered, {result.skipped} already done)"
          + (f" in {result.seconds:.1f} s, {rate:.2f} samples/s per core" if result.rendered else ""))
    return 0


def run_classes(args) -> int:
    from ..canvas.build import resolve_classes

    classes = resolve_classes(_config(args))
    if args.json:
        print(json.dumps([c.to_dict() for c in classes], ensure_ascii=False, indent=1))
        return 0
    for i, c in enumerate(classes):
        print(f"{i}\t{c.name}\t{c.kind}\t{c.sprite}\t{c.recipe.summary()}\t{', '.join(c.audioset) or '-'}")
    return 0


def run_physics_build(args) -> int:
    from ..canvas.physics.build import build
    from ..log import progress_enabled

    cfg = _physics_config(args)
    result = build(args.outdir, cfg, progress=progress_enabled())
    failed = getattr(result, "failed", [])
    print(f"{result.outdir}: {result.total} PhysWorld clips ({result.rendered} rendered, {result.skipped} already done)"
          + (f" in {result.seconds:.1f} s, {result.samples_per_second_per_core:.2f} clips/s per core" if result.rendered else "")
          + (f"; {len(failed)} of {len(failed) + result.rendered} failed (rerun to retry): {failed[0]}" if failed else ""))
    return 1 if failed else 0
