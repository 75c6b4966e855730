"""`prismaudio library build` (the sound library of real recordings and rendered soundfont
notes) and `prismaudio library classes` (what a library holds)."""

from __future__ import annotations

import json


def register(sub, common) -> None:
    lib = sub.add_parser("library", parents=[common], help="the sound library: real recordings and soundfont notes")
    lsub = lib.add_subparsers(dest="library_command", metavar="ACTION")
    lib.set_defaults(func=lambda args: lib.print_help() or 2)

    b = lsub.add_parser("build", parents=[common], help="build (or resume) a sound library from the installed packages",
                        description="Write every kept recording trimmed, resampled, loudness-normalised and mono "
                                    "as FLAC under OUT/<class>/, with library.json, ATTRIBUTION.md and build-report.json. "
                                    "A rerun reuses what is done.")
    b.add_argument("--out", default="data/library", metavar="DIR", help="library folder (default data/library)")
    b.add_argument("--sample-rate", type=int, help="rate of the stored files (default 44100)")
    b.add_argument("--user", metavar="FOLDER", help="your own sounds: FOLDER/<class>/*.wav (+ optional classes.yaml)")
    b.add_argument("--mode", choices=["extend", "replace"], help="add your classes to the built-in ones, or use only yours (default extend)")
    b.add_argument("--soundfont", metavar="SF2", help="General MIDI soundfont (default FluidR3 if installed, else TimGM6mb)")
    b.add_argument("--no-recordings", action="store_true", help="leave out the Debian packages' recordings")
    b.add_argument("--no-soundfont", action="store_true", help="leave out the soundfont classes")
    b.add_argument("--no-curate", action="store_true", help="skip YAMNet curation and agreement")
    b.add_argument("--workers", type=int, help="processes (default 2)")
    b.set_defaults(func=run_build)

    c = lsub.add_parser("classes", parents=[common], help="list the classes of a built library (or a user folder)")
    c.add_argument("root", nargs="?", default="data/library", metavar="DIR")
    c.add_argument("--json", action="store_true", help="print the classes as JSON")
    c.set_defaults(func=run_classes)


def run_build(args) -> int:
    from ..config import from_dict
    from ..library.build import LibraryBuildConfig, build_library
    from ..log import progress_enabled

    flags = {"out": args.out, "sample_rate": args.sample_rate, "user": args.user, "mode": args.mode,
             "soundfont": args.soundfont, "workers": args.workers}
    data = {k: v for k, v in flags.items() if v is not None}
    data.update(recordings=not args.no_recordings, soundfont_classes=not args.no_soundfont, curate=not args.no_curate)
    cfg = from_dict(LibraryBuildConfig, data, where="options")
    result = build_library(cfg, progress=progress_enabled())
    for line in result.problems:
        print(f"warning: {line}")
    dropped = result.report.get("dropped", [])
    r = result.report
    print(f"{result.root}: {result.classes} classes ({r['real_classes']} recorded, {r['real_classes_with_3']} with 3+ recordings), "
          f"{result.recordings} recordings ({result.processed} processed, {result.reused} reused, {len(dropped)} dropped) "
          f"in {result.seconds:.1f} s")
    agree = r.get("yamnet_agreement") or {}
    if agree.get("overall") is not None:
        print(f"YAMNet agreement on recordings of 1 s or longer: {agree['overall']:.0%} of {agree['judged_recordings']}")
    return 0


def run_classes(args) -> int:
    from ..library import SoundLibrary

    lib = SoundLibrary.load(args.root)
    if args.json:
        print(json.dumps([{**c.__dict__, "recordings": len(lib.recordings_of(c.name))} for c in lib.classes.values()],
                         ensure_ascii=False, indent=1, default=list))
        return 0
    for name, c in lib.classes.items():
        print(f"{name}\t{c.kind}\t{c.origin}\t{len(lib.recordings_of(name))}\t{', '.join(c.audioset) or '-'}\t{', '.join(c.visual_words[:4])}")
    return 0
