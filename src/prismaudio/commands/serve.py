"""`prismaudio serve`: the web demo and HTTP API on one port (127.0.0.1 unless told otherwise)."""

from __future__ import annotations


def register(sub, common) -> None:
    p = sub.add_parser("serve", parents=[common], help="web demo (Gradio) and HTTP API (/v1/generate, /v1/plan, /healthz)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--model", default="tiny", help="default model: name or bundle folder (loaded before serving)")
    p.add_argument("--models", nargs="+", dest="extra_models", metavar="MODEL",
                   help="more models clients may pick by name (a bundle folder is known by its folder name); "
                        "'tiny' is always offered")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--default-engine", dest="default_engine", choices=["model", "stem", "library"],
                   help="the engine a request without options.engine gets and the page starts at (default: model; "
                        "`stem` is what `generate` uses)")
    p.add_argument("--library", help="a sound library folder (`make library`): offers the library engine and "
                                     "library sketches for the stem engine")
    p.add_argument("--config", help="YAML file with server settings (flags given here win)")
    p.add_argument("--work-dir", help="folder for uploads and results (default: a temporary folder)")
    p.add_argument("--max-upload-mb", type=float)
    p.add_argument("--max-video-seconds", type=float)
    p.add_argument("--timeout", type=float, dest="request_timeout_s", help="per-request timeout in seconds")
    p.add_argument("--max-jobs", type=int, dest="max_concurrent_jobs", help="generation jobs at once; more get 429")
    p.add_argument("--retention", type=float, dest="retention_s", help="seconds before uploads and results are deleted")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..config import from_dict, load_yaml
    from ..server.app import serve
    from ..server.config import ServerConfig

    settings = load_yaml(args.config) if args.config else {}
    for key in ("host", "port", "model", "device", "work_dir", "max_upload_mb", "max_video_seconds",
                "request_timeout_s", "max_concurrent_jobs", "retention_s", "extra_models", "default_engine", "library"):
        value = getattr(args, key, None)
        if value is not None and not (key in settings and value == _DEFAULTS.get(key)):
            settings[key] = value
    serve(from_dict(ServerConfig, settings, where=args.config or "serve options"))
    return 0


_DEFAULTS = {"host": "127.0.0.1", "port": 7860, "model": "tiny", "device": "auto"}
